// Types the UI uses beyond the ones generated from Rust (./bindings, by ts-rs).

/** What `archive_info` answers, on either transport. (Defined in the shells; not generated yet.) */
export interface ArchiveInfo {
  /** The folder's own name. */
  name: string;
  /** The absolute path of the archive folder. */
  root: string;
  indexed: boolean;
  transport: 'tauri' | 'http';
}

/**
 * ts-rs types u64/i64 as `bigint`, but JSON (HTTP and Tauri IPC alike) delivers plain numbers.
 * Every count goes through `num` so the UI is right whichever the bindings say.
 */
export function num(value: number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'bigint' ? Number(value) : value;
}
