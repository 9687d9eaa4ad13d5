//! Command line and the configuration the server runs with (PLAN.md's fixed CLI).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Chatwoot-compatible server for Parley: agent REST API, ActionCable, the public client
/// API with a customer page, uploads and demo data.
#[derive(Debug, Clone, Parser)]
#[command(name = "parley-server", version)]
pub struct Cli {
    /// Port to listen on; 0 picks a free one (the printed URLs carry the real port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Where the SQLite database and uploads live (created when missing).
    #[arg(long, default_value = "./.parley/data")]
    pub data_dir: PathBuf,
    /// The built app (Trunk's dist/) served under /app/.
    #[arg(long, default_value = "./dist")]
    pub dist: PathBuf,
    /// Seed demo data on first start and put the token in the app page.
    #[arg(long)]
    pub demo: bool,
    /// The agent's api_access_token (otherwise the stored one, or a new one).
    #[arg(long)]
    pub agent_token: Option<String>,
    /// Turn off the echo_id idempotency extension (behave like a real Chatwoot).
    #[arg(long)]
    pub no_idempotency: bool,
    /// Enable POST/GET /__parley/test/faults.
    #[arg(long)]
    pub test_controls: bool,
    /// Largest accepted upload, per file, in MB (Chatwoot's MAXIMUM_FILE_UPLOAD_SIZE).
    #[arg(long, default_value_t = 40)]
    pub max_file_mb: u64,
    /// Proxy mode: serve the app and forward /api, /auth, /public/api, /cable and file URLs
    /// to this Chatwoot (e.g. https://chatwoot.example.com). No database, no demo data.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Proxy mode: seconds to wait for a TCP/TLS connection to the upstream.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub upstream_connect_timeout: u64,
    /// Proxy mode: seconds of upstream silence (no response headers, no request body
    /// progress, no response body bytes) before the request fails with 504.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub upstream_timeout: u64,
}

/// `--upstream`: where a proxying server forwards to, and how long it waits.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// As given on the command line; checked when the server starts.
    pub url: String,
    pub connect_timeout: Duration,
    /// The stall timeout: it restarts whenever the upload makes progress, so a long
    /// upload is never cut while it streams, but a silent upstream is.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub data_dir: PathBuf,
    pub dist: PathBuf,
    pub demo: bool,
    pub agent_token: Option<String>,
    pub idempotency: bool,
    pub test_controls: bool,
    pub max_file_bytes: u64,
    /// Proxy mode when set (see `proxy`): nothing of the fields above but bind, port and
    /// dist is used.
    pub upstream: Option<Upstream>,
}

/// Chatwoot's `NUMBER_OF_PERMITTED_ATTACHMENTS`.
pub const MAX_ATTACHMENTS: usize = 15;
/// Chatwoot's message content validation.
pub const MAX_CONTENT_CHARS: usize = 150_000;

impl From<Cli> for Config {
    fn from(c: Cli) -> Self {
        Config {
            bind: c.bind,
            port: c.port,
            data_dir: c.data_dir,
            dist: c.dist,
            demo: c.demo,
            agent_token: c.agent_token,
            idempotency: !c.no_idempotency,
            test_controls: c.test_controls,
            max_file_bytes: c.max_file_mb.saturating_mul(1024 * 1024),
            upstream: c.upstream.map(|url| Upstream {
                url,
                connect_timeout: Duration::from_secs(c.upstream_connect_timeout),
                timeout: Duration::from_secs(c.upstream_timeout),
            }),
        }
    }
}

impl Config {
    /// Defaults for an in-process server (tests): free port, the given data dir, no dist.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 0,
            data_dir: data_dir.into(),
            dist: PathBuf::from("/nonexistent-dist"),
            demo: true,
            agent_token: None,
            idempotency: true,
            test_controls: true,
            max_file_bytes: 40 * 1024 * 1024,
            upstream: None,
        }
    }
}
