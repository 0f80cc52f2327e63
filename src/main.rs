use clap::Parser;

/// mimalloc instead of glibc's malloc: the Rego VM allocates and frees small values at a high rate
/// on several threads, and glibc's allocator cost about a fifth of the webhook's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // regorus's parser backtracks through `anyhow` errors, and with RUST_BACKTRACE set (common in
    // CI and containers) each one captured a stack trace nobody sees: loading the policies took
    // about 1.5x as long (a `lint` without the policy cache: 86 -> 127 ms). Panics still print
    // their backtrace as RUST_BACKTRACE asks; set RUST_LIB_BACKTRACE to capture library ones.
    // Set before any thread starts.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = seaworthy::cli::Cli::parse();
    // An explicit MIMALLOC_PURGE_DELAY (mimalloc reads it at start) is left as the user set it.
    if !matches!(cli.command, seaworthy::cli::Command::Serve(_))
        && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
    {
        return_freed_memory_sooner();
    }
    std::process::exit(seaworthy::cli::run(cli));
}

/// mimalloc's `purge_delay` option: its index in mimalloc's option enum, the same in v2 and v3
/// (retired options keep their places), for which libmimalloc-sys names no constant.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long the one-shot commands let mimalloc keep freed memory before giving it back (ms).
const ONE_SHOT_PURGE_DELAY_MS: std::ffi::c_long = 10;

/// One-shot commands (lint above all) give freed memory back to the system after 10 ms, not after
/// the 1 s default of the mimalloc v3 we build: a lint frees parsed files, trees and findings in
/// bulk while the rest of the run is still growing, and with the long delay that memory stayed
/// resident. Peak RSS on the bench corpus 233-254 -> 203-212 MiB, on four copies of it 781 -> 690
/// MiB, for about 4 % of wall time; 0 (at once) saved no more and cost 11 % (README
/// "Performance"). `serve` keeps the default: every review allocates and frees the same sizes
/// again, and its RSS is small.
fn return_freed_memory_sooner() {
    // SAFETY: sets one integer option, which mimalloc reads when it next purges; no memory is
    // touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ONE_SHOT_PURGE_DELAY_MS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index names `purge_delay`: it holds v3's default of 1,000 (ms), which no neighbouring
    /// option has, and the value set is read back. (The tests run without `MIMALLOC_PURGE_DELAY`
    /// in the environment; with it, only the second half is checked.)
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads an integer option of the allocator.
        let before = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(before, 1_000);
        }
        return_freed_memory_sooner();
        // SAFETY: as above.
        let after = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(after, ONE_SHOT_PURGE_DELAY_MS);
    }
}
