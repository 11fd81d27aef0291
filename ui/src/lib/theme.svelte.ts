// Light or dark: the system's setting (the default), or the one the user picked, remembered in
// localStorage. The choice is written on <html data-theme>, which app.css reads; "system" leaves
// it out, and the colours follow `prefers-color-scheme`.

export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];
const STORAGE_KEY = 'shelfmark.theme';

/** A stored value as a theme (anything else is "system"). */
export function parseTheme(value: string | null | undefined): Theme {
  return (THEMES as readonly string[]).includes(value ?? '') ? (value as Theme) : 'system';
}

function stored(): Theme {
  try {
    return parseTheme(globalThis.localStorage?.getItem(STORAGE_KEY));
  } catch {
    return 'system';
  }
}

/** Puts `theme` on the document (`data-theme`, absent for "system"). */
export function applyTheme(theme: Theme, root: HTMLElement | undefined = globalThis.document?.documentElement) {
  if (!root) return;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

const current = $state({ theme: stored() });

export const themeState = {
  get theme(): Theme {
    return current.theme;
  },
  set theme(next: Theme) {
    current.theme = next;
    try {
      if (next === 'system') globalThis.localStorage?.removeItem(STORAGE_KEY);
      else globalThis.localStorage?.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered; still switched.
    }
    applyTheme(next);
  },
};
