//! Threads of the pipeline's stages: names, priorities, CPU accounting.

use crate::error::{Error, Result};

/// Starts a pipeline stage on a thread of `scope` named `storyline-{stage}`, so a profiler
/// or debugger shows the stages apart.
pub(super) fn spawn_stage<'scope, 'env, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    stage: &'static str,
    f: impl FnOnce() -> T + Send + 'scope,
) -> Result<std::thread::ScopedJoinHandle<'scope, T>> {
    std::thread::Builder::new()
        .name(format!("storyline-{stage}"))
        .spawn_scoped(scope, f)
        .map_err(|source| Error::Thread { stage, source })
}

/// Waits for a stage's thread; a panic there is raised again here.
pub(super) fn join_stage<T>(stage: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match stage.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// CPU time (user + system) the calling thread has used, in seconds; 0 where unsupported.
pub(super) fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call only fills it.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    0.0
}

/// The analysis stage's threads, one per core, named, and at a lower scheduling priority
/// than the placer and writer. Those two are sequential and bound a run: with equal
/// priorities the scheduler gave the writer a third to a half of a core while it always had
/// work, the other stages ran ahead, blocked, and a core sat idle. Analysis is parallel and
/// a batch ahead, so yielding to them costs it nothing.
pub(super) fn analysis_pool() -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("storyline-analysis-{i}"))
        .start_handler(|_| lower_this_thread_priority())
        .build()
        .map_err(|e| Error::Thread {
            stage: "analysis",
            source: std::io::Error::other(e.to_string()),
        })
}

/// Raises the calling thread's nice value (Linux sets it per thread). Best effort: a
/// system that refuses only loses the ordering.
pub(crate) fn lower_this_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id; no memory is shared.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            // Relative to the process's own niceness, so `nice storyline …` keeps the order.
            let now = libc::getpriority(libc::PRIO_PROCESS, tid);
            libc::setpriority(libc::PRIO_PROCESS, tid, (now + ANALYSIS_NICE).min(19));
        }
    }
}

/// How much nicer analysis threads are than the rest: at 10 the scheduler weighs a placer or
/// writer thread about nine times an analysis thread.
#[cfg(target_os = "linux")]
pub(super) const ANALYSIS_NICE: libc::c_int = 10;
