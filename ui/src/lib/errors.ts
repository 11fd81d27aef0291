// What the user reads when a call fails: the error code translated into the UI's language (every
// code of Rust's `ErrorCode` has `error.code.<code>` in each catalog), with the core's English
// message, which names the file and the cause, as the detail.

import { ApiError } from './backend';
import { t } from './i18n.svelte';

export function errorText(e: unknown): string {
  const err = ApiError.from(e);
  const key = `error.code.${err.code}`;
  const summary = t(key);
  if (summary === key) return err.message;
  if (!err.message || err.message === summary) return summary;
  return t('error.detail', { summary, message: err.message });
}
