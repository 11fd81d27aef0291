// The data-quality workbench of the Problems view: the kinds of findings of `lint` with their
// counts (kinds with none left out), the findings of the kind opened (a page at a time), and a
// kind's fix as an edit request (`lint_fix`) for the preview → apply → undo of EditRun. The api
// is injected (tests fake it).

import type { EditRequest } from './bindings/EditRequest';
import type { Finding } from './bindings/Finding';
import type { LintFixInfo } from './bindings/LintFixInfo';
import type { LintKind } from './bindings/LintKind';
import type { LintReport } from './bindings/LintReport';
import type { LintRequest } from './bindings/LintRequest';
import type { LintFix } from './bindings/LintFix';
import { errorText } from './errors';

/** Findings asked for per page of a kind. */
export const FINDINGS_PAGE = 100;

export interface LintApi {
  lint(req: LintRequest): Promise<LintReport>;
  fix(kind: string, fix?: string): Promise<LintFix>;
}

/** Kinds with findings, the most posts first (then by name); empty kinds are left out. */
export function activeKinds(kinds: readonly LintKind[]): LintKind[] {
  return kinds.filter((k) => k.count > 0).sort((a, b) => b.posts - a.posts || a.kind.localeCompare(b.kind));
}

/** A kind's fixes, the certain one first (the one `lint_fix` picks without a choice). */
export function fixesOf(kind: LintKind): LintFixInfo[] {
  const out = [...kind.choices];
  if (kind.fix && !out.some((c) => c.id === kind.fix?.id)) out.unshift(kind.fix);
  return out.sort((a, b) => Number(b.certain) - Number(a.certain));
}

/** The path of a finding's post as the api wants it. */
export function findingPath(f: Pick<Finding, 'path' | 'path_bytes_hex'>): string {
  return f.path_bytes_hex ? `hex:${f.path_bytes_hex}` : f.path;
}

export class Workbench {
  kinds = $state.raw<LintKind[]>([]);
  /** Posts looked at. */
  posts = $state(0);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** The kind whose findings show. */
  open = $state<string | null>(null);
  findings = $state.raw<Finding[]>([]);
  total = $state(0);
  loadingFindings = $state(false);
  /** A fix being prepared or its failure. */
  fixError = $state<string | null>(null);

  readonly #api: LintApi;
  #request = 0;

  constructor(api: LintApi) {
    this.#api = api;
  }

  get active(): LintKind[] {
    return activeKinds(this.kinds);
  }

  /** Loads the counts (and the open kind's first page again). */
  async load() {
    this.error = null;
    try {
      const r = await this.#api.lint({ limit: 0 });
      this.kinds = r.kinds;
      this.posts = r.posts;
      if (this.open && !this.active.some((k) => k.kind === this.open)) this.open = null;
      if (this.open) await this.#page(this.open, 0);
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Opens a kind's findings (closes it when it is open). */
  async toggle(kind: string) {
    if (this.open === kind) {
      this.open = null;
      this.findings = [];
      return;
    }
    this.open = kind;
    this.findings = [];
    this.total = 0;
    await this.#page(kind, 0);
  }

  /** The next page of the open kind's findings. */
  async more() {
    if (this.open && this.findings.length < this.total) await this.#page(this.open, this.findings.length);
  }

  async #page(kind: string, offset: number) {
    const id = ++this.#request;
    this.loadingFindings = true;
    try {
      const r = await this.#api.lint({ kind, limit: FINDINGS_PAGE, offset });
      if (id !== this.#request || this.open !== kind) return;
      this.findings = offset === 0 ? r.findings : [...this.findings, ...r.findings];
      this.total = r.total;
      this.kinds = r.kinds;
    } catch (e) {
      if (id === this.#request) this.error = errorText(e);
    } finally {
      if (id === this.#request) this.loadingFindings = false;
    }
  }

  /** A kind's fix (a choice by id) as an edit request, or null after a failure (said in `fixError`). */
  async fixRequest(kind: string, fix?: string): Promise<EditRequest | null> {
    this.fixError = null;
    try {
      return (await this.#api.fix(kind, fix)).request;
    } catch (e) {
      this.fixError = errorText(e);
      return null;
    }
  }
}
