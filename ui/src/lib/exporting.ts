// The export dialog's logic: layouts, checking a custom path template, the rewrite's
// `KEY: VALUE` lines, a suggested target folder, and the ExportRequest the core takes
// (docs: ExportRequest in src-tauri/core/src/export/mod.rs).

import type { ExportFormat } from './bindings/ExportFormat';
import type { ExportRequest } from './bindings/ExportRequest';
import type { ExportSource } from './bindings/ExportSource';

export const LAYOUTS = [
  'keep',
  'jekyll',
  'by-tag',
  'by-category',
  'by-author',
  'by-site',
  'by-month',
  'template',
] as const;
export type LayoutChoice = (typeof LAYOUTS)[number];
export const FORMATS: readonly ExportFormat[] = ['copy', 'rewrite', 'html'];
export const DEFAULT_TEMPLATE = '{year}/{month}/{slug}.md';

/** Placeholders the core fills itself; any other `{key}` is a front matter key. */
export const TEMPLATE_KEYS = [
  'year',
  'month',
  'day',
  'date',
  'slug',
  'title',
  'name',
  'stem',
  'filename',
  'tag',
  'category',
  'author',
  'site',
] as const;

export interface TemplateIssue {
  /** A locale key (`export.template.*`). */
  key: string;
  /** Blocks the export (else a warning). */
  error: boolean;
  vars?: Record<string, string>;
}

/** What is wrong with (or worth knowing about) a path template, errors first. */
export function checkTemplate(template: string): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const text = template.trim().replace(/^"|"$/g, '');
  const parts = text.split(/[/\\]/).filter((p) => p !== '');
  if (parts.length === 0) return [{ key: 'export.template.empty', error: true }];
  const unknown = new Set<string>();
  let unclosed = false;
  let emptyKey = false;
  for (const part of parts) {
    let rest = part;
    for (;;) {
      const open = rest.indexOf('{');
      if (open < 0) break;
      const close = rest.indexOf('}', open);
      if (close < 0) {
        unclosed = true;
        break;
      }
      const key = rest.slice(open + 1, close).trim();
      if (!key) emptyKey = true;
      else if (!(TEMPLATE_KEYS as readonly string[]).includes(key)) unknown.add(key);
      rest = rest.slice(close + 1);
    }
  }
  if (unclosed) issues.push({ key: 'export.template.unclosed', error: true });
  if (emptyKey) issues.push({ key: 'export.template.emptyKey', error: true });
  if (!parts[parts.length - 1].includes('{')) issues.push({ key: 'export.template.fixedName', error: false });
  if (parts.some((p) => p.trim() === '..' || p.trim() === '.'))
    issues.push({ key: 'export.template.dots', error: false });
  for (const key of unknown) issues.push({ key: 'export.template.fieldKey', error: false, vars: { key } });
  return issues;
}

/** The `layout` string of a request. */
export function layoutValue(choice: LayoutChoice, template: string): string {
  return choice === 'template' ? `template:${template.trim()}` : choice;
}

/** A string as a one-line YAML value that reads back as that string. */
export function yamlString(s: string): string {
  const plain =
    /^[\p{L}\p{N}][\p{L}\p{N} _.()（）-]*$/u.test(s) &&
    !/ $/.test(s) &&
    !/^(?:[-+]?[0-9][0-9_.:eE+-]*|true|false|yes|no|on|off|null|y|n|~)$/i.test(s) &&
    !/^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(s);
  return plain ? s : JSON.stringify(s);
}

/** The prefilled rewrite for a collection: `collection: NAME`. */
export function collectionSetLine(name: string): string {
  return `collection: ${yamlString(name)}`;
}

export type Parsed<T> = { ok: T } | { error: string; vars?: Record<string, string> };

/**
 * The `set` list from lines of `KEY: VALUE` or `KEY=VALUE` (VALUE is YAML; whichever of `:` and
 * `=` comes first separates). Blank lines and lines starting with `#` are skipped.
 */
export function parseSetLines(text: string): Parsed<string[]> {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = line.search(/[:=]/);
    if (at < 0) return { error: 'export.set.noValue', vars: { line } };
    const key = line.slice(0, at).trim();
    if (!key) return { error: 'export.set.noKey', vars: { line } };
    out.push(`${key}=${line.slice(at + 1).trim()}`);
  }
  return { ok: out };
}

/** The `remove` list: keys separated by commas, spaces or lines. */
export function parseKeys(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,，\s]+/u)
        .map((k) => k.trim())
        .filter(Boolean),
    ),
  ];
}

export interface ExportForm {
  to: string;
  layout: LayoutChoice;
  template: string;
  format: ExportFormat;
  /** `KEY: VALUE` lines (format `rewrite`). */
  set: string;
  /** Keys to remove (format `rewrite`). */
  remove: string;
  zip: boolean;
  overwrite: boolean;
  deleteRemoved: boolean;
}

export function defaultForm(to = '', set = ''): ExportForm {
  return {
    to,
    layout: 'keep',
    template: DEFAULT_TEMPLATE,
    format: 'copy',
    set,
    remove: '',
    zip: false,
    overwrite: false,
    deleteRemoved: false,
  };
}

/** The request for `form`, or the first reason it cannot be made (a locale key). */
export function buildRequest(source: ExportSource, form: ExportForm, dryRun: boolean): Parsed<ExportRequest> {
  const to = form.to.trim();
  if (!to) return { error: 'export.needFolder' };
  if (form.layout === 'template') {
    const blocking = checkTemplate(form.template).find((i) => i.error);
    if (blocking) return { error: blocking.key, vars: blocking.vars };
  }
  let set: string[] = [];
  let remove: string[] = [];
  if (form.format === 'rewrite') {
    const parsed = parseSetLines(form.set);
    if ('error' in parsed) return parsed;
    set = parsed.ok;
    remove = parseKeys(form.remove);
  }
  return {
    ok: {
      source,
      to,
      layout: layoutValue(form.layout, form.template),
      format: form.format,
      set,
      remove,
      zip: form.zip,
      overwrite: form.overwrite,
      delete_removed: form.deleteRemoved,
      dry_run: dryRun,
    },
  };
}

/** What a preview depends on: a new key means a new dry run. */
export function previewKey(request: ExportRequest): string {
  return JSON.stringify({ ...request, dry_run: true, overwrite: false, delete_removed: false });
}

/** A folder name made of `label` that every system accepts (the core checks again). */
export function folderName(label: string): string {
  const cleaned = [...label.normalize('NFC')]
    .map((c) => (/[<>:"/\\|?*\p{Cc}]/u.test(c) ? '_' : c))
    .join('')
    .trim()
    .replace(/[. ]+$/, '');
  const short = [...cleaned].slice(0, 60).join('').trim();
  if (!short || short === '_') return 'export';
  // Windows' device names (`CON`, `aux.txt`, `COM1`…) cannot be folders.
  return /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\.|$)/i.test(short) ? `_${short}` : short;
}

/** A suggested target: `<archive>-export/<label>` beside the archive folder. */
export function suggestFolder(root: string, label: string): string {
  const sep = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  const base = root.length > 1 ? root.replace(/[\\/]+$/, '') : root;
  if (!base || base === sep) return '';
  return `${base}-export${sep}${folderName(label)}`;
}

/** Whole percent of a progress report (0 while the total is unknown). */
export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
}
