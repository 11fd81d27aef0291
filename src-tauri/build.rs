fn main() {
    // The package root is the repository root, so point tauri-build at the shell's capabilities.
    if let Err(e) = tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*"),
    ) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
