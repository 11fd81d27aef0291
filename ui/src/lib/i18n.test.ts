import { describe, expect, it } from 'vitest';
import en from '../locales/en.json';
import zh from '../locales/zh-CN.json';
import { pickLocale, translate } from './i18n.svelte';

describe('i18n', () => {
  it('follows the system language', () => {
    expect(pickLocale(['zh-TW', 'en'])).toBe('zh-CN');
    expect(pickLocale(['fr-FR', 'en-GB'])).toBe('en');
    expect(pickLocale(['de'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('fills placeholders and falls back to English, then the key', () => {
    expect(translate('zh-CN', 'list.count', { count: 3 })).toBe('3 篇文章');
    expect(translate('en', 'list.count', { count: '1,234' })).toBe('1,234 posts');
    expect(translate('en', 'no.such.key')).toBe('no.such.key');
  });

  it('has every string in both languages', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [k, v] of Object.entries(zh)) expect(v, k).not.toBe('');
  });
});
