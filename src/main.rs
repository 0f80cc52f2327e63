use clap::Parser;

fn main() {
    let cli = seaworthy::cli::Cli::parse();
    std::process::exit(seaworthy::cli::run(cli));
}
