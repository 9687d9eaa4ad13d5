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
    /// Seconds a client has to send a request's headers; also how long a kept-alive
    /// connection may wait for its next request. At most 30.
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=30))]
    pub header_timeout: u64,
    /// Seconds a request body may stall (no bytes arriving) before the request fails; an
    /// upload that keeps moving is never cut.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub body_timeout: u64,
    /// Seconds an HTTP connection may move no byte either way (a response its client does
    /// not read, a handler that never answers) before it is closed.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub idle_timeout: u64,
    /// Most open HTTP connections (WebSockets excluded); more are closed on accept. Kept
    /// below the process's open-file limit.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_connections: usize,
    /// Most open `/cable` WebSockets in total.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub cable_max_connections: usize,
    /// Most open `/cable` WebSockets from one client address.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub cable_max_per_address: usize,
    /// Most subscriptions on one `/cable` connection.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub cable_max_subscriptions: usize,
    /// KiB of frames queued for one `/cable` client that reads too slowly; when it is
    /// full the client is disconnected (it reconnects and reloads).
    #[arg(long, default_value_t = 4096, value_name = "KIB")]
    pub cable_queue_kib: usize,
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
    pub limits: Limits,
}

/// What one client may hold of the server: connections, time, queued frames.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub cable: CableLimits,
}

#[derive(Debug, Clone)]
pub struct CableLimits {
    pub max_connections: usize,
    pub max_per_address: usize,
    pub max_subscriptions: usize,
    pub queue_bytes: usize,
    /// Largest frame or message a client may send: ActionCable commands are small.
    pub max_incoming_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
            max_connections: 10_000,
            cable: CableLimits {
                max_connections: 10_000,
                max_per_address: 64,
                max_subscriptions: 16,
                queue_bytes: 4096 * 1024,
                max_incoming_bytes: 64 * 1024,
            },
        }
    }
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
            limits: Limits {
                header_timeout: Duration::from_secs(c.header_timeout),
                body_timeout: Duration::from_secs(c.body_timeout),
                idle_timeout: Duration::from_secs(c.idle_timeout),
                max_connections: c.max_connections,
                cable: CableLimits {
                    max_connections: c.cable_max_connections,
                    max_per_address: c.cable_max_per_address,
                    max_subscriptions: c.cable_max_subscriptions,
                    queue_bytes: c.cable_queue_kib.saturating_mul(1024),
                    ..Limits::default().cable
                },
            },
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
            limits: Limits::default(),
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

    #[test]
    fn limits_default_alike_on_the_command_line_and_in_process() {
        let cli = Config::from(Cli::try_parse_from(["parley-server"]).unwrap()).limits;
        let lib = Limits::default();
        assert_eq!(format!("{cli:?}"), format!("{lib:?}"));
    }

    #[test]
    fn a_header_deadline_is_at_most_30_seconds() {
        let limits = |args: &[&str]| {
            Cli::try_parse_from(["parley-server"].iter().chain(args))
                .map(|c| Config::from(c).limits)
        };
        assert!(limits(&[]).unwrap().header_timeout <= Duration::from_secs(30));
        assert_eq!(
            limits(&["--header-timeout", "30"]).unwrap().header_timeout,
            Duration::from_secs(30)
        );
        assert!(limits(&["--header-timeout", "31"]).is_err());
        assert!(limits(&["--header-timeout", "0"]).is_err());
    }
}
