//! `seaworthy lint` on one file of arbitrary bytes: loading, spans, engine values, workload views.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = seaworthy::fuzzing::load_manifest(bytes);
});
