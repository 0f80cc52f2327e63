//! The log writer: request handlers hand each formatted log line to a thread of their own, which
//! writes them to stderr, several lines per write when they come in bursts. A handler never waits
//! for the terminal or the pipe behind stderr (one `write` per review line was a system call on
//! the request's path), unless the queue is full: then it waits, so no line is ever dropped.
//! [`flush`] at exit writes out what is queued.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::OnceLock;

/// Lines queued before a handler waits for the writer thread.
const QUEUE_LINES: usize = 16 * 1024;

/// Bytes gathered into one write when lines are queued.
const BATCH_BYTES: usize = 64 * 1024;

enum Message {
    Line(Vec<u8>),
    /// Answered once every line queued before it is written.
    Flush(SyncSender<()>),
}

static QUEUE: OnceLock<Option<SyncSender<Message>>> = OnceLock::new();

/// The queue to the writer thread, started on first use (None if the thread cannot start: then
/// lines are written directly).
fn queue() -> Option<&'static SyncSender<Message>> {
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = sync_channel(QUEUE_LINES);
            std::thread::Builder::new()
                .name("seaworthy-log".into())
                .spawn(move || write_lines(&receiver, &mut std::io::stderr()))
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

fn write_lines(receiver: &Receiver<Message>, out: &mut impl Write) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    while let Ok(first) = receiver.recv() {
        let mut next = Some(first);
        let mut flushed = Vec::new();
        while let Some(message) = next {
            match message {
                Message::Line(line) => batch.extend_from_slice(&line),
                Message::Flush(done) => flushed.push(done),
            }
            next = if batch.len() < BATCH_BYTES {
                receiver.try_recv().ok()
            } else {
                None
            };
        }
        // A log that cannot be written has nowhere to report it.
        let _ = out.write_all(&batch);
        let _ = out.flush();
        batch.clear();
        for done in flushed {
            let _ = done.send(());
        }
    }
}

/// The `MakeWriter` of the subscriber: each event is formatted into one buffer and written with
/// one `write_all`, so one write is one line.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match queue() {
            Some(queue) if queue.send(Message::Line(buf.to_vec())).is_ok() => Ok(buf.len()),
            _ => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Waits until every line logged so far is written.
pub fn flush() {
    let Some(queue) = QUEUE.get().and_then(Option::as_ref) else {
        return;
    };
    let (done, written) = sync_channel(1);
    if queue.send(Message::Flush(done)).is_ok() {
        let _ = written.recv();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_lines_are_written_in_order_and_flush_waits_for_them() {
        let (sender, receiver) = sync_channel(4);
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        let writer = std::thread::spawn(move || {
            let mut out = Vec::new();
            write_lines(&receiver, &mut out);
            out_tx.send(out).expect("result");
        });
        for i in 0..100 {
            sender
                .send(Message::Line(format!("line {i}\n").into_bytes()))
                .expect("queued");
        }
        let (done, written) = sync_channel(1);
        sender.send(Message::Flush(done)).expect("flush queued");
        written.recv().expect("flushed");
        drop(sender);
        writer.join().expect("writer");
        let out = String::from_utf8(out_rx.recv().expect("output")).expect("utf-8");
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(out, expected);
    }
}
