//! Hooks for the crash tests: they kill the process in the middle of an operation.

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

/// `SHELFMARK_EDIT_CRASH_AT=STEP:POINT` (`apply:moved-one`, `undo:moved`…): at that point of an
/// operation that moves or deletes files, say so on stderr and stop there until killed. Only for
/// the crash tests (tests/resolve.rs), which kill the process once it says so; unset, it costs
/// nothing.
pub(super) fn crash_point(step: &str, point: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("SHELFMARK_EDIT_CRASH_AT").ok());
    let Some(at) = at else {
        return;
    };
    if at.split_once(':') != Some((step, point)) {
        return;
    }
    use std::io::Write;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "shelfmark: crash point {step}:{point}");
    let _ = err.flush();
    loop {
        std::thread::park();
    }
}
