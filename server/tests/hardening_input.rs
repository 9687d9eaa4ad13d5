//! What a hostile customer (or a careless client) sends the server, over real sockets:
//! body limits before reading, only what Chatwoot accepts, privacy between agents,
//! contacts and senders, and absolute URLs from the configured public URL. Each test
//! asserts the refusal and that an agent is still answered promptly meanwhile; the memory
//! attacks run the real binary and measure its peak RSS.

mod common;

use std::time::Duration;

use common::attack::{assert_agent_answered, http, PROMPT};
use common::process::ServerProcess;
use common::{Cable, TestServer, LONG};
use parley_wire::{ConversationList, MessagesIndex};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MIB: u64 = 1024 * 1024;
/// The most a memory attack may grow the server's peak RSS by.
const MAX_GROWTH_KB: u64 = 64 * 1024;

/// The demo customer's paths, from the binary's `customer url:` line.
fn customer_paths(s: &ServerProcess) -> (String, String) {
    let line = s
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("customer url: "))
        .expect("a customer url line");
    let query = line.split_once('?').unwrap().1;
    let get = |key: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{key}=")))
            .unwrap()
            .to_owned()
    };
    let contact = format!(
        "/public/api/v1/inboxes/{}/contacts/{}",
        get("inbox"),
        get("contact")
    );
    let conv = format!("{contact}/conversations/{}", get("conversation"));
    (contact, conv)
}

/// What an attack connection got: the status (0: none), the body, and how many body bytes
/// the server took before it answered or closed.
struct Outcome {
    status: u16,
    body: String,
    sent: u64,
}

/// Sends `head` (request line and headers, without the blank line) and then `total` body
/// bytes: `prefix`, then `fill` bytes, then `suffix`; as HTTP chunks when `chunked`. The
/// answer is read meanwhile, and sending stops as soon as it arrives. `progress` counts
/// the body bytes written.
async fn attack(
    addr: String,
    head: String,
    prefix: Vec<u8>,
    total: u64,
    suffix: Vec<u8>,
    chunked: bool,
    progress: tokio::sync::watch::Sender<u64>,
) -> Outcome {
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    // Set once the answer's head arrived: the writer stops, or stops waiting for it.
    let (answered, mut answer_seen) = tokio::sync::watch::channel(false);
    let writer = {
        let progress = progress.clone();
        tokio::spawn(async move {
            let framing = if chunked {
                "Transfer-Encoding: chunked\r\n".to_owned()
            } else {
                format!("Content-Length: {total}\r\n")
            };
            let start = format!("{head}\r\n{framing}\r\n");
            if wr.write_all(start.as_bytes()).await.is_err() {
                return;
            }
            const PIECE: u64 = 256 * 1024;
            let filler = vec![b'a'; PIECE as usize];
            let fill = total - prefix.len() as u64 - suffix.len() as u64;
            let fill_pieces = (0..fill.div_ceil(PIECE))
                .map(|i| &filler[..(fill - i * PIECE).min(PIECE) as usize]);
            let pieces = std::iter::once(&prefix[..])
                .chain(fill_pieces)
                .chain(std::iter::once(&suffix[..]));
            let mut written: u64 = 0;
            for piece in pieces {
                if *answer_seen.borrow() {
                    return;
                }
                let mut framed = Vec::with_capacity(piece.len() + 16);
                if chunked {
                    framed.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                }
                framed.extend_from_slice(piece);
                if chunked {
                    framed.extend_from_slice(b"\r\n");
                }
                if wr.write_all(&framed).await.is_err() {
                    return;
                }
                written += piece.len() as u64;
                progress.send_replace(written);
            }
            if chunked {
                let _ = wr.write_all(b"0\r\n\r\n").await;
            }
            // Keep the write half open until the answer came.
            let _ = answer_seen.wait_for(|seen| *seen).await;
        })
    };
    let mut response = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if let Some(end) = find(&response, b"\r\n\r\n") {
                        answered.send_replace(true);
                        let head = String::from_utf8_lossy(&response[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if response.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
            }
        }
    })
    .await;
    answered.send_replace(true);
    assert!(read.is_ok(), "the attack got no answer within 60 s");
    let _ = writer.await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Outcome {
        status,
        body,
        sent: *progress.borrow(),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Runs `attack` and, once it has sent its first bytes, an agent's request.
async fn attack_while_agent_works(
    s: &ServerProcess,
    head: String,
    prefix: Vec<u8>,
    total: u64,
    suffix: Vec<u8>,
    chunked: bool,
) -> Outcome {
    let (progress, mut sent) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(attack(
        s.addr(),
        head,
        prefix,
        total,
        suffix,
        chunked,
        progress,
    ));
    // Until the first 64 kB went out (or the attack ended: the sender is then dropped).
    // (`is_ok` at once: the value `wait_for` returns holds the channel's lock.)
    let started = tokio::time::timeout(Duration::from_secs(10), sent.wait_for(|n| *n >= 64 * 1024))
        .await
        .is_ok();
    assert!(started, "the attack never started sending");
    assert_agent_answered(&s.base_url, &s.agent_token).await;
    task.await.unwrap()
}

fn assert_json_413(o: &Outcome, what: &str) {
    assert_eq!(o.status, 413, "{what}: {}", o.body);
    let body: Value = serde_json::from_str(&o.body)
        .unwrap_or_else(|_| panic!("{what}: a JSON error body, got {:?}", o.body));
    assert!(
        body["error"].as_str().unwrap().contains("too large"),
        "{what}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_of_hundreds_of_mb_is_refused_with_413_before_it_is_buffered() {
    let s = ServerProcess::start(&[]);
    let (_, conv) = customer_paths(&s);
    assert_agent_answered(&s.base_url, &s.agent_token).await;
    s.reset_peak();
    let before = s.peak_rss_kb();
    let agent_head = format!(
        "POST /api/v1/accounts/1/conversations/1/messages HTTP/1.1\r\nHost: {}\r\n\
         api_access_token: {}\r\nContent-Type: application/json",
        s.addr(),
        s.agent_token
    );
    let public_head = format!(
        "POST {conv}/messages HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json",
        s.addr()
    );
    let mut outcomes = vec![];
    for (what, head) in [("agent API", agent_head), ("public API", public_head)] {
        let o = attack_while_agent_works(
            &s,
            head,
            b"{\"content\": \"".to_vec(),
            300 * MIB,
            b"\"}".to_vec(),
            true,
        )
        .await;
        eprintln!("{what}: answered after {} kB of body", o.sent / 1024);
        outcomes.push((what, o));
    }
    let growth = s.peak_rss_kb().saturating_sub(before);
    eprintln!("peak RSS growth during the attack: {growth} kB");
    assert!(
        growth < MAX_GROWTH_KB,
        "peak RSS grew by {growth} kB during the attack"
    );
    for (what, o) in outcomes {
        assert_json_413(&o, what);
        assert!(
            o.sent < 32 * MIB,
            "{what}: refused as the stream passed the limit, not after {} MB",
            o.sent / MIB
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_multipart_text_field_is_refused_with_413_before_it_is_buffered() {
    let s = ServerProcess::start(&[]);
    let (_, conv) = customer_paths(&s);
    assert_agent_answered(&s.base_url, &s.agent_token).await;
    s.reset_peak();
    let before = s.peak_rss_kb();
    let boundary = "XhardeningX";
    let prefix =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n")
            .into_bytes();
    let suffix = format!("\r\n--{boundary}--\r\n").into_bytes();
    let mut outcomes = vec![];
    for path in [
        "/api/v1/accounts/1/conversations/1/messages".to_owned(),
        format!("{conv}/messages"),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\napi_access_token: {}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}",
            s.addr(),
            s.agent_token
        );
        let o = attack_while_agent_works(&s, head, prefix.clone(), 300 * MIB, suffix.clone(), true)
            .await;
        eprintln!("{path}: answered after {} kB of body", o.sent / 1024);
        outcomes.push((path, o));
    }
    let growth = s.peak_rss_kb().saturating_sub(before);
    eprintln!("peak RSS growth during the attack: {growth} kB");
    assert!(
        growth < MAX_GROWTH_KB,
        "peak RSS grew by {growth} kB during the attack"
    );
    for (path, o) in outcomes {
        assert_json_413(&o, &path);
        assert!(o.sent < 32 * MIB, "{path}: {} MB taken", o.sent / MIB);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_refused_from_the_header() {
    let s = ServerProcess::start(&[]);
    let (contact, conv) = customer_paths(&s);
    let json_routes = [
        "/api/v1/accounts/1/conversations/1/messages".to_owned(),
        "/api/v1/accounts/1/conversations/1/messages/1/content".to_owned(),
        "/api/v1/accounts/1/conversations/1/toggle_typing_status".to_owned(),
        "/api/v1/accounts/1/conversations/1/update_last_seen".to_owned(),
        "/auth/sign_in".to_owned(),
        format!("{conv}/messages"),
        format!("{conv}/toggle_typing"),
        format!("{contact}/conversations"),
        contact.rsplit_once("/contacts/").unwrap().0.to_owned() + "/contacts",
    ];
    // Over the JSON limit for JSON, over 15 files of 40 MB for a multipart upload.
    let cases = json_routes
        .iter()
        .map(|p| (p.clone(), "application/json", 2 * MIB))
        .chain([
            (
                "/api/v1/accounts/1/conversations/1/messages".to_owned(),
                "multipart/form-data; boundary=x",
                700 * MIB,
            ),
            (
                format!("{conv}/messages"),
                "multipart/form-data; boundary=x",
                700 * MIB,
            ),
        ]);
    for (path, content_type, declared) in cases {
        let method = if path.ends_with("/content") {
            "PATCH"
        } else {
            "POST"
        };
        let mut stream = TcpStream::connect(s.addr()).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\napi_access_token: {}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {declared}\r\n\r\n",
            s.addr(),
            s.agent_token
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // Not one body byte is sent: the answer must come from the header alone.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let answered = tokio::time::timeout(PROMPT, async {
            loop {
                let n = stream.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = find(&got, b"\r\n\r\n") {
                    if got.len() > end + 4 && got.ends_with(b"}") {
                        break;
                    }
                }
            }
        })
        .await;
        assert!(
            answered.is_ok(),
            "{method} {path}: no answer from the header"
        );
        let text = String::from_utf8_lossy(&got).into_owned();
        let o = Outcome {
            status: text
                .split(' ')
                .nth(1)
                .and_then(|x| x.parse().ok())
                .unwrap_or(0),
            body: text
                .split_once("\r\n\r\n")
                .map(|x| x.1.to_owned())
                .unwrap_or_default(),
            sent: 0,
        };
        assert_json_413(&o, &format!("{method} {path}"));
        assert_agent_answered(&s.base_url, &s.agent_token).await;
    }
}

fn png_bytes(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&4u32.to_be_bytes());
    v.extend_from_slice(&3u32.to_be_bytes());
    v.resize(len, 0);
    v
}

#[tokio::test]
async fn file_parts_keep_their_streamed_limit_and_the_15_file_cap() {
    let s = TestServer::start_with(|c| c.max_file_bytes = 3 * MIB).await;
    let upload = |len: usize, files: usize| {
        let mut form = reqwest::multipart::Form::new().text("content", "files");
        for i in 0..files {
            form = form.part(
                "attachments[]",
                reqwest::multipart::Part::bytes(png_bytes(len))
                    .file_name(format!("f{i}.png"))
                    .mime_str("image/png")
                    .unwrap(),
            );
        }
        s.post("/api/v1/accounts/1/conversations/1/messages")
            .multipart(form)
    };
    // A file part is not a text field: 2 MiB passes the 1 MiB text limit.
    let (st, body) = s.json(upload(2 * MIB as usize, 1)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["attachments"][0]["file_size"], 2 * MIB);
    let (st, body) = s.json(upload(4 * MIB as usize, 1)).await;
    assert_eq!(st, 422);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("File size is too big"));
    let (st, body) = s.json(upload(10, 16)).await;
    assert_eq!(st, 422);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("Attachments exceeded"));
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

/// The newest message of conversation 1, as the agent reads it.
async fn latest(s: &TestServer) -> Value {
    s.messages(1).await.last().cloned().unwrap()
}

#[tokio::test]
async fn the_public_api_takes_only_what_chatwoot_takes() {
    let s = TestServer::start().await;
    let conv = s.public_conv();
    let (_, note) = s
        .agent_send(1, json!({"content": "private note", "private": true}))
        .await;
    let (_, reply) = s.agent_send(1, json!({"content": "a reply"})).await;
    let forged = json!({
        "deleted": true,
        "edited": {"at": 1, "previous": [{"content": "words the agent never wrote", "at": 0}]},
        "items": [{"title": "click", "value": "x"}],
        "in_reply_to": reply["id"],
        "external_error": "forged",
    });
    let (st, m) = s
        .json(
            s.http
                .post(s.url(&format!("{conv}/messages")))
                .json(&json!({
                    "content": "hello",
                    "echo_id": "c-1",
                    "content_type": "input_select",
                    "content_attributes": forged,
                    "private": true,
                    "message_type": "outgoing",
                    "sender_type": "User",
                    "source_id": "forged",
                })),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let expected = json!({"in_reply_to": reply["id"], "in_reply_to_external_id": null});
    for seen in [m.clone(), latest(&s).await] {
        assert_eq!(seen["content"], "hello");
        assert_eq!(seen["content_type"], "text");
        assert_eq!(seen["content_attributes"], expected, "{seen}");
        assert_eq!(seen["message_type"], 0);
        assert_ne!(seen["private"], true);
        assert!(seen["source_id"].is_null());
    }
    // The multipart branch: the same fields as form parts.
    let form = reqwest::multipart::Form::new()
        .text("content", "hello again")
        .text("content_type", "cards")
        .text("content_attributes", forged.to_string())
        .text("private", "true");
    let (st, m) = s
        .json(
            s.http
                .post(s.url(&format!("{conv}/messages")))
                .multipart(form),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let seen = latest(&s).await;
    assert_eq!(seen["id"], m["id"]);
    assert_eq!(seen["content_type"], "text");
    assert_eq!(seen["content_attributes"], expected);
    assert_eq!(seen["private"], false);
    // A reply to what the contact cannot see (a private note), or not an integer: dropped.
    for in_reply_to in [note["id"].clone(), json!("12"), json!({"id": 1})] {
        let (st, m) = s
            .json(
                s.http
                    .post(s.url(&format!("{conv}/messages")))
                    .json(&json!({
                        "content": "quoting",
                        "content_attributes": {"in_reply_to": in_reply_to},
                    })),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(m["content_attributes"], json!({}), "{in_reply_to}");
    }
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

fn nested(levels: usize) -> Value {
    let mut v = json!("leaf");
    for _ in 0..levels {
        v = json!({ "a": v });
    }
    v
}

#[tokio::test]
async fn the_agent_api_validates_content_attributes_like_chatwoot() {
    let s = TestServer::start().await;
    let refused = [
        json!({"content": "deep", "content_attributes": {"data": nested(125)}}),
        json!({"content": "deep", "content_attributes": nested(125).to_string()}),
        json!({"content": "big", "content_attributes": {"data": "x".repeat(70_000)}}),
        json!({"content": "?", "content_type": "html"}),
        json!({"content": "choose", "content_type": "input_select"}),
        json!({"content": "choose", "content_type": "input_select",
               "content_attributes": {"items": [{"title": "A", "onclick": "x"}]}}),
        json!({"content": "cards", "content_type": "cards",
               "content_attributes": {"items": [{"title": "A"}]}}),
        json!({"content": "cards", "content_type": "cards",
               "content_attributes": {"items": [{"title": "A", "actions": [{"js": 1}]}]}}),
    ];
    for body in refused {
        let (st, answer) = s.agent_send(1, body.clone()).await;
        assert_eq!(st, 422, "{body}: {answer}");
        assert!(answer["error"].is_string());
    }
    let form = reqwest::multipart::Form::new()
        .text("content", "deep")
        .text("content_attributes", nested(125).to_string());
    let (st, _) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/messages")
                .multipart(form),
        )
        .await;
    assert_eq!(st, 422);
    // Known keys of the right type are kept, the rest dropped.
    let (st, m) = s
        .agent_send(
            1,
            json!({"content": "choose", "content_type": "input_select", "content_attributes": {
                "items": [{"title": "A", "value": "a"}],
                "edited": {"at": 1, "previous": []},
                "deleted": "not a bool",
                "brand_new": 1,
            }}),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        m["content_attributes"],
        json!({"items": [{"title": "A", "value": "a"}]})
    );
    // Nothing stored breaks the typed decoders of the list and the log.
    let (st, list) = s.json(s.get("/api/v1/accounts/1/conversations")).await;
    assert_eq!(st, 200);
    serde_json::from_value::<ConversationList>(list).expect("the list decodes");
    let (_, idx) = s
        .json(s.get("/api/v1/accounts/1/conversations/1/messages"))
        .await;
    serde_json::from_value::<MessagesIndex>(idx).expect("the log decodes");
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

#[tokio::test]
async fn an_edit_history_reaches_only_agents() {
    let s = TestServer::start().await;
    let mut agent = Cable::agent(&s).await;
    let mut contact = Cable::contact(&s).await;
    let secret = "card 4111 1111 1111 1111";
    let (_, m) = s.agent_send(1, json!({"content": secret})).await;
    let id = m["id"].as_i64().unwrap();
    assert!(contact.event("message.created", LONG).await.is_some());
    assert!(agent.event("message.created", LONG).await.is_some());
    let (st, edited) = s
        .json(
            s.http
                .patch(s.url(&format!(
                    "/api/v1/accounts/1/conversations/1/messages/{id}/content"
                )))
                .header("api_access_token", s.token())
                .json(&json!({"content": "card removed"})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        edited["content_attributes"]["edited"]["previous"][0]["content"], secret,
        "the agent still sees the history"
    );
    let to_agent = agent.event("message.updated", LONG).await.unwrap();
    assert!(to_agent.to_string().contains(secret));
    let to_contact = contact.event("message.updated", LONG).await.unwrap();
    let data = &to_contact["message"]["data"];
    assert_eq!(data["content"], "card removed");
    assert!(data["content_attributes"]["edited"]["at"].is_i64());
    assert!(!to_contact.to_string().contains("4111"), "{to_contact}");
    // A conversation event carries the last message too (typing, to the contact).
    let (st, _) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/toggle_typing_status")
                .json(&json!({"typing_status": "on"})),
        )
        .await;
    assert_eq!(st, 200);
    let typing = contact.event("conversation.typing_on", LONG).await.unwrap();
    assert!(!typing.to_string().contains("4111"), "{typing}");
    // The public API.
    let conv = s.public_conv();
    for path in [format!("{conv}/messages"), conv.clone()] {
        let (st, body) = s.json(s.http.get(s.url(&path))).await;
        assert_eq!(st, 200);
        assert!(body.to_string().contains("card removed"));
        assert!(!body.to_string().contains("4111"), "{path}: {body}");
    }
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

#[tokio::test]
async fn a_contact_sees_no_other_contacts_in_presence() {
    let s = TestServer::start().await;
    let (inbox, _, _) = s.customer();
    // The demo contact is online.
    let mut first = Cable::contact(&s).await;
    assert!(first.event("presence.update", LONG).await.is_some());
    let (st, other) = s
        .json(
            s.http
                .post(s.url(&format!("/public/api/v1/inboxes/{inbox}/contacts")))
                .json(&json!({"name": "Other"})),
        )
        .await;
    assert_eq!(st, 200);
    let id = json!({"channel": "RoomChannel", "pubsub_token": other["pubsub_token"]}).to_string();
    let mut second = Cable::connect(&s).await;
    assert_eq!(second.subscribe(&id).await, "confirm_subscription");
    let presence = second.event("presence.update", LONG).await.unwrap();
    let data = &presence["message"]["data"];
    assert!(
        data["contacts"].as_object().is_none_or(|c| c.is_empty()),
        "a contact is told of other contacts: {data}"
    );
    assert!(
        data["users"].is_object(),
        "agents' presence is still told: {data}"
    );
    // An agent still sees both.
    let mut agent = Cable::agent(&s).await;
    let presence = agent.event("presence.update", LONG).await.unwrap();
    let contacts = presence["message"]["data"]["contacts"].as_object().unwrap();
    assert_eq!(contacts.len(), 2, "{presence}");
    assert!(contacts.contains_key(&other["id"].to_string()));
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

#[tokio::test]
async fn an_echo_id_matches_only_the_same_sender() {
    let s = TestServer::start().await;
    let conv = s.public_conv();
    let (st, note) = s
        .agent_send(
            1,
            json!({"content": "internal: refund approved", "private": true, "echo_id": "shared"}),
        )
        .await;
    assert_eq!(st, 200);
    let res = s
        .http
        .post(s.url(&format!("{conv}/messages")))
        .json(&json!({"content": "hello", "echo_id": "shared"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-parley-idempotent-replay").is_none());
    let mine: Value = res.json().await.unwrap();
    assert_ne!(mine["id"], note["id"]);
    assert_eq!(mine["content"], "hello");
    assert!(!mine.to_string().contains("refund"));
    // The contact's own retry still finds its own message.
    let (_, again) = s
        .json(
            s.http
                .post(s.url(&format!("{conv}/messages")))
                .json(&json!({"content": "hello", "echo_id": "shared"})),
        )
        .await;
    assert_eq!(again["id"], mine["id"]);
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

/// Sends every request but its last byte, then all the last bytes at once, so the server
/// handles them at the same moment; returns each answer's status and JSON body.
async fn all_at_once(addr: &str, requests: Vec<Vec<u8>>) -> Vec<(u16, Value)> {
    let mut streams = vec![];
    for r in &requests {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&r[..r.len() - 1]).await.unwrap();
        streams.push(stream);
    }
    let answers = streams
        .into_iter()
        .zip(requests)
        .map(|(mut stream, r)| async move {
            stream.write_all(&r[r.len() - 1..]).await.unwrap();
            let mut got = Vec::new();
            tokio::time::timeout(LONG, stream.read_to_end(&mut got))
                .await
                .expect("answered")
                .unwrap();
            let text = String::from_utf8_lossy(&got).into_owned();
            let status = text.split(' ').nth(1).unwrap().parse().unwrap();
            let body = text.split_once("\r\n\r\n").unwrap().1;
            (status, serde_json::from_str(body).unwrap_or(Value::Null))
        });
    futures_util::future::join_all(answers).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_retries_store_one_message() {
    let s = ServerProcess::start(&[]);
    let (_, conv) = customer_paths(&s);
    let content = "r".repeat(140_000);
    for round in 0..5 {
        let echo = format!("retry-{round}");
        let body = json!({"content": content, "echo_id": echo}).to_string();
        // The agent's retries and the contact's, interleaved.
        let requests = (0..16)
            .map(|i| {
                let (path, auth) = if i % 2 == 0 {
                    (
                        "/api/v1/accounts/1/conversations/1/messages".to_owned(),
                        format!("api_access_token: {}\r\n", s.agent_token),
                    )
                } else {
                    (format!("{conv}/messages"), String::new())
                };
                format!(
                    "POST {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    s.addr(),
                    body.len()
                )
                .into_bytes()
            })
            .collect();
        let answers = all_at_once(&s.addr(), requests).await;
        let mut ids = std::collections::BTreeSet::new();
        for (st, m) in &answers {
            assert_eq!(*st, 200, "{m}");
            ids.insert(m["id"].as_i64().unwrap());
        }
        let stored: MessagesIndex = http()
            .get(s.url("/api/v1/accounts/1/conversations/1/messages"))
            .header("api_access_token", &s.agent_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let with_echo = stored
            .payload
            .iter()
            .filter(|m| m.echo_id.as_deref() == Some(echo.as_str()))
            .count();
        assert_eq!(with_echo, 2, "round {round}: one message per sender stored");
        assert_eq!(
            ids.len(),
            2,
            "round {round}: one message per sender, got {ids:?}"
        );
    }
    assert_agent_answered(&s.base_url, &s.agent_token).await;
}

#[tokio::test]
async fn a_database_with_repeated_echo_ids_gets_the_unique_index() {
    let s = TestServer::start().await;
    let (_, m) = s
        .agent_send(1, json!({"content": "first", "echo_id": "dup"}))
        .await;
    let TestServer { server, dir, http } = s;
    server.shutdown().await;
    // As an older server left it (schema version 2): no unique index, the echo_id stored twice.
    {
        let db = rusqlite::Connection::open(dir.path().join("parley.sqlite3")).unwrap();
        db.execute_batch(
            "PRAGMA user_version = 2;
             DROP INDEX messages_echo_id_unique;
             CREATE INDEX messages_by_echo_id ON messages (conversation_id, echo_id);
             INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content,
               sender_type, sender_id, echo_id, created_at, updated_at)
             SELECT account_id, inbox_id, conversation_id, message_type, 'second', sender_type,
               sender_id, echo_id, created_at + 1, updated_at + 1 FROM messages WHERE echo_id = 'dup';",
        )
        .unwrap();
    }
    let server = parley_server::start(parley_server::config::Config::for_tests(dir.path()))
        .await
        .expect("the server starts on the old database");
    let s = TestServer { server, dir, http };
    let (st, again) = s
        .agent_send(1, json!({"content": "first", "echo_id": "dup"}))
        .await;
    assert_eq!(st, 200);
    assert_eq!(again["id"], m["id"], "the first message keeps its echo_id");
    {
        let db = rusqlite::Connection::open(s.dir.path().join("parley.sqlite3")).unwrap();
        let unique: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'messages_echo_id_unique'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(unique, 1);
        let dup = db.execute(
            "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content,
               sender_type, sender_id, echo_id, created_at, updated_at)
             SELECT account_id, inbox_id, conversation_id, message_type, 'third', sender_type,
               sender_id, echo_id, created_at, updated_at FROM messages WHERE id = ?1",
            [m["id"].as_i64().unwrap()],
        );
        assert!(dup.is_err(), "the index refuses a second row");
    }
    assert_agent_answered(&s.server.base_url, s.token()).await;
}

/// A customer's upload, sent with a forged `Host` and `X-Forwarded-*`.
async fn forged_upload(base_url: &str, conv: &str) -> Value {
    let form = reqwest::multipart::Form::new().part(
        "attachments[]",
        reqwest::multipart::Part::bytes(png_bytes(64))
            .file_name("pic.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let res = http()
        .post(format!("{base_url}{conv}/messages"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_urls_come_from_the_public_url_never_the_request() {
    for public in [None, Some("https://chat.example.com/")] {
        let flags: Vec<&str> = public.iter().flat_map(|p| ["--public-url", p]).collect();
        let s = ServerProcess::start(&flags);
        let (_, conv) = customer_paths(&s);
        let expected = public
            .map(|p| p.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| s.base_url.clone());
        let m = forged_upload(&s.base_url, &conv).await;
        let idx: Value = http()
            .get(s.url("/api/v1/accounts/1/conversations/1/messages"))
            .header("api_access_token", &s.agent_token)
            .header("Host", "evil.example")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let stored = idx["payload"].as_array().unwrap().last().unwrap().clone();
        for seen in [&m, &stored] {
            let url = seen["attachments"][0]["data_url"].as_str().unwrap();
            assert!(
                url.starts_with(&format!("{expected}/rails/active_storage/")),
                "{url} should start with {expected}"
            );
            assert!(!seen.to_string().contains("evil.example"));
        }
        assert_agent_answered(&s.base_url, &s.agent_token).await;
    }
    // A public URL that is not an origin is refused at start, with the reason.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--port", "0", "--public-url", "javascript:alert(1)"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--public-url"));
}
