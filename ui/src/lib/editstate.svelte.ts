// What the editing components share with the app: whether the reader's editor holds unsaved
// changes (the app asks before leaving the post), an interrupted operation (the banner), and a
// signal after every write (edit, undo, redo, recovery) so the list, the facets, the open post and
// the history reload. Kept here so the app's shared files need only small hooks.

import { api, ApiError } from './backend';
import type { EditOutcome } from './bindings/EditOutcome';
import type { FacetCount } from './bindings/FacetCount';
import type { HistoryEntry } from './bindings/HistoryEntry';
import type { ListKey } from './edits';

/** A tag or category action chosen in the sidebar (its dialog outlives the facet row). */
export interface TagDialogState {
  listKey: ListKey;
  value: string;
  count: number;
  action: 'rename' | 'merge' | 'delete';
}
import { t } from './i18n.svelte';

export const editState = $state({
  /** The reader's front matter editor has unsaved changes. */
  dirty: false,
  /** The operation a crash or kill interrupted, if any. */
  interrupted: null as HistoryEntry | null,
  /** Bumped after every write: the history reloads. */
  version: 0,
  /** A modal edit dialog is open (undo keys do nothing then). */
  dialogs: 0,
  tagDialog: null as TagDialogState | null,
});

type Listener = (outcome: EditOutcome | null) => void;
const listeners = new Set<Listener>();

/** Calls `fn` after every write Shelfmark made (null: reload without a write). */
export function onEdited(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Tells the app that files were written (or, with null, that the post should be reloaded). */
export function edited(outcome: EditOutcome | null) {
  editState.version++;
  terms = null;
  for (const fn of listeners) fn(outcome);
}

/**
 * Whether the user may leave the open post: yes when nothing is unsaved, else their answer to a
 * confirmation (yes discards the changes).
 */
export function confirmLeave(): boolean {
  if (!editState.dirty) return true;
  const ok = typeof window === 'undefined' || window.confirm(t('edit.leaveConfirm'));
  if (ok) editState.dirty = false;
  return ok;
}

/** Asks the core whether an operation was interrupted (at startup, and after an apply refused). */
export async function checkInterrupted(): Promise<HistoryEntry | null> {
  try {
    editState.interrupted = await api.interrupted();
  } catch {
    editState.interrupted = null;
  }
  return editState.interrupted;
}

let terms: Promise<Record<ListKey, FacetCount[]>> | null = null;

/** The archive's tags and categories with their counts (the most used), for autocomplete. */
export function archiveTerms(): Promise<Record<ListKey, FacetCount[]>> {
  terms ??= loadTerms(3);
  return terms;
}

/**
 * Asks for them; a count the core stopped because a search for another query came meanwhile
 * (it stops facets a newer search supersedes) is asked for again, up to `tries` times in all.
 */
function loadTerms(tries: number): Promise<Record<ListKey, FacetCount[]>> {
  return api
    .facets('')
    .then((r) => ({ tags: r.facets.tags, categories: r.facets.categories }))
    .catch((e: unknown) => {
      if (tries > 1 && ApiError.from(e).code === 'cancelled') return loadTerms(tries - 1);
      terms = null;
      return { tags: [], categories: [] };
    });
}
