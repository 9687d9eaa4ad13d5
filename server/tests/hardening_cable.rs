//! The cable and the connections as an attacker meets them, against the real binary over
//! real sockets: each test mounts one attack, asserts the refusal or the disconnect, that the
//! agent is still answered promptly meanwhile, and that the server's peak memory (VmHWM) grew
//! by less than 64 MB.

mod common;

use std::time::{Duration, Instant};

use common::attack::{assert_agent_answered, http, PROMPT};
use common::process::ServerProcess;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// How much the server's peak memory may grow during one attack.
const MEMORY_BUDGET_KB: u64 = 64 * 1024;
/// Chatwoot's content limit.
const LONG_CONTENT_CHARS: usize = 150_000;

type Socket = WebSocketStream<TcpStream>;

/// Agent requests one after another until `stop`; returns how many were answered (each
/// within `PROMPT`, or the task panics).
fn agent_keeps_asking(
    s: &ServerProcess,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<usize> {
    let url = s.url("/api/v1/profile");
    let token = s.agent_token.clone();
    tokio::spawn(async move {
        let http = http();
        let mut answered = 0;
        while !*stop.borrow() {
            let res = tokio::time::timeout(
                PROMPT,
                http.get(&url).header("api_access_token", &token).send(),
            )
            .await
            .expect("the agent is answered promptly during the attack")
            .expect("the agent's request is answered");
            assert_eq!(res.status(), 200);
            answered += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        answered
    })
}

fn assert_memory_held(s: &ServerProcess, before_kb: u64) {
    let peak = s.peak_rss_kb();
    assert!(
        peak < before_kb + MEMORY_BUDGET_KB,
        "peak memory grew by {} kB (from {before_kb} kB to {peak} kB)",
        peak.saturating_sub(before_kb)
    );
}

fn cable_request(s: &ServerProcess) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut req = format!("ws://{}/cable", s.addr())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "actioncable-v1-json".parse().unwrap(),
    );
    req
}

/// A cable connection; `recv_buffer` shrinks the client's socket buffer (a client that does
/// not read then holds little in its kernel, and the server's queue fills sooner).
async fn cable_with_buffer(
    s: &ServerProcess,
    recv_buffer: Option<u32>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let stream = socket.connect(s.addr().parse().unwrap()).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(cable_request(s), stream).await?;
    Ok(ws)
}

async fn cable(s: &ServerProcess) -> Socket {
    cable_with_buffer(s, None).await.expect("cable connects")
}

/// The next text frame as JSON; None when the connection ended.
async fn next_frame(ws: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next())
            .await
            .expect("a frame or the end of the connection in time")?;
        match msg {
            Ok(WsMessage::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The next protocol frame whose `type` is one of `kinds` (skipping pings and broadcasts).
async fn next_of(ws: &mut Socket, kinds: &[&str]) -> Value {
    loop {
        let f = next_frame(ws, Duration::from_secs(10))
            .await
            .expect("connection open");
        if f["type"].as_str().is_some_and(|t| kinds.contains(&t)) {
            return f;
        }
    }
}

async fn subscribe(ws: &mut Socket, identifier: &str) -> String {
    send(
        ws,
        json!({"command": "subscribe", "identifier": identifier}),
    )
    .await;
    let f = next_of(ws, &["confirm_subscription", "reject_subscription"]).await;
    assert_eq!(f["identifier"], identifier);
    f["type"].as_str().unwrap().to_owned()
}

async fn send(ws: &mut Socket, v: Value) {
    ws.send(WsMessage::Text(v.to_string().into()))
        .await
        .expect("frame sent");
}

/// The demo customer's contact pubsub token (conversation 1 is theirs).
async fn contact_token(s: &ServerProcess) -> String {
    let param = |name: &str| s.customer_param(name);
    let contact: Value = http()
        .get(s.url(&format!(
            "/public/api/v1/inboxes/{}/contacts/{}",
            param("inbox"),
            param("contact")
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    contact["pubsub_token"].as_str().unwrap().to_owned()
}

/// Posts `n` messages of Chatwoot's longest content (`fill` repeated) as the agent into
/// conversation 1 (the demo customer's), each answered promptly.
async fn post_long_messages(s: &ServerProcess, n: usize, fill: char) {
    let http = http();
    for i in 0..n {
        let content = format!("{i} {}", fill.to_string().repeat(LONG_CONTENT_CHARS - 10));
        let started = Instant::now();
        let res = http
            .post(s.url("/api/v1/accounts/1/conversations/1/messages"))
            .header("api_access_token", &s.agent_token)
            .json(&json!({"content": content, "echo_id": format!("long-{i}")}))
            .send()
            .await
            .expect("the agent's message is answered");
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        assert!(
            started.elapsed() < PROMPT,
            "the agent's message took {:?}",
            started.elapsed()
        );
    }
}

/// The message.created events (their echo_ids) a cable receives until `n` arrived.
async fn message_created(ws: &mut Socket, n: usize) -> Vec<String> {
    let mut seen = vec![];
    while seen.len() < n {
        let f = next_frame(ws, Duration::from_secs(10))
            .await
            .expect("connection open");
        if f["message"]["event"] == "message.created" {
            seen.push(
                f["message"]["data"]["echo_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            );
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_subscriptions_of_one_contact_token_are_one_subscription() {
    let s = ServerProcess::start(&[]);
    let token = contact_token(&s).await;
    let mut attacker = cable(&s).await;
    next_of(&mut attacker, &["welcome"]).await;
    let plain = json!({"channel": "RoomChannel", "pubsub_token": token}).to_string();
    assert_eq!(
        subscribe(&mut attacker, &plain).await,
        "confirm_subscription"
    );
    s.reset_peak();
    let before = s.peak_rss_kb();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let agent = agent_keeps_asking(&s, stopped);

    // The same identity under 3,000 other identifier strings: extra keys, another key order.
    const REPEATS: usize = 3_000;
    for i in 0..REPEATS {
        let identifier = if i % 2 == 0 {
            json!({"channel": "RoomChannel", "pubsub_token": token, "x": i}).to_string()
        } else {
            format!(r#"{{"pubsub_token":"{token}","channel":"RoomChannel","n":{i}}}"#)
        };
        send(
            &mut attacker,
            json!({"command": "subscribe", "identifier": identifier}),
        )
        .await;
    }
    // The exact identifier again is ignored, as Rails does.
    send(
        &mut attacker,
        json!({"command": "subscribe", "identifier": plain}),
    )
    .await;
    let (mut confirmed, mut rejected) = (0, 0);
    while rejected + confirmed < REPEATS {
        match next_of(
            &mut attacker,
            &["confirm_subscription", "reject_subscription"],
        )
        .await["type"]
            .as_str()
        {
            Some("confirm_subscription") => confirmed += 1,
            _ => rejected += 1,
        }
    }
    assert_eq!(
        (confirmed, rejected),
        (0, REPEATS),
        "every repeat of the identity is rejected"
    );

    // Ten long messages reach the attacker once each, not once per attempt.
    post_long_messages(&s, 10, 'x').await;
    let got = message_created(&mut attacker, 10).await;
    let expected: Vec<String> = (0..10).map(|i| format!("long-{i}")).collect();
    assert_eq!(got, expected);
    let extra = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            let f = next_frame(&mut attacker, Duration::from_secs(5)).await;
            if f.as_ref()
                .is_none_or(|f| f["message"]["event"] == "message.created")
            {
                return f;
            }
        }
    })
    .await;
    assert!(extra.is_err(), "a duplicate broadcast arrived: {extra:?}");

    stop.send(true).unwrap();
    assert!(agent.await.unwrap() > 0);
    assert_memory_held(&s, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_disconnected_and_the_others_get_everything() {
    // A small queue so that ten long messages fill it (the default is 4 MiB).
    let s = ServerProcess::start(&["--cable-queue-kib", "256"]);
    let token = contact_token(&s).await;
    let identifier = json!({"channel": "RoomChannel", "pubsub_token": token}).to_string();
    let mut slow = cable_with_buffer(&s, Some(4096)).await.expect("connects");
    next_of(&mut slow, &["welcome"]).await;
    assert_eq!(
        subscribe(&mut slow, &identifier).await,
        "confirm_subscription"
    );
    let mut healthy = cable(&s).await;
    next_of(&mut healthy, &["welcome"]).await;
    assert_eq!(
        subscribe(&mut healthy, &identifier).await,
        "confirm_subscription"
    );
    s.reset_peak();
    let before = s.peak_rss_kb();

    // `slow` reads nothing from here on; the agent's posts stay prompt and the healthy
    // subscriber gets every message.
    let reader = tokio::spawn(async move {
        let got = message_created(&mut healthy, 10).await;
        (healthy, got)
    });
    // 4-byte characters: each message is 600 kB on the wire, 6 MB in all, more than the
    // kernel buffers between server and client hold (4 MB at most here) and the queue.
    post_long_messages(&s, 10, '🙂').await;
    let (_healthy, got) = reader.await.unwrap();
    assert_eq!(
        got,
        (0..10).map(|i| format!("long-{i}")).collect::<Vec<_>>()
    );
    assert_agent_answered(&s.base_url, &s.agent_token).await;

    // The slow client was cut off: what it finally reads is the start of the burst, then
    // the end of its connection.
    let mut delivered = 0;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(f) = next_frame(&mut slow, Duration::from_secs(20)).await {
            if f["message"]["event"] == "message.created" {
                delivered += 1;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the slow client's connection is still open ({delivered} messages read)"
    );
    assert!(
        delivered < 10,
        "the client that did not read got all {delivered} messages: it was never cut off"
    );
    assert_memory_held(&s, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_the_connection() {
    let s = ServerProcess::start(&[]);
    let mut ws = cable(&s).await;
    next_of(&mut ws, &["welcome"]).await;
    s.reset_peak();
    let before = s.peak_rss_kb();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let agent = agent_keeps_asking(&s, stopped);

    // Eight clients each send one 15 MiB frame (under tungstenite's default 16 MiB).
    let huge = format!(
        r#"{{"command":"subscribe","identifier":"{}"}}"#,
        "a".repeat(15 << 20)
    );
    let mut attackers = vec![ws];
    for _ in 0..7 {
        let mut ws = cable(&s).await;
        next_of(&mut ws, &["welcome"]).await;
        attackers.push(ws);
    }
    let sends = attackers.into_iter().map(|mut ws| {
        let huge = huge.clone();
        tokio::spawn(async move {
            // The server may close while the frame is still being written: that is the
            // refusal, and the connection's end below proves it.
            match ws.send(WsMessage::Text(huge.into())).await {
                Ok(()) => {}
                Err(e) => assert!(
                    matches!(
                        e,
                        tokio_tungstenite::tungstenite::Error::Io(_)
                            | tokio_tungstenite::tungstenite::Error::ConnectionClosed
                            | tokio_tungstenite::tungstenite::Error::AlreadyClosed
                    ),
                    "unexpected send error: {e}"
                ),
            }
            // The server ends the connection (with a close frame or without).
            let ended = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match ws.next().await {
                        None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return,
                        Some(Ok(_)) => {}
                    }
                }
            })
            .await;
            assert!(
                ended.is_ok(),
                "the connection stayed open after a 15 MiB frame"
            );
        })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.unwrap();
    }
    stop.send(true).unwrap();
    assert!(agent.await.unwrap() > 0);
    assert_memory_held(&s, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_cable_connections_from_one_address_are_refused() {
    let s = ServerProcess::start(&[]);
    s.reset_peak();
    let before = s.peak_rss_kb();
    // The default per-address cap is 64.
    let mut open = vec![];
    for _ in 0..64 {
        let mut ws = cable(&s).await;
        next_of(&mut ws, &["welcome"]).await;
        open.push(ws);
    }
    for _ in 0..20 {
        match cable_with_buffer(&s, None).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                assert_eq!(res.status(), 429)
            }
            Ok(_) => panic!("a connection past the per-address cap was accepted"),
            Err(e) => panic!("refused without an answer: {e}"),
        }
        assert_agent_answered(&s.base_url, &s.agent_token).await;
    }
    // A place freed is a place taken again.
    drop(open.pop());
    let reconnected = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(ws) = cable_with_buffer(&s, None).await {
                return ws;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(reconnected.is_ok(), "the freed place was never given back");
    assert_memory_held(&s, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_connection_caps_refuse_the_excess() {
    let s = ServerProcess::start(&["--cable-max-connections", "5", "--max-connections", "20"]);
    let mut sockets = vec![];
    for _ in 0..5 {
        sockets.push(cable(&s).await);
    }
    // The 5 WebSockets keep 5 of the 20 places; 15 idle connections take the rest (accepted
    // in order), and the next one is closed at once.
    let mut idle = vec![];
    for _ in 0..15 {
        idle.push(TcpStream::connect(s.addr()).await.unwrap());
    }
    let mut refused = TcpStream::connect(s.addr()).await.unwrap();
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(5), refused.read(&mut byte))
        .await
        .expect("a connection past --max-connections is closed at once");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    drop(idle);
    // Places come back as connections close.
    let answered = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Ok(r)) = tokio::time::timeout(
                Duration::from_millis(500),
                http()
                    .get(s.url("/api/v1/profile"))
                    .header("api_access_token", &s.agent_token)
                    .send(),
            )
            .await
            {
                return r.status();
            }
        }
    })
    .await;
    assert_eq!(answered.ok().map(|s| s.as_u16()), Some(200));
    match cable_with_buffer(&s, None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 503),
        Ok(_) => panic!("a cable connection past the total cap was accepted"),
        Err(e) => panic!("refused without an answer: {e}"),
    }
    drop(sockets.pop());
    let reconnected = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(ws) = cable_with_buffer(&s, None).await {
                return ws;
            }
        }
    })
    .await;
    assert!(
        reconnected.is_ok(),
        "the freed cable place was never given back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_http_connections_are_dropped_and_others_are_served() {
    // A short header deadline keeps the test short; the default is 10 s (at most 30).
    let s = ServerProcess::start(&["--header-timeout", "2"]);
    s.reset_peak();
    let before = s.peak_rss_kb();
    let started = Instant::now();
    let mut half_open = Vec::with_capacity(1_500);
    for _ in 0..1_500 {
        let mut c = TcpStream::connect(s.addr()).await.unwrap();
        c.write_all(b"GET /api/v1/profile HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .unwrap();
        half_open.push(c);
    }
    for _ in 0..5 {
        assert_agent_answered(&s.base_url, &s.agent_token).await;
    }
    // Every one of them is closed by the server (EOF or reset), within the deadline and a
    // margin for a loaded machine.
    let closes = half_open.into_iter().map(|mut c| {
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
    });
    let all = futures_util::future::join_all(closes);
    tokio::time::timeout(Duration::from_secs(15), all)
        .await
        .expect("every half-open connection is dropped");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_agent_answered(&s.base_url, &s.agent_token).await;
    assert_memory_held(&s, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_keeps_moving_is_never_cut_and_a_stalled_one_is() {
    let s = ServerProcess::start(&["--header-timeout", "2", "--body-timeout", "2"]);
    let body = json!({"content": "slow but steady", "echo_id": "trickle"}).to_string();
    let head = format!(
        "POST /api/v1/accounts/1/conversations/1/messages HTTP/1.1\r\nHost: {}\r\n\
         api_access_token: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        s.addr(),
        s.agent_token,
        body.len()
    );

    // A byte every 250 ms: 8 s in all, four times the body deadline.
    let mut steady = TcpStream::connect(s.addr()).await.unwrap();
    steady.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut chunks = body.as_bytes().chunks(body.len().div_ceil(32));
    for chunk in chunks.by_ref() {
        steady.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(started.elapsed() > Duration::from_secs(6));
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), steady.read_to_string(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Half the body, then nothing: the request fails and the connection closes.
    let mut stalled = TcpStream::connect(s.addr()).await.unwrap();
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    let mut answer = String::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stalled.read_to_string(&mut answer))
        .await
        .expect("a stalled body ends its request");
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    }
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_agent_answered(&s.base_url, &s.agent_token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_and_the_server_serves_on() {
    let mut s = ServerProcess::start(&["--test-controls"]);
    let http = http();
    for _ in 0..5 {
        let res = http
            .get(s.url("/__parley/test/panic"))
            .send()
            .await
            .expect("a panicking handler still answers");
        assert_eq!(res.status(), 500);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "Internal server error");
        assert_agent_answered(&s.base_url, &s.agent_token).await;
    }
    assert!(s.alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_a_download_is_cut_off_after_the_idle_deadline() {
    let s = ServerProcess::start(&["--idle-timeout", "2"]);
    // 12 MB: more than the kernel buffers between server and client hold.
    const SIZE: usize = 12 << 20;
    let file = reqwest::multipart::Part::bytes(vec![7u8; SIZE])
        .file_name("big.bin")
        .mime_str("application/octet-stream")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("attachments[]", file);
    let created: Value = http()
        .post(s.url("/api/v1/accounts/1/conversations/1/messages"))
        .header("api_access_token", &s.agent_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = created["attachments"][0]["data_url"].as_str().unwrap();
    let path = &url[url.find("/rails/").expect("a blob path")..];

    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut c = socket.connect(s.addr().parse().unwrap()).await.unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr()).as_bytes())
        .await
        .unwrap();
    // The attack: read nothing for longer than the idle deadline.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_agent_answered(&s.base_url, &s.agent_token).await;
    // Then read: what was already on its way, then the end, well short of the file.
    let mut received = 0;
    let mut head = vec![];
    let mut buf = vec![0u8; 64 * 1024];
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if head.len() < 64 {
                        head.extend_from_slice(&buf[..n.min(64)]);
                    }
                    received += n;
                }
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection stayed open");
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        received > 64 * 1024,
        "the download never started ({received} bytes)"
    );
    assert!(
        received < SIZE,
        "the whole {received}-byte answer arrived: the stalled download was never cut"
    );
}
