//! A hook for the crash tests: they kill the process in the middle of an operation.

/// `SHELFMARK_EDIT_BATCH_PAUSE_MS`: wait this long after each written batch. Only for tests that
/// kill the process in the middle of an operation (tests/edit.rs); unset, it costs nothing.
pub(super) fn pause_for_crash_tests() {
    static PAUSE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        std::env::var("SHELFMARK_EDIT_BATCH_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(ms) = pause {
        std::thread::sleep(std::time::Duration::from_millis(*ms));
    }
}
