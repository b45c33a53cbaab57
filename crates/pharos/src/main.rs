//! The `pharos` binary: parses the command line and runs the chosen subcommand.

mod cli;
mod logging;
mod server_cmd;
mod tsdb_cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Server(args) => server_cmd::run(args),
        cli::Command::Tsdb(cmd) => tsdb_cmd::run(cmd),
    }
}
