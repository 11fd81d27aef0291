// Types the UI uses beyond the ones generated from Rust (./bindings, by ts-rs).

/**
 * ts-rs types u64/i64 as `bigint`, but JSON (HTTP and Tauri IPC alike) delivers plain numbers.
 * Every count goes through `num` so the UI is right whichever the bindings say.
 */
export function num(value: number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'bigint' ? Number(value) : value;
}
