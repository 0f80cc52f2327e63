//! Copies of the compiled program, one for each evaluation state alive at once.
//!
//! regorus clones the program's `Arc` on every jump and builtin call, and a literal's `Arc` on
//! every load of it. With one program shared by threads that evaluate at once, those reference
//! counts are written from both cores, and the cache lines that hold them move between the cores
//! at every write: a two-thread lint spent 40 % more CPU than the same lint on one thread (perf:
//! the time went to `jump_to` and the call and load instructions), where two processes on the
//! same cores spent no more than one. Each state therefore runs on a copy of its own,
//! deserialized from the program's bytes so that nothing in it is shared. Copies are lent and
//! given back, so a run makes as many as it has states alive at once: one on a single thread,
//! which then runs on the compiled program itself and pays nothing.

use std::sync::{Arc, Mutex};

use regorus::rvm::program::{DeserializationResult, Program};

use super::cache::Payload;

pub(super) struct Programs {
    compiled: Arc<Program>,
    /// The program in its binary form, as the policy cache holds it: what copies are made from.
    bytes: Option<Payload>,
    /// Copies (and the compiled program) that no state holds now.
    spare: Mutex<Vec<Arc<Program>>>,
}

impl Programs {
    /// `bytes` is `compiled` serialized (None if it could not be: states then share it).
    pub(super) fn new(compiled: Arc<Program>, bytes: Option<Payload>) -> Arc<Programs> {
        Arc::new(Programs {
            spare: Mutex::new(vec![compiled.clone()]),
            compiled,
            bytes,
        })
    }

    /// A program no other state holds: a spare one, or a new copy. Should the program not
    /// round-trip through its binary form, the state shares the compiled program, which gives
    /// the same verdicts at the cost above.
    pub(super) fn lend(self: &Arc<Programs>) -> Loan {
        let spare = self.spare.lock().ok().and_then(|mut spare| spare.pop());
        let program = spare.unwrap_or_else(|| self.copy().unwrap_or_else(|| self.compiled.clone()));
        Loan {
            programs: self.clone(),
            program,
        }
    }

    fn copy(&self) -> Option<Arc<Program>> {
        match Program::deserialize_binary(self.bytes.as_ref()?) {
            Ok(DeserializationResult::Complete(program)) => Some(Arc::new(program)),
            Ok(DeserializationResult::Partial(_)) | Err(_) => None,
        }
    }
}

/// A program lent to one evaluation state, given back when the state is dropped.
pub(super) struct Loan {
    programs: Arc<Programs>,
    program: Arc<Program>,
}

impl Loan {
    pub(super) fn program(&self) -> Arc<Program> {
        self.program.clone()
    }

    /// Where the lent program is (tests).
    #[cfg(test)]
    pub(super) fn program_address(&self) -> *const Program {
        Arc::as_ptr(&self.program)
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        // The compiled program's handle stands in for the one given back.
        let program = std::mem::replace(&mut self.program, self.programs.compiled.clone());
        if let Ok(mut spare) = self.programs.spare.lock() {
            spare.push(program);
        }
    }
}
