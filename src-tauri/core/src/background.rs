//! Work nobody is waiting for yields the processor to work someone is waiting for.
//!
//! The rescan after an archive is opened and the watcher's rescans walk every file; at a million
//! posts that is seconds of both cores. Run at the normal priority they made each search typed
//! meanwhile two to six times slower (`bench/README.md`). So they run on their own small pool
//! whose threads have a lower scheduling priority (nice 10 on Linux, where a thread has its own
//! nice value), and their parallel loops stay on that pool instead of the global one that
//! searches and edits use. Elsewhere the priority is left as it is.

use std::sync::OnceLock;

/// The nice value of background threads: they still get about a tenth of a contended core.
const NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority to `NICE` (never raises it). Best effort:
/// a failure leaves the priority as it was.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        if let Ok(now) = getpriority_process(me) {
            if now < NICE {
                let _ = setpriority_process(me, NICE);
            }
        }
    }
}

/// The background pool: as many threads as cores, each at the lower priority.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("shelfmark-background-{i}"))
            .start_handler(|_| lower_this_thread())
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `work` on the background pool (its parallel loops too), and waits for it. Without a pool
/// (threads could not be made) it runs here, at the caller's priority.
pub fn run<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn my_nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn background_work_and_its_parallel_loops_run_at_the_lower_priority_and_the_caller_does_not() {
        use rayon::prelude::*;
        let before = my_nice();
        let nices: Vec<i32> = run(|| (0..64).into_par_iter().map(|_| my_nice()).collect());
        assert!(nices.iter().all(|&n| n >= NICE), "{nices:?}");
        assert!(run(my_nice) >= NICE, "the work itself runs on the pool");
        assert_eq!(my_nice(), before, "the caller's priority is unchanged");
        // The global pool is not the background pool.
        let global: Vec<i32> = (0..64).into_par_iter().map(|_| my_nice()).collect();
        assert!(global.iter().all(|&n| n == before), "{global:?}");
    }
}
