use clap::Parser;

/// mimalloc instead of glibc's malloc: the Rego VM allocates and frees small values at a high rate
/// on several threads, and glibc's allocator cost about a fifth of the webhook's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = seaworthy::cli::Cli::parse();
    std::process::exit(seaworthy::cli::run(cli));
}
