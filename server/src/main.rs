//! `parley-server`: prints the agent's credentials and URLs, then serves until stopped.

// A panicking handler must cost one 500 (tower-http's CatchPanicLayer), not every
// connection: that needs unwinding. The workspace's release profile aborts, for the wasm app.
#[cfg(panic = "abort")]
compile_error!(
    "parley-server must unwind on panic: build it with `cargo build --profile server -p parley-server` \
     (the release profile has panic = \"abort\" for the wasm app)"
);

use clap::Parser;
use parley_server::config::{Cli, Config};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "parley_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::from(Cli::parse());
    let server = match parley_server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("parley-server: {e}");
            std::process::exit(1);
        }
    };
    // The lines are a contract (PLAN.md): scripts and tests parse these prefixes.
    for line in &server.startup_lines {
        println!("{line}");
    }
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
}
