// A tiny i18n store: every UI string lives in src/locales/*.json. The language follows the
// system (navigator.languages) until the user picks one, which is remembered.

import en from '../locales/en.json';
import zhCN from '../locales/zh-CN.json';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
type Catalog = Record<string, string>;

const catalogs: Record<Locale, Catalog> = { en, 'zh-CN': zhCN };
const STORAGE_KEY = 'shelfmark.locale';

/** The best locale for a list of language tags (most preferred first). */
export function pickLocale(languages: readonly string[]): Locale {
  for (const raw of languages) {
    const l = raw.toLowerCase();
    if (l.startsWith('zh')) return 'zh-CN';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

/** `key` in `locale` (else English, else the key itself), with `{name}` placeholders filled. */
export function translate(locale: Locale, key: string, vars: Record<string, string | number> = {}): string {
  const text = catalogs[locale][key] ?? catalogs.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

function initialLocale(): Locale {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale;
  } catch {
    // No storage: follow the system.
  }
  const nav = globalThis.navigator;
  return pickLocale(nav ? (nav.languages?.length ? nav.languages : [nav.language]) : []);
}

const current = $state({ locale: initialLocale() });

export const i18n = {
  get locale(): Locale {
    return current.locale;
  },
  set locale(l: Locale) {
    current.locale = l;
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, l);
    } catch {
      // Not remembered; still switched.
    }
    if (globalThis.document) document.documentElement.lang = l;
  },
};

/** The UI string `key` in the current language. Reactive in templates. */
export function t(key: string, vars?: Record<string, string | number>): string {
  return translate(current.locale, key, vars);
}

/** A number in the current language's format. */
export function n(value: number | bigint): string {
  return new Intl.NumberFormat(current.locale).format(value);
}

/** An RFC 3339 date as the reader expects it: the day, in the UTC the core gives. */
export function day(date: string | null | undefined): string {
  return date ? date.slice(0, 10) : '';
}
