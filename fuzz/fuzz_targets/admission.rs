//! `POST /validate` with an arbitrary body: decode, triage, object budget, review by the built-in
//! rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = seaworthy::fuzzing::review_admission(body);
});
