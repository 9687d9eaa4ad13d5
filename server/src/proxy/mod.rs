//! Proxy mode (`--upstream URL`): the app served from this origin, and Chatwoot's agent API,
//! devise sign-in, public client API, ActionCable and Active Storage file URLs forwarded to a
//! real Chatwoot, so an agent signs in against their own installation without any CORS
//! setup on it (CONTRACTS.md §6). No database is opened and nothing is seeded.
//!
//! `forward` streams HTTP both ways, `cable` bridges the WebSocket, `rewrite` decides which
//! headers cross and turns the upstream's file URLs into this origin's, `idempotency` makes
//! `echo_id` an idempotency key on message creates (and says so in the capabilities).

mod cable;
mod forward;
mod idempotency;
mod rewrite;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::{Redirect, Response};
use axum::routing::{any, get};
use axum::Router;
use tokio::sync::watch;

use crate::app_assets::{self, AppPage};
use crate::config::{Config, Upstream};
use crate::{RunningServer, StartError};

/// The upstream, parsed once.
#[derive(Debug, Clone)]
pub struct Target {
    /// `scheme://host[:port]`, the prefix of the absolute URLs Chatwoot writes.
    origin: String,
    /// A path prefix when Chatwoot is mounted below `/` (`""` otherwise, no trailing `/`).
    base_path: String,
    /// `host[:port]` for people (error messages).
    host: String,
    /// `host:port` to open a TCP connection to.
    authority: String,
    tls: bool,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let u = reqwest::Url::parse(url.trim())
            .map_err(|e| format!("not a URL ({e}); expected e.g. https://chatwoot.example.com"))?;
        let tls = match u.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(format!("the scheme must be http or https, not {other}")),
        };
        let Some(host) = u.host_str() else {
            return Err("the URL has no host".into());
        };
        if !u.username().is_empty() || u.password().is_some() {
            return Err("credentials do not belong in the URL; agents sign in in the app".into());
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err("the URL must not have a query or fragment".into());
        }
        let port = u
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let host_port = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let origin = format!("{}://{host_port}", u.scheme());
        Ok(Target {
            origin,
            base_path: u.path().trim_end_matches('/').to_owned(),
            host: host_port,
            authority: format!("{host}:{port}"),
            tls,
        })
    }

    /// Where a path of this origin goes upstream.
    fn http_url(&self, path_and_query: &str) -> String {
        format!("{}{}{path_and_query}", self.origin, self.base_path)
    }

    fn ws_url(&self, path_and_query: &str) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        let rest = self.origin.split_once("://").map_or("", |(_, r)| r);
        format!("{scheme}://{rest}{}{path_and_query}", self.base_path)
    }

    /// The upstream as printed on start (`upstream: URL`).
    pub fn display(&self) -> String {
        format!("{}{}", self.origin, self.base_path)
    }
}

/// What every proxy handler shares.
#[derive(Clone)]
pub(crate) struct ProxyState(Arc<Inner>);

struct Inner {
    target: Target,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
    timeout: Duration,
    dist: PathBuf,
    /// `--max-file-mb`: the upstream's limit is not published (Chatwoot has no endpoint for
    /// it), so the app is told this one (Chatwoot's default unless set).
    max_file_bytes: u64,
    /// `--features`: the app's flags, as on a server of its own.
    features: crate::config::AppFeatures,
    /// The answers to message creates, by `echo_id` (the idempotency Chatwoot lacks).
    replays: idempotency::Replays,
}

/// Mozilla's roots through ring: the same trust for HTTP and the cable, and no system
/// OpenSSL to depend on.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

pub async fn start(config: Config, upstream: Upstream) -> Result<RunningServer, StartError> {
    let fail = |reason: String| StartError::Upstream {
        url: upstream.url.clone(),
        reason,
    };
    let target = Target::parse(&upstream.url).map_err(fail)?;
    let tls = tls_config().map_err(|e| fail(format!("TLS setup failed: {e}")))?;
    let mut http_tls = tls.clone();
    // This client speaks HTTP/1.1 only; say so, so a server never picks h2.
    http_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(http_tls)
        .connect_timeout(upstream.connect_timeout)
        // Redirects go back to the browser (Location rewritten), never followed here.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "parley-server/",
            env!("CARGO_PKG_VERSION"),
            " (proxy)"
        ))
        .build()
        .map_err(|e| fail(format!("HTTP client setup failed: {e}")))?;

    let (listener, local, base_url) = crate::bind(&config).await?;
    let lines = vec![
        format!("upstream: {}", target.display()),
        format!("listening on {base_url}"),
    ];
    let state = ProxyState(Arc::new(Inner {
        target,
        http,
        tls: Arc::new(tls),
        connect_timeout: upstream.connect_timeout,
        timeout: upstream.timeout,
        dist: config.dist.clone(),
        max_file_bytes: config.max_file_bytes,
        features: config.features,
        replays: idempotency::Replays::default(),
    }));
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(crate::connections::accept_loop(
        listener,
        router(state),
        config.limits.clone(),
        stop_rx,
    ));
    Ok(RunningServer {
        addr: local,
        base_url,
        startup_lines: lines,
        agent_email: String::new(),
        agent_password: String::new(),
        agent_token: String::new(),
        customer_query: None,
        inbox_identifier: String::new(),
        stop,
        task,
    })
}

fn router(state: ProxyState) -> Router {
    let mut r = Router::new()
        .route("/", get(|| async { Redirect::temporary("/app/") }))
        .route("/app", get(app_page))
        .route("/app/", get(app_page))
        .route("/app/{*rest}", get(app_page))
        .merge(app_assets::customer_routes())
        .route("/cable", any(cable::bridge));
    for prefix in ["/api", "/auth", "/public/api", "/rails/active_storage"] {
        r = r
            .route(prefix, any(http))
            .route(&format!("{prefix}/{{*rest}}"), any(http));
    }
    r.fallback(dist_file).with_state(state)
}

/// No token and no demo: the app shows its sign-in form, which posts to `/auth/sign_in`
/// on this origin and so reaches the upstream's devise. Account 1 is only a first guess;
/// the app opens the profile's account when the agent is not a member of it.
async fn app_page(State(state): State<ProxyState>, headers: HeaderMap) -> Response {
    app_assets::render_app(
        &AppPage {
            dist: &state.0.dist,
            account_id: 1,
            token: None,
            demo: false,
            max_file_bytes: state.0.max_file_bytes,
            features: state.0.features,
            // Chatwoot with S3/GCS storage redirects file URLs to the bucket.
            extra_media_sources: " https:",
        },
        &headers,
    )
    .await
}

async fn dist_file(State(state): State<ProxyState>, request: Request) -> Response {
    app_assets::serve_dist(&state.0.dist, request).await
}

/// Every proxied HTTP request: the capabilities this proxy adds, a message create made
/// idempotent, else the request forwarded as it is.
async fn http(State(state): State<ProxyState>, request: Request) -> Response {
    if request.method() == Method::GET && request.uri().path() == "/api/v1/parley/capabilities" {
        let (parts, _) = request.into_parts();
        return idempotency::capabilities(&state, &parts).await;
    }
    let request = match idempotency::forward_once(&state, request).await {
        Ok(answered) => return answered,
        Err(other) => other,
    };
    forward::forward(State(state), request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls_parse_into_origin_and_base() {
        let t = Target::parse("https://chat.example.com/").unwrap();
        assert_eq!(t.origin, "https://chat.example.com");
        assert_eq!(t.base_path, "");
        assert_eq!(t.authority, "chat.example.com:443");
        assert_eq!(
            t.http_url("/api/v1/profile?x=1"),
            "https://chat.example.com/api/v1/profile?x=1"
        );
        assert_eq!(t.ws_url("/cable"), "wss://chat.example.com/cable");
        let t = Target::parse("http://127.0.0.1:3000/cw").unwrap();
        assert_eq!(t.host, "127.0.0.1:3000");
        assert_eq!(t.ws_url("/cable"), "ws://127.0.0.1:3000/cw/cable");
        assert_eq!(t.display(), "http://127.0.0.1:3000/cw");
        for bad in [
            "chat.example.com",
            "ftp://chat.example.com",
            "https://u:p@chat.example.com",
            "https://chat.example.com/?a=1",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
