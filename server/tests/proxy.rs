//! Proxy mode (`--upstream`) in front of a backend without idempotency, as a real Chatwoot
//! is: the proxy makes `echo_id` an idempotency key on message creates and says so.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use common::TestServer;
use futures_util::StreamExt;
use parley_server::config::Upstream;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A parley-server with `--no-idempotency` (Chatwoot's behaviour), and a proxy in front.
async fn proxied() -> (TestServer, TestServer) {
    let upstream = TestServer::start_with(|c| c.idempotency = false).await;
    let proxy = proxy_of(&upstream.server.base_url).await;
    (upstream, proxy)
}

async fn proxy_of(url: &str) -> TestServer {
    proxy_with_timeout(url, Duration::from_secs(10)).await
}

async fn proxy_with_timeout(url: &str, timeout: Duration) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(move |c| {
        c.upstream = Some(Upstream {
            url,
            connect_timeout: Duration::from_secs(5),
            timeout,
        })
    })
    .await
}

const MESSAGES: &str = "/api/v1/accounts/1/conversations/1/messages";

fn send(proxy: &TestServer, token: &str) -> reqwest::RequestBuilder {
    proxy
        .http
        .post(proxy.url(MESSAGES))
        .header("api_access_token", token)
}

async fn answer(r: reqwest::RequestBuilder) -> (u16, bool, Value) {
    let res = r.send().await.expect("the proxy answers");
    let status = res.status().as_u16();
    let replayed = res.headers().contains_key("x-parley-idempotent-replay");
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, replayed, body)
}

/// How many messages of conversation 1 the upstream holds with this content.
async fn stored(upstream: &TestServer, content: &str) -> usize {
    upstream
        .messages(1)
        .await
        .iter()
        .filter(|m| m["content"] == content)
        .count()
}

async fn set_faults(upstream: &TestServer, faults: Value) {
    let r = upstream
        .http
        .post(upstream.url("/__parley/test/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_upstream_alone_stores_every_copy() {
    // The premise: without the proxy, this upstream stores a resend twice.
    let (upstream, _proxy) = proxied().await;
    let body = json!({"content": "twice without the proxy", "echo_id": "up-1"});
    for _ in 0..2 {
        let (st, _) = upstream.agent_send(1, body.clone()).await;
        assert_eq!(st, 200);
    }
    assert_eq!(stored(&upstream, "twice without the proxy").await, 2);
}

#[tokio::test]
async fn concurrent_and_repeated_json_posts_store_one_message() {
    let (upstream, proxy) = proxied().await;
    let token = upstream.token().to_owned();
    let body =
        json!({"content": "once through the proxy", "private": false, "echo_id": "px-json-1"});
    let (a, b) = tokio::join!(
        answer(send(&proxy, &token).json(&body)),
        answer(send(&proxy, &token).json(&body)),
    );
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    assert_eq!(a.2, b.2, "the same answer");
    assert!(a.2["id"].is_i64(), "{a:?}");
    assert_eq!(a.2["echo_id"], "px-json-1");
    assert!(
        a.1 != b.1,
        "one answered first, the other got its answer again"
    );
    // A resend later (the outbox's retry) gets it again too.
    let c = answer(send(&proxy, &token).json(&body)).await;
    assert_eq!((c.0, c.1), (200, true));
    assert_eq!(c.2, a.2);
    assert_eq!(stored(&upstream, "once through the proxy").await, 1);

    // Another echo_id is another message; no echo_id, no idempotency.
    let other = json!({"content": "once through the proxy", "echo_id": "px-json-2"});
    let d = answer(send(&proxy, &token).json(&other)).await;
    assert_eq!((d.0, d.1), (200, false));
    assert_ne!(d.2["id"], a.2["id"]);
    let plain = json!({"content": "no echo id"});
    for _ in 0..2 {
        let e = answer(send(&proxy, &token).json(&plain)).await;
        assert_eq!((e.0, e.1), (200, false));
    }
    assert_eq!(stored(&upstream, "no echo id").await, 2);
}

#[tokio::test]
async fn a_refused_post_is_not_remembered() {
    let (upstream, proxy) = proxied().await;
    let token = upstream.token().to_owned();
    let body = json!({"content": "after a 503", "echo_id": "px-503"});
    set_faults(&upstream, json!({"fail_next_posts": 1, "fail_status": 503})).await;
    let first = send(&proxy, &token).json(&body).send().await.unwrap();
    assert_eq!(first.status(), 503);
    let retry = answer(send(&proxy, &token).json(&body)).await;
    assert_eq!((retry.0, retry.1), (200, false), "{retry:?}");
    assert_eq!(stored(&upstream, "after a 503").await, 1);
    // Other credentials never get the answer: the request goes upstream (a 401 here).
    let bad = send(&proxy, "not-a-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let again = answer(send(&proxy, &token).json(&body)).await;
    assert_eq!((again.0, again.1), (200, true));
    assert_eq!(again.2, retry.2);
}

fn upload(
    proxy: &TestServer,
    token: &str,
    echo_id: &str,
    content: &str,
) -> reqwest::RequestBuilder {
    // The app's order: echo_id first, then the caption and the files.
    let form = reqwest::multipart::Form::new()
        .text("echo_id", echo_id.to_owned())
        .text("content", content.to_owned())
        .part(
            "attachments[]",
            reqwest::multipart::Part::bytes(vec![7u8; 200_000])
                .file_name("notes.txt")
                .mime_str("text/plain")
                .unwrap(),
        )
        .text("private", "false");
    send(proxy, token).multipart(form)
}

#[tokio::test]
async fn concurrent_uploads_wait_for_the_first_and_store_one_message() {
    let (upstream, proxy) = proxied().await;
    let token = upstream.token().to_owned();
    // The upstream holds each upload a while: the second copy arrives while the first is
    // still in flight.
    set_faults(&upstream, json!({"upload_hold_ms": 1500})).await;
    let (a, b) = tokio::join!(
        answer(upload(&proxy, &token, "px-up-1", "a file, once")),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            answer(upload(&proxy, &token, "px-up-1", "a file, once")).await
        },
    );
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    assert_eq!(a.2, b.2);
    assert!(
        a.1 != b.1,
        "one answered first, the other got its answer again"
    );
    assert_eq!(a.2["attachments"].as_array().map(Vec::len), Some(1));
    let c = answer(upload(&proxy, &token, "px-up-1", "a file, once")).await;
    assert_eq!((c.0, c.1), (200, true));
    assert_eq!(c.2, a.2);
    assert_eq!(stored(&upstream, "a file, once").await, 1);
}

/// A stand-in for Chatwoot that counts the message creates it received whole and answers
/// each only once `release` is true.
async fn holding_chatwoot() -> (
    String,
    tokio::sync::watch::Receiver<usize>,
    tokio::sync::watch::Sender<bool>,
) {
    let (received_tx, received) = tokio::sync::watch::channel(0usize);
    let (release, release_rx) = tokio::sync::watch::channel(false);
    let received_tx = std::sync::Arc::new(received_tx);
    let app = axum::Router::new().route(
        MESSAGES,
        post(move |body: axum::body::Bytes| {
            let received_tx = received_tx.clone();
            let mut release_rx = release_rx.clone();
            async move {
                assert!(!body.is_empty());
                let n = {
                    let mut n = 0;
                    received_tx.send_modify(|c| {
                        *c += 1;
                        n = *c;
                    });
                    n
                };
                release_rx.wait_for(|r| *r).await.unwrap();
                axum::Json(json!({"id": n, "content": "held", "echo_id": "px-gone-1"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received, release)
}

#[tokio::test]
async fn a_post_whose_browser_went_away_is_answered_to_its_resend() {
    // Chromium's own resend: the first request is sent whole, its connection closes before
    // any answer, and the same POST comes again on a new connection.
    let (url, mut received, release) = holding_chatwoot().await;
    let proxy = proxy_of(&url).await;
    let boundary = "parleyTestBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"echo_id\"\r\n\r\npx-gone-1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nsent, then the page left\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let head = format!(
        "POST {MESSAGES} HTTP/1.1\r\nHost: {}\r\napi_access_token: t\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        proxy.server.addr,
        body.len()
    );
    let mut first = tokio::net::TcpStream::connect(proxy.server.addr)
        .await
        .unwrap();
    first.write_all(head.as_bytes()).await.unwrap();
    first.write_all(body.as_bytes()).await.unwrap();
    // The upstream has the whole request and has not answered: now the browser goes away.
    tokio::time::timeout(Duration::from_secs(10), received.wait_for(|n| *n == 1))
        .await
        .expect("the first request reached the upstream")
        .unwrap();
    drop(first);

    let resend = tokio::spawn(answer(
        send(&proxy, "t")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body.clone()),
    ));
    release.send_replace(true);
    let (st, replayed, m) = resend.await.unwrap();
    assert_eq!(st, 200, "{m}");
    assert!(
        replayed,
        "the first request's answer, not a new message: {m}"
    );
    assert_eq!(m["id"], 1);
    assert_eq!(*received.borrow(), 1, "the upstream got one request");
}

#[tokio::test]
async fn capabilities_say_the_proxy_makes_echo_id_idempotent() {
    let (upstream, proxy) = proxied().await;
    let token = upstream.token().to_owned();
    // The upstream itself says it is not idempotent...
    let (_, own) = upstream
        .json(upstream.get("/api/v1/parley/capabilities"))
        .await;
    assert_eq!(own["parley"]["echo_id_idempotency"], false);
    // ...the proxy in front of it is, and keeps the rest of what the upstream has.
    let (st, _, caps) = answer(
        proxy
            .http
            .get(proxy.url("/api/v1/parley/capabilities"))
            .header("api_access_token", &token),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(caps["parley"]["echo_id_idempotency"], true);
    assert_eq!(caps["parley"]["message_edit"], true);
    // The upstream's 401 passes through.
    let r = proxy
        .http
        .get(proxy.url("/api/v1/parley/capabilities"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// A stand-in for a real Chatwoot that has no capabilities endpoint (404) and counts the
/// bytes of a message upload as they arrive.
async fn counting_chatwoot() -> (String, tokio::sync::watch::Receiver<usize>) {
    let (tx, rx) = tokio::sync::watch::channel(0usize);
    let tx = std::sync::Arc::new(tx);
    let app = axum::Router::new()
        .route(
            MESSAGES,
            post(move |body: Body| {
                let tx = tx.clone();
                async move {
                    let mut stream = body.into_data_stream();
                    let mut n = 0;
                    while let Some(chunk) = stream.next().await {
                        n += chunk.expect("the body arrives").len();
                        tx.send_replace(n);
                    }
                    axum::Json(json!({"id": 1, "content": "streamed", "echo_id": "px-stream-1"}))
                }
            }),
        )
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "Not Found") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test]
async fn before_chatwoot_the_proxy_advertises_idempotency_and_streams_uploads() {
    let (url, mut received) = counting_chatwoot().await;
    let proxy = proxy_of(&url).await;
    let (st, _, caps) = answer(
        proxy
            .http
            .get(proxy.url("/api/v1/parley/capabilities"))
            .header("api_access_token", "t"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        (
            &caps["parley"]["echo_id_idempotency"],
            &caps["parley"]["message_edit"]
        ),
        (&json!(true), &json!(false))
    );

    // An upload whose echo_id comes first: the upstream gets its first megabyte while the
    // rest has not been sent yet (a proxy holding the body would wait forever here).
    let boundary = "streamBoundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"echo_id\"\r\n\r\npx-stream-1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let first_mb = head.len() + 1024 * 1024;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (Ok::<_, std::io::Error>(c), rx))
    });
    let request = tokio::spawn(answer(
        send(&proxy, "t")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(reqwest::Body::wrap_stream(chunks)),
    ));
    let mut start = head.into_bytes();
    start.extend(vec![1u8; 1024 * 1024]);
    tx.send(start).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        received.wait_for(|n| *n >= first_mb),
    )
    .await
    .expect("the upstream got the first megabyte before the rest was sent")
    .unwrap();
    for _ in 0..8 {
        tx.send(vec![2u8; 1024 * 1024]).await.unwrap();
    }
    tx.send(format!("\r\n--{boundary}--\r\n").into_bytes())
        .await
        .unwrap();
    drop(tx);
    let (st, replayed, m) = request.await.unwrap();
    assert_eq!((st, replayed), (200, false), "{m}");
    assert_eq!(
        *received.borrow(),
        first_mb + 8 * 1024 * 1024 + boundary.len() + 8
    );
}

#[tokio::test]
async fn a_message_body_that_stalls_is_cut_after_the_upstream_timeout() {
    // Read for its echo_id before anything goes upstream: a body that stops coming must
    // not hold the proxy forever.
    let (upstream, _) = proxied().await;
    let proxy = proxy_with_timeout(&upstream.server.base_url, Duration::from_secs(1)).await;
    let mut stalled = tokio::net::TcpStream::connect(proxy.server.addr)
        .await
        .unwrap();
    let head = format!(
        "POST {MESSAGES} HTTP/1.1\r\nHost: x\r\napi_access_token: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"echo_id\": \"st",
        upstream.token()
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut answer))
        .await
        .expect("an answer, not a hang")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 504"), "{answer}");
    assert!(answer.contains("did not arrive within 1 s"), "{answer}");
}
