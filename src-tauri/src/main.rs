// Keep a console window away on Windows release builds; no effect on Linux.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The app indexes with the CLI's allocator (src-tauri/cli/src/main.rs).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    shelfmark_desktop::run();
}
