// The archives opened recently (desktop), newest first, in localStorage.

const KEY = 'shelfmark.recent';
const MAX = 8;

function storage(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function loadRecent(store = storage()): string[] {
  try {
    const list: unknown = JSON.parse(store?.getItem(KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string').slice(0, MAX) : [];
  } catch {
    return [];
  }
}

function save(list: string[], store: ReturnType<typeof storage>): string[] {
  try {
    store?.setItem(KEY, JSON.stringify(list));
  } catch {
    // Not remembered.
  }
  return list;
}

export function rememberRecent(root: string, store = storage()): string[] {
  return save([root, ...loadRecent(store).filter((r) => r !== root)].slice(0, MAX), store);
}

export function forgetRecent(root: string, store = storage()): string[] {
  return save(
    loadRecent(store).filter((r) => r !== root),
    store,
  );
}
