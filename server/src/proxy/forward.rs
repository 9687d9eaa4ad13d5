//! Plain HTTP through the proxy. Bodies stream both ways (an upload goes upstream as it
//! arrives, a file comes back as it is read), except JSON API answers, which are small and
//! are read whole (up to a cap) to point their file URLs at this origin.
//!
//! Nothing waits forever: the connection has `--upstream-connect-timeout`, and after that
//! the upstream gets `--upstream-timeout` of silence, counted from the last byte of request
//! body it took (so a long upload is never cut while it moves) and between response body
//! chunks.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use super::rewrite::{self, FileUrls};
use super::ProxyState;

/// JSON answers larger than this pass unchanged (streamed) instead of rewritten.
pub(super) const JSON_REWRITE_CAP: usize = 8 * 1024 * 1024;

/// Why the upstream gave no answer; each becomes a 502 or 504 a person can act on.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    /// Refused, DNS failure, TLS failure.
    Unreachable,
    ConnectTimeout(Duration),
    /// Connected, but no response headers within the stall timeout.
    Silent(Duration),
    /// The connection ended before a response.
    Broken,
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl Failure {
    fn status(self) -> StatusCode {
        match self {
            Failure::Unreachable | Failure::Broken => StatusCode::BAD_GATEWAY,
            Failure::ConnectTimeout(_) | Failure::Silent(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    fn message(self, host: &str) -> String {
        match self {
            Failure::Unreachable => format!("The Chatwoot server at {host} could not be reached"),
            Failure::ConnectTimeout(d) => format!(
                "The Chatwoot server at {host} could not be reached within {}",
                secs(d)
            ),
            Failure::Silent(d) => format!(
                "The Chatwoot server at {host} did not answer within {}",
                secs(d)
            ),
            Failure::Broken => {
                format!("The Chatwoot server at {host} closed the connection without answering")
            }
        }
    }

    /// JSON (`{"error": ...}`, what the app already shows) for API paths, a page otherwise.
    pub fn response(self, host: &str, api: bool) -> Response {
        let message = self.message(host);
        tracing::warn!("proxy: {message}");
        let no_store = (header::CACHE_CONTROL, "no-store");
        if api {
            return (
                self.status(),
                [no_store],
                axum::Json(serde_json::json!({ "error": message })),
            )
                .into_response();
        }
        let page = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Chatwoot unavailable</title></head>\
             <body><h1>Chatwoot unavailable</h1><p>{}.</p><p>Parley forwards this address to your \
             Chatwoot installation. Check that it is running and reachable from this server, then \
             reload the page.</p></body></html>",
            html_escape(&message)
        );
        (
            self.status(),
            [
                no_store,
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            ],
            page,
        )
            .into_response()
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The paths whose errors are JSON (the app's API client reads `{"error"}`).
pub fn is_api_path(path: &str) -> bool {
    ["/api", "/auth", "/public/api", "/cable"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

pub fn classify(e: &reqwest::Error, connect_timeout: Duration) -> Failure {
    if e.is_connect() {
        if e.is_timeout() {
            Failure::ConnectTimeout(connect_timeout)
        } else {
            Failure::Unreachable
        }
    } else {
        Failure::Broken
    }
}

/// When the upstream last made progress: the start, or the last request body chunk it took.
pub(super) struct Progress {
    start: Instant,
    last_ms: AtomicU64,
}

impl Progress {
    pub(super) fn new() -> Arc<Progress> {
        Arc::new(Progress {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> u64 {
        self.last_ms.load(Ordering::Relaxed)
    }

    /// When the upstream last made progress.
    fn last_at(&self) -> Instant {
        self.start + Duration::from_millis(self.last())
    }

    /// Waits for `answer`, or fails with [`Failure::Silent`] once neither the upstream nor
    /// the request body has moved for `silence` (counted from `floor` at the earliest).
    pub(super) async fn wait<T>(
        &self,
        answer: impl std::future::Future<Output = T>,
        silence: Duration,
        floor: Instant,
    ) -> Result<T, Failure> {
        tokio::pin!(answer);
        loop {
            let seen = self.last();
            let deadline = self.last_at().max(floor) + silence;
            tokio::select! {
                r = &mut answer => return Ok(r),
                _ = tokio::time::sleep_until(deadline) => {
                    if self.last() == seen {
                        return Err(Failure::Silent(silence));
                    }
                }
            }
        }
    }
}

/// The browser's body as it arrives, noting each chunk the upstream takes.
fn observed(
    body: Body,
    progress: Arc<Progress>,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    observed_stream(body.into_data_stream(), progress)
}

/// [`observed`] for a body already partly read (what was read comes first in `stream`).
pub(super) fn observed_stream<E>(
    stream: impl Stream<Item = Result<Bytes, E>> + Send + 'static,
    progress: Arc<Progress>,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    stream.map(move |chunk| {
        progress.touch();
        chunk.map_err(io::Error::other)
    })
}

/// A response body that fails (ending the browser's connection) after `idle` without a
/// chunk, so a stalled download does not hold a connection forever.
pub(super) fn idle_limited(
    body: impl Stream<Item = reqwest::Result<Bytes>> + Send + Unpin + 'static,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    futures_util::stream::unfold(Some(body), move |state| async move {
        let mut body = state?;
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
            Ok(Some(Err(e))) => Some((Err(io::Error::other(e)), None)),
            Ok(None) => None,
            Err(_) => Some((
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the upstream stopped sending the body",
                )),
                None,
            )),
        }
    })
}

pub(super) fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// A request as it is, to the upstream and back (what `idempotency` does not answer).
pub async fn forward(State(state): State<ProxyState>, request: Request) -> Response {
    let s = &state.0;
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let api = is_api_path(&path);
    let url = s.target.http_url(
        parts
            .uri
            .path_and_query()
            .map_or(path.as_str(), |pq| pq.as_str()),
    );
    let progress = Progress::new();
    let mut upstream = s
        .http
        .request(parts.method.clone(), url)
        .headers(rewrite::request_headers(&parts.headers));
    if has_body(&parts.headers) {
        upstream = upstream.body(reqwest::Body::wrap_stream(observed(body, progress.clone())));
    }

    let answer = match progress
        .wait(upstream.send(), s.timeout, progress.start)
        .await
    {
        Ok(a) => a,
        Err(silent) => return silent.response(&s.target.host, api),
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!("proxy: {} {path}: {e:?}", parts.method);
            return classify(&e, s.connect_timeout).response(&s.target.host, api);
        }
    };

    let status = answer.status();
    let mut headers = rewrite::response_headers(answer.headers(), &s.target);
    if path.starts_with("/rails/active_storage/") {
        // These bytes are anyone's upload, now served from the app's origin: whatever the
        // upstream said, they must not be sniffed into a document or run script here.
        headers
            .entry(header::X_CONTENT_TYPE_OPTIONS)
            .or_insert(HeaderValue::from_static("nosniff"));
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static("sandbox; default-src 'none'"));
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let rewritable = api && is_json && !headers.contains_key(header::CONTENT_ENCODING);
    let stream = idle_limited(answer.bytes_stream().boxed(), s.timeout).boxed();
    let body = if rewritable {
        match read_capped(stream, JSON_REWRITE_CAP).await {
            Ok(Capped::Whole(bytes)) => {
                let rewritten = with_file_urls(s, &parts.headers, bytes);
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(rewritten.len()));
                Body::from(rewritten)
            }
            Ok(Capped::Partial(prefix, rest)) => {
                Body::from_stream(futures_util::stream::once(async { Ok(prefix) }).chain(rest))
            }
            Err(_) => return Failure::Broken.response(&s.target.host, api),
        }
    } else {
        Body::from_stream(stream)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A whole JSON answer with the upstream's file URLs pointed at this origin, as the
/// browser that sent `request_headers` addressed it.
pub(super) fn with_file_urls(s: &super::Inner, request_headers: &HeaderMap, json: Bytes) -> Bytes {
    let files = FileUrls::new(&s.target, &rewrite::proxy_origin(request_headers));
    match std::str::from_utf8(&json) {
        Ok(text) => match files.apply(text) {
            std::borrow::Cow::Borrowed(_) => json,
            std::borrow::Cow::Owned(t) => Bytes::from(t),
        },
        Err(_) => json,
    }
}

pub(super) enum Capped<S> {
    Whole(Bytes),
    /// Over the cap: what was read, then the rest of the stream.
    Partial(Bytes, S),
}

pub(super) async fn read_capped<S>(mut stream: S, cap: usize) -> Result<Capped<S>, io::Error>
where
    S: Stream<Item = Result<Bytes, io::Error>> + Unpin,
{
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        buf.extend_from_slice(&chunk?);
        if buf.len() > cap {
            return Ok(Capped::Partial(Bytes::from(buf), stream));
        }
    }
    Ok(Capped::Whole(Bytes::from(buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_get_json_errors() {
        for p in [
            "/api",
            "/api/v1/profile",
            "/auth/sign_in",
            "/public/api/v1/inboxes/x",
            "/cable",
        ] {
            assert!(is_api_path(p), "{p}");
        }
        for p in ["/rails/active_storage/blobs/x", "/apix", "/app/"] {
            assert!(!is_api_path(p), "{p}");
        }
    }

    #[test]
    fn failures_say_what_happened() {
        assert_eq!(
            Failure::Unreachable.message("chat.example.com"),
            "The Chatwoot server at chat.example.com could not be reached"
        );
        assert_eq!(
            Failure::Silent(Duration::from_secs(60)).message("h"),
            "The Chatwoot server at h did not answer within 60 s"
        );
        assert_eq!(
            Failure::Silent(Duration::from_millis(1500)).message("h"),
            "The Chatwoot server at h did not answer within 1.5 s"
        );
        assert_eq!(Failure::Broken.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            Failure::ConnectTimeout(Duration::from_secs(10)).status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(html_escape("<a&\">"), "&lt;a&amp;&quot;&gt;");
    }

    #[tokio::test]
    async fn json_over_the_cap_passes_unchanged() {
        let chunks = || {
            futures_util::stream::iter(
                [&b"0123"[..], b"4567", b"89"].map(|c| Ok::<_, io::Error>(Bytes::from_static(c))),
            )
        };
        let small = read_capped(chunks(), 100).await.unwrap();
        assert!(matches!(small, Capped::Whole(b) if b == "0123456789"));
        let Capped::Partial(prefix, rest) = read_capped(chunks(), 5).await.unwrap() else {
            panic!("expected a partial read");
        };
        assert_eq!(prefix, "01234567");
        let tail: Vec<_> = rest.map(|c| c.unwrap()).collect().await;
        assert_eq!(tail, vec![Bytes::from_static(b"89")]);
    }
}
