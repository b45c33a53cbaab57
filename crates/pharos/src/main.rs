//! The `pharos` binary: parses the command line and runs the chosen subcommand.

mod check_cmd;
mod cli;
mod logging;
mod malloc;
mod replay_cmd;
mod server_cmd;
mod tsdb_cmd;

use clap::Parser;

/// Opt-in allocator (`--features mimalloc`; see the crate's Cargo.toml for the trade-off).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    malloc::limit_arenas();
    let cli = cli::Cli::parse();
    if matches!(cli.command, cli::Command::Server(_)) {
        // Returns only when the heap already has huge pages or cannot have them.
        malloc::use_huge_pages();
    }
    match cli.command {
        cli::Command::Server(args) => server_cmd::run(args),
        cli::Command::Tsdb(cmd) => tsdb_cmd::run(cmd),
        cli::Command::Check(cmd) => check_cmd::check(cmd),
        cli::Command::Test(cmd) => check_cmd::test(cmd),
        cli::Command::Route(cmd) => check_cmd::route(cmd),
        cli::Command::Replay(args) => replay_cmd::run(args),
        cli::Command::Alertmanager(opts) => server_cmd::run_alertmanager(opts),
    }
}
