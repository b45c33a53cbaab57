//! A small standalone Alertmanager binary (what `pharos alertmanager` runs), used by the
//! crash-restart tests: `pharos-alertmanager --config.file=... --storage.path=...`.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "pharos-alertmanager")]
struct Cli {
    #[command(flatten)]
    opts: alertmanager_api::StandaloneOpts,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = alertmanager_api::run_standalone(cli.opts).await {
        eprintln!("pharos-alertmanager: {e}");
        std::process::exit(1);
    }
}
