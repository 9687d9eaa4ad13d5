//! Cable load benchmark (`./scripts/bench.sh` runs it): N agents' cable subscribers and one
//! client that never reads, M messages posted at concurrency C against the real
//! `parley-server` binary; prints lost and duplicated broadcasts per healthy subscriber, POST
//! and fan-out latency (p50, p99) and the server's memory.
//!
//!   cargo run --profile server -p parley-server --example cable_load -- \
//!       --server target/server/parley-server --subscribers 1000 --messages 1000
//!
//! Fan-out latency is, for every (subscriber, message), the time from the POST leaving the
//! client to the `message.created` frame read by that subscriber; clients and server share
//! the machine, as the app and server do in a demo.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Parser)]
struct Args {
    /// The server binary (built with `--profile server`).
    #[arg(long, default_value = "target/server/parley-server")]
    server: PathBuf,
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// A fan-out p99 to print the result against, in ms.
    #[arg(long)]
    target_p99_ms: Option<f64>,
}

const TOKEN: &str = "cable-load-benchmark-token-0123456789";

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(bin: &PathBuf, subscribers: usize) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let room = (subscribers + 64).to_string();
        // Every client comes from 127.0.0.1 (a server from before the cable limits has no
        // such flag, and no limit).
        let help = Command::new(bin).arg("--help").output().unwrap();
        let per_address: &[&str] =
            if String::from_utf8_lossy(&help.stdout).contains("--cable-max-per-address") {
                &["--cable-max-per-address", &room]
            } else {
                &[]
            };
        let mut child = Command::new(bin)
            .args(["--port", "0", "--demo", "--agent-token", TOKEN])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--dist")
            .arg(dir.path().join("no-dist"))
            .args(per_address)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server printed `listening on`")
                .unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Server {
            child,
            base,
            _dir: dir,
        }
    }

    fn status_kb(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The message index in a `message.created` frame of this benchmark (`echo_id` `bench-N`).
fn created_index(frame: &str) -> Option<usize> {
    if !frame.contains(r#""event":"message.created""#) {
        return None;
    }
    let at = frame.find(r#""echo_id":"bench-"#)? + r#""echo_id":"bench-"#.len();
    let rest = &frame[at..];
    rest[..rest.find('"')?].parse().ok()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn subscribe(base: &str, identifier: &str, recv_buffer: Option<u32>) -> Socket {
    let addr = base.trim_start_matches("http://");
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    let mut req = format!("ws://{addr}/cable").into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "actioncable-v1-json".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream)
        .await
        .expect("cable connects");
    ws.send(WsMessage::Text(
        json!({"command": "subscribe", "identifier": identifier})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    loop {
        let Some(Ok(WsMessage::Text(t))) = ws.next().await else {
            panic!("the cable closed before confirming");
        };
        if t.contains("confirm_subscription") {
            return ws;
        }
        assert!(!t.contains("reject_subscription"), "subscription rejected");
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let server = Server::start(&args.server, args.subscribers);
    let base = server.base.clone();
    // reqwest is built without a TLS provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let profile: Value = http
        .get(format!("{base}/api/v1/profile"))
        .header("api_access_token", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let identifier = json!({
        "channel": "RoomChannel",
        "pubsub_token": profile["pubsub_token"],
        "account_id": 1,
        "user_id": profile["id"],
    })
    .to_string();
    let rss_idle = server.status_kb("VmRSS:");

    // The subscribers, then the one that never reads (a small socket buffer, so the
    // server's queue for it fills instead of the kernel's).
    let epoch = Instant::now();
    let n = args.messages;
    let post_sent: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let complete = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let mut ws = subscribe(&base, &identifier, None).await;
        let complete = complete.clone();
        let mut stop = stop_rx.clone();
        readers.push(tokio::spawn(async move {
            // (message index, µs after epoch) for every message.created read.
            let mut got: Vec<(usize, u64)> = Vec::with_capacity(n);
            let mut distinct = vec![false; n];
            let mut distinct_count = 0;
            loop {
                let frame = tokio::select! {
                    f = ws.next() => f,
                    _ = stop.changed() => break,
                };
                match frame {
                    Some(Ok(WsMessage::Text(t))) => {
                        if let Some(i) = created_index(t.as_str()) {
                            got.push((i, epoch.elapsed().as_micros() as u64));
                            if i < n && !distinct[i] {
                                distinct[i] = true;
                                distinct_count += 1;
                                if distinct_count == n {
                                    complete.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            got
        }));
    }
    let mut slow = subscribe(&base, &identifier, Some(4096)).await;
    let rss_subscribed = server.status_kb("VmRSS:");

    // The posts, `concurrency` at a time.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut posters = vec![];
    for _ in 0..args.concurrency {
        let (http, base, next, post_sent) =
            (http.clone(), base.clone(), next.clone(), post_sent.clone());
        posters.push(tokio::spawn(async move {
            let mut latencies = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return latencies;
                }
                let t0 = Instant::now();
                post_sent[i].store(epoch.elapsed().as_micros() as u64, Ordering::Relaxed);
                let res = http
                    .post(format!("{base}/api/v1/accounts/1/conversations/1/messages"))
                    .header("api_access_token", TOKEN)
                    .json(&json!({"content": format!("bench message {i}"), "echo_id": format!("bench-{i}")}))
                    .send()
                    .await
                    .expect("POST answered");
                assert_eq!(res.status(), 200);
                let _ = res.bytes().await;
                latencies.push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }));
    }
    let mut post_ms = vec![];
    for p in posters {
        post_ms.extend(p.await.unwrap());
    }
    let posting = started.elapsed();
    // Every healthy subscriber has everything, or 30 s passed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while complete.load(Ordering::Relaxed) < args.subscribers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_delivered = started.elapsed();
    let rss_end = server.status_kb("VmRSS:");
    let rss_peak = server.status_kb("VmHWM:");
    stop_tx.send(true).unwrap();

    let (mut lost, mut duplicated, mut worst_lost) = (0usize, 0usize, 0usize);
    let mut fan_ms = Vec::with_capacity(args.subscribers * n);
    for r in readers {
        let got = r.await.unwrap();
        let mut seen = vec![0u32; n];
        for (i, at) in got {
            if i < n {
                seen[i] += 1;
                let sent = post_sent[i].load(Ordering::Relaxed);
                fan_ms.push(at.saturating_sub(sent) as f64 / 1e3);
            }
        }
        let missing = seen.iter().filter(|&&c| c == 0).count();
        lost += missing;
        worst_lost = worst_lost.max(missing);
        duplicated += seen
            .iter()
            .map(|&c| c.saturating_sub(1) as usize)
            .sum::<usize>();
    }

    // What the client that never read finally gets: part of the burst, then (when its
    // queue filled) the end of its connection.
    let mut slow_got = 0;
    let slow_ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = slow.next().await {
            if let WsMessage::Text(t) = m {
                slow_got += usize::from(created_index(t.as_str()).is_some());
            }
        }
    })
    .await
    .is_ok();

    post_ms.sort_by(f64::total_cmp);
    fan_ms.sort_by(f64::total_cmp);
    let p99 = percentile(&fan_ms, 99.0);
    println!();
    println!(
        "cable fan-out: {} subscribers + 1 that never reads, {} messages posted at concurrency {}",
        args.subscribers, n, args.concurrency
    );
    let row = |k: &str, v: String| println!("  {k:<34} {v}");
    row(
        "lost (all healthy subscribers)",
        format!("{lost} (worst subscriber {worst_lost})"),
    );
    row("duplicated", duplicated.to_string());
    row(
        "POST p50 / p99",
        format!(
            "{:.1} ms / {:.1} ms",
            percentile(&post_ms, 50.0),
            percentile(&post_ms, 99.0)
        ),
    );
    let verdict = args
        .target_p99_ms
        .map(|t| {
            format!(
                "  (target p99 < {t} ms: {})",
                if p99 < t { "met" } else { "MISSED" }
            )
        })
        .unwrap_or_default();
    row(
        "fan-out p50 / p99",
        format!("{:.1} ms / {p99:.1} ms{verdict}", percentile(&fan_ms, 50.0)),
    );
    row(
        "posting / all delivered",
        format!(
            "{:.2} s / {:.2} s",
            posting.as_secs_f64(),
            all_delivered.as_secs_f64()
        ),
    );
    row(
        "server RSS idle / subscribed",
        format!("{} MB / {} MB", rss_idle / 1024, rss_subscribed / 1024),
    );
    row(
        "server RSS end / peak",
        format!("{} MB / {} MB", rss_end / 1024, rss_peak / 1024),
    );
    row(
        "client that never reads",
        if slow_ended {
            format!("disconnected after {slow_got} of {n} messages")
        } else {
            format!("still connected ({slow_got} of {n} messages buffered for it)")
        },
    );
    if lost > 0 || duplicated > 0 {
        std::process::exit(1);
    }
}
