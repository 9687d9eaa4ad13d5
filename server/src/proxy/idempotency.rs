//! The `echo_id` idempotency a real Chatwoot lacks, given to it by the proxy: a
//! message-create POST (`/api/v1/accounts/{a}/conversations/{c}/messages`, JSON or
//! multipart) whose `echo_id` this proxy saw in the last [`WINDOW`] for the same account,
//! conversation and credentials gets the first answer again instead of storing a second
//! message; a copy that arrives while the first is still on its way waits for that answer.
//! So the browser's own resend of a POST (Chromium resends when a reused keep-alive
//! connection closes before any answer byte) and the outbox's retries store one message.
//!
//! The first request's exchange with the upstream runs in a task of its own: when the
//! browser goes away (a reload, a resend on a new connection), the upstream's answer is
//! still awaited and kept, for the copy that comes next.
//!
//! Bodies still stream: a JSON body is small and read whole (up to [`JSON_BODY_CAP`]); of a
//! multipart body only the text fields before the first file are read (up to
//! [`MULTIPART_PEEK_CAP`]), so the `echo_id` must come before the files, as the app sends it.
//! A request without a readable `echo_id` passes as it would without this.
//!
//! Memory is bounded: answers are kept for [`WINDOW`], at most [`MAX_ANSWERS`] of them and
//! [`MAX_ANSWER_BYTES`] in all, each at most [`ANSWER_BODY_CAP`] (a message is small JSON);
//! at most [`MAX_IN_FLIGHT`] first requests are tracked at once. Only 2xx answers are kept,
//! so a request the upstream refused (401, 422, 5xx) leaves nothing behind.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::time::Instant;

use super::forward::{self, Capped, Failure, Progress};
use super::{rewrite, ProxyState};

/// How long an `echo_id` is remembered after its answer: longer than the outbox's retries
/// (8 attempts with backoff) and a reload.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Answers kept at most, and their bodies' bytes in all.
pub const MAX_ANSWERS: usize = 4096;
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// A larger answer is given to the requests waiting for it, never kept.
pub const ANSWER_BODY_CAP: usize = 64 * 1024;
/// First requests tracked at once; more pass through untracked.
pub const MAX_IN_FLIGHT: usize = 1024;
/// A JSON message body larger than this passes untracked (Chatwoot's 150,000 characters fit).
pub const JSON_BODY_CAP: usize = 1024 * 1024;
/// How much of a multipart body is read looking for `echo_id` before the first file.
pub const MULTIPART_PEEK_CAP: usize = 64 * 1024;
/// An `echo_id` longer than this is not a client's uuid; it passes untracked.
const ECHO_ID_MAX: usize = 256;

/// Who sent which message where: the answer is only ever given to the same credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    account: String,
    conversation: String,
    /// SHA-256 of the credential headers: the token itself is not kept here.
    credential: [u8; 32],
    echo_id: String,
}

/// The upstream's whole answer, as the browser gets it (before the file URL rewrite).
#[derive(Debug)]
pub(super) struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug, Clone)]
enum Outcome {
    Answered(Arc<Answer>),
    Failed(Failure),
}

enum Slot {
    /// The first request's exchange is running; its outcome comes on `done`.
    InFlight {
        progress: Arc<Progress>,
        done: watch::Receiver<Option<Outcome>>,
    },
    Kept {
        answer: Arc<Answer>,
        until: Instant,
        generation: u64,
    },
}

#[derive(Default)]
struct Cache {
    slots: HashMap<Key, Slot>,
    /// Kept answers, oldest first (the order they expire in): (key, generation).
    order: VecDeque<(Key, u64)>,
    kept_bytes: usize,
    in_flight: usize,
    generation: u64,
}

impl Cache {
    fn drop_oldest(&mut self) {
        if let Some((key, generation)) = self.order.pop_front() {
            if let Some(Slot::Kept {
                generation: g,
                answer,
                ..
            }) = self.slots.get(&key)
            {
                if *g == generation {
                    self.kept_bytes -= answer.body.len();
                    self.slots.remove(&key);
                }
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((key, generation)) = self.order.front() {
            let live = match self.slots.get(key) {
                Some(Slot::Kept {
                    generation: g,
                    until,
                    ..
                }) if g == generation => *until > now,
                // Replaced or gone: its place in the order is stale.
                _ => false,
            };
            if live {
                break;
            }
            self.drop_oldest();
        }
    }
}

/// The answers this proxy remembers, shared by every request.
#[derive(Default)]
pub(super) struct Replays {
    cache: Mutex<Cache>,
}

enum Claim {
    /// No one sent it before: this request goes upstream.
    First(Ticket),
    Wait {
        progress: Arc<Progress>,
        done: watch::Receiver<Option<Outcome>>,
    },
    Replay(Arc<Answer>),
    /// Too many in flight: this one passes as it would without idempotency.
    Untracked,
}

/// The first request's hold on its key; when it ends without an answer to keep (a failure,
/// a refusal, a panic), the key is free again for the next copy.
struct Ticket {
    state: ProxyState,
    key: Key,
    done: watch::Sender<Option<Outcome>>,
    settled: bool,
}

impl Replays {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn claim(&self, state: &ProxyState, key: Key, progress: &Arc<Progress>) -> Claim {
        let mut c = self.lock();
        c.expire(Instant::now());
        match c.slots.get(&key) {
            Some(Slot::Kept { answer, .. }) => return Claim::Replay(answer.clone()),
            Some(Slot::InFlight { progress, done }) => {
                return Claim::Wait {
                    progress: progress.clone(),
                    done: done.clone(),
                }
            }
            None => {}
        }
        if c.in_flight >= MAX_IN_FLIGHT {
            return Claim::Untracked;
        }
        let (tx, rx) = watch::channel(None);
        c.in_flight += 1;
        c.slots.insert(
            key.clone(),
            Slot::InFlight {
                progress: progress.clone(),
                done: rx,
            },
        );
        Claim::First(Ticket {
            state: state.clone(),
            key,
            done: tx,
            settled: false,
        })
    }

    /// The first request's outcome: kept when it is a 2xx small enough, else forgotten.
    fn settle(&self, key: &Key, outcome: &Outcome) {
        let mut c = self.lock();
        if matches!(c.slots.get(key), Some(Slot::InFlight { .. })) {
            c.slots.remove(key);
            c.in_flight -= 1;
        }
        let Outcome::Answered(answer) = outcome else {
            return;
        };
        if !answer.status.is_success() || answer.body.len() > ANSWER_BODY_CAP {
            return;
        }
        c.expire(Instant::now());
        while !c.order.is_empty()
            && (c.order.len() >= MAX_ANSWERS || c.kept_bytes + answer.body.len() > MAX_ANSWER_BYTES)
        {
            c.drop_oldest();
        }
        c.generation += 1;
        let generation = c.generation;
        c.kept_bytes += answer.body.len();
        c.order.push_back((key.clone(), generation));
        c.slots.insert(
            key.clone(),
            Slot::Kept {
                answer: answer.clone(),
                until: Instant::now() + WINDOW,
                generation,
            },
        );
    }

    /// (answers kept, their body bytes, first requests in flight), for tests.
    #[cfg(test)]
    fn sizes(&self) -> (usize, usize, usize) {
        let c = self.lock();
        (c.order.len(), c.kept_bytes, c.in_flight)
    }
}

impl Ticket {
    fn finish(mut self, outcome: Outcome) {
        self.state.0.replays.settle(&self.key, &outcome);
        self.settled = true;
        let _ = self.done.send(Some(outcome));
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.settled {
            let failed = Outcome::Failed(Failure::Broken);
            self.state.0.replays.settle(&self.key, &failed);
            let _ = self.done.send(Some(failed));
        }
    }
}

/// `POST /api/v1/accounts/{a}/conversations/{c}/messages` with credentials: (account,
/// conversation, credential digest).
fn message_create(parts: &Parts) -> Option<(String, String, [u8; 32])> {
    if parts.method != Method::POST {
        return None;
    }
    let segments: Vec<&str> = parts.uri.path().split('/').collect();
    let &["", "api", "v1", "accounts", account, "conversations", conversation, "messages"] =
        segments.as_slice()
    else {
        return None;
    };
    if account.is_empty() || conversation.is_empty() {
        return None;
    }
    let mut digest = Sha256::new();
    let mut any = false;
    // Every credential the upstream may read, each named, so two sets never collide.
    for name in [
        "api_access_token",
        "api-access-token",
        "access-token",
        "client",
        "uid",
    ] {
        for v in parts.headers.get_all(name) {
            any = true;
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update((v.len() as u64).to_le_bytes());
            digest.update(v.as_bytes());
        }
    }
    if !any {
        return None;
    }
    Some((
        account.to_owned(),
        conversation.to_owned(),
        digest.finalize().into(),
    ))
}

/// A request body after looking for its `echo_id`: what was read, then the rest unread.
struct Peeked {
    echo_id: Option<String>,
    read: Bytes,
    rest: Option<BoxStream<'static, Result<Bytes, io::Error>>>,
}

impl Peeked {
    /// The whole body again, for the upstream, noting its progress.
    fn into_upstream(self, progress: Arc<Progress>) -> reqwest::Body {
        match self.rest {
            None => reqwest::Body::from(self.read),
            Some(rest) => {
                let whole = futures_util::stream::once(async move { Ok(self.read) }).chain(rest);
                reqwest::Body::wrap_stream(forward::observed_stream(whole, progress))
            }
        }
    }
}

fn echo_id_of(v: &Value) -> Option<String> {
    let id = match v.get("echo_id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty() && id.len() <= ECHO_ID_MAX).then_some(id)
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The multipart boundary of a `multipart/form-data; boundary=...` content type.
fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

#[derive(Debug, PartialEq)]
enum Scan {
    Found(String),
    /// A file part, the end of the body, or something unreadable: no `echo_id` before files.
    Absent,
    NeedMore,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// `name` and whether it has a `filename`, from a part's `Content-Disposition`.
fn disposition(headers: &str) -> Option<(String, bool)> {
    let line = headers.split("\r\n").find(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    let mut file = false;
    for param in value.split(';').skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v.to_owned()),
            "filename" | "filename*" => file = true,
            _ => {}
        }
    }
    Some((name?, file))
}

/// Looks for an `echo_id` field among the parts before the first file.
fn scan_multipart(body: &[u8], boundary: &str) -> Scan {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let Some(first) = find(body, delimiter, 0) else {
        return if body.len() > delimiter.len() + 2 {
            Scan::Absent
        } else {
            Scan::NeedMore
        };
    };
    let mut at = first + delimiter.len();
    loop {
        match body.get(at..at + 2) {
            None => return Scan::NeedMore,
            Some(b"--") => return Scan::Absent,
            Some(b"\r\n") => at += 2,
            Some(_) => return Scan::Absent,
        }
        let Some(headers_end) = find(body, b"\r\n\r\n", at) else {
            return Scan::NeedMore;
        };
        let Ok(headers) = std::str::from_utf8(&body[at..headers_end]) else {
            return Scan::Absent;
        };
        let Some((name, file)) = disposition(headers) else {
            return Scan::Absent;
        };
        if file {
            return Scan::Absent;
        }
        let value_start = headers_end + 4;
        let mut end_marker = b"\r\n".to_vec();
        end_marker.extend_from_slice(delimiter);
        let Some(value_end) = find(body, &end_marker, value_start) else {
            return Scan::NeedMore;
        };
        if name == "echo_id" {
            return match std::str::from_utf8(&body[value_start..value_end]) {
                Ok(id) if !id.is_empty() && id.len() <= ECHO_ID_MAX => Scan::Found(id.to_owned()),
                _ => Scan::Absent,
            };
        }
        at = value_end + end_marker.len();
    }
}

fn rest_of(
    stream: impl futures_util::Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
) -> Option<BoxStream<'static, Result<Bytes, io::Error>>> {
    Some(stream.boxed())
}

/// Reads as much of `body` as finding its `echo_id` needs, no more.
async fn peek(headers: &HeaderMap, body: Body) -> Peeked {
    let ct = content_type(headers);
    let mut stream = body.into_data_stream().map(|c| c.map_err(io::Error::other));
    if ct.to_ascii_lowercase().contains("json") {
        return match forward::read_capped(stream, JSON_BODY_CAP).await {
            Ok(Capped::Whole(read)) => Peeked {
                echo_id: serde_json::from_slice::<Value>(&read)
                    .ok()
                    .as_ref()
                    .and_then(echo_id_of),
                read,
                rest: None,
            },
            Ok(Capped::Partial(read, rest)) => Peeked {
                echo_id: None,
                read,
                rest: rest_of(rest),
            },
            Err(e) => Peeked {
                echo_id: None,
                read: Bytes::new(),
                rest: rest_of(futures_util::stream::once(async { Err(e) }).boxed()),
            },
        };
    }
    let Some(boundary) = boundary(ct) else {
        return Peeked {
            echo_id: None,
            read: Bytes::new(),
            rest: rest_of(stream),
        };
    };
    let mut read = Vec::new();
    loop {
        match scan_multipart(&read, &boundary) {
            Scan::Found(id) => {
                return Peeked {
                    echo_id: Some(id),
                    read: read.into(),
                    rest: rest_of(stream),
                }
            }
            Scan::Absent => break,
            Scan::NeedMore if read.len() >= MULTIPART_PEEK_CAP => break,
            Scan::NeedMore => {}
        }
        match stream.next().await {
            Some(Ok(chunk)) => read.extend_from_slice(&chunk),
            Some(Err(e)) => {
                return Peeked {
                    echo_id: None,
                    read: read.into(),
                    rest: rest_of(futures_util::stream::once(async { Err(e) }).boxed()),
                }
            }
            None => {
                return Peeked {
                    echo_id: None,
                    read: read.into(),
                    rest: None,
                }
            }
        }
    }
    Peeked {
        echo_id: None,
        read: read.into(),
        rest: rest_of(stream),
    }
}

/// Answers `request` if it is a message create; gives it back otherwise.
pub(super) async fn forward_once(
    state: &ProxyState,
    request: Request,
) -> Result<Response, Request> {
    let (parts, body) = request.into_parts();
    let Some((account, conversation, credential)) = message_create(&parts) else {
        return Err(Request::from_parts(parts, body));
    };
    // A body that stalls before its echo_id is cut as a stalled upload is: after
    // `--upstream-timeout` (the upstream cannot be waiting on it yet).
    let Ok(mut peeked) = tokio::time::timeout(state.0.timeout, peek(&parts.headers, body)).await
    else {
        return Ok(body_timeout(state.0.timeout));
    };
    let Some(echo_id) = peeked.echo_id.take() else {
        return Ok(exchange_untracked(state, &parts, peeked).await);
    };
    let key = Key {
        account,
        conversation,
        credential,
        echo_id,
    };
    let s = &state.0;
    let joined = Instant::now();
    loop {
        let progress = Progress::new();
        match s.replays.claim(state, key.clone(), &progress) {
            Claim::Replay(answer) => return Ok(respond(state, &parts, &answer, true)),
            Claim::Untracked => return Ok(exchange_untracked(state, &parts, peeked).await),
            Claim::First(ticket) => {
                let done = ticket.done.subscribe();
                let body = peeked.into_upstream(progress.clone());
                tokio::spawn(exchange_for(
                    state.clone(),
                    parts.clone(),
                    body,
                    progress.clone(),
                    ticket,
                ));
                return Ok(match wait(s, &progress, done, joined).await {
                    Ok(Outcome::Answered(answer)) => respond(state, &parts, &answer, false),
                    Ok(Outcome::Failed(f)) | Err(f) => f.response(&s.target.host, true),
                });
            }
            Claim::Wait { progress, done } => match wait(s, &progress, done, joined).await {
                Ok(Outcome::Answered(answer)) if answer.status.is_success() => {
                    return Ok(respond(state, &parts, &answer, true))
                }
                // The first copy was refused or failed: nothing was kept, this copy goes.
                Ok(_) => continue,
                Err(silent) => return Ok(silent.response(&s.target.host, true)),
            },
        }
    }
}

/// 504 as for any upload that stalls in the proxy (a 4xx would make the app give up on a
/// message that was never sent).
fn body_timeout(after: Duration) -> Response {
    (
        StatusCode::GATEWAY_TIMEOUT,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({
            "error": format!(
                "The message did not arrive within {} s; check the connection and send it again",
                after.as_secs()
            )
        })),
    )
        .into_response()
}

/// Waits for the first request's outcome while its exchange makes progress.
async fn wait(
    s: &super::Inner,
    progress: &Progress,
    mut done: watch::Receiver<Option<Outcome>>,
    joined: Instant,
) -> Result<Outcome, Failure> {
    let outcome = progress
        .wait(done.wait_for(Option::is_some), s.timeout, joined)
        .await?;
    Ok(match outcome {
        Ok(o) => o.clone().unwrap_or(Outcome::Failed(Failure::Broken)),
        // The exchange is gone without a word (cannot happen: the ticket says so on drop).
        Err(_) => Outcome::Failed(Failure::Broken),
    })
}

/// The first request's exchange, on its own task: it outlives the browser's connection.
async fn exchange_for(
    state: ProxyState,
    parts: Parts,
    body: reqwest::Body,
    progress: Arc<Progress>,
    ticket: Ticket,
) {
    // The browser waits `--upstream-timeout`; the answer is still worth having later, for
    // the copy the browser sends next, as long as it would be remembered.
    let silence = state.0.timeout.max(WINDOW);
    let outcome = match exchange(&state, &parts, body, &progress, silence).await {
        Ok(answer) => Outcome::Answered(Arc::new(answer)),
        Err(f) => Outcome::Failed(f),
    };
    ticket.finish(outcome);
}

/// One message create, upstream and back, its answer read whole.
async fn exchange(
    state: &ProxyState,
    parts: &Parts,
    body: reqwest::Body,
    progress: &Arc<Progress>,
    silence: Duration,
) -> Result<Answer, Failure> {
    let s = &state.0;
    let url = s.target.http_url(
        parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |pq| pq.as_str()),
    );
    let send = s
        .http
        .post(url)
        .headers(rewrite::request_headers(&parts.headers))
        .body(body)
        .send();
    let answer = progress
        .wait(send, silence, Instant::now())
        .await?
        .map_err(|e| forward::classify(&e, s.connect_timeout))?;
    let status = answer.status();
    let headers = rewrite::response_headers(answer.headers(), &s.target);
    let stream = forward::idle_limited(answer.bytes_stream().boxed(), silence).boxed();
    match forward::read_capped(stream, forward::JSON_REWRITE_CAP).await {
        Ok(Capped::Whole(body)) => Ok(Answer {
            status,
            headers,
            body,
        }),
        // A message's answer is a few kB; this is not one.
        Ok(Capped::Partial(..)) | Err(_) => Err(Failure::Broken),
    }
}

/// A message create without a usable `echo_id` (or over the in-flight cap): forwarded as
/// any request, tied to its browser.
async fn exchange_untracked(state: &ProxyState, parts: &Parts, peeked: Peeked) -> Response {
    let s = &state.0;
    let progress = Progress::new();
    let body = peeked.into_upstream(progress.clone());
    match exchange(state, parts, body, &progress, s.timeout).await {
        Ok(answer) => respond(state, parts, &answer, false),
        Err(f) => f.response(&s.target.host, true),
    }
}

/// `answer` for the browser that sent `parts`.
fn respond(state: &ProxyState, parts: &Parts, answer: &Answer, replayed: bool) -> Response {
    let mut headers = answer.headers.clone();
    let json = content_type(&headers).contains("json");
    let body = if json && !headers.contains_key(header::CONTENT_ENCODING) {
        forward::with_file_urls(&state.0, &parts.headers, answer.body.clone())
    } else {
        answer.body.clone()
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if replayed {
        // Says that this is the first request's answer again (tests read it).
        headers.insert(
            "x-parley-idempotent-replay",
            HeaderValue::from_static("true"),
        );
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = headers;
    response
}

/// `GET /api/v1/parley/capabilities`: a real Chatwoot answers 404 (no extensions); the
/// proxy adds the one it gives, `echo_id_idempotency`, to whatever the upstream has.
pub(super) async fn capabilities(state: &ProxyState, parts: &Parts) -> Response {
    let s = &state.0;
    let url = s.target.http_url("/api/v1/parley/capabilities");
    let progress = Progress::new();
    let send = s
        .http
        .get(url)
        .headers(rewrite::request_headers(&parts.headers))
        .send();
    let answer = match progress.wait(send, s.timeout, Instant::now()).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            return forward::classify(&e, s.connect_timeout).response(&s.target.host, true)
        }
        Err(f) => return f.response(&s.target.host, true),
    };
    let status = answer.status();
    let headers = rewrite::response_headers(answer.headers(), &s.target);
    let stream = forward::idle_limited(answer.bytes_stream().boxed(), s.timeout).boxed();
    let body = match forward::read_capped(stream, ANSWER_BODY_CAP).await {
        Ok(Capped::Whole(b)) => b,
        _ => return Failure::Broken.response(&s.target.host, true),
    };
    let ours = |mut v: Value| {
        v["parley"]["echo_id_idempotency"] = Value::Bool(true);
        v["parley"]["echo_id_window_seconds"] = Value::from(WINDOW.as_secs());
        (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(v),
        )
            .into_response()
    };
    match status {
        StatusCode::NOT_FOUND => ours(serde_json::json!({
            "parley": {
                "version": env!("CARGO_PKG_VERSION"),
                "proxy": true,
                "message_edit": false,
            }
        })),
        StatusCode::OK => match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v["parley"].is_object() => ours(v),
            _ => pass(status, headers, body),
        },
        _ => pass(status, headers, body),
    }
}

fn pass(status: StatusCode, mut headers: HeaderMap, body: Bytes) -> Response {
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_id_is_found_in_the_text_fields_before_the_files() {
        let b = "XyZ";
        let body = |parts: &str| parts.replace("\n", "\r\n").into_bytes();
        let first = body(
            "--XyZ\nContent-Disposition: form-data; name=\"echo_id\"\n\nabc-1\n--XyZ\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"a.bin\"\n\n",
        );
        assert_eq!(scan_multipart(&first, b), Scan::Found("abc-1".into()));
        let after_text = body(
            "--XyZ\nContent-Disposition: form-data; name=\"content\"\n\nhi\nthere\n--XyZ\ncontent-disposition: form-data; name=echo_id\n\nabc-2\n--XyZ--\n",
        );
        assert_eq!(scan_multipart(&after_text, b), Scan::Found("abc-2".into()));
        // After a file: never read (the file would have to be).
        let after_file = body(
            "--XyZ\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"echo_id\"\n\n",
        );
        assert_eq!(scan_multipart(&after_file, b), Scan::Absent);
        let ended =
            body("--XyZ\nContent-Disposition: form-data; name=\"private\"\n\ntrue\n--XyZ--");
        assert_eq!(scan_multipart(&ended, b), Scan::Absent);
        // Cut anywhere before the value's end: more is needed.
        let end = find(&first, b"abc-1\r\n--XyZ", 0).unwrap() + 12;
        for cut in 0..end {
            let s = scan_multipart(&first[..cut], b);
            assert!(s == Scan::NeedMore, "{cut}: {s:?}");
        }
    }

    #[test]
    fn boundaries_and_credentials() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----WebKitFormBoundaryA1"),
            Some("----WebKitFormBoundaryA1".into())
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q\""),
            Some("q".into())
        );
        assert_eq!(boundary("application/json"), None);
        let parts = |path: &str, token: Option<&str>| {
            let mut r = axum::http::Request::post(path);
            if let Some(t) = token {
                r = r.header("api_access_token", t);
            }
            r.body(()).unwrap().into_parts().0
        };
        let a = message_create(&parts(
            "/api/v1/accounts/1/conversations/2/messages",
            Some("t"),
        ));
        let b = message_create(&parts(
            "/api/v1/accounts/1/conversations/2/messages",
            Some("u"),
        ));
        assert!(a.is_some() && b.is_some() && a != b);
        assert!(
            message_create(&parts("/api/v1/accounts/1/conversations/2/messages", None)).is_none()
        );
        assert!(message_create(&parts(
            "/api/v1/accounts/1/conversations/2/messages/3",
            Some("t")
        ))
        .is_none());
        assert!(message_create(&parts("/api/v1/accounts/1/conversations/2", Some("t"))).is_none());
    }

    #[test]
    fn kept_answers_stay_within_their_count_and_bytes() {
        let replays = Replays::default();
        let answer = |n: usize| {
            Outcome::Answered(Arc::new(Answer {
                status: StatusCode::OK,
                headers: HeaderMap::new(),
                body: Bytes::from(vec![b'x'; n]),
            }))
        };
        let key = |i: usize| Key {
            account: "1".into(),
            conversation: "1".into(),
            credential: [0; 32],
            echo_id: format!("e{i}"),
        };
        for i in 0..MAX_ANSWERS + 10 {
            replays.settle(&key(i), &answer(10));
        }
        assert_eq!(replays.sizes(), (MAX_ANSWERS, MAX_ANSWERS * 10, 0));
        for i in 0..(MAX_ANSWER_BYTES / ANSWER_BODY_CAP) + 5 {
            replays.settle(&key(100_000 + i), &answer(ANSWER_BODY_CAP));
        }
        let (count, bytes, _) = replays.sizes();
        assert!(
            bytes <= MAX_ANSWER_BYTES && count <= MAX_ANSWERS,
            "{count} {bytes}"
        );
        // Too large, or not a success: never kept.
        replays.settle(&key(1), &answer(ANSWER_BODY_CAP + 1));
        replays.settle(
            &key(2),
            &Outcome::Answered(Arc::new(Answer {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                headers: HeaderMap::new(),
                body: Bytes::new(),
            })),
        );
        let c = replays.lock();
        assert!(!c.slots.contains_key(&key(1)) && !c.slots.contains_key(&key(2)));
    }
}
