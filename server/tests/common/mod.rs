//! Shared helpers: an in-process server on 127.0.0.1:0 with a temp data dir, an HTTP
//! client, and an ActionCable client over a real WebSocket.
#![allow(dead_code)]

pub mod attack;
pub mod process;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parley_server::config::Config;
use parley_server::RunningServer;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub struct TestServer {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        tweak(&mut config);
        let server = parley_server::start(config).await.expect("server starts");
        TestServer {
            server,
            dir,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url)
    }

    pub fn token(&self) -> &str {
        &self.server.agent_token
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .header("api_access_token", self.token())
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header("api_access_token", self.token())
    }

    pub async fn json(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let res = r.send().await.expect("request answered");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The newest page of conversation `display_id` of account 1, as the index returns it.
    pub async fn messages(&self, display_id: i64) -> Vec<Value> {
        let (status, idx) = self
            .json(self.get(&format!(
                "/api/v1/accounts/1/conversations/{display_id}/messages"
            )))
            .await;
        // A failed index must not read as "no messages": checks that something is absent
        // (or that every message has some shape) would pass on it.
        assert_eq!(status, 200, "the messages index answered {status}: {idx}");
        idx["payload"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("the messages index has no payload array: {idx}"))
    }

    pub async fn profile(&self) -> Value {
        self.json(self.get("/api/v1/profile")).await.1
    }

    /// Sends a text message as the demo agent into conversation `display_id` of account 1.
    pub async fn agent_send(&self, display_id: i64, body: Value) -> (u16, Value) {
        self.json(
            self.post(&format!(
                "/api/v1/accounts/1/conversations/{display_id}/messages"
            ))
            .json(&body),
        )
        .await
    }

    /// The demo customer (contact of conversation 1): (inbox, source_id, conversation).
    pub fn customer(&self) -> (String, String, String) {
        let q = self.server.customer_query.clone().expect("demo customer");
        let mut inbox = String::new();
        let mut contact = String::new();
        let mut conv = String::new();
        for pair in q.split('&') {
            let (k, v) = pair.split_once('=').unwrap();
            match k {
                "inbox" => inbox = v.to_owned(),
                "contact" => contact = v.to_owned(),
                "conversation" => conv = v.to_owned(),
                _ => {}
            }
        }
        (inbox, contact, conv)
    }

    pub fn public_conv(&self) -> String {
        let (inbox, contact, conv) = self.customer();
        format!("/public/api/v1/inboxes/{inbox}/contacts/{contact}/conversations/{conv}")
    }

    /// The access token a demo agent gets by signing in with the demo password.
    pub async fn token_of(&self, email: &str) -> String {
        let (status, body) = self
            .json(
                self.http
                    .post(self.url("/auth/sign_in"))
                    .json(&json!({"email": email, "password": "parley-demo"})),
            )
            .await;
        assert_eq!(status, 200, "{email} signs in: {body}");
        body["data"]["access_token"]
            .as_str()
            .expect("a sign-in answer carries the access token")
            .to_owned()
    }

    pub fn get_as(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .header("api_access_token", token)
    }

    pub fn post_as(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header("api_access_token", token)
    }

    pub async fn contact_pubsub(&self) -> String {
        let (inbox, contact, _) = self.customer();
        let (_, c) = self
            .json(self.http.get(self.url(&format!(
                "/public/api/v1/inboxes/{inbox}/contacts/{contact}"
            ))))
            .await;
        c["pubsub_token"].as_str().unwrap().to_owned()
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Cable {
    pub ws: Ws,
    pub protocol: Option<String>,
}

impl Cable {
    pub async fn connect(server: &TestServer) -> Cable {
        let url = server.url("/cable").replacen("http", "ws", 1);
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "actioncable-v1-json, actioncable-unsupported"
                .parse()
                .unwrap(),
        );
        let (ws, response) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connects");
        let protocol = response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap().to_owned());
        Cable { ws, protocol }
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(WsMessage::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// The next frame, or None when nothing arrived within `wait`. Only a timeout means
    /// "nothing arrived": a socket the server closed or broke, and a frame that is not JSON
    /// text, fail the test here, so a check that nothing leaked cannot pass on a dead socket.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(None) => panic!("the cable ended without a close frame"),
                Ok(Some(Err(e))) => panic!("the cable failed: {e}"),
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                WsMessage::Text(t) => {
                    return Some(serde_json::from_str(t.as_str()).unwrap_or_else(|e| {
                        panic!("a cable frame that is not JSON ({e}): {}", t.as_str())
                    }))
                }
                WsMessage::Close(frame) => panic!("the server closed the cable: {frame:?}"),
                WsMessage::Binary(b) => panic!("a binary cable frame ({} bytes)", b.len()),
                // Protocol-level pings and pongs (tungstenite answers pings itself).
                WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {}
            }
        }
    }

    /// The next broadcast event named `event`, skipping pings and others.
    pub async fn event(&mut self, event: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            let frame = self.next(left).await?;
            if frame["message"]["event"] == event {
                return Some(frame);
            }
        }
    }

    /// Every broadcast event name received within `wait`.
    pub async fn events_within(&mut self, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = vec![];
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return out;
            }
            match self.next(left).await {
                Some(f) if f["message"]["event"].is_string() => out.push(f),
                Some(_) => {}
                None => return out,
            }
        }
    }

    /// Every broadcast event that comes before the first one named `marker`, and that one,
    /// which must arrive within `wait`. A check that something was not sent sends, after it, something
    /// that must arrive: frames reach a connection in the order they were broadcast, so what
    /// leaked would come before the marker, and no time window has to be guessed.
    pub async fn events_before(&mut self, marker: &str, wait: Duration) -> (Vec<Value>, Value) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = vec![];
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(f) = self.next(left).await else {
                panic!("no {marker} within {wait:?}; before it: {out:?}");
            };
            if f["message"]["event"] == marker {
                return (out, f);
            }
            if f["message"]["event"].is_string() {
                out.push(f);
            }
        }
    }

    /// Waits for welcome, subscribes, and returns the confirm (or reject) frame type.
    pub async fn subscribe(&mut self, identifier: &str) -> String {
        let welcome = self.next(Duration::from_secs(5)).await.expect("welcome");
        assert_eq!(welcome, json!({"type": "welcome"}));
        self.send(json!({"command": "subscribe", "identifier": identifier}))
            .await;
        let deadline = Duration::from_secs(5);
        loop {
            let f = self.next(deadline).await.expect("a subscription answer");
            if let Some(t) = f["type"].as_str() {
                if t.ends_with("_subscription") {
                    assert_eq!(f["identifier"], identifier);
                    return t.to_owned();
                }
            }
        }
    }

    pub async fn agent(server: &TestServer) -> Cable {
        let p = server.profile().await;
        let id = json!({
            "channel": "RoomChannel",
            "pubsub_token": p["pubsub_token"],
            "account_id": 1,
            "user_id": p["id"],
        })
        .to_string();
        let mut c = Cable::connect(server).await;
        assert_eq!(c.subscribe(&id).await, "confirm_subscription");
        c
    }

    /// The cable of the agent whose access token is `token`, subscribed to `account_id`.
    pub async fn agent_as(server: &TestServer, token: &str, account_id: i64) -> Cable {
        let (status, p) = server.json(server.get_as(token, "/api/v1/profile")).await;
        assert_eq!(status, 200, "the profile answered {status}: {p}");
        let id = json!({
            "channel": "RoomChannel",
            "pubsub_token": p["pubsub_token"],
            "account_id": account_id,
            "user_id": p["id"],
        })
        .to_string();
        let mut c = Cable::connect(server).await;
        assert_eq!(c.subscribe(&id).await, "confirm_subscription");
        c
    }

    pub async fn contact(server: &TestServer) -> Cable {
        let token = server.contact_pubsub().await;
        let id = json!({"channel": "RoomChannel", "pubsub_token": token}).to_string();
        let mut c = Cable::connect(server).await;
        assert_eq!(c.subscribe(&id).await, "confirm_subscription");
        c
    }
}

pub const SHORT: Duration = Duration::from_millis(700);
pub const LONG: Duration = Duration::from_secs(5);
