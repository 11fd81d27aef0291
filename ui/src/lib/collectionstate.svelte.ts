// What the collection components share: the list of collections (the sidebar, "Add to
// collection…" and the reader all show it), and two signals to the app: show a query in the
// result list, and "membership changed" (the list of a collection being shown is stale). Kept
// here so the app's shared files need only small hooks.

import { errorText } from './errors';
import { api } from './backend';
import type { CollectionSummary } from './bindings/CollectionSummary';
import { collectionQuery } from './collections';

export const collectionState = $state({
  list: [] as CollectionSummary[],
  loaded: false,
  error: null as string | null,
  /** Bumped after every change made here (the reader asks `collections_of` again). */
  version: 0,
});

let loading: Promise<void> | null = null;
let again = false;

/** Loads the list again (one request at a time; a call during one runs once more after it). */
export function refreshCollections(): Promise<void> {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      try {
        collectionState.list = await api.collections();
        collectionState.error = null;
      } catch (e) {
        collectionState.error = errorText(e);
      }
    } while (again);
    collectionState.loaded = true;
    loading = null;
  })();
  return loading;
}

export interface CollectionHooks {
  /** Put this query in the search box and run it. */
  show?: (query: string) => void;
  /** Memberships changed: search again (the query may list a collection). */
  changed?: () => void;
}

const hooks = new Set<CollectionHooks>();

/** The app's handlers; returns a function that removes them. */
export function onCollections(h: CollectionHooks): () => void {
  hooks.add(h);
  return () => hooks.delete(h);
}

/** Runs `query` in the result list (as if typed). */
export function showQuery(query: string) {
  for (const h of hooks) h.show?.(query);
}

/** Shows a collection's posts in the result list. */
export function showCollection(name: string) {
  showQuery(collectionQuery(name));
}

/** After a change: reload the list, and tell the app when memberships changed. */
export async function collectionsChanged(memberships: boolean): Promise<void> {
  collectionState.version++;
  await refreshCollections();
  if (memberships) for (const h of hooks) h.changed?.();
}
