//! The agent app (Trunk's dist/ with the `#parley-config` block injected) and the customer
//! page, each with a Content-Security-Policy that fits what it loads.

use std::net::IpAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, IntoResponseParts, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use parley_wire::ErrorBody;
use serde_json::json;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::config::AppFeatures;
use crate::AppState;

const CUSTOMER_HTML: &str = include_str!("../assets/customer.html");
const CUSTOMER_JS: &str = include_str!("../assets/customer.js");
const CUSTOMER_CSS: &str = include_str!("../assets/customer.css");
const EXAMPLE_HTML: &str = include_str!("../assets/embed-example.html");
const EXAMPLE_JS: &str = include_str!("../assets/embed-example.js");
const EXAMPLE_CSS: &str = include_str!("../assets/embed-example.css");
const EXAMPLE_HOSTILE_CSS: &str = include_str!("../assets/embed-example-hostile.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/app", get(app_page))
        .route("/app/", get(app_page))
        .route("/app/{*rest}", get(app_page))
        .merge(customer_routes())
        .route("/examples/embed", get(example_redirect))
        .route("/examples/embed/", get(example_page))
        .route("/examples/embed/example.js", get(example_js))
        .route("/examples/embed/example.css", get(example_css))
        .route("/examples/embed/hostile.css", get(example_hostile_css))
        .route("/parley/{file}", get(stable_asset))
}

/// The customer page: static, and it only calls relative `/public/api` and `/cable`, so it
/// works the same in front of a proxied Chatwoot.
pub fn customer_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/customer", get(customer_redirect))
        .route("/customer/", get(customer_page))
        .route("/customer/customer.js", get(customer_js))
        .route("/customer/customer.css", get(customer_css))
}

async fn root(State(state): State<AppState>) -> Redirect {
    if state.config.demo {
        Redirect::temporary(&state.seeded.agent_path())
    } else {
        Redirect::temporary("/app/")
    }
}

/// `ws://host wss://host`: older engines do not count WebSocket URLs as 'self'.
fn socket_sources(headers: &HeaderMap) -> String {
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host)
            if host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)) =>
        {
            format!(" ws://{host} wss://{host}")
        }
        _ => String::new(),
    }
}

/// Hashes of the inline scripts Trunk writes (the wasm bootstrap), so the page can run
/// them without allowing 'unsafe-inline'. JSON data blocks are not scripts and need none.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = vec![];
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..tag_end];
        let body_start = tag_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        let is_data = tag.contains("application/json");
        if !tag.contains("src=") && !is_data && !body.is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &rest[body_start + close..];
    }
    hashes
}

fn security_headers(csp: &str) -> [(header::HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

/// The config block the app reads; `<` escaped so no value can close the script element.
pub fn config_block(
    account_id: i64,
    token: Option<&str>,
    demo: bool,
    max_file_bytes: u64,
    features: AppFeatures,
) -> String {
    // The server's own limit per file, so the app refuses a file before uploading it.
    let mut cfg = json!({
        "baseUrl": "",
        "accountId": account_id,
        "demo": demo,
        "maxFileBytes": max_file_bytes,
    });
    cfg["features"] = json!({
        "voiceMessages": features.voice_messages,
        "richTextEditor": features.rich_text_editor,
    });
    if let Some(t) = token {
        cfg["token"] = json!(t);
    }
    let text = cfg
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!(r#"<script id="parley-config" type="application/json">{text}</script>"#)
}

/// Whether `--bind` names a loopback address (or `localhost`).
pub fn is_loopback_bind(bind: &str) -> bool {
    bind.eq_ignore_ascii_case("localhost")
        || bind
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host of a `Host` header value, without its port (`[::1]:80` is `::1`).
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host.rsplit_once(':') {
        // A bare IPv6 address has colons but no port.
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// The demo agent's token for the page, when the request may have it: demo mode, a server
/// bound to a loopback address, and a `Host` that is that address or `localhost`. The
/// `Host` is what DNS rebinding cannot fake: a hostile site whose name an attacker made
/// resolve to 127.0.0.1 still sends its own name, so its script gets a page without the
/// token. (A direct client can send any `Host`, which is why a non-loopback `--demo` is
/// warned about at start.)
fn demo_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if !state.config.demo || !is_loopback_bind(&state.config.bind) {
        return None;
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = host_name(host);
    let bound = state
        .config
        .bind
        .trim_start_matches('[')
        .trim_end_matches(']');
    let allowed = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() && bound.parse::<IpAddr>().map_or(true, |b| b == ip));
    allowed.then(|| state.seeded.agent_token.clone())
}

async fn app_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // In demo mode the page carries the token, so the printed URL opens straight into the
    // conversation; otherwise the app asks the agent to sign in.
    let token = demo_token(&state, &headers);
    render_app(
        &AppPage {
            dist: &state.config.dist,
            account_id: state.seeded.account_id,
            token: token.as_deref(),
            demo: state.config.demo,
            max_file_bytes: state.config.max_file_bytes,
            features: state.config.features,
            extra_media_sources: "",
        },
        &headers,
    )
    .await
}

/// What differs between the app pages this server can serve.
pub struct AppPage<'a> {
    pub dist: &'a Path,
    pub account_id: i64,
    pub token: Option<&'a str>,
    pub demo: bool,
    /// The largest file per attachment this server (or its upstream) takes.
    pub max_file_bytes: u64,
    /// `--features`.
    pub features: AppFeatures,
    /// Appended to img-src and media-src, with a leading space (proxy mode: files on the
    /// upstream's cloud storage).
    pub extra_media_sources: &'a str,
}

/// `<dist>/index.html` with the config block before `</head>` and a CSP that allows
/// exactly its inline bootstrap; 503 with instructions when the app is not built.
pub async fn render_app(page: &AppPage<'_>, headers: &HeaderMap) -> Response {
    let path = page.dist.join("index.html");
    let Ok(html) = tokio::fs::read_to_string(&path).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "The Parley app is not built: {} is missing. Build it with `trunk build --release` \
                 (or the project's setup script) and restart parley-server with --dist pointing at it.\n",
                path.display()
            ),
        )
            .into_response();
    };
    let block = config_block(
        page.account_id,
        page.token,
        page.demo,
        page.max_file_bytes,
        page.features,
    );
    let doc = match html.find("</head>") {
        Some(i) => format!("{}{block}\n{}", &html[..i], &html[i..]),
        None => format!("{block}\n{html}"),
    };
    let scripts = inline_script_hashes(&doc).join(" ");
    let media = page.extra_media_sources;
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:{media}; media-src 'self' blob: data:{media}; \
         font-src 'self' data:; connect-src 'self'{}; object-src 'none'; base-uri 'self'; form-action 'self'",
        socket_sources(headers)
    );
    revalidated(
        headers,
        (
            security_headers(&csp),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        ),
        doc,
    )
}

/// The built app's module, wasm and stylesheet, as Trunk named them in `index.html`.
fn built_assets(index_html: &str) -> Option<(String, String, String)> {
    let find = |suffix: &str| {
        index_html.match_indices("/parley-").find_map(|(i, _)| {
            let rest = &index_html[i..];
            let end = rest.find(|c: char| c == '"' || c == '\'' || c.is_whitespace())?;
            let name = &rest[..end];
            name.ends_with(suffix).then(|| name.to_owned())
        })
    };
    Some((find(".js")?, find("_bg.wasm")?, find(".css")?))
}

/// What an embedder loads, under names that do not change from build to build (Trunk
/// hashes the module, wasm and stylesheet names for Parley's own page). Served uncached
/// (revalidated), since the content behind a stable name does change.
fn stable_name(file: &str, index_html: &str) -> Option<(String, &'static str)> {
    let (module, wasm, css) = built_assets(index_html)?;
    let strip = |p: String| p.trim_start_matches('/').to_owned();
    match file {
        "parley.js" => Some((strip(module), "text/javascript; charset=utf-8")),
        "parley_bg.wasm" => Some((strip(wasm), "application/wasm")),
        "parley.css" => Some((strip(css), "text/css; charset=utf-8")),
        "parley-element.js" => Some((file.to_owned(), "text/javascript; charset=utf-8")),
        _ => None,
    }
}

/// `/parley/parley-element.js`, `/parley/parley.js`, `/parley/parley_bg.wasm`,
/// `/parley/parley.css`: the built files of dist/ under stable names, precompressed and
/// revalidated like the files of dist/ themselves.
async fn stable_asset(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    request: Request,
) -> Response {
    let not_built = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "/parley/{file}: not a file of the built app (is it built? trunk build --release)\n"
            ),
        )
            .into_response()
    };
    let index = tokio::fs::read_to_string(state.config.dist.join("index.html"))
        .await
        .unwrap_or_default();
    let Some((name, content_type)) = stable_name(&file, &index) else {
        return not_built();
    };
    // The same request (Accept-Encoding, If-Modified-Since, Range) for the hashed file.
    let (mut parts, body) = request.into_parts();
    let Ok(uri) = format!("/{name}").parse::<Uri>() else {
        return not_built();
    };
    parts.uri = uri;
    let mut response = serve_dist(&state.config.dist, Request::from_parts(parts, body)).await;
    if response.status() == StatusCode::NOT_FOUND {
        return not_built();
    }
    let success = response.status().is_success();
    let headers = response.headers_mut();
    if success {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    // A stable name's content changes with each build: never stored without revalidation.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Public files with no credentials: a host page on another origin may load them
    // (module scripts and the wasm fetch are CORS requests).
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn example_redirect() -> Redirect {
    Redirect::permanent("/examples/embed/")
}

/// An example host page: a dashboard of its own with two chats, a `<parley-chat>` element
/// and one mounted by `mount()`, loaded from the stable `/parley/` paths. In demo mode it
/// gets the demo agent's token, as the app page does.
async fn example_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let index = tokio::fs::read_to_string(state.config.dist.join("index.html"))
        .await
        .unwrap_or_default();
    let built = built_assets(&index).is_some();
    let token = demo_token(&state, &headers);
    let cfg = json!({
        "built": built,
        "element": "/parley/parley-element.js",
        "token": token,
        "accountId": state.seeded.account_id,
    });
    let text = cfg
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let block = format!(r#"<script id="example-config" type="application/json">{text}</script>"#);
    let doc = EXAMPLE_HTML.replacen("</head>", &format!("{block}\n  </head>"), 1);
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' blob: data:; media-src 'self' blob: data:; connect-src 'self'{}; \
         object-src 'none'; base-uri 'self'; form-action 'self'",
        socket_sources(&headers)
    );
    revalidated(
        &headers,
        (
            security_headers(&csp),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        ),
        doc,
    )
}

async fn example_js(headers: HeaderMap) -> Response {
    static_asset(&headers, "text/javascript; charset=utf-8", EXAMPLE_JS)
}

async fn example_css(headers: HeaderMap) -> Response {
    static_asset(&headers, "text/css; charset=utf-8", EXAMPLE_CSS)
}

async fn example_hostile_css(headers: HeaderMap) -> Response {
    static_asset(&headers, "text/css; charset=utf-8", EXAMPLE_HOSTILE_CSS)
}

fn static_asset(request: &HeaderMap, content_type: &'static str, body: &'static str) -> Response {
    revalidated(
        request,
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The ETag of a generated or built-in body: a digest, so it changes exactly when the body does.
fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    HeaderValue::from_str(&format!("\"{tag}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether the request's If-None-Match names `etag` (weak comparison, as RFC 9110 says for it).
fn client_has(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(ours) = etag.to_str() else {
        return false;
    };
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// A page or file kept in memory, with an ETag, so a browser that revalidates it (all of
/// them are `no-cache`) gets a 304 without the body when its copy is current.
fn revalidated<B>(request: &HeaderMap, parts: impl IntoResponseParts, body: B) -> Response
where
    B: AsRef<[u8]> + IntoResponse,
{
    let etag = etag_of(body.as_ref());
    let fresh = client_has(request, &etag);
    let mut response = (parts, [(header::ETAG, etag)], body).into_response();
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.body_mut() = Body::empty();
        response.headers_mut().remove(header::CONTENT_LENGTH);
    }
    response
}

async fn customer_redirect(OriginalUri(uri): OriginalUri) -> Redirect {
    let q = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::permanent(&format!("/customer/{q}"))
}

fn customer_csp(headers: &HeaderMap) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         media-src 'self' blob:; connect-src 'self'{}; base-uri 'none'; form-action 'none'",
        socket_sources(headers)
    )
}

async fn customer_page(headers: HeaderMap) -> Response {
    revalidated(
        &headers,
        (
            security_headers(&customer_csp(&headers)),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        ),
        CUSTOMER_HTML,
    )
}

async fn customer_js(headers: HeaderMap) -> Response {
    static_asset(&headers, "text/javascript; charset=utf-8", CUSTOMER_JS)
}

async fn customer_css(headers: HeaderMap) -> Response {
    static_asset(&headers, "text/css; charset=utf-8", CUSTOMER_CSS)
}

fn is_api(uri: &Uri) -> bool {
    let p = uri.path();
    p == "/api" || p.starts_with("/api/") || p.starts_with("/public/api/")
}

/// Unknown `/api` paths answer Chatwoot's JSON 404; anything else is a file of dist/.
pub async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    if is_api(request.uri()) {
        return (
            StatusCode::NOT_FOUND,
            Json(ErrorBody::new("Resource could not be found")),
        )
            .into_response();
    }
    serve_dist(&state.config.dist, request).await
}

/// Whether a file name carries Trunk's content hash (`parley-6fb5b33408bed46a.js`,
/// `parley-6fb5b33408bed46a_bg.wasm`): such a file never changes, a new build has new names.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A file of dist/ (Trunk's hashed js, wasm, css), never sniffed. The build writes brotli
/// and gzip copies beside each (`x.wasm.br`, `x.wasm.gz`, scripts/compress-dist.mjs): the
/// one the request's Accept-Encoding prefers is sent, the plain file when there is none.
/// Hashed files are cached for good; the others are revalidated (Last-Modified, 304).
pub async fn serve_dist(dist: &Path, request: Request) -> Response {
    // Only GET and HEAD can name a file: anything else is a path that does not exist here
    // (ServeDir would say 405, as if there were something to POST to).
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let hashed = is_content_hashed(request.uri().path());
    let Ok(response) = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await;
    let mut response = response.into_response();
    let ok = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if ok {
        // Which copy is sent depends on Accept-Encoding: caches must key on it.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if hashed {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            }),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_and_hosts_count_as_local() {
        for bind in ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.5"] {
            assert!(is_loopback_bind(bind), "{bind}");
        }
        for bind in ["0.0.0.0", "::", "192.168.1.2", "example.com"] {
            assert!(!is_loopback_bind(bind), "{bind}");
        }
        assert_eq!(host_name("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("evil.example:80"), "evil.example");
        assert_eq!(host_name("::1"), "::1");
    }

    #[test]
    fn config_block_carries_the_feature_flags() {
        let only_rich = AppFeatures {
            voice_messages: false,
            rich_text_editor: true,
        };
        let b = config_block(1, None, false, 40, only_rich);
        assert!(
            b.contains(r#""features":{"richTextEditor":true,"voiceMessages":false}"#),
            "{b}"
        );
    }

    #[test]
    fn config_block_escapes_markup() {
        let b = config_block(1, Some("</script><b>"), true, 40, AppFeatures::ALL);
        assert!(!b["<script".len()..b.len() - "</script>".len()].contains('<'));
        assert!(b.contains("\\u003c/script\\u003e"));
        assert!(config_block(1, None, false, 40, AppFeatures::ALL).contains(r#""accountId":1"#));
        assert!(config_block(1, None, false, 40, AppFeatures::ALL).contains(r#""maxFileBytes":40"#));
        assert!(!config_block(1, None, false, 40, AppFeatures::ALL).contains("token"));
    }

    #[test]
    fn stable_names_point_at_the_hashed_build() {
        let index = r#"<link rel="stylesheet" href="/parley-ab12.css"><script type="module">import init from '/parley-cd34.js';init({module_or_path:'/parley-cd34_bg.wasm'})</script>"#;
        let name = |f| stable_name(f, index).map(|(n, _)| n);
        assert_eq!(name("parley.js").as_deref(), Some("parley-cd34.js"));
        assert_eq!(
            name("parley_bg.wasm").as_deref(),
            Some("parley-cd34_bg.wasm")
        );
        assert_eq!(name("parley.css").as_deref(), Some("parley-ab12.css"));
        assert_eq!(
            name("parley-element.js").as_deref(),
            Some("parley-element.js")
        );
        assert_eq!(
            stable_name("parley.js", index).unwrap().1,
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            stable_name("parley_bg.wasm", index).unwrap().1,
            "application/wasm"
        );
        // Nothing else of dist/ (or outside it) by this route.
        assert_eq!(name("index.html"), None);
        assert_eq!(name("../Cargo.toml"), None);
        assert_eq!(stable_name("parley.js", "<html></html>"), None);
    }

    #[test]
    fn only_trunk_hashed_names_count_as_immutable() {
        for path in [
            "/parley-6fb5b33408bed46a.js",
            "/parley-6fb5b33408bed46a_bg.wasm",
            "/parley-6db71eb582abf18c.css",
            "/favicon-1c9b53469d1ca178.svg",
            "/snippets/x-0123456789abcdef.js",
        ] {
            assert!(is_content_hashed(path), "{path}");
        }
        for path in [
            "/parley-element.js",
            "/index.html",
            "/parley-6fb5b33408bed46.js",
            "/parley-6fb5b33408bed46ag.js",
            "/parley.js",
            "/",
        ] {
            assert!(!is_content_hashed(path), "{path}");
        }
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let etag = etag_of(b"page");
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            client_has(&h, &etag)
        };
        let tag = etag.to_str().unwrap().to_owned();
        assert!(with(&tag) && with(&format!("W/{tag}")) && with(&format!("\"a\", {tag}")));
        assert!(with("*"));
        assert!(!with("\"a\"") && !client_has(&HeaderMap::new(), &etag));
        assert_ne!(etag_of(b"page"), etag_of(b"page2"));
    }

    #[test]
    fn hashes_only_inline_code() {
        let html = r#"<script src="/a.js"></script><script id="parley-config" type="application/json">{}</script><script type="module">init()</script>"#;
        let h = inline_script_hashes(html);
        assert_eq!(h.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert_eq!(h[0], format!("'sha256-{expected}'"));
    }
}
