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
    std::process::exit(seaworthy::cli::run(cli));
}
