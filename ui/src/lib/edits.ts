// Front matter edits as the UI builds them: a post's fields as an editable draft, the ops that
// turn the file into the draft (only for keys that changed), and the requests of the bulk and tag
// actions. Pure: no api calls here (see backend.ts `api.previewEdit`/`applyEdit`).

import type { EditOp } from './bindings/EditOp';
import type { EditOutcome } from './bindings/EditOutcome';
import type { EditRequest } from './bindings/EditRequest';
import type { EditTarget } from './bindings/EditTarget';
import type { PostDetail } from './bindings/PostDetail';
import type { Skipped } from './bindings/Skipped';
import { quoteValue } from './query';

/** Keys that hold the source URL, in the order the core reads them (the first non-empty wins). */
export const SOURCE_KEYS = ['from', 'source', 'url', 'link'] as const;
/** The list keys with their own tag inputs. */
export const LIST_KEYS = ['tags', 'categories'] as const;
export type ListKey = (typeof LIST_KEYS)[number];

/** One key of the draft. */
export interface FieldDraft {
  key: string;
  /** `text`: edited as a string. `json`: a value of another type, edited as JSON text. */
  kind: 'text' | 'json';
  text: string;
  /** Added in the editor (not in the file yet). */
  added: boolean;
  /** Marked for removal. */
  removed: boolean;
}

/** The editable picture of a post's front matter. */
export interface Draft {
  /** The key that holds the source URL (`from` when the post has none). */
  sourceKey: string;
  /** title, date, author, the source key and layout, always present (empty: not set). */
  typed: Record<string, string>;
  tags: string[];
  categories: string[];
  /** Every other key, in file order, then the added ones. */
  others: FieldDraft[];
}

/**
 * `values` with the terms of `text` added (split at commas, trimmed, no repeats, at most `max`):
 * what a tag box adds on Enter, and what a save counts in when the box still holds typed text.
 */
export function addTerms(values: readonly string[], text: string, max = Infinity): string[] {
  const out = [...values];
  for (const part of text.split(/[,，、]/)) {
    const v = part.trim();
    if (v && !out.includes(v) && out.length < max) out.push(v);
  }
  return out;
}

/** `draft` with the text still in its tag and category boxes counted as added terms. */
export function withPending(draft: Draft, pending: Record<ListKey, string>): Draft {
  if (!pending.tags.trim() && !pending.categories.trim()) return draft;
  return {
    ...draft,
    tags: addTerms(draft.tags, pending.tags),
    categories: addTerms(draft.categories, pending.categories),
  };
}

/** Encodings Shelfmark writes (it edits UTF-8 only, and never converts a file). */
const UTF8 = ['utf-8', 'utf-8-bom', 'utf8', 'utf8-bom'];
/** Problems of front matter that YAML cannot read as fields: the raw view is where to mend them. */
const RAW_ONLY = ['malformed-front-matter', 'not-a-mapping', 'front-matter-too-complex'];
/** Problems that make a file impossible to save from the editor. */
const UNSAVABLE: Record<string, string> = {
  'unclosed-front-matter': 'edit.cannotSave.unclosed',
  binary: 'edit.cannotSave.binary',
  'too-large': 'edit.cannotSave.tooLarge',
  unreadable: 'edit.cannotSave.unreadable',
};

export interface Editability {
  /** Why the file cannot be saved at all (a message key of the locale files, and its values). */
  blocked: { key: string; vars: Record<string, string> } | null;
  /** The editor opens on the raw YAML: the fields cannot be read. */
  rawFirst: boolean;
}

/** What the editor can do with a post, known before anything is typed. */
export function editability(detail: Pick<PostDetail, 'encoding' | 'problems'>): Editability {
  const kinds = detail.problems.map((p) => p.kind);
  const blockedBy = kinds.find((k) => k in UNSAVABLE);
  let blocked: Editability['blocked'] = null;
  if (!UTF8.includes(detail.encoding.toLowerCase()))
    blocked = { key: 'edit.cannotSave.encoding', vars: { encoding: detail.encoding } };
  else if (blockedBy) blocked = { key: UNSAVABLE[blockedBy] ?? 'edit.cannotSave.unreadable', vars: {} };
  return { blocked, rawFirst: !blocked && kinds.some((k) => RAW_ONLY.includes(k)) };
}

/** The post's path as the api wants it (`hex:` for a name that is not UTF-8). */
export function postPath(detail: Pick<PostDetail, 'path' | 'path_bytes_hex'>): string {
  return detail.path_bytes_hex ? `hex:${detail.path_bytes_hex}` : detail.path;
}

/** The typed keys of a draft, in the order the editor shows them. */
export function typedKeys(sourceKey: string): string[] {
  return ['title', 'date', 'author', sourceKey, 'layout'];
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** The key holding a post's source URL: the first non-empty of from/source/url/link. */
export function sourceKeyOf(fields: Record<string, unknown>): string {
  return SOURCE_KEYS.find((k) => !isEmpty(fields[k])) ?? 'from';
}

/** A value as the text of a typed field. */
export function scalarText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A value of an "other" key as the editor shows it: strings as they are, the rest as JSON. */
export function fieldDraft(key: string, value: unknown): FieldDraft {
  return typeof value === 'string'
    ? { key, kind: 'text', text: value, added: false, removed: false }
    : { key, kind: 'json', text: JSON.stringify(value), added: false, removed: false };
}

/** The draft of a post as it is on disk. */
export function draftFrom(detail: Pick<PostDetail, 'fields' | 'tags' | 'categories'>): Draft {
  const fields = (detail.fields ?? {}) as Record<string, unknown>;
  const sourceKey = sourceKeyOf(fields);
  const typed: Record<string, string> = {};
  const typedSet = new Set(typedKeys(sourceKey));
  for (const k of typedSet) typed[k] = scalarText(fields[k]);
  const others = Object.entries(fields)
    .filter(([k]) => !typedSet.has(k) && !(LIST_KEYS as readonly string[]).includes(k))
    .map(([k, v]) => fieldDraft(k, v));
  return { sourceKey, typed, tags: [...detail.tags], categories: [...detail.categories], others };
}

/** A deep copy (drafts are plain data). */
export function cloneDraft(d: Draft): Draft {
  return {
    sourceKey: d.sourceKey,
    typed: { ...d.typed },
    tags: [...d.tags],
    categories: [...d.categories],
    others: d.others.map((f) => ({ ...f })),
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Why a field name cannot be used, or null. */
export function keyProblem(key: string, taken: Iterable<string>): string | null {
  if (!key.trim()) return 'edit.keyEmpty';
  if (/[\r\n]/.test(key)) return 'edit.keyLine';
  if (key !== key.trim()) return 'edit.keySpaces';
  for (const k of taken) if (k === key) return 'edit.keyTaken';
  return null;
}

export interface DraftOps {
  ops: EditOp[];
  /** Problems (message keys of the locale files) by key, or `new:<index in others>` for added fields. */
  errors: Record<string, string>;
  /** Keys the ops change, for the history label. */
  keys: string[];
}

/**
 * The ops that turn the file (`before`, as from `draftFrom`) into `after`: only keys that
 * changed. A typed field emptied removes its key; a removed field is unset; an added one is set
 * as a string; a JSON field is sent as the value its text parses to.
 */
export function opsFromDraft(fields: Record<string, unknown>, before: Draft, after: Draft): DraftOps {
  const ops: EditOp[] = [];
  const errors: Record<string, string> = {};
  const keys: string[] = [];
  const push = (key: string, op: EditOp) => {
    ops.push(op);
    if (!keys.includes(key)) keys.push(key);
  };

  for (const key of typedKeys(after.sourceKey)) {
    const was = before.typed[key] ?? '';
    const now = after.typed[key] ?? '';
    if (now === was) continue;
    if (now.trim() === '') {
      if (key in fields) push(key, { op: 'unset', key });
    } else {
      push(key, { op: 'set', key, value: now });
    }
  }

  for (const key of LIST_KEYS) {
    const was = before[key];
    const now = after[key];
    const removed = was.filter((t) => !now.includes(t));
    const added = now.filter((t) => !was.includes(t));
    if (removed.length) push(key, { op: 'remove-items', key, items: removed });
    if (added.length) push(key, { op: 'add-items', key, items: added });
  }

  const taken = new Set<string>([...typedKeys(after.sourceKey), ...LIST_KEYS, ...Object.keys(fields)]);
  const addedKeys = new Set<string>();
  for (const [i, f] of after.others.entries()) {
    if (f.added) {
      if (f.removed) continue;
      const problem = keyProblem(f.key, [...taken, ...addedKeys]);
      if (problem) {
        errors[`new:${i}`] = problem;
        continue;
      }
      addedKeys.add(f.key);
      push(f.key, { op: 'set', key: f.key, value: f.text });
      continue;
    }
    if (f.removed) {
      push(f.key, { op: 'unset', key: f.key });
      continue;
    }
    const old = fields[f.key];
    if (f.kind === 'text') {
      if (f.text !== old) push(f.key, { op: 'set', key: f.key, value: f.text });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(f.text);
    } catch {
      errors[f.key] = 'edit.badJson';
      continue;
    }
    if (!sameJson(value, old)) push(f.key, { op: 'set', key: f.key, value });
  }
  return { ops, errors, keys };
}

/** Whether the draft differs from the file at all (an unfinished added field counts). */
export function draftChanged(fields: Record<string, unknown>, before: Draft, after: Draft): boolean {
  const { ops, errors } = opsFromDraft(fields, before, after);
  if (ops.length || Object.keys(errors).length) return true;
  return after.others.some((f) => f.added && !f.removed);
}

/** The last part of a path. */
export function fileName(path: string): string {
  return path.split('/').pop() || path;
}

/**
 * The request that saves a single post: its ops, and the hash of the version the user saw so
 * that a file changed on disk since is a conflict (`overwrite` sends no hash).
 */
export function saveRequest(
  detail: Pick<PostDetail, 'path' | 'path_bytes_hex' | 'hash'>,
  ops: EditOp[],
  keys: string[],
  overwrite = false,
): EditRequest {
  const target: EditTarget = overwrite
    ? { kind: 'paths', paths: [postPath(detail)] }
    : { kind: 'paths', paths: [postPath(detail)], hashes: [detail.hash] };
  const what = ops.some((o) => o.op === 'raw') ? 'front matter' : keys.join(', ');
  return { target, ops, label: `edit ${fileName(detail.path)}: ${what}` };
}

/** The raw YAML editor's request (the whole front matter; must be the only op). */
export function rawOps(yaml: string, crlf: boolean): EditOp[] {
  return [{ op: 'raw', yaml: toFileEol(yaml, crlf) }];
}

/** A textarea gives `\n` line ends; a CRLF file gets `\r\n` back. */
export function toFileEol(text: string, crlf: boolean): string {
  const lf = text.replace(/\r\n?/g, '\n');
  return crlf ? lf.replace(/\n/g, '\r\n') : lf;
}

/** The skip that says the file changed on disk since it was read, if any. */
export function conflictOf(outcome: Pick<EditOutcome, 'skipped'>): Skipped | null {
  return outcome.skipped.find((s) => s.kind === 'conflict') ?? null;
}

/** Skipped files grouped by reason (most files first), for summaries. */
export function groupSkipped(skipped: Skipped[]): { reason: string; kind: string; paths: string[] }[] {
  const groups = new Map<string, { reason: string; kind: string; paths: string[] }>();
  for (const s of skipped) {
    const g = groups.get(s.reason) ?? { reason: s.reason, kind: s.kind, paths: [] };
    g.paths.push(s.path);
    groups.set(s.reason, g);
  }
  return [...groups.values()].sort((a, b) => b.paths.length - a.paths.length);
}

// Bulk actions and tag management.

/** The query field that filters on a list key (`tag:`, `category:`). */
export function fieldOfKey(key: ListKey): 'tag' | 'category' {
  return key === 'tags' ? 'tag' : 'category';
}

/** Posts having any of `values` in a list key: `tag:"a" OR tag:"b"` (quotes escaped). */
export function termQuery(key: ListKey, values: string[]): string {
  const field = fieldOfKey(key);
  return values.map((v) => `${field}:${quoteValue(field, v)}`).join(' OR ');
}

/** Rename a tag or category everywhere (also merges when `to` already exists). */
export function renameRequest(key: ListKey, from: string[], to: string): EditRequest {
  const singular = fieldOfKey(key);
  const verb = from.length > 1 ? 'merge' : 'rename';
  return {
    target: { kind: 'query', query: termQuery(key, from) },
    ops: [{ op: 'rename-items', key, from, to }],
    label: `${verb} ${singular} ${from.join(', ')} → ${to}`,
  };
}

/** Delete a tag or category from every post that has it. */
export function deleteRequest(key: ListKey, value: string): EditRequest {
  return {
    target: { kind: 'query', query: termQuery(key, [value]) },
    ops: [{ op: 'remove-items', key, items: [value] }],
    label: `delete ${fieldOfKey(key)} ${value}`,
  };
}

export const BULK_ACTIONS = [
  'add-tags',
  'remove-tags',
  'add-categories',
  'remove-categories',
  'set-field',
  'unset-field',
  'replace',
] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** What the bulk dialog's form holds. */
export interface BulkForm {
  items: string[];
  key: string;
  value: string;
  /** Read `value` as JSON (`true`, `12`, `["a"]`) rather than as text. */
  json: boolean;
  find: string;
  replace: string;
  regex: boolean;
}

export const EMPTY_BULK_FORM: BulkForm = {
  items: [],
  key: '',
  value: '',
  json: false,
  find: '',
  replace: '',
  regex: false,
};

/** The op of a bulk action, or a message key saying what is missing. */
export function bulkOp(action: BulkAction, form: BulkForm): { op: EditOp } | { error: string } {
  const items = form.items.map((i) => i.trim()).filter(Boolean);
  const key = form.key.trim();
  switch (action) {
    case 'add-tags':
    case 'remove-tags':
    case 'add-categories':
    case 'remove-categories': {
      if (!items.length) return { error: 'bulk.needItems' };
      const listKey: ListKey = action.endsWith('tags') ? 'tags' : 'categories';
      return { op: { op: action.startsWith('add') ? 'add-items' : 'remove-items', key: listKey, items } };
    }
    case 'set-field': {
      if (!key) return { error: 'edit.keyEmpty' };
      if (/[\r\n]/.test(key)) return { error: 'edit.keyLine' };
      if (!form.json) return { op: { op: 'set', key, value: form.value } };
      try {
        return { op: { op: 'set', key, value: JSON.parse(form.value) as unknown } };
      } catch {
        return { error: 'edit.badJson' };
      }
    }
    case 'unset-field':
      if (!key) return { error: 'edit.keyEmpty' };
      return { op: { op: 'unset', key } };
    case 'replace':
      if (!key) return { error: 'edit.keyEmpty' };
      if (!form.find) return { error: 'bulk.needFind' };
      // A bad pattern is judged by the core (its regex syntax is not JavaScript's): the preview
      // shows every file skipped with the reason.
      return { op: { op: 'replace', key, find: form.find, replace: form.replace, regex: form.regex } };
  }
}

/** The target of a bulk action: the chosen paths, or every result of the query. */
export function bulkTarget(scope: 'selection' | 'query', paths: string[], query: string): EditTarget {
  return scope === 'selection' ? { kind: 'paths', paths } : { kind: 'query', query };
}
