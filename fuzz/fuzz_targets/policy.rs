//! A custom policy file of arbitrary text: load-time checks, parse, analysis, metadata, RVM
//! compilation, one evaluation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &[u8]| {
    let _ = seaworthy::fuzzing::load_policy(text);
});
