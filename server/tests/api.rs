//! The agent REST API, the public API, files, extensions and faults over real HTTP.

mod common;

use common::TestServer;
use parley_wire::{
    CannedResponse, Conversation, ConversationList, FileType, Message, MessagesIndex, Profile,
    SignInResponse,
};
use serde_json::{json, Value};

#[tokio::test]
async fn startup_lines_follow_the_contract() {
    let s = TestServer::start().await;
    let lines = &s.server.startup_lines;
    let prefixes = [
        "agent email: agent@parley.test",
        "agent password: parley-demo",
        "agent token: ",
        "agent url: ",
        "customer url: ",
        "listening on http://127.0.0.1:",
    ];
    assert_eq!(lines.len(), prefixes.len());
    for (line, prefix) in lines.iter().zip(prefixes) {
        assert!(
            line.starts_with(prefix),
            "{line:?} should start with {prefix:?}"
        );
    }
    assert!(lines[3].ends_with("/app/accounts/1/conversations/1"));
    assert!(lines[4].contains("/customer/?inbox=") && lines[4].contains("&conversation=1"));
    assert_eq!(lines[5], format!("listening on {}", s.server.base_url));
}

#[tokio::test]
async fn auth_without_with_wrong_and_with_both_header_spellings() {
    let s = TestServer::start().await;
    let (st, body) = s.json(s.http.get(s.url("/api/v1/profile"))).await;
    assert_eq!(st, 401);
    assert_eq!(
        body,
        json!({"errors": ["You need to sign in or sign up before continuing."]})
    );
    let (st, body) = s
        .json(
            s.http
                .get(s.url("/api/v1/profile"))
                .header("api_access_token", "nope"),
        )
        .await;
    assert_eq!((st, body), (401, json!({"error": "Invalid Access Token"})));
    for name in ["api_access_token", "api-access-token"] {
        let (st, body) = s
            .json(s.http.get(s.url("/api/v1/profile")).header(name, s.token()))
            .await;
        assert_eq!(st, 200, "{name}");
        let p: Profile = serde_json::from_value(body).unwrap();
        assert_eq!(p.email, "agent@parley.test");
        assert_eq!(p.access_token, s.token());
        assert_eq!(p.accounts[0].id, 1);
    }
}

#[tokio::test]
async fn sign_in_gives_devise_headers_that_authenticate() {
    let s = TestServer::start().await;
    let res = s
        .http
        .post(s.url("/auth/sign_in"))
        .json(&json!({"email": "agent@parley.test", "password": "parley-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let body: SignInResponse = res.json().await.unwrap();
    // Each sign-in gets a token of its own (the server keeps only digests, so it cannot
    // hand out the configured one), and it works as an api_access_token too.
    assert!(body.data.access_token.len() >= 24);
    assert_eq!(h["access-token"], body.data.access_token.as_str());
    let (st, p) = s
        .json(
            s.http
                .get(s.url("/api/v1/profile"))
                .header("api_access_token", &body.data.access_token),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(p["id"], 1);
    assert_eq!(h["uid"], "agent@parley.test");
    assert!(h.contains_key("expiry"));
    let (st, p) = s
        .json(
            s.http
                .get(s.url("/api/v1/profile"))
                .header("access-token", h["access-token"].clone())
                .header("client", h["client"].clone())
                .header("uid", h["uid"].clone()),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(p["id"], 1);
    // A wrong devise token is the same as none.
    let (st, _) = s
        .json(
            s.http
                .get(s.url("/api/v1/profile"))
                .header("access-token", "wrong")
                .header("client", h["client"].clone())
                .header("uid", h["uid"].clone()),
        )
        .await;
    assert_eq!(st, 401);

    let (st, body) = s
        .json(
            s.http
                .post(s.url("/auth/sign_in"))
                .json(&json!({"email": "agent@parley.test", "password": "wrong"})),
        )
        .await;
    assert_eq!(st, 401);
    assert_eq!(
        body,
        json!({"success": false, "errors": ["Invalid login credentials. Please try again."]})
    );
}

async fn token_of(s: &TestServer, email: &str) -> String {
    let (_, body) = s
        .json(
            s.http
                .post(s.url("/auth/sign_in"))
                .json(&json!({"email": email, "password": "parley-demo"})),
        )
        .await;
    body["data"]["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_agent_never_sees_another_account() {
    let s = TestServer::start().await;
    let (st, body) = s.json(s.get("/api/v1/accounts/2/conversations")).await;
    assert_eq!(
        (st, body),
        (
            401,
            json!({"error": "You are not authorized to do this action"})
        )
    );
    let (st, _) = s
        .json(s.get("/api/v1/accounts/2/conversations/1/messages"))
        .await;
    assert_eq!(st, 401);
    let (st, body) = s.json(s.get("/api/v1/accounts/99/conversations")).await;
    assert_eq!(
        (st, body),
        (404, json!({"error": "Resource could not be found"}))
    );
    let (st, body) = s.json(s.get("/api/v1/accounts/1/conversations/999")).await;
    assert_eq!(
        (st, body),
        (404, json!({"error": "Resource could not be found"}))
    );

    let sam = token_of(&s, "sam@parley.test").await;
    let (st, _) = s
        .json(
            s.http
                .get(s.url("/api/v1/accounts/1/conversations/1"))
                .header("api_access_token", &sam),
        )
        .await;
    assert_eq!(st, 401);
    let (st, body) = s
        .json(
            s.http
                .get(s.url("/api/v1/accounts/2/conversations/1"))
                .header("api_access_token", &sam),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(body["meta"]["sender"]["name"], "Nina Patel");
}

#[tokio::test]
async fn responses_decode_with_the_wire_types() {
    let s = TestServer::start().await;
    let (_, list) = s.json(s.get("/api/v1/accounts/1/conversations")).await;
    let list: ConversationList = serde_json::from_value(list).unwrap();
    assert_eq!(list.data.meta.all_count, 3, "three open conversations");
    assert_eq!(list.data.payload[0].id, 1, "most recent activity first");
    let (_, meta) = s.json(s.get("/api/v1/accounts/1/conversations/meta")).await;
    assert_eq!(meta["meta"]["all_count"], 3);
    assert_eq!(meta["meta"]["mine_count"], 2);

    let (_, conv) = s.json(s.get("/api/v1/accounts/1/conversations/1")).await;
    let conv: Conversation = serde_json::from_value(conv).unwrap();
    assert_eq!(conv.meta.sender.name.as_deref(), Some("Maya Chen"));
    assert_eq!(conv.unread_count, 1);
    assert_eq!(conv.messages.len(), 1);

    let (_, idx) = s
        .json(s.get("/api/v1/accounts/1/conversations/1/messages"))
        .await;
    let idx: MessagesIndex = serde_json::from_value(idx).unwrap();
    assert!(idx.payload.len() >= 10);
    assert!(idx.payload.iter().any(|m| m.private), "a private note");
    assert!(idx
        .payload
        .iter()
        .any(|m| m.message_type == parley_wire::MessageType::Activity));
    let image = idx
        .payload
        .iter()
        .flat_map(|m| m.attachments())
        .find(|a| a.file_type == FileType::Image)
        .expect("an image");
    assert_eq!((image.width, image.height), (Some(320), Some(200)));
    assert!(idx
        .payload
        .iter()
        .flat_map(|m| m.attachments())
        .any(|a| a.file_type == FileType::File && a.extension.as_deref() == Some("pdf")));
    assert!(idx.payload.iter().all(|m| m.echo_id.is_none()));
    let times: Vec<i64> = idx.payload.iter().map(|m| m.created_at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "ascending");

    let (_, canned) = s.json(s.get("/api/v1/accounts/1/canned_responses")).await;
    let canned: Vec<CannedResponse> = serde_json::from_value(canned).unwrap();
    assert!(canned.len() >= 5);
    assert!(canned
        .iter()
        .any(|c| c.content.contains("{{contact.name}}")));
}

#[tokio::test]
async fn canned_search_ranks_short_code_prefix_first() {
    let s = TestServer::start().await;
    let (_, found) = s
        .json(s.get("/api/v1/accounts/1/canned_responses?search=ship"))
        .await;
    let codes: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["short_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes[0], "shipping");
    let (_, found) = s
        .json(s.get("/api/v1/accounts/1/canned_responses?search=PATIENCE"))
        .await;
    assert_eq!(
        found.as_array().unwrap().len(),
        1,
        "case-insensitive, content match"
    );
    let (_, none) = s
        .json(s.get("/api/v1/accounts/1/canned_responses?search=%25"))
        .await;
    assert_eq!(none, json!([]), "% is literal");
}

#[tokio::test]
async fn paging_uses_ids_as_cursors() {
    let s = TestServer::start().await;
    // Conversation 2 has 3 seeded messages; add 45 more.
    for i in 0..45 {
        let (st, _) = s.agent_send(2, json!({"content": format!("m{i}")})).await;
        assert_eq!(st, 200);
    }
    let page = |q: &'static str| {
        let s = &s;
        async move {
            let (st, v) = s
                .json(s.get(&format!("/api/v1/accounts/1/conversations/2/messages{q}")))
                .await;
            assert_eq!(st, 200);
            let idx: MessagesIndex = serde_json::from_value(v).unwrap();
            idx.payload.iter().map(|m| m.id).collect::<Vec<i64>>()
        }
    };
    let newest = page("").await;
    assert_eq!(newest.len(), 20);
    assert!(newest.windows(2).all(|w| w[0] < w[1]));
    let all: Vec<i64> = {
        let (_, v) = s
            .json(s.get("/api/v1/accounts/1/conversations/2/messages?after=0"))
            .await;
        v["payload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(all.len(), 48);
    assert_eq!(&all[28..], &newest[..]);

    let (_, v) = s
        .json(s.get(&format!(
            "/api/v1/accounts/1/conversations/2/messages?before={}",
            newest[0]
        )))
        .await;
    let before: Vec<i64> = v["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(before, all[8..28].to_vec());

    let (_, v) = s
        .json(s.get(&format!(
            "/api/v1/accounts/1/conversations/2/messages?after={}",
            all[40]
        )))
        .await;
    assert_eq!(v["payload"].as_array().unwrap().len(), 7);

    let (_, v) = s
        .json(s.get(&format!(
            "/api/v1/accounts/1/conversations/2/messages?after={}&before={}",
            all[5], all[15]
        )))
        .await;
    let between: Vec<i64> = v["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        between,
        all[5..15].to_vec(),
        "after is inclusive, before exclusive"
    );
}

#[tokio::test]
async fn create_returns_echo_id_and_repeats_are_idempotent() {
    let s = TestServer::start().await;
    let body = json!({"content": "Hello **there**", "private": false, "echo_id": "e-1",
        "content_attributes": {"in_reply_to": 1}, "cc_emails": "", "bcc_emails": "", "to_emails": ""});
    let (st, first) = s.agent_send(1, body.clone()).await;
    assert_eq!(st, 200);
    let m: Message = serde_json::from_value(first.clone()).unwrap();
    assert_eq!(m.echo_id.as_deref(), Some("e-1"));
    assert_eq!(m.in_reply_to(), Some(1));
    assert!(first["content_attributes"]
        .as_object()
        .unwrap()
        .contains_key("in_reply_to_external_id"));
    assert_eq!(m.message_type, parley_wire::MessageType::Outgoing);
    let (st, again) = s.agent_send(1, body).await;
    assert_eq!(st, 200);
    assert_eq!(again, first, "the same message, not a second one");
    let listed: Vec<Value> = s
        .messages(1)
        .await
        .into_iter()
        .filter(|m| m["content"] == "Hello **there**")
        .collect();
    assert_eq!(listed.len(), 1);
    // The index names the echo_id (an extension beside idempotency), so a client whose
    // answer was lost matches its pending message exactly.
    assert_eq!(listed[0]["echo_id"], "e-1");
}

#[tokio::test]
async fn without_idempotency_a_repeat_creates_a_second_message() {
    let s = TestServer::start_with(|c| c.idempotency = false).await;
    let (st_a, a) = s
        .agent_send(1, json!({"content": "twice", "echo_id": "same"}))
        .await;
    let (st_b, b) = s
        .agent_send(1, json!({"content": "twice", "echo_id": "same"}))
        .await;
    assert_eq!((st_a, st_b), (200, 200), "{a} {b}");
    assert!(a["id"].is_i64() && b["id"].is_i64(), "{a} {b}");
    assert_ne!(a["id"], b["id"]);
    // Like a real Chatwoot: echo_id only in the create response, never in the index. Both
    // copies must be listed, so the check below looks at them and cannot pass on an empty page.
    let listed = s.messages(1).await;
    let twice: Vec<&Value> = listed.iter().filter(|m| m["content"] == "twice").collect();
    assert_eq!(
        twice.iter().map(|m| &m["id"]).collect::<Vec<_>>(),
        [&a["id"], &b["id"]],
        "{listed:?}"
    );
    assert!(
        listed.iter().all(|m| m.get("echo_id").is_none()),
        "{listed:?}"
    );
    let (_, caps) = s.json(s.get("/api/v1/parley/capabilities")).await;
    assert_eq!(
        caps,
        json!({"parley": {"version": "0.1.0", "echo_id_idempotency": false, "message_edit": true}})
    );
}

#[tokio::test]
async fn content_limits_and_blank_messages() {
    let s = TestServer::start().await;
    let (st, body) = s
        .agent_send(1, json!({"content": "a".repeat(150_001)}))
        .await;
    assert_eq!(st, 422);
    assert_eq!(
        body,
        json!({"error": "Validation failed: Content is too long (maximum is 150000 characters)"})
    );
    let (st, _) = s
        .agent_send(1, json!({"content": "é".repeat(150_000)}))
        .await;
    assert_eq!(st, 200, "the limit counts characters, not bytes");
    let (st, body) = s.agent_send(1, json!({"content": "  "})).await;
    assert_eq!(st, 422);
    assert!(body["error"].as_str().unwrap().contains("blank"));
}

fn png_bytes() -> Vec<u8> {
    // A 2x3 PNG header is enough for the server's size sniffing.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(&3u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png
}

fn part(bytes: Vec<u8>, name: &str, mime: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .unwrap()
}

#[tokio::test]
async fn multipart_uploads_are_stored_and_served_inert() {
    let s = TestServer::start().await;
    let form = reqwest::multipart::Form::new()
        .text("content", "Files attached")
        .part("attachments[]", part(png_bytes(), "photo.png", "image/png"))
        .part(
            "attachments[]",
            part(
                b"<svg onload=alert(1)></svg>".to_vec(),
                "x.svg",
                "image/svg+xml",
            ),
        )
        .part(
            "attachments[]",
            part(b"<script>alert(1)</script>".to_vec(), "x.html", "text/html"),
        )
        .part(
            "attachments[]",
            part(vec![1, 2, 3], "note.ogg", "audio/ogg"),
        )
        .text("private", "false")
        .text("echo_id", "mp-1")
        .text("cc_emails", "")
        .text("bcc_emails", "")
        .text("content_attributes", r#"{"in_reply_to":2}"#);
    let (st, body) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/messages")
                .multipart(form),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let m: Message = serde_json::from_value(body).unwrap();
    assert_eq!(m.echo_id.as_deref(), Some("mp-1"));
    assert_eq!(m.in_reply_to(), Some(2));
    let atts = m.attachments();
    assert_eq!(atts.len(), 4);
    let kinds: Vec<FileType> = atts.iter().map(|a| a.file_type).collect();
    assert_eq!(
        kinds,
        vec![
            FileType::Image,
            FileType::File,
            FileType::File,
            FileType::Audio
        ]
    );
    assert_eq!((atts[0].width, atts[0].height), (Some(2), Some(3)));
    assert_eq!(atts[0].file_size, Some(png_bytes().len() as i64));
    assert_eq!(atts[3].transcribed_text.as_deref(), Some(""));
    let files = std::fs::read_dir(s.dir.path().join("uploads"))
        .unwrap()
        .count();
    assert!(files >= 4);

    let fetch = |url: &str| {
        let url = url.to_owned();
        let http = s.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    let png = fetch(atts[0].data_url.as_deref().unwrap()).await;
    assert!(atts[0].data_url.as_deref().unwrap().starts_with(&format!(
        "{}/rails/active_storage/blobs/redirect/",
        s.server.base_url
    )));
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(png.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        png.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert!(png.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(png.bytes().await.unwrap().to_vec(), png_bytes());
    for a in &atts[1..3] {
        let r = fetch(a.data_url.as_deref().unwrap()).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        assert_eq!(
            r.headers()["content-security-policy"],
            "sandbox; default-src 'none'"
        );
    }
    // Range requests work (audio and video seeking).
    let r = s
        .http
        .get(atts[3].data_url.as_deref().unwrap())
        .header("range", "bytes=1-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().to_vec(), vec![2, 3]);
}

#[tokio::test]
async fn attachment_count_and_size_limits() {
    let s = TestServer::start_with(|c| c.max_file_bytes = 1024 * 1024).await;
    let mut form = reqwest::multipart::Form::new().text("content", "too many");
    for i in 0..16 {
        form = form.part(
            "attachments[]",
            part(vec![b'x'; 10], &format!("f{i}.txt"), "text/plain"),
        );
    }
    let (st, body) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/messages")
                .multipart(form),
        )
        .await;
    assert_eq!(st, 422);
    assert_eq!(
        body,
        json!({"error": "Validation failed: Attachments exceeded maximum allowed"})
    );
    let form = reqwest::multipart::Form::new().part(
        "attachments[]",
        part(
            vec![0u8; 1024 * 1024 + 1],
            "big.bin",
            "application/octet-stream",
        ),
    );
    let (st, body) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/messages")
                .multipart(form),
        )
        .await;
    assert_eq!(st, 422);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("File size is too big"));
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".part") || n.len() == 32)
        .collect();
    // Only the two seeded demo files remain: refused uploads leave nothing behind.
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
}

/// A client that cancels an upload closes the connection mid-body: no message may come
/// of it, and the part written so far is removed.
#[tokio::test]
async fn an_upload_cut_short_creates_no_message_and_leaves_no_file() {
    use tokio::io::AsyncWriteExt;
    let s = TestServer::start().await;
    let before = s
        .json(s.get("/api/v1/accounts/1/conversations/1/messages"))
        .await
        .1["payload"]
        .as_array()
        .unwrap()
        .len();
    let boundary = "parleyboundary";
    let head_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\ncut short\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    // Announce 1 MB of file, send 256 KB of it, then hang up.
    let announced = head_part.len() + 1024 * 1024 + format!("\r\n--{boundary}--\r\n").len();
    let addr = s.server.base_url.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /api/v1/accounts/1/conversations/1/messages HTTP/1.1\r\nHost: {addr}\r\n\
         api_access_token: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {announced}\r\n\r\n{head_part}",
        s.token()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp.write_all(&vec![7u8; 256 * 1024]).await.unwrap();
    tcp.flush().await.unwrap();
    let uploads = s.dir.path().join("uploads");
    let partials = || -> Vec<String> {
        std::fs::read_dir(&uploads)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".part"))
            .collect()
    };
    // While the body comes in, the file part is streamed to disk.
    let mut streaming = false;
    for _ in 0..100 {
        if !partials().is_empty() {
            streaming = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(streaming, "the part is written to disk as it arrives");
    // Hang up: the server sees a body error and cleans up.
    drop(tcp);
    for _ in 0..100 {
        if partials().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let partials = partials();
    assert!(partials.is_empty(), "partial files left: {partials:?}");
    let after = s
        .json(s.get("/api/v1/accounts/1/conversations/1/messages"))
        .await
        .1["payload"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before, "no message from a truncated body");
}

#[tokio::test]
async fn soft_delete_is_chatwoots() {
    let s = TestServer::start().await;
    let form = reqwest::multipart::Form::new()
        .text("content", "with a file")
        .part("attachments[]", part(png_bytes(), "p.png", "image/png"))
        .text("content_attributes", r#"{"in_reply_to":1}"#);
    let (_, created) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/messages")
                .multipart(form),
        )
        .await;
    let url = created["attachments"][0]["data_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = created["id"].as_i64().unwrap();
    let (st, deleted) = s
        .json(
            s.http
                .delete(s.url(&format!("/api/v1/accounts/1/conversations/1/messages/{id}")))
                .header("api_access_token", s.token()),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(deleted["content"], "This message was deleted");
    assert_eq!(deleted["content_attributes"], json!({"deleted": true}));
    assert_eq!(deleted["content_type"], "text");
    assert!(deleted.get("attachments").is_none());
    assert!(deleted.get("echo_id").is_none());
    let _: Message = serde_json::from_value(deleted).unwrap();
    assert_eq!(s.http.get(url).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn edit_extension_only_for_the_author() {
    let s = TestServer::start().await;
    let (_, m) = s.agent_send(1, json!({"content": "first"})).await;
    let id = m["id"].as_i64().unwrap();
    let path = format!("/api/v1/accounts/1/conversations/1/messages/{id}/content");
    let (st, edited) = s
        .json(
            s.http
                .patch(s.url(&path))
                .header("api_access_token", s.token())
                .json(&json!({"content": "second"})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(edited["content"], "second");
    let previous = &edited["content_attributes"]["edited"]["previous"];
    assert_eq!(previous[0]["content"], "first");
    assert!(edited["content_attributes"]["edited"]["at"].is_i64());

    let jordan = token_of(&s, "jordan@parley.test").await;
    let (st, body) = s
        .json(
            s.http
                .patch(s.url(&path))
                .header("api_access_token", &jordan)
                .json(&json!({"content": "hijack"})),
        )
        .await;
    assert_eq!(
        (st, body),
        (
            403,
            json!({"error": "Only the author can edit this message"})
        )
    );
    let deleted = s
        .http
        .delete(s.url(&format!("/api/v1/accounts/1/conversations/1/messages/{id}")))
        .header("api_access_token", s.token())
        .send()
        .await
        .unwrap();
    // The 422 below is for a deleted message: the delete must have happened.
    assert_eq!(deleted.status(), 200);
    let (st, _) = s
        .json(
            s.http
                .patch(s.url(&path))
                .header("api_access_token", s.token())
                .json(&json!({"content": "after delete"})),
        )
        .await;
    assert_eq!(st, 422);
}

#[tokio::test]
async fn injected_faults_fail_then_recover_and_drop_after_storing() {
    let s = TestServer::start().await;
    let (st, state) = s
        .json(
            s.http
                .post(s.url("/__parley/test/faults"))
                .json(&json!({"fail_next_posts": 1})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(state["fail_next_posts"], 1);
    let (st, body) = s
        .agent_send(1, json!({"content": "a", "echo_id": "f1"}))
        .await;
    assert_eq!(st, 500);
    assert!(body["error"].is_string());
    let (st, _) = s
        .agent_send(1, json!({"content": "a", "echo_id": "f1"}))
        .await;
    assert_eq!(st, 200, "recovers");

    s.http
        .post(s.url("/__parley/test/faults"))
        .json(&json!({"drop_next_responses": 1}))
        .send()
        .await
        .unwrap();
    let res = s
        .post("/api/v1/accounts/1/conversations/1/messages")
        .json(&json!({"content": "dropped but stored", "echo_id": "d1"}))
        .send()
        .await;
    assert!(res.is_err(), "no response: {res:?}");
    assert!(s
        .messages(1)
        .await
        .iter()
        .any(|m| m["content"] == "dropped but stored"));
    // The retry with the same echo_id is answered with the stored message.
    let (st, again) = s
        .agent_send(1, json!({"content": "dropped but stored", "echo_id": "d1"}))
        .await;
    assert_eq!(st, 200);
    assert_eq!(again["echo_id"], "d1");
    let (_, state) = s.json(s.http.get(s.url("/__parley/test/faults"))).await;
    assert_eq!(state["drop_next_responses"], 0);
}

#[tokio::test]
async fn faults_are_absent_without_test_controls() {
    let s = TestServer::start_with(|c| c.test_controls = false).await;
    let r = s
        .http
        .post(s.url("/__parley/test/faults"))
        .json(&json!({"fail_next_posts": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = s
        .http
        .get(s.url("/__parley/test/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Nothing was armed: the next send is stored and answered as usual.
    let (st, m) = s
        .agent_send(1, json!({"content": "no faults here", "echo_id": "nf-1"}))
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["content"], "no faults here");
    assert!(s.messages(1).await.iter().any(|x| x["id"] == m["id"]));
}

#[tokio::test]
async fn a_long_conversation_pages_like_chatwoot() {
    let s = TestServer::start().await;
    let (st, made) = s
        .json(
            s.post("/__parley/test/long_conversation")
                .json(&json!({"account_id": 1, "like_conversation_id": 1, "count": 250})),
        )
        .await;
    assert_eq!(st, 200, "{made}");
    let conv = made["conversation_id"].as_i64().unwrap();
    let (first, last) = (
        made["first_message_id"].as_i64().unwrap(),
        made["last_message_id"].as_i64().unwrap(),
    );
    assert_eq!(last - first, 249);

    // Newest page, then `before=` pages down to the first message: ascending, no gap, no
    // repeat, ids and times growing together.
    let base = format!("/api/v1/accounts/1/conversations/{conv}/messages");
    let (_, page) = s.json(s.get(&base)).await;
    let mut ids: Vec<i64> = page["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);
    while ids[0] > first {
        let (_, older) = s.json(s.get(&format!("{base}?before={}", ids[0]))).await;
        let older = older["payload"].as_array().unwrap().clone();
        assert!(!older.is_empty(), "stuck before {}", ids[0]);
        let times: Vec<i64> = older
            .iter()
            .map(|m| m["created_at"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "ascending times");
        let mut all: Vec<i64> = older.iter().map(|m| m["id"].as_i64().unwrap()).collect();
        all.extend(ids);
        ids = all;
    }
    assert_eq!(ids, (first..=last).collect::<Vec<_>>());

    // Every 25th message carries an image that is served.
    let (_, page) = s.json(s.get(&format!("{base}?after={}", first + 20))).await;
    let with_image: Vec<&Value> = page["payload"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["attachments"].is_array())
        .collect();
    assert!(!with_image.is_empty());
    let url = with_image[0]["attachments"][0]["data_url"]
        .as_str()
        .unwrap();
    let r = s.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");

    // The agent has read all but the last few, so the conversation is unread.
    let (_, c) = s
        .json(s.get(&format!("/api/v1/accounts/1/conversations/{conv}")))
        .await;
    assert!(c["unread_count"].as_i64().unwrap() > 0, "{c}");
}

#[tokio::test]
async fn data_survives_a_restart() {
    let s = TestServer::start().await;
    let (_, m) = s.agent_send(1, json!({"content": "remember me"})).await;
    let token = s.token().to_owned();
    let TestServer { server, dir, http } = s;
    server.shutdown().await;
    let mut config = parley_server::config::Config::for_tests(dir.path());
    config.demo = true;
    let server = parley_server::start(config).await.unwrap();
    // Only the token's digest is stored, so a demo start without --agent-token gives the
    // page a new token, and the old one ends.
    assert_ne!(server.agent_token, token, "a new demo token");
    let s = TestServer { server, dir, http };
    let (st, _) = s
        .json(
            s.http
                .get(s.url("/api/v1/profile"))
                .header("api_access_token", &token),
        )
        .await;
    assert_eq!(st, 401, "the previous demo token ended");
    let (_, idx) = s
        .json(s.get("/api/v1/accounts/1/conversations/1/messages"))
        .await;
    assert!(idx["payload"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == m["id"] && x["content"] == "remember me"));
    // --agent-token replaces the stored token.
    let TestServer { server, dir, http } = s;
    server.shutdown().await;
    let mut config = parley_server::config::Config::for_tests(dir.path());
    config.agent_token = Some("fixed-token-0123456789abcdef".into());
    let server = parley_server::start(config).await.unwrap();
    assert_eq!(server.agent_token, "fixed-token-0123456789abcdef");
    let s = TestServer { server, dir, http };
    assert_eq!(
        s.profile().await["access_token"],
        "fixed-token-0123456789abcdef"
    );
    // It stays valid across a restart without the flag.
    let TestServer { server, dir, http } = s;
    server.shutdown().await;
    let mut config = parley_server::config::Config::for_tests(dir.path());
    config.demo = false;
    let server = parley_server::start(config).await.unwrap();
    let s = TestServer { server, dir, http };
    let (st, _) = s
        .json(
            s.http
                .get(s.url("/api/v1/profile"))
                .header("api_access_token", "fixed-token-0123456789abcdef"),
        )
        .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn update_last_seen_clears_unread_and_returns_the_conversation() {
    let s = TestServer::start().await;
    let (st, conv) = s
        .json(s.post("/api/v1/accounts/1/conversations/1/update_last_seen"))
        .await;
    assert_eq!(st, 200);
    let conv: Conversation = serde_json::from_value(conv).unwrap();
    assert_eq!(conv.unread_count, 0);
    assert!(conv.agent_last_seen_at > 0);
    let (st, body) = s
        .json(
            s.post("/api/v1/accounts/1/conversations/1/toggle_typing_status")
                .json(&json!({"typing_status": "on"})),
        )
        .await;
    assert_eq!((st, body), (200, Value::Null));
}

#[tokio::test]
async fn unknown_api_paths_are_json_404() {
    let s = TestServer::start().await;
    let (st, body) = s.json(s.get("/api/v1/nothing/here")).await;
    assert_eq!(
        (st, body),
        (404, json!({"error": "Resource could not be found"}))
    );
}

#[tokio::test]
async fn app_page_gets_the_config_block_and_a_csp() {
    let dist = tempfile::tempdir().unwrap();
    let s_missing = TestServer::start().await;
    let r = s_missing
        .http
        .get(s_missing.url("/app/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);

    std::fs::write(
        dist.path().join("index.html"),
        "<html><head><title>Parley</title><script type=\"module\">import init from '/p.js'; init();</script></head><body></body></html>",
    )
    .unwrap();
    std::fs::write(
        dist.path().join("p.js"),
        "export default function init() {}",
    )
    .unwrap();
    let dist_path = dist.path().to_owned();
    let s = TestServer::start_with(move |c| c.dist = dist_path).await;
    let r = s
        .http
        .get(s.url("/app/accounts/1/conversations/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("'sha256-"));
    assert!(
        !csp.contains("'unsafe-inline' 'sha") && !csp.contains("script-src 'self' 'unsafe-inline'")
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().await.unwrap();
    let start = html
        .find(r#"<script id="parley-config" type="application/json">"#)
        .unwrap();
    assert!(start < html.find("</head>").unwrap());
    let json_start = start + r#"<script id="parley-config" type="application/json">"#.len();
    let json_end = json_start + html[json_start..].find("</script>").unwrap();
    let cfg: Value = serde_json::from_str(&html[json_start..json_end]).unwrap();
    assert_eq!(
        cfg,
        json!({
            "baseUrl": "", "accountId": 1, "token": s.token(), "demo": true,
            "features": {"voiceMessages": true, "richTextEditor": true},
            "maxFileBytes": 40 * 1024 * 1024,
        })
    );
    let js = s.http.get(s.url("/p.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(s.url("/")).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], "/app/accounts/1/conversations/1");
}

#[tokio::test]
async fn customer_page_is_served_with_a_strict_csp() {
    let s = TestServer::start().await;
    let r = s.http.get(s.url("/customer/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
    let html = r.text().await.unwrap();
    for id in ["messages", "input", "send", "typing", "conn"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "#{id}");
    }
    let js = s
        .http
        .get(s.url("/customer/customer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    let js = js.text().await.unwrap();
    assert!(!js.contains("innerHTML"), "renders with textContent only");
}

#[tokio::test]
async fn public_api_contact_conversation_and_messages() {
    let s = TestServer::start().await;
    let inbox = &s.server.inbox_identifier;
    let (st, contact) = s
        .json(
            s.http
                .post(s.url(&format!("/public/api/v1/inboxes/{inbox}/contacts")))
                .header("origin", "https://elsewhere.example")
                .json(&json!({"name": "Ana"})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(contact["name"], "Ana");
    let source = contact["source_id"].as_str().unwrap();
    assert!(contact["pubsub_token"].is_string());
    let base = format!("/public/api/v1/inboxes/{inbox}/contacts/{source}");
    let (_, again) = s.json(s.http.get(s.url(&base))).await;
    assert_eq!(again, contact);
    let (st, conv) = s
        .json(s.http.post(s.url(&format!("{base}/conversations"))))
        .await;
    assert_eq!(st, 200);
    let display_id = conv["id"].as_i64().unwrap();
    assert_eq!(display_id, 5, "next display id of account 1");
    let (st, m) = s
        .json(
            s.http
                .post(s.url(&format!("{base}/conversations/{display_id}/messages")))
                .json(&json!({"content": "Hi, I need help", "echo_id": "c-1"})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(m["message_type"], 0);
    assert_eq!(m["sender"]["type"], "contact");
    let (_, list) = s
        .json(
            s.http
                .get(s.url(&format!("{base}/conversations/{display_id}/messages"))),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The agent sees it, as incoming and unread.
    let (_, c) = s
        .json(s.get(&format!("/api/v1/accounts/1/conversations/{display_id}")))
        .await;
    assert_eq!(c["unread_count"], 1);
    assert_eq!(c["meta"]["sender"]["name"], "Ana");
    // Another contact cannot read this conversation.
    let (st, _) = s
        .json(s.http.get(s.url(&format!(
            "{}/messages",
            s.public_conv().replace("/conversations/1", &format!("/conversations/{display_id}"))
        ))))
        .await;
    assert_eq!(st, 404);
    // The demo customer's history hides private notes and activity.
    let (_, hist) = s
        .json(s.http.get(s.url(&format!("{}/messages", s.public_conv()))))
        .await;
    let hist = hist.as_array().unwrap();
    assert!(!hist.is_empty());
    assert!(hist.iter().all(|m| m["message_type"] != 2));
    assert!(!hist
        .iter()
        .any(|m| m["content"].as_str().unwrap_or("").contains("Warehouse")));
    // CORS is open on the public API.
    let pre = s
        .http
        .request(reqwest::Method::OPTIONS, s.url(&base))
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    // A browser drops a preflight that is not a success, whatever its headers say.
    assert!(pre.status().is_success(), "{}", pre.status());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
}

const ANOTHER_ORIGIN: &str = "https://dashboard.example.com";

/// A GET with the token from a page on another origin.
async fn get_from_another_origin(s: &TestServer, path: &str) -> reqwest::Response {
    s.get(path)
        .header("Origin", ANOTHER_ORIGIN)
        .send()
        .await
        .unwrap()
}

/// A preflight from another origin, as a browser sends it before a request with the token.
async fn preflight(s: &TestServer, path: &str, method: &str) -> reqwest::Response {
    s.http
        .request(reqwest::Method::OPTIONS, s.url(path))
        .header("Origin", ANOTHER_ORIGIN)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "api_access_token,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn with_api_cors_another_origin_may_call_the_agent_api_with_a_token() {
    let s = TestServer::start_with(|c| c.api_cors = true).await;
    let messages = "/api/v1/accounts/1/conversations/1/messages";
    let pre = preflight(&s, messages, "POST").await;
    assert!(pre.status().is_success(), "{}", pre.status());
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    // `*` (any header: the request carries no credentials) or the token's header by name.
    assert!(
        allowed == "*" || allowed.contains("api_access_token"),
        "{allowed}"
    );
    assert_eq!(h["access-control-max-age"], "7200", "preflights are cached");
    let got = get_from_another_origin(&s, messages).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["access-control-allow-origin"], "*");
    // Signing in with a password stays same-origin, as in Chatwoot.
    let sign_in = preflight(&s, "/auth/sign_in", "POST").await;
    assert!(sign_in
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn without_api_cors_the_agent_api_answers_no_other_origin() {
    let s = TestServer::start().await;
    let messages = "/api/v1/accounts/1/conversations/1/messages";
    let pre = preflight(&s, messages, "POST").await;
    assert!(pre.headers().get("access-control-allow-origin").is_none());
    let got = get_from_another_origin(&s, messages).await;
    assert!(got.headers().get("access-control-allow-origin").is_none());
}
