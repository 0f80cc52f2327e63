//! Where the webhook's log lines go: into a buffer in memory, which one thread writes out every
//! [`FLUSH_INTERVAL`], or at once when it holds [`FLUSH_BYTES`]. A review never waits for the
//! log pipe (a stalled log collector cannot stall admission), and a busy webhook does not wake a
//! thread and make a `write` call for every line, as a queue with a writer thread woken per line
//! did (one context switch per review, on two cores shared with everything else).
//!
//! A line that finds [`MAX_LINES`] already waiting is dropped and counted
//! (`seaworthy_log_lines_dropped_total`) rather than held in memory without bound.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in the buffer: the delay before it reaches a log collector.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// Buffered bytes that wake the writer thread before the interval ends.
pub const FLUSH_BYTES: usize = 64 * 1024;

/// Lines that may wait for the output (a stalled pipe) before new ones are dropped.
pub const MAX_LINES: usize = 64 * 1024;

/// How long exiting waits for the log thread to write what is left: a pipe nobody reads would
/// otherwise keep the process from ever exiting.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);

/// What the log thread and the threads that log share.
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when the buffer reaches [`FLUSH_BYTES`] and at shutdown.
    wake: Condvar,
    dropped: AtomicU64,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    lines: usize,
    closing: bool,
}

/// The handle the logger writes through (cheap to clone, one per event).
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// The thread that writes the buffer out; dropping it writes what is left and stops the thread,
/// waiting for that at most [`SHUTDOWN_WAIT`].
pub struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the log thread, writing to `output`.
pub fn start<W: Write + Send + 'static>(output: W) -> std::io::Result<(BatchWriter, Flusher)> {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        dropped: AtomicU64::new(0),
    });
    let thread = std::thread::Builder::new()
        .name("seaworthy-log".to_string())
        .spawn({
            let shared = shared.clone();
            move || write_out(&shared, output)
        })?;
    Ok((
        BatchWriter {
            shared: shared.clone(),
        },
        Flusher {
            shared,
            thread: Some(thread),
        },
    ))
}

impl BatchWriter {
    /// Lines dropped so far because the output could not keep up.
    pub fn dropped_lines(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

/// A poisoned lock only means a thread panicked while holding it; the buffer is still whole
/// bytes (appends and swaps cannot be torn), so logging goes on.
fn lock(shared: &Shared) -> MutexGuard<'_, Pending> {
    shared.pending.lock().unwrap_or_else(|e| e.into_inner())
}

impl Write for BatchWriter {
    /// One call per event: the logger formats a whole line, then writes it.
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut pending = lock(&self.shared);
        if pending.lines >= MAX_LINES {
            drop(pending);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(line.len());
        }
        let was_below = pending.bytes.len() < FLUSH_BYTES;
        pending.bytes.extend_from_slice(line);
        pending.lines += 1;
        let now_above = pending.bytes.len() >= FLUSH_BYTES;
        drop(pending);
        if was_below && now_above {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The log thread: waits for the interval (or a full buffer), takes what is buffered and writes
/// it out, until closed with nothing left. Write errors (a closed pipe) lose those lines only.
fn write_out<W: Write>(shared: &Shared, mut output: W) {
    let mut batch = Vec::new();
    loop {
        let closing = {
            let mut pending = lock(shared);
            if !pending.closing && pending.bytes.len() < FLUSH_BYTES {
                pending = shared
                    .wake
                    .wait_timeout(pending, FLUSH_INTERVAL)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            // Swapped, not copied: the logging threads go on with the emptied last batch's
            // allocation while this one is written.
            batch.clear();
            std::mem::swap(&mut batch, &mut pending.bytes);
            pending.lines = 0;
            pending.closing
        };
        if !batch.is_empty() {
            let _ = output.write_all(&batch).and_then(|()| output.flush());
        }
        if closing {
            return;
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        lock(&self.shared).closing = true;
        self.shared.wake.notify_one();
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = std::time::Instant::now() + SHUTDOWN_WAIT;
        while !thread.is_finished() {
            if std::time::Instant::now() >= deadline {
                // Stuck in a write to a stalled output: left behind, it ends with the process.
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that keeps what it gets, and can be made to block (a stalled pipe).
    #[derive(Clone, Default)]
    struct Sink {
        written: Arc<Mutex<Vec<u8>>>,
        writes: Arc<AtomicU64>,
        stalled: Arc<Mutex<()>>,
    }

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _wait = self.stalled.lock().expect("stall");
            self.writes.fetch_add(1, Ordering::Relaxed);
            self.written.lock().expect("sink").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log(writer: &BatchWriter, line: &str) {
        writer.clone().write_all(line.as_bytes()).expect("write");
    }

    #[test]
    fn lines_arrive_whole_in_order_in_few_writes_and_all_by_shutdown() {
        let sink = Sink::default();
        let (writer, flusher) = start(sink.clone()).expect("thread");
        let lines: Vec<String> = (0..5000).map(|i| format!("line {i}\n")).collect();
        for line in &lines {
            log(&writer, line);
        }
        drop(flusher);
        assert_eq!(
            String::from_utf8(sink.written.lock().expect("sink").clone()).expect("utf-8"),
            lines.concat()
        );
        let writes = sink.writes.load(Ordering::Relaxed);
        assert!(writes < 50, "batched: {writes} writes for 5000 lines");
        assert_eq!(writer.dropped_lines(), 0);
    }

    #[test]
    fn a_quiet_line_is_written_within_the_interval() {
        let sink = Sink::default();
        let (writer, _flusher) = start(sink.clone()).expect("thread");
        log(&writer, "one\n");
        let deadline = std::time::Instant::now() + FLUSH_INTERVAL * 20;
        while sink.written.lock().expect("sink").is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "not written within {:?}",
                FLUSH_INTERVAL * 20
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.written.lock().expect("sink").as_slice(), b"one\n");
    }

    #[test]
    fn a_stalled_output_drops_and_counts_lines_beyond_the_limit_without_blocking() {
        let sink = Sink::default();
        let stall = sink.stalled.lock().expect("stall");
        let (writer, flusher) = start(sink.clone()).expect("thread");
        // The first batch takes the log thread into the stalled write; then the buffer fills.
        log(&writer, "first\n");
        std::thread::sleep(FLUSH_INTERVAL * 3);
        let started = std::time::Instant::now();
        for i in 0..MAX_LINES + 10 {
            log(&writer, &format!("{i}\n"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "logging never waits for the output"
        );
        assert_eq!(writer.dropped_lines(), 10);
        drop(stall);
        drop(flusher);
        let written = String::from_utf8(sink.written.lock().expect("sink").clone()).expect("utf");
        assert_eq!(written.lines().count(), 1 + MAX_LINES);
        assert!(written.ends_with(&format!("{}\n", MAX_LINES - 1)));
    }

    #[test]
    fn shutting_down_with_a_stalled_output_gives_up_after_the_wait() {
        let sink = Sink::default();
        let stall = sink.stalled.lock().expect("stall");
        let (writer, flusher) = start(sink.clone()).expect("thread");
        log(&writer, "stuck\n");
        std::thread::sleep(FLUSH_INTERVAL * 3);
        let started = std::time::Instant::now();
        drop(flusher);
        let waited = started.elapsed();
        assert!(
            waited >= SHUTDOWN_WAIT && waited < SHUTDOWN_WAIT * 3,
            "gave up after {waited:?}"
        );
        drop(stall);
    }
}
