//! parley-server: a Chatwoot-compatible server for Parley (PLAN.md, CONTRACTS.md).
//!
//! A library with a thin binary, so integration tests start it in-process on port 0.
//! Layout: `db` (schema, queries) → `views` (rows to wire JSON) → `chat` (operations that
//! persist and broadcast) → HTTP surfaces (`agent_api`, `public_api`, `extensions`,
//! `files`, `app_assets`, `test_controls`) and the `cable` hub.

pub mod config;

mod agent_api;
mod agent_conversation;
mod app_assets;
mod auth;
mod cable;
mod chat;
mod connections;
mod content_attributes;
mod conversation_state;
mod credentials;
mod data_lock;
mod db;
mod demo;
mod error;
mod extensions;
mod files;
mod proxy;
mod public_api;
mod test_controls;
mod throttle;
mod views;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::limit::RequestBodyLimitLayer;

use crate::cable::Hub;
use crate::config::Config;
use crate::db::Db;
use crate::test_controls::Faults;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    db: Arc<Db>,
    hub: Arc<Hub>,
    config: Arc<Config>,
    faults: Arc<Faults>,
    uploads_dir: Arc<PathBuf>,
    seeded: Arc<demo::Seeded>,
    throttles: Arc<throttle::Throttles>,
    /// `--public-url` or `http://BIND:PORT`, without a trailing slash.
    public_url: Arc<str>,
    /// Wakes the snooze timer (`conversation_state::reopen_due_snoozes`) when a snooze is set.
    snooze_wake: Arc<tokio::sync::Notify>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another parley-server is using the data directory {path} (it holds {path}/{lock}); \
         stop it, or give this one another --data-dir",
        lock = data_lock::LOCK_FILE
    )]
    DataDirInUse { path: PathBuf },
    #[error(
        "--agent-token is too short: an access token needs at least {min} characters \
         (Chatwoot's are 24 random ones)"
    )]
    ShortAgentToken { min: usize },
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("cannot write demo files: {0}")]
    Seed(std::io::Error),
    #[error("--upstream {url}: {reason}")]
    Upstream { url: String, reason: String },
    #[error(
        "--public-url {0}: give the scheme, host and optional port, e.g. https://chat.example.com"
    )]
    PublicUrl(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A started server. Dropping it leaves the server running; call `shutdown` to stop.
///
/// In proxy mode (`--upstream`) there is no local agent: the credential fields are empty
/// and `customer_query` is `None`.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `http://HOST:PORT`.
    pub base_url: String,
    /// The stdout lines of PLAN.md, in order, `listening on` last.
    pub startup_lines: Vec<String>,
    pub agent_email: String,
    pub agent_password: String,
    pub agent_token: String,
    /// `/customer/?inbox=..&contact=..&conversation=..` (demo only).
    pub customer_query: Option<String>,
    pub inbox_identifier: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, closes open HTTP connections, and waits for the accept loop.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Opens the data dir, seeds on first start, binds, and serves in the background.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    // reqwest and tungstenite are built without a TLS crypto provider of their own (one
    // rustls with ring for the whole binary): any HTTP client in this process, the proxy's
    // or an embedder's, needs the process default set. A second call is a harmless no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(upstream) = config.upstream.clone() {
        return proxy::start(config, upstream).await;
    }
    let uploads_dir = config.data_dir.join("uploads");
    std::fs::create_dir_all(&uploads_dir).map_err(|source| StartError::DataDir {
        path: uploads_dir.clone(),
        source,
    })?;
    let lock = data_lock::lock(&config.data_dir)?;
    // Uploads cut by a crash or a kill are never finished: nothing refers to them.
    files::remove_partial_uploads(&uploads_dir);
    let db = Db::open(&config.data_dir.join("parley.sqlite3"))?;
    let seeded = demo::prepare(&db, &config, &uploads_dir)?;

    let (listener, local, base_url) = bind(&config).await?;
    let public_url = match &config.public_url {
        Some(url) => checked_public_url(url)?,
        None => {
            if local.ip().is_unspecified() {
                tracing::warn!(
                    "attachment URLs will name {base_url}, which no browser can reach: \
                     pass --public-url with the address people use"
                );
            }
            base_url.clone()
        }
    };

    // Credentials are printed only in demo mode: a server's log is not a place for them.
    let mut lines = vec![format!("agent email: {}", seeded.agent_email)];
    if config.demo {
        if !seeded.agent_password.is_empty() {
            lines.push(format!("agent password: {}", seeded.agent_password));
        }
        lines.push(format!("agent token: {}", seeded.agent_token));
        if !app_assets::is_loopback_bind(&config.bind) {
            tracing::warn!(
                "--demo on {}, which is not a loopback address: anyone who can reach {base_url} \
                 can sign in as the demo agents with the public demo password ({}) and read and \
                 answer every demo conversation. The app page does not carry the token on this \
                 bind. Use --demo only on 127.0.0.1.",
                config.bind,
                demo::DEMO_PASSWORD
            );
        }
    } else if seeded.agent_token.is_empty() {
        tracing::warn!(
            "no credentials are printed without --demo: the agent signs in with the token last \
             given by --agent-token (give one, at least {} characters, if there was none)",
            auth::MIN_AGENT_TOKEN_CHARS
        );
    }
    if config.demo {
        lines.push(format!("agent url: {base_url}{}", seeded.agent_path()));
        if let Some(q) = &seeded.customer_query {
            lines.push(format!("customer url: {base_url}/customer/?{q}"));
        }
    }
    lines.push(format!("listening on {base_url}"));

    let faults = Arc::new(Faults::new(config.idempotency));
    let state = AppState {
        db: Arc::new(db),
        hub: Hub::new(faults.clone(), config.limits.clone()),
        config: Arc::new(config),
        faults,
        uploads_dir: Arc::new(uploads_dir),
        seeded: Arc::new(seeded),
        throttles: throttle::Throttles::start(),
        public_url: public_url.into(),
        snooze_wake: Arc::new(tokio::sync::Notify::new()),
    };
    let router = router(state.clone());
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(conversation_state::reopen_due_snoozes(
        state.clone(),
        stop_rx.clone(),
    ));
    let limits = state.config.limits.clone();
    let task = tokio::spawn(async move {
        // Held while the server accepts, released by shutdown (or by the process's exit).
        let _lock = lock;
        connections::accept_loop(listener, router, limits, stop_rx).await
    });
    Ok(RunningServer {
        addr: local,
        base_url,
        startup_lines: lines,
        agent_email: state.seeded.agent_email.clone(),
        agent_password: state.seeded.agent_password.clone(),
        agent_token: state.seeded.agent_token.clone(),
        customer_query: state.seeded.customer_query.clone(),
        inbox_identifier: state.seeded.inbox_identifier.clone(),
        stop,
        task,
    })
}

/// Binds `--bind:--port` and returns the listener, its address and `http://HOST:PORT`.
async fn bind(config: &Config) -> Result<(TcpListener, SocketAddr, String), StartError> {
    let addr = format!("{}:{}", config.bind, config.port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let host = if config.bind.contains(':') {
        format!("[{}]", config.bind)
    } else {
        config.bind.clone()
    };
    let base_url = format!("http://{host}:{}", local.port());
    Ok((listener, local, base_url))
}

/// `--public-url` as an origin: `http(s)://host[:port]`, nothing after it but a slash.
fn checked_public_url(url: &str) -> Result<String, StartError> {
    let trimmed = url.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    let valid = host.is_some_and(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
    });
    if valid {
        Ok(trimmed.to_owned())
    } else {
        Err(StartError::PublicUrl(url.to_owned()))
    }
}

async fn panicking_handler() -> &'static str {
    panic!("/__parley/test/panic was asked to panic")
}

fn router(state: AppState) -> Router {
    // The agent and public APIs set their own body limits per route (uploads stream).
    let apis = Router::new()
        .merge(agent_api::routes(&state))
        .merge(public_api::routes(&state));
    let mut r = Router::new()
        .route("/cable", get(cable::cable))
        .route(
            "/rails/active_storage/blobs/redirect/{token}/{filename}",
            get(files::serve_blob),
        )
        .merge(app_assets::routes());
    if state.config.test_controls {
        r = r.route(
            "/__parley/test/faults",
            get(test_controls::get_faults).post(test_controls::set_faults),
        );
        r = r.route(
            "/__parley/test/long_conversation",
            axum::routing::post(test_controls::long_conversation),
        );
        // A handler that panics: a panic must cost one 500, not the server.
        r = r.route("/__parley/test/panic", get(panicking_handler));
    }
    r.fallback(app_assets::fallback)
        .layer(RequestBodyLimitLayer::new(config::MAX_JSON_BYTES))
        .merge(apis)
        .layer(axum::middleware::map_response(error::too_large_as_json))
        .with_state(state)
}
