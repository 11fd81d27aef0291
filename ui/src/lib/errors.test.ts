import { describe, expect, it } from 'vitest';
import en from '../locales/en.json';
import zhCN from '../locales/zh-CN.json';
import { ApiError } from './backend';
import { errorText } from './errors';
import { i18n } from './i18n.svelte';
import generated from './bindings/ErrorCode.ts?raw';

// The codes as generated from Rust (bindings/ErrorCode.ts), read from the file itself so that a
// code added in Rust without translations fails here.
const codes = [...(generated.match(/export type ErrorCode = ([^;]+);/)?.[1] ?? '').matchAll(/"([a-z-]+)"/g)].map(
  (m) => m[1]!,
);

describe('error codes', () => {
  it('reads the generated codes', () => {
    expect(codes).toContain('not-found');
    expect(codes.length).toBeGreaterThan(20);
  });

  it('has a translation of every code in every language', () => {
    for (const [name, catalog] of [
      ['en', en],
      ['zh-CN', zhCN],
    ] as const) {
      const missing = codes.filter((c) => !(`error.code.${c}` in catalog));
      expect(missing, name).toEqual([]);
    }
  });

  it('shows the translated code with the message as detail', () => {
    const err = new ApiError('not-a-folder', '/tmp/x is not a folder', '/tmp/x');
    i18n.locale = 'zh-CN';
    expect(errorText(err)).toBe('不是文件夹：/tmp/x is not a folder');
    i18n.locale = 'en';
    expect(errorText(err)).toBe('Not a folder: /tmp/x is not a folder');
    expect(errorText(new Error('boom'))).toBe('Something went wrong inside Shelfmark: boom');
  });
});
