// Keep a console window away on Windows release builds; no effect on Linux.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    shelfmark_desktop::run();
}
