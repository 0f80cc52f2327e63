//! The threads the webhook evaluates long evaluations on (those that outran their time on the
//! worker thread, and objects over one slot; see `server::evaluate`): a fixed set, started once,
//! each with a stack sized for deep evaluations ([`EVAL_STACK_BYTES`]). A request hands its
//! evaluation to them through one queue and awaits the answer, so the deadline is kept whatever
//! the evaluation does; no thread is started per request, as one `spawn_blocking` per request
//! did. How many evaluations run at once is decided by the caller
//! (the evaluation slots in `server`), which admits no more than there are threads (up to
//! [`MAX_THREADS`]).

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::engine::EVAL_STACK_BYTES;

type Job = Box<dyn FnOnce() + Send>;

/// As many threads as tokio's blocking pool had at most, which evaluated before.
pub const MAX_THREADS: usize = 512;

pub struct Evaluators {
    queue: Mutex<Sender<Job>>,
}

impl Evaluators {
    /// Starts `threads` evaluation threads (at least one, at most [`MAX_THREADS`]; with more
    /// slots than threads, an admitted evaluation waits in the queue, within its deadline).
    pub fn start(threads: usize) -> std::io::Result<Evaluators> {
        let threads = threads.clamp(1, MAX_THREADS);
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("seaworthy-eval-{i}"))
                .stack_size(EVAL_STACK_BYTES)
                .spawn(move || work(&receiver))?;
        }
        Ok(Evaluators {
            queue: Mutex::new(sender),
        })
    }

    /// Runs `job` on an evaluation thread; the receiver gets its result (or an error if the job
    /// panicked, which drops the sender).
    pub fn run<T, F>(&self, job: F) -> oneshot::Receiver<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (answer, receiver) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(job());
        });
        if let Ok(queue) = self.queue.lock() {
            // The threads live as long as the process, so the queue is never closed.
            let _ = queue.send(job);
        }
        receiver
    }
}

/// One evaluation thread: takes jobs until the queue closes. A job that panics costs its own
/// answer (the caller sees the closed channel), never the thread.
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = match receiver.lock() {
            Ok(queue) => match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_same_named_threads_and_a_panic_costs_only_its_answer() {
        let evaluators = Evaluators::start(1).expect("threads");
        let name = || std::thread::current().name().map(String::from);
        let first = evaluators.run(name).blocking_recv().expect("answer");
        assert_eq!(first.as_deref(), Some("seaworthy-eval-0"));
        let panicked = evaluators.run(|| -> u32 { panic!("a broken evaluation") });
        assert!(panicked.blocking_recv().is_err(), "no answer, no hang");
        let after = evaluators
            .run(name)
            .blocking_recv()
            .expect("the thread survives");
        assert_eq!(after, first);
    }
}
