import { describe, expect, it, vi } from 'vitest';
import type { LintKind } from './bindings/LintKind';
import type { LintReport } from './bindings/LintReport';
import type { LintRequest } from './bindings/LintRequest';
import { activeKinds, findingPath, fixesOf, FINDINGS_PAGE, Workbench, type LintApi } from './workbench.svelte';

const fix = (id: string, certain: boolean) => ({ id, label: id, certain, note: '', posts: 1 });
function kind(name: string, count: number, posts = count, fixes: ReturnType<typeof fix>[] = []): LintKind {
  return { kind: name, count, posts, fix: fixes.find((f) => f.certain) ?? null, choices: fixes };
}

const KINDS = [
  kind('entities', 3, 2, [fix('decode-entities', true)]),
  kind('title-missing', 0),
  kind('date-vs-epoch', 5, 5, [fix('date-from-epoch', false)]),
  kind('whitespace', 2, 2, [fix('trim', true)]),
];

function report(req: LintRequest, kinds = KINDS): LintReport {
  const k = kinds.find((x) => x.kind === req.kind);
  const total = k ? k.count : 0;
  const from = req.offset ?? 0;
  const to = Math.min(total, from + (req.limit ?? 200));
  const findings = Array.from({ length: Math.max(0, to - from) }, (_, i) => ({
    kind: req.kind ?? '',
    path: `p${from + i}.md`,
    field: 'author',
    message: 'm',
    fix: null,
  }));
  return { posts: 10, kinds, findings, total };
}

function fake() {
  const api = {
    lint: vi.fn<LintApi['lint']>(async (req) => report(req)),
    fix: vi.fn<LintApi['fix']>(async (k) => ({
      kind: k,
      fix: fix('x', true),
      request: { target: { kind: 'paths' as const, paths: ['a.md'] }, ops: [] },
    })),
  };
  return { api, wb: new Workbench(api) };
}

describe('workbench helpers', () => {
  it('lists kinds with findings, most posts first', () => {
    expect(activeKinds(KINDS).map((k) => k.kind)).toEqual(['date-vs-epoch', 'entities', 'whitespace']);
  });

  it('puts the certain fix first', () => {
    const k = kind('date-missing', 1, 1, [fix('date-from-epoch', false), fix('date-from-file-name', true)]);
    expect(fixesOf(k).map((f) => f.id)).toEqual(['date-from-file-name', 'date-from-epoch']);
    expect(fixesOf(kind('body-empty', 1))).toEqual([]);
  });

  it('names non-UTF-8 paths by their bytes', () => {
    expect(findingPath({ path: 'a', path_bytes_hex: 'ff' })).toBe('hex:ff');
    expect(findingPath({ path: 'a' })).toBe('a');
  });
});

describe('Workbench', () => {
  it('loads the counts without findings', async () => {
    const { api, wb } = fake();
    await wb.load();
    expect(api.lint).toHaveBeenCalledWith({ limit: 0 });
    expect(wb.active).toHaveLength(3);
    expect(wb.posts).toBe(10);
  });

  it('opens a kind, pages its findings and closes it', async () => {
    const many = [kind('entities', FINDINGS_PAGE + 5, 50, [])];
    const { api, wb } = fake();
    api.lint.mockImplementation(async (req) => report(req, many));
    await wb.load();
    await wb.toggle('entities');
    expect(wb.findings).toHaveLength(FINDINGS_PAGE);
    expect(wb.total).toBe(FINDINGS_PAGE + 5);
    await wb.more();
    expect(wb.findings).toHaveLength(FINDINGS_PAGE + 5);
    expect(wb.findings[FINDINGS_PAGE]!.path).toBe(`p${FINDINGS_PAGE}.md`);
    await wb.toggle('entities');
    expect(wb.open).toBeNull();
  });

  it('closes a kind that has no findings left after a reload', async () => {
    const { api, wb } = fake();
    await wb.load();
    await wb.toggle('whitespace');
    api.lint.mockImplementation(async (req) => report(req, [kind('whitespace', 0)]));
    await wb.load();
    expect(wb.open).toBeNull();
    expect(wb.active).toEqual([]);
  });

  it('asks for a fix and says why it failed', async () => {
    const { api, wb } = fake();
    expect(await wb.fixRequest('entities')).toEqual({ target: { kind: 'paths', paths: ['a.md'] }, ops: [] });
    expect(api.fix).toHaveBeenCalledWith('entities', undefined);
    api.fix.mockRejectedValueOnce({ code: 'bad-request', message: 'no fix' });
    expect(await wb.fixRequest('body-empty')).toBeNull();
    expect(wb.fixError).toContain('no fix');
  });
});
