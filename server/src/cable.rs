//! ActionCable on `/cable`, as Rails speaks it to `@rails/actioncable`: subprotocol
//! `actioncable-v1-json`, `welcome` first, a ping every 3 s, `RoomChannel` subscriptions keyed
//! by `pubsub_token` (an agent's or a contact's), and broadcasts `{identifier, message}`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use parley_wire::cable::{ClientCommand, Presence, RoomIdentifier, ServerFrame, SUBPROTOCOL};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::db;
use crate::test_controls::Faults;
use crate::AppState;

/// Who a subscription belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscriber {
    User { user_id: i64, account_id: i64 },
    Contact { contact_id: i64, account_id: i64 },
}

impl Subscriber {
    fn account_id(self) -> i64 {
        match self {
            Subscriber::User { account_id, .. } | Subscriber::Contact { account_id, .. } => {
                account_id
            }
        }
    }
}

struct Subscription {
    identifier: String,
    token: String,
    who: Subscriber,
}

struct Conn {
    tx: mpsc::UnboundedSender<String>,
    subs: Vec<Subscription>,
    /// `cable_reorder`: a frame held back to be sent after the next one.
    held: Option<String>,
}

/// Every open cable connection and its subscriptions. Broadcasting goes through here so
/// that injected cable faults apply to every frame alike.
pub struct Hub {
    conns: Mutex<HashMap<u64, Conn>>,
    next_id: Mutex<u64>,
    faults: Arc<Faults>,
}

impl Hub {
    pub fn new(faults: Arc<Faults>) -> Arc<Hub> {
        Arc::new(Hub {
            conns: Mutex::new(HashMap::new()),
            next_id: Mutex::new(1),
            faults,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Conn>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, tx: mpsc::UnboundedSender<String>) -> u64 {
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            *n
        };
        self.lock().insert(
            id,
            Conn {
                tx,
                subs: vec![],
                held: None,
            },
        );
        id
    }

    fn unregister(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// False when this connection already has the identifier (Rails ignores the repeat).
    fn subscribe(&self, conn: u64, identifier: &str, token: &str, who: Subscriber) -> bool {
        let mut conns = self.lock();
        let Some(c) = conns.get_mut(&conn) else {
            return false;
        };
        if c.subs.iter().any(|s| s.identifier == identifier) {
            return false;
        }
        c.subs.push(Subscription {
            identifier: identifier.to_owned(),
            token: token.to_owned(),
            who,
        });
        true
    }

    fn unsubscribe(&self, conn: u64, identifier: &str) {
        if let Some(c) = self.lock().get_mut(&conn) {
            c.subs.retain(|s| s.identifier != identifier);
        }
    }

    fn subscriber(&self, conn: u64, identifier: &str) -> Option<Subscriber> {
        self.lock()
            .get(&conn)?
            .subs
            .iter()
            .find(|s| s.identifier == identifier)
            .map(|s| s.who)
    }

    /// Sends `{event, data}` to every subscription whose token is in `tokens`.
    pub fn broadcast(self: &Arc<Self>, tokens: &[String], event: &str, data: &Value) {
        let tokens: HashSet<&str> = tokens.iter().map(String::as_str).collect();
        let message = json!({ "event": event, "data": data });
        let mut conns = self.lock();
        let ids: Vec<u64> = conns.keys().copied().collect();
        for id in ids {
            let Some(conn) = conns.get_mut(&id) else {
                continue;
            };
            let frames: Vec<String> = conn
                .subs
                .iter()
                .filter(|s| tokens.contains(s.token.as_str()))
                .map(|s| {
                    ServerFrame::Broadcast {
                        identifier: s.identifier.clone(),
                        message: message.clone(),
                    }
                    .to_json()
                })
                .collect();
            for frame in frames {
                self.deliver(id, conn, frame);
            }
        }
    }

    /// Sends to one subscription of one connection (presence goes only to the subscriber).
    fn send_to(self: &Arc<Self>, conn: u64, identifier: &str, event: &str, data: &Value) {
        let mut conns = self.lock();
        if let Some(c) = conns.get_mut(&conn) {
            let frame = ServerFrame::Broadcast {
                identifier: identifier.to_owned(),
                message: json!({ "event": event, "data": data }),
            }
            .to_json();
            self.deliver(conn, c, frame);
        }
    }

    /// The one place where cable faults bend delivery.
    fn deliver(self: &Arc<Self>, conn_id: u64, conn: &mut Conn, frame: String) {
        let f = self.faults.snapshot();
        let frames = if f.cable_reorder {
            match conn.held.take() {
                None => {
                    conn.held = Some(frame);
                    // A lone frame must still arrive: flush it if nothing follows soon
                    // (soon enough for a burst sent by a slow test machine to be swapped).
                    let hub = Arc::clone(self);
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(1_500)).await;
                        hub.flush_held(conn_id);
                    });
                    vec![]
                }
                Some(held) => vec![frame, held],
            }
        } else {
            vec![frame]
        };
        let copies = if f.cable_duplicate { 2 } else { 1 };
        for frame in frames {
            for _ in 0..copies {
                if f.cable_delay_ms > 0 {
                    let tx = conn.tx.clone();
                    let frame = frame.clone();
                    let delay = Duration::from_millis(f.cable_delay_ms);
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = tx.send(frame);
                    });
                } else {
                    let _ = conn.tx.send(frame.clone());
                }
            }
        }
    }

    fn flush_held(&self, conn_id: u64) {
        if let Some(c) = self.lock().get_mut(&conn_id) {
            if let Some(frame) = c.held.take() {
                let _ = c.tx.send(frame);
            }
        }
    }

    /// Users and contacts with at least one live subscription.
    pub fn online(&self) -> (HashSet<i64>, HashSet<i64>) {
        let mut users = HashSet::new();
        let mut contacts = HashSet::new();
        for c in self.lock().values() {
            for s in &c.subs {
                match s.who {
                    Subscriber::User { user_id, .. } => {
                        users.insert(user_id);
                    }
                    Subscriber::Contact { contact_id, .. } => {
                        contacts.insert(contact_id);
                    }
                }
            }
        }
        (users, contacts)
    }

    pub fn contact_online(&self, contact_id: i64) -> bool {
        self.online().1.contains(&contact_id)
    }
}

pub async fn cable(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    // Rails accepts any Origin here (Chatwoot disables forgery protection on the cable);
    // the token in the identifier is the only credential.
    ws.protocols([SUBPROTOCOL])
        .on_upgrade(move |socket| connection(socket, state))
}

async fn connection(socket: WebSocket, state: AppState) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let id = state.hub.register(tx);

    // One writer owns the socket, so welcome is always first and pings interleave safely.
    let writer = tokio::spawn(async move {
        if sink
            .send(WsMessage::Text(ServerFrame::Welcome.to_json().into()))
            .await
            .is_err()
        {
            return;
        }
        let period = Duration::from_secs(3);
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                frame = rx.recv() => match frame {
                    Some(f) => if sink.send(WsMessage::Text(f.into())).await.is_err() { break },
                    None => break,
                },
                _ = ping.tick() => {
                    let now = db::now_ms() / 1000;
                    if sink.send(WsMessage::Text(ServerFrame::Ping(now).to_json().into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    });

    while let Some(Ok(msg)) = stream.next().await {
        match msg {
            WsMessage::Text(text) => handle_command(&state, id, text.as_str()),
            WsMessage::Close(_) => break,
            _ => {}
        }
    }
    state.hub.unregister(id);
    writer.abort();
}

fn handle_command(state: &AppState, conn: u64, text: &str) {
    let Ok(cmd) = serde_json::from_str::<ClientCommand>(text) else {
        tracing::debug!("cable: unreadable command {text:?}");
        return;
    };
    match cmd.command.as_str() {
        "subscribe" => {
            let who = RoomIdentifier::parse(&cmd.identifier)
                .filter(|r| r.channel == parley_wire::cable::ROOM_CHANNEL)
                .and_then(|r| {
                    // The hub is keyed by the token's digest, as the database stores it.
                    authorize(state, &r).map(|who| (crate::auth::pubsub_key(&r.pubsub_token), who))
                });
            match who {
                Some((token, who)) => {
                    if state.hub.subscribe(conn, &cmd.identifier, &token, who) {
                        let confirm = ServerFrame::Confirm {
                            identifier: cmd.identifier.clone(),
                        };
                        send_raw(state, conn, confirm.to_json());
                        send_presence(state, conn, &cmd.identifier, who);
                    }
                }
                None => {
                    let reject = ServerFrame::Reject {
                        identifier: cmd.identifier,
                    };
                    send_raw(state, conn, reject.to_json());
                }
            }
        }
        "unsubscribe" => state.hub.unsubscribe(conn, &cmd.identifier),
        "message" if cmd.action().as_deref() == Some("update_presence") => {
            if let Some(who) = state.hub.subscriber(conn, &cmd.identifier) {
                send_presence(state, conn, &cmd.identifier, who);
            }
        }
        _ => {}
    }
}

/// Protocol frames (confirm/reject) bypass the broadcast faults.
fn send_raw(state: &AppState, conn: u64, frame: String) {
    if let Some(c) = state.hub.lock().get(&conn) {
        let _ = c.tx.send(frame);
    }
}

/// RoomChannel's lookup: with a `user_id`, the agent with that pubsub token (and, when an
/// `account_id` is given, a member of it); without, the contact inbox with that token.
fn authorize(state: &AppState, r: &RoomIdentifier) -> Option<Subscriber> {
    state.db.with(|c| {
        let as_user = |c: &rusqlite::Connection| -> Option<Subscriber> {
            let u = db::user_by_pubsub_token(c, &r.pubsub_token).ok()??;
            if r.user_id.is_some_and(|id| id != u.id) {
                return None;
            }
            let account_id = match r.account_id {
                Some(a) => db::is_member(c, a, u.id).ok()?.then_some(a)?,
                None => db::memberships(c, u.id).ok()?.first()?.account.id,
            };
            Some(Subscriber::User {
                user_id: u.id,
                account_id,
            })
        };
        let as_contact = |c: &rusqlite::Connection| -> Option<Subscriber> {
            let ci = db::contact_inbox_by_pubsub(c, &r.pubsub_token).ok()??;
            let contact = db::contact(c, ci.contact_id).ok()??;
            Some(Subscriber::Contact {
                contact_id: contact.id,
                account_id: contact.account_id,
            })
        };
        if r.user_id.is_some() {
            as_user(c)
        } else {
            as_contact(c).or_else(|| as_user(c))
        }
    })
}

fn send_presence(state: &AppState, conn: u64, identifier: &str, who: Subscriber) {
    let account_id = who.account_id();
    let (users, mut contacts) = state.hub.online();
    // As Chatwoot's RoomChannel: only agents are told which contacts are online.
    if !matches!(who, Subscriber::User { .. }) {
        contacts.clear();
    }
    let presence = state.db.with(|c| {
        let members: HashSet<i64> = db::account_users(c, account_id)
            .unwrap_or_default()
            .into_iter()
            .map(|u| u.id)
            .collect();
        let mut p = Presence {
            account_id: Some(account_id),
            ..Default::default()
        };
        for u in users.intersection(&members) {
            p.users.insert(u.to_string(), "online".into());
        }
        for ct in contacts {
            if db::contact(c, ct)
                .ok()
                .flatten()
                .is_some_and(|x| x.account_id == account_id)
            {
                p.contacts.insert(ct.to_string(), "online".into());
            }
        }
        p
    });
    let data = serde_json::to_value(presence).unwrap_or(Value::Null);
    state
        .hub
        .send_to(conn, identifier, "presence.update", &data);
}
