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
    /// Seed demo data on first start, print the agent's credentials and put the token in
    /// the app page (for requests to the loopback address or localhost only).
    #[arg(long)]
    pub demo: bool,
    /// The agent's api_access_token, at least 24 characters (Chatwoot's length). Only its
    /// digest is stored: it stays valid across restarts until another replaces it. Without
    /// it, --demo makes a new one on each start.
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
    /// The app's optional features, comma-separated: `voiceMessages`, `richTextEditor`, or
    /// `none`. Both are on unless this says otherwise.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "voiceMessages,richTextEditor"
    )]
    pub features: Vec<Feature>,
    /// Answer CORS on the agent API (`/api/*`) for any origin, as Chatwoot does with
    /// `ENABLE_API_CORS=true`: for host pages on another origin that embed Parley with an
    /// access token (`/auth/sign_in` stays same-origin, as in Chatwoot).
    #[arg(long)]
    pub api_cors: bool,
    /// The scheme, host and port people reach this server at (e.g. `https://chat.example.com`
    /// behind a TLS proxy): absolute URLs (attachments) are made from it, never from a
    /// request's `Host` or `X-Forwarded-*`. Default: `http://BIND:PORT`.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
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

/// One of the app's feature flags, as `--features` names it (and as the app's config does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Feature {
    #[value(name = "voiceMessages")]
    VoiceMessages,
    #[value(name = "richTextEditor")]
    RichTextEditor,
    #[value(name = "none")]
    None,
}

/// The feature flags put in the app page's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppFeatures {
    pub voice_messages: bool,
    pub rich_text_editor: bool,
}

impl AppFeatures {
    pub const ALL: AppFeatures = AppFeatures {
        voice_messages: true,
        rich_text_editor: true,
    };

    pub fn from_list(list: &[Feature]) -> AppFeatures {
        AppFeatures {
            voice_messages: list.contains(&Feature::VoiceMessages),
            rich_text_editor: list.contains(&Feature::RichTextEditor),
        }
    }
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
    pub features: AppFeatures,
    pub api_cors: bool,
    /// `--public-url`; `None` means the bound address.
    pub public_url: Option<String>,
    /// Proxy mode when set (see `proxy`): nothing of the fields above but bind, port and
    /// dist is used.
    pub upstream: Option<Upstream>,
}

/// Chatwoot's `NUMBER_OF_PERMITTED_ATTACHMENTS`.
pub const MAX_ATTACHMENTS: usize = 15;
/// Chatwoot's message content validation.
pub const MAX_CONTENT_CHARS: usize = 150_000;
/// The largest JSON body and multipart text field: 150,000 characters of content, even
/// JSON-escaped, fit with room to spare; anything larger is refused before it is read.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

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
            features: AppFeatures::from_list(&c.features),
            api_cors: c.api_cors,
            public_url: c.public_url,
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
            features: AppFeatures::ALL,
            api_cors: false,
            public_url: None,
            upstream: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(args: &[&str]) -> AppFeatures {
        let cli = Cli::try_parse_from(["parley-server"].iter().chain(args)).unwrap();
        Config::from(cli).features
    }

    #[test]
    fn features_are_on_unless_the_command_line_says_otherwise() {
        assert_eq!(features(&[]), AppFeatures::ALL);
        assert_eq!(
            features(&["--features", "none"]),
            AppFeatures {
                voice_messages: false,
                rich_text_editor: false
            }
        );
        assert_eq!(
            features(&["--features", "richTextEditor"]),
            AppFeatures {
                voice_messages: false,
                rich_text_editor: true
            }
        );
        assert_eq!(
            features(&["--features", "voiceMessages,richTextEditor"]),
            AppFeatures::ALL
        );
        assert!(Cli::try_parse_from(["parley-server", "--features", "telepathy"]).is_err());
    }
}
