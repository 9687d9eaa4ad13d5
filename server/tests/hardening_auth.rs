//! Issue 10 §6, §8, §9 against the real binary over real sockets: credentials (hashes at
//! rest, throttled sign-in, token length, what is printed, the demo page's token and DNS
//! rebinding), abuse of the open API (throttled creates, a 100,000-conversation list), and
//! durability (one server per data dir, partial uploads, a full disk). Each attack test
//! asserts the refusal and that the agent is still answered promptly.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::attack::{assert_agent_answered, http};
use common::process::{ServerProcess, PROCESS_TOKEN};
use serde_json::{json, Value};

/// A client whose connections come from another loopback address (127.0.0.0/8 is all
/// loopback on Linux): another "client address" for the per-address limits.
fn http_from(addr: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .local_address(addr.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds")
}

async fn sign_in(
    client: &reqwest::Client,
    p: &ServerProcess,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(p.url("/auth/sign_in"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// `customer url: http://…/customer/?inbox=I&contact=C&conversation=N` → (I, C).
fn demo_customer(p: &ServerProcess) -> (String, String) {
    (p.customer_param("inbox"), p.customer_param("contact"))
}

/// Every byte SQLite keeps on disk for the database (file and write-ahead log).
fn database_bytes(data_dir: &Path) -> Vec<u8> {
    let mut all = vec![];
    for name in ["parley.sqlite3", "parley.sqlite3-wal"] {
        if let Ok(b) = std::fs::read(data_dir.join(name)) {
            all.extend(b);
        }
    }
    assert!(!all.is_empty(), "the database is on disk");
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn partial_uploads(data_dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data_dir.join("uploads"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".part-")
        })
        .collect()
}

/// Polls `cond` every 20 ms until it holds; false if `within` passes first.
fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the binary to its exit (at most 20 s): (exit success, stderr).
fn run_to_exit(args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("parley-server {args:?} was still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.success(), stderr)
}

// ---------------------------------------------------------------------------------------
// §6 Credentials

#[tokio::test]
async fn sign_in_is_throttled_per_address_with_retry_after() {
    let p = ServerProcess::start(&[]);
    let client = http();
    // rack-attack's login/ip: 5 attempts, then 429, even with the right password.
    for _ in 0..5 {
        let res = sign_in(&client, &p, "agent@parley.test", "guess").await;
        assert_eq!(res.status(), 401);
    }
    let res = sign_in(&client, &p, "agent@parley.test", "parley-demo").await;
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("Too many sign-in attempts"),
        "{body}"
    );
    // Another address still signs in: the limit is the address's.
    let res = sign_in(
        &http_from("127.0.0.2"),
        &p,
        "agent@parley.test",
        "parley-demo",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;
}

#[tokio::test]
async fn sign_in_is_throttled_per_email_across_addresses() {
    let p = ServerProcess::start(&[]);
    // rack-attack's login/email: 10 attempts for one email, whatever the address.
    for i in 0..10 {
        let client = http_from(&format!("127.0.0.{}", 10 + i));
        let res = sign_in(&client, &p, "Agent@Parley.test ", "guess").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = sign_in(
        &http_from("127.0.0.30"),
        &p,
        "agent@parley.test",
        "parley-demo",
    )
    .await;
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) >= 1);
    // Another agent's email is not held back by it.
    let res = sign_in(
        &http_from("127.0.0.31"),
        &p,
        "jordan@parley.test",
        "parley-demo",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;
}

#[tokio::test]
async fn passwords_and_tokens_are_stored_only_as_hashes() {
    let p = ServerProcess::start(&[]);
    let client = http();
    let res = sign_in(&client, &p, "agent@parley.test", "parley-demo").await;
    assert_eq!(res.status(), 200);
    let signed_in: Value = res.json().await.unwrap();
    let session_token = signed_in["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let session_pubsub = signed_in["data"]["pubsub_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(session_token.len() >= 24);
    assert_ne!(session_token, PROCESS_TOKEN);

    // Each token works and gives back its own pubsub token.
    let profile: Value = client
        .get(p.url("/api/v1/profile"))
        .header("api_access_token", PROCESS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["access_token"], PROCESS_TOKEN);
    let pubsub = profile["pubsub_token"].as_str().unwrap().to_owned();
    let again: Value = client
        .get(p.url("/api/v1/profile"))
        .header("api_access_token", &session_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], profile["id"]);
    assert_eq!(again["pubsub_token"], session_pubsub.as_str());

    let (inbox, contact) = demo_customer(&p);
    let c: Value = client
        .get(p.url(&format!(
            "/public/api/v1/inboxes/{inbox}/contacts/{contact}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contact_pubsub = c["pubsub_token"].as_str().unwrap().to_owned();

    let bytes = database_bytes(p.data_dir());
    for (what, secret) in [
        ("the demo password", "parley-demo"),
        ("the --agent-token", PROCESS_TOKEN),
        ("the sign-in token", session_token.as_str()),
        ("the agent's pubsub token", pubsub.as_str()),
        ("the sign-in's pubsub token", session_pubsub.as_str()),
        ("the contact's pubsub token", contact_pubsub.as_str()),
    ] {
        assert!(!contains(&bytes, secret), "{what} is on disk in clear");
    }
    let db = rusqlite::Connection::open(p.data_dir().join("parley.sqlite3")).unwrap();
    let hashes: Vec<String> = db
        .prepare("SELECT password_hash FROM users")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!hashes.is_empty());
    for h in hashes {
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }
}

/// The schema and rows of a database from before this change: salted SHA-256 password,
/// tokens in clear, the demo password in `settings`.
fn legacy_database(dir: &Path) {
    let db = rusqlite::Connection::open(dir.join("parley.sqlite3")).unwrap();
    db.execute_batch(
        r#"
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE users (
          id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
          password_salt TEXT NOT NULL, password_hash TEXT NOT NULL,
          access_token TEXT NOT NULL UNIQUE, pubsub_token TEXT NOT NULL UNIQUE,
          created_at INTEGER NOT NULL);
        CREATE TABLE account_users (
          account_id INTEGER NOT NULL REFERENCES accounts(id), user_id INTEGER NOT NULL REFERENCES users(id),
          role TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (account_id, user_id));
        CREATE TABLE inboxes (
          id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
          channel_type TEXT NOT NULL, inbox_identifier TEXT NOT NULL UNIQUE);
        CREATE TABLE contacts (
          id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), name TEXT, email TEXT,
          phone_number TEXT, identifier TEXT, created_at INTEGER NOT NULL, last_activity_at INTEGER);
        CREATE TABLE contact_inboxes (
          id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL REFERENCES contacts(id),
          inbox_id INTEGER NOT NULL REFERENCES inboxes(id), source_id TEXT NOT NULL UNIQUE,
          pubsub_token TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
        INSERT INTO accounts VALUES (1, 'Old', 0);
        INSERT INTO inboxes VALUES (1, 1, 'Website', 'Channel::WebWidget', 'legacyinbox');
        INSERT INTO users VALUES (1, 'Agent', 'agent@parley.test', 'legacysalt',
          '00e8ae8c4a0e0b3ff16b3a6e4a0ac7b2faf63ac9c3ac1c4e2a1b0d15bd5b6b50',
          'legacy-access-token-0123456789', 'legacy-agent-pubsub-0123456789', 0);
        INSERT INTO account_users VALUES (1, 1, 'administrator', 0);
        INSERT INTO contacts VALUES (1, 1, 'Maya', NULL, NULL, NULL, 0, 0);
        INSERT INTO contact_inboxes VALUES (1, 1, 1, 'legacy-source', 'legacy-contact-pubsub-0123456789', 0, 0);
        INSERT INTO settings VALUES ('agent_password', 'legacy-password-in-clear');
        "#,
    )
    .unwrap();
    // The digest above is what the old server stored: SHA-256 of `salt:password`.
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(b"legacysalt:legacy-password-in-clear");
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    db.execute("UPDATE users SET password_hash = ?1", [digest])
        .unwrap();
}

#[tokio::test]
async fn a_legacy_database_keeps_its_password_and_token_but_not_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    legacy_database(dir.path());
    // No --agent-token: it would replace the old token, as it always did.
    let p = ServerProcess::start_with_args(dir, &[]);
    let client = http();
    // The old token still works (its digest moved), the old password still signs in.
    let res = client
        .get(p.url("/api/v1/profile"))
        .header("api_access_token", "legacy-access-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let before = database_bytes(p.data_dir());
    for secret in [
        "legacy-password-in-clear",
        "legacy-access-token-0123456789",
        "legacy-agent-pubsub-0123456789",
        "legacy-contact-pubsub-0123456789",
    ] {
        assert!(!contains(&before, secret), "{secret} is still on disk");
    }
    let db = rusqlite::Connection::open(p.data_dir().join("parley.sqlite3")).unwrap();
    let scheme = |db: &rusqlite::Connection| -> String {
        db.query_row("SELECT password_scheme FROM users WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(scheme(&db), "sha256+argon2id", "wrapped at once");
    let res = sign_in(&client, &p, "agent@parley.test", "wrong").await;
    assert_eq!(res.status(), 401);
    let res = sign_in(&client, &p, "agent@parley.test", "legacy-password-in-clear").await;
    assert_eq!(res.status(), 200);
    assert_eq!(scheme(&db), "argon2id", "rehashed at the sign-in");
    let res = sign_in(&client, &p, "agent@parley.test", "legacy-password-in-clear").await;
    assert_eq!(res.status(), 200, "and the new hash verifies");
}

#[test]
fn a_short_agent_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, stderr) = run_to_exit(&[
        "--port",
        "0",
        "--data-dir",
        data,
        "--agent-token",
        "e2e-token-short",
    ]);
    assert!(!ok, "the server refused to start");
    assert!(stderr.contains("--agent-token is too short"), "{stderr}");
    assert!(stderr.contains("24 characters"), "{stderr}");
}

#[tokio::test]
async fn credentials_are_printed_only_with_demo() {
    let dir = tempfile::tempdir().unwrap();
    let p = ServerProcess::start_with_args(dir, &["--agent-token", PROCESS_TOKEN]);
    let printed = p.stdout.join("\n");
    assert!(printed.contains("agent email: "), "{printed}");
    assert!(!printed.contains("agent password"), "{printed}");
    assert!(!printed.contains("agent token"), "{printed}");
    assert!(!printed.contains(PROCESS_TOKEN), "{printed}");
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;

    let demo = ServerProcess::start(&[]);
    let printed = demo.stdout.join("\n");
    assert!(
        printed.contains(&format!("agent token: {PROCESS_TOKEN}")),
        "{printed}"
    );
    assert!(printed.contains("agent password: parley-demo"), "{printed}");
}

#[tokio::test]
async fn the_demo_page_carries_the_token_only_for_a_loopback_host() {
    let p = ServerProcess::start(&[]);
    let dist = p.data_dir().join("no-dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<html><head></head><body></body></html>",
    )
    .unwrap();
    let port = p.addr().rsplit_once(':').unwrap().1.to_owned();
    let page = |host: String, path: &'static str| {
        let url = p.url(path);
        async move {
            let res = http().get(url).header("host", host).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    for path in ["/app/accounts/1/conversations/1", "/examples/embed/"] {
        // A DNS-rebinding page: its name resolves to 127.0.0.1, its Host is its own.
        let rebound = page(format!("attacker.example:{port}"), path).await;
        assert!(
            !rebound.contains(PROCESS_TOKEN),
            "{path} for a foreign Host"
        );
        let rebound = page(format!("127.0.0.1.attacker.example:{port}"), path).await;
        assert!(
            !rebound.contains(PROCESS_TOKEN),
            "{path} for a look-alike Host"
        );
        let direct = page(format!("127.0.0.1:{port}"), path).await;
        assert!(
            direct.contains(PROCESS_TOKEN),
            "{path} for the bound address"
        );
        let local = page(format!("localhost:{port}"), path).await;
        assert!(local.contains(PROCESS_TOKEN), "{path} for localhost");
    }
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;
}

// ---------------------------------------------------------------------------------------
// §8 Abuse of the open API

#[tokio::test]
async fn creating_contacts_and_conversations_is_throttled_per_address() {
    let p = ServerProcess::start(&[]);
    let (inbox, _) = demo_customer(&p);
    let client = http();
    let contacts = p.url(&format!("/public/api/v1/inboxes/{inbox}/contacts"));
    let mut source = String::new();
    for i in 0..20 {
        let res = client
            .post(&contacts)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "contact {i}");
        let c: Value = res.json().await.unwrap();
        source = c["source_id"].as_str().unwrap().to_owned();
    }
    let res = client
        .post(&contacts)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) >= 1);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("Too many"),
        "{body}"
    );
    // Conversations come out of the same allowance.
    let res = client
        .post(p.url(&format!(
            "/public/api/v1/inboxes/{inbox}/contacts/{source}/conversations"
        )))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // Reading is not limited, and another address still creates.
    let res = client
        .get(p.url(&format!(
            "/public/api/v1/inboxes/{inbox}/contacts/{source}/conversations"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = http_from("127.0.0.2")
        .post(&contacts)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;
}

#[tokio::test]
async fn the_conversation_list_stays_fast_with_100k_conversations() {
    const N: i64 = 100_000;
    let p = ServerProcess::start(&[]);
    {
        // Straight into the database the server has open (WAL: the server keeps serving).
        let mut db = rusqlite::Connection::open(p.data_dir().join("parley.sqlite3")).unwrap();
        db.busy_timeout(Duration::from_secs(10)).unwrap();
        let started = Instant::now();
        let tx = db.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO conversations (account_id, inbox_id, display_id, contact_id,
                       contact_inbox_id, assignee_id, status, uuid, last_activity_at, created_at, updated_at)
                     VALUES (1, 1, ?1, 1, 1, ?2, ?3, ?4, ?5, ?5, ?5)",
                )
                .unwrap();
            for i in 0..N {
                let assignee = (i % 3 == 0).then_some(1);
                let status = if i % 4 == 0 { "resolved" } else { "open" };
                insert
                    .execute(rusqlite::params![
                        1000 + i,
                        assignee,
                        status,
                        format!("bulk-{i}"),
                        1_000_000 + i
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        eprintln!("inserted {N} conversations in {:?}", started.elapsed());
    }
    p.reset_peak();
    let rss_before = p.peak_rss_kb();
    let client = http();
    let mut timings = vec![];
    for path in [
        "/api/v1/accounts/1/conversations",
        "/api/v1/accounts/1/conversations?page=2",
        "/api/v1/accounts/1/conversations?status=all&page=3000",
        "/api/v1/accounts/1/conversations?assignee_type=me&page=100",
        "/api/v1/accounts/1/conversations/meta?status=all",
    ] {
        let started = Instant::now();
        let res = client
            .get(p.url(path))
            .header("api_access_token", PROCESS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: Value = res.json().await.unwrap();
        let took = started.elapsed();
        timings.push((path, took));
        let meta = if path.contains("/meta") {
            &body["meta"]
        } else {
            assert_eq!(
                body["data"]["payload"].as_array().unwrap().len(),
                25,
                "{path}"
            );
            &body["data"]["meta"]
        };
        if path.contains("status=all") {
            assert!(meta["all_count"].as_i64().unwrap() >= N, "{meta}");
        } else {
            // 3 of every 4 bulk conversations are open.
            assert!(meta["all_count"].as_i64().unwrap() >= N * 3 / 4, "{meta}");
        }
    }
    let grown_kb = p.peak_rss_kb().saturating_sub(rss_before);
    for (path, took) in &timings {
        eprintln!("GET {path} with {N} conversations: {took:?}");
    }
    eprintln!("server peak memory grew by {grown_kb} kB during the list requests");
    for (path, took) in timings {
        assert!(took < Duration::from_millis(500), "{path} took {took:?}");
    }
    assert!(grown_kb < 64 * 1024, "peak memory grew by {grown_kb} kB");
    // Pages do not overlap.
    let ids = |page: u32| {
        let url = p.url(&format!("/api/v1/accounts/1/conversations?page={page}"));
        let client = client.clone();
        async move {
            let body: Value = client
                .get(url)
                .header("api_access_token", PROCESS_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["data"]["payload"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let (one, two) = (ids(1).await, ids(2).await);
    assert!(one.iter().all(|id| !two.contains(id)));
}

// ---------------------------------------------------------------------------------------
// §9 Durability

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_says_so_and_exits() {
    let p = ServerProcess::start(&[]);
    let data = p.data_dir().to_str().unwrap().to_owned();
    let (ok, stderr) = run_to_exit(&["--port", "0", "--data-dir", &data]);
    assert!(!ok, "the second server exits non-zero");
    assert!(
        stderr.contains("another parley-server is using the data directory"),
        "{stderr}"
    );
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;
}

#[tokio::test]
async fn partial_uploads_are_removed_at_start_and_when_an_upload_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("uploads")).unwrap();
    std::fs::write(dir.path().join("uploads/.part-left-by-a-crash"), b"half").unwrap();
    let p = ServerProcess::start_in(dir, &[]);
    assert_eq!(partial_uploads(p.data_dir()), Vec::<PathBuf>::new());

    // An upload whose client goes away halfway: headers announce 8 MB, 1 MB comes.
    let boundary = "XyZzY";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let mut sock = TcpStream::connect(p.addr()).unwrap();
    write!(
        sock,
        "POST /api/v1/accounts/1/conversations/1/messages HTTP/1.1\r\nHost: {}\r\n\
         api_access_token: {PROCESS_TOKEN}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n{head}",
        p.addr(),
        8 * 1024 * 1024
    )
    .unwrap();
    sock.write_all(&vec![7u8; 1024 * 1024]).unwrap();
    sock.flush().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || !partial_uploads(p.data_dir())
            .is_empty()),
        "the upload started"
    );
    drop(sock);
    assert!(
        eventually(Duration::from_secs(10), || partial_uploads(p.data_dir())
            .is_empty()),
        "the cut upload's partial file is removed: {:?}",
        partial_uploads(p.data_dir())
    );
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;
}

/// A tmpfs of `size` on `dir`, unmounted when dropped. Needs root (the test machine's user).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a {size} tmpfs on {dir:?} failed: this test fills a small disk and needs root"
        );
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_and_keeps_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let _disk = Tmpfs::mount(dir.path(), "4m");
    let p = ServerProcess::start_in(dir, &[]);
    let messages = |client: reqwest::Client| {
        let url = p.url("/api/v1/accounts/1/conversations/1/messages");
        async move {
            let body: Value = client
                .get(url)
                .header("api_access_token", PROCESS_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["payload"].as_array().unwrap().clone()
        }
    };
    let before = messages(http()).await;
    // More than the disk has left.
    let form = reqwest::multipart::Form::new()
        .text("content", "with a file the disk cannot hold")
        .part(
            "attachments[]",
            reqwest::multipart::Part::bytes(vec![1u8; 6 * 1024 * 1024])
                .file_name("big.bin")
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    let res = http()
        .post(p.url("/api/v1/accounts/1/conversations/1/messages"))
        .header("api_access_token", PROCESS_TOKEN)
        .multipart(form)
        .send()
        .await
        .expect("an answer, not a reset connection");
    assert_eq!(res.status(), 507);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("disk is full"),
        "{body}"
    );
    assert_eq!(partial_uploads(p.data_dir()), Vec::<PathBuf>::new());
    let after = messages(http()).await;
    assert_eq!(
        after.last().map(|m| m["id"].clone()),
        before.last().map(|m| m["id"].clone()),
        "no message was stored"
    );
    assert_agent_answered(&p.base_url, PROCESS_TOKEN).await;

    // Now the database's own write: fill what is left, then send a text message.
    let filler_path = p.data_dir().join("filler");
    {
        let mut filler = std::fs::File::create(&filler_path).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match filler.write_all(&block) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
    }
    let send = |content: &'static str| {
        let url = p.url("/api/v1/accounts/1/conversations/1/messages");
        async move {
            http()
                .post(url)
                .header("api_access_token", PROCESS_TOKEN)
                .json(&json!({ "content": content }))
                .send()
                .await
                .unwrap()
        }
    };
    let res = send("while the disk is full").await;
    assert_eq!(res.status(), 507);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("disk is full"),
        "{body}"
    );
    std::fs::remove_file(&filler_path).unwrap();
    // The space came back: a text message is stored again, and the refused one is not.
    let res = send("after the full disk").await;
    assert_eq!(res.status(), 200);
    let texts: Vec<Value> = messages(http())
        .await
        .iter()
        .map(|m| m["content"].clone())
        .collect();
    assert!(texts.contains(&json!("after the full disk")));
    assert!(
        !texts.contains(&json!("while the disk is full")),
        "{texts:?}"
    );
}
