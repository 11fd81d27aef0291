//! The Shelfmark desktop shell.
//!
//! This crate only wires the webview to the Rust side: app state and one thin
//! `#[tauri::command]` per api call. Everything an archive does lives in `shelfmark-core`.

use std::ffi::OsString;
use std::path::PathBuf;

/// The archive folder named on the command line (`shelfmark-desktop [ARCHIVE]`), if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartupArchive(pub Option<PathBuf>);

/// Picks the archive folder from the process arguments: the first argument after the
/// program name that is not an option (options such as GTK's `--display` are left alone).
/// A relative path is made absolute against the current directory.
pub fn archive_from_args<I>(args: I) -> Option<PathBuf>
where
    I: IntoIterator<Item = OsString>,
{
    let arg = args
        .into_iter()
        .skip(1)
        .find(|a| !a.is_empty() && !a.as_encoded_bytes().starts_with(b"-"))?;
    let path = PathBuf::from(arg);
    Some(std::path::absolute(&path).unwrap_or(path))
}

/// The app's version, to prove the IPC round trip.
#[tauri::command]
fn app_version(app: tauri::AppHandle) -> String {
    app.package_info().version.to_string()
}

/// The archive folder given on the command line, if any.
#[tauri::command]
fn startup_archive(state: tauri::State<'_, StartupArchive>) -> Option<String> {
    state.0.as_ref().map(|p| p.to_string_lossy().into_owned())
}

/// Builds and runs the desktop app with the window from `tauri.conf.json`.
pub fn run() {
    let archive = StartupArchive(archive_from_args(std::env::args_os()));
    let result = tauri::Builder::default()
        .manage(archive)
        .invoke_handler(tauri::generate_handler![app_version, startup_archive])
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("shelfmark-desktop: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_argument_means_no_archive() {
        assert_eq!(archive_from_args(args(&["shelfmark-desktop"])), None);
        assert_eq!(archive_from_args(Vec::<OsString>::new()), None);
    }

    #[test]
    fn first_positional_argument_is_the_archive() {
        let got = archive_from_args(args(&[
            "shelfmark-desktop",
            "--verbose",
            "/data/posts",
            "x",
        ]));
        assert_eq!(got, Some(PathBuf::from("/data/posts")));
    }

    #[test]
    fn relative_archive_is_made_absolute() {
        let got = archive_from_args(args(&["shelfmark-desktop", "sample-archive"])).unwrap();
        assert!(got.is_absolute());
        assert!(got.ends_with("sample-archive"));
    }
}
