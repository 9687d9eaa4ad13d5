//! ActionCable on `/cable`, as Rails speaks it to `@rails/actioncable`: subprotocol
//! `actioncable-v1-json`, `welcome` first, a ping every 3 s, `RoomChannel` subscriptions keyed
//! by `pubsub_token` (an agent's or a contact's), and broadcasts `{identifier, message}`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::{SinkExt, StreamExt};
use parley_wire::cable::{ClientCommand, Presence, RoomIdentifier, ServerFrame, SUBPROTOCOL};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::connections::ConnectionSlot;
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

/// A frame as it goes on the wire: cloning it shares the bytes, so one broadcast is
/// serialized once however many subscribers receive it.
type Frame = Utf8Bytes;

/// Frames one connection may have waiting, whatever their size (the byte budget is the
/// other bound).
const QUEUE_FRAMES: usize = 4096;
/// The WebSocket's read buffer; a longer command is read in several pieces.
const READ_BUFFER: usize = 4096;
/// Bytes gathered before tungstenite writes to the socket (its default is 128 KiB).
const WRITE_BUFFER: usize = 16 * 1024;
/// Frames the writer hands to the socket before one flush.
const WRITE_BATCH: usize = 64;

struct Subscription {
    identifier: Arc<str>,
    token: Arc<str>,
    who: Subscriber,
}

/// The sending end of one connection's bounded queue; cloning it is one reference count.
#[derive(Clone)]
struct Outbox(Arc<OutboxInner>);

struct OutboxInner {
    tx: mpsc::Sender<Frame>,
    /// Bytes waiting in the queue; the writer subtracts what it takes.
    queued: Arc<AtomicUsize>,
    budget: usize,
    /// Cancelled when the client fell behind: its connection task then closes the socket.
    kick: CancellationToken,
}

impl Outbox {
    /// Queues without waiting. False (and the client is kicked) when the queue is full: a
    /// client that does not read must never hold memory or slow anyone else's broadcast.
    fn push(&self, frame: Frame) -> bool {
        let o = &self.0;
        let len = frame.len();
        let before = o.queued.fetch_add(len, Ordering::Relaxed);
        // One frame larger than the budget still goes to a client that is keeping up.
        let over_budget = before > 0 && before + len > o.budget;
        if over_budget || o.tx.try_send(frame).is_err() {
            o.queued.fetch_sub(len, Ordering::Relaxed);
            o.kick.cancel();
            return false;
        }
        true
    }
}

struct Conn {
    outbox: Outbox,
    subs: Vec<Subscription>,
    /// `cable_reorder`: a frame held back to be sent after the next one.
    held: Option<Frame>,
}

#[derive(Default)]
struct Registry {
    conns: HashMap<u64, Conn>,
    /// token → the (connection, identifier) of every subscription with it, so a broadcast
    /// finds its recipients without visiting every connection.
    by_token: HashMap<Arc<str>, Vec<(u64, Arc<str>)>>,
}

impl Registry {
    fn drop_subscription(&mut self, conn: u64, sub: &Subscription) {
        if let Some(list) = self.by_token.get_mut(&sub.token) {
            list.retain(|(c, id)| !(*c == conn && **id == *sub.identifier));
            if list.is_empty() {
                self.by_token.remove(&sub.token);
            }
        }
    }

    fn remove_conn(&mut self, id: u64) {
        if let Some(c) = self.conns.remove(&id) {
            for s in &c.subs {
                self.drop_subscription(id, s);
            }
        }
    }
}

/// Open cable connections counted in total and per client address; the counts are taken
/// before the upgrade so a refused client costs no WebSocket.
#[derive(Default)]
struct Occupancy {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// A place among the open cable connections; given back on drop.
pub struct CableSlot {
    hub: Arc<Hub>,
    addr: IpAddr,
}

impl Drop for CableSlot {
    fn drop(&mut self) {
        let mut o = self.hub.occupancy();
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.per_address.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                o.per_address.remove(&self.addr);
            }
        }
    }
}

/// Why a subscribe command was not confirmed.
#[derive(Debug, PartialEq, Eq)]
enum SubscribeRefusal {
    /// The very identifier again: Rails ignores the repeat.
    Repeat,
    /// The same channel identity under another identifier string (extra keys, another key
    /// order), or one subscription too many: rejected.
    Reject,
}

/// Every open cable connection and its subscriptions. Broadcasting goes through here so
/// that injected cable faults apply to every frame alike.
pub struct Hub {
    registry: Mutex<Registry>,
    occupancy: Mutex<Occupancy>,
    next_id: AtomicU64,
    faults: Arc<Faults>,
    limits: Limits,
}

impl Hub {
    pub fn new(faults: Arc<Faults>, limits: Limits) -> Arc<Hub> {
        Arc::new(Hub {
            registry: Mutex::new(Registry::default()),
            occupancy: Mutex::new(Occupancy::default()),
            next_id: AtomicU64::new(1),
            faults,
            limits,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn occupancy(&self) -> std::sync::MutexGuard<'_, Occupancy> {
        self.occupancy.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more connection from `addr`, or the refusal to answer.
    fn reserve(self: &Arc<Self>, addr: IpAddr) -> Result<CableSlot, (StatusCode, &'static str)> {
        let caps = &self.limits.cable;
        let mut o = self.occupancy();
        if o.total >= caps.max_connections {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "too many live connections on this server; try again later",
            ));
        }
        let mine = o.per_address.entry(addr).or_default();
        if *mine >= caps.max_per_address {
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                "too many live connections from this address",
            ));
        }
        *mine += 1;
        o.total += 1;
        Ok(CableSlot {
            hub: Arc::clone(self),
            addr,
        })
    }

    fn register(&self, outbox: Outbox) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().conns.insert(
            id,
            Conn {
                outbox,
                subs: vec![],
                held: None,
            },
        );
        id
    }

    fn unregister(&self, id: u64) {
        self.lock().remove_conn(id);
    }

    fn subscription_count(&self, conn: u64) -> usize {
        self.lock().conns.get(&conn).map_or(0, |c| c.subs.len())
    }

    /// Adds the subscription unless this connection already has the identifier, already
    /// has the same identity (token and subscriber: an identifier's extra keys do not make
    /// a new one), or is at its cap.
    fn subscribe(
        &self,
        conn: u64,
        identifier: &str,
        token: &str,
        who: Subscriber,
    ) -> Result<(), SubscribeRefusal> {
        let max = self.limits.cable.max_subscriptions;
        let mut reg = self.lock();
        let Some(c) = reg.conns.get_mut(&conn) else {
            return Err(SubscribeRefusal::Reject);
        };
        if c.subs.iter().any(|s| &*s.identifier == identifier) {
            return Err(SubscribeRefusal::Repeat);
        }
        if c.subs.len() >= max || c.subs.iter().any(|s| &*s.token == token && s.who == who) {
            return Err(SubscribeRefusal::Reject);
        }
        let sub = Subscription {
            identifier: identifier.into(),
            token: token.into(),
            who,
        };
        let entry = (conn, Arc::clone(&sub.identifier));
        let token = Arc::clone(&sub.token);
        c.subs.push(sub);
        reg.by_token.entry(token).or_default().push(entry);
        Ok(())
    }

    fn unsubscribe(&self, conn: u64, identifier: &str) {
        let mut reg = self.lock();
        let Some(c) = reg.conns.get_mut(&conn) else {
            return;
        };
        let Some(i) = c.subs.iter().position(|s| &*s.identifier == identifier) else {
            return;
        };
        let sub = c.subs.remove(i);
        reg.drop_subscription(conn, &sub);
    }

    fn subscriber(&self, conn: u64, identifier: &str) -> Option<Subscriber> {
        self.lock()
            .conns
            .get(&conn)?
            .subs
            .iter()
            .find(|s| &*s.identifier == identifier)
            .map(|s| s.who)
    }

    /// Sends `{event, data}` to every subscription whose token is in `tokens`.
    ///
    /// The message is serialized once and each distinct identifier's frame built once; the
    /// registry lock is held only to collect the recipients, and queuing never waits: a
    /// client whose queue is full is disconnected instead of slowing the others.
    pub fn broadcast(self: &Arc<Self>, tokens: &[String], event: &str, data: &Value) {
        let message = json!({ "event": event, "data": data }).to_string();
        let f = self.faults.snapshot();
        if f.cable_reorder || f.cable_duplicate || f.cable_delay_ms > 0 {
            return self.broadcast_with_faults(tokens, &message);
        }
        let recipients: Vec<(u64, Outbox, Arc<str>)> = {
            let reg = self.lock();
            let mut seen = HashSet::new();
            tokens
                .iter()
                .filter(|t| seen.insert(t.as_str()))
                .filter_map(|t| reg.by_token.get(t.as_str()))
                .flatten()
                .filter_map(|(conn, identifier)| {
                    let c = reg.conns.get(conn)?;
                    Some((*conn, c.outbox.clone(), Arc::clone(identifier)))
                })
                .collect()
        };
        let mut frames: HashMap<&str, Frame> = HashMap::new();
        let mut behind = vec![];
        for (conn, outbox, identifier) in &recipients {
            let frame = frames
                .entry(&**identifier)
                .or_insert_with(|| broadcast_frame(identifier, &message))
                .clone();
            if !outbox.push(frame) {
                behind.push(*conn);
            }
        }
        self.drop_behind(&behind);
    }

    /// The test-controls path: frames may be delayed, duplicated or reordered per connection.
    fn broadcast_with_faults(self: &Arc<Self>, tokens: &[String], message: &str) {
        let tokens: HashSet<&str> = tokens.iter().map(String::as_str).collect();
        let mut reg = self.lock();
        let ids: Vec<u64> = reg.conns.keys().copied().collect();
        for id in ids {
            let Some(conn) = reg.conns.get_mut(&id) else {
                continue;
            };
            let frames: Vec<Frame> = conn
                .subs
                .iter()
                .filter(|s| tokens.contains(&*s.token))
                .map(|s| broadcast_frame(&s.identifier, message))
                .collect();
            for frame in frames {
                self.deliver(id, conn, frame);
            }
        }
    }

    /// Forgets the connections that fell behind (already kicked by their outbox).
    fn drop_behind(&self, conns: &[u64]) {
        if conns.is_empty() {
            return;
        }
        let mut reg = self.lock();
        for id in conns {
            tracing::info!("cable: connection {id} does not read its frames; disconnected");
            reg.remove_conn(*id);
        }
    }

    /// Sends to one subscription of one connection (presence goes only to the subscriber).
    fn send_to(self: &Arc<Self>, conn: u64, identifier: &str, event: &str, data: &Value) {
        let message = json!({ "event": event, "data": data }).to_string();
        let frame = broadcast_frame(identifier, &message);
        let mut reg = self.lock();
        if let Some(c) = reg.conns.get_mut(&conn) {
            self.deliver(conn, c, frame);
        }
    }

    /// Protocol frames (confirm/reject) bypass the broadcast faults.
    fn send_raw(&self, conn: u64, frame: String) {
        let outbox = self.lock().conns.get(&conn).map(|c| c.outbox.clone());
        if outbox.is_some_and(|o| !o.push(frame.into())) {
            self.drop_behind(&[conn]);
        }
    }

    /// The one place where cable faults bend delivery.
    fn deliver(self: &Arc<Self>, conn_id: u64, conn: &mut Conn, frame: Frame) {
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
                    let outbox = conn.outbox.clone();
                    let frame = frame.clone();
                    let delay = Duration::from_millis(f.cable_delay_ms);
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        outbox.push(frame);
                    });
                } else {
                    // A full queue kicks the client; its connection task unregisters it.
                    conn.outbox.push(frame.clone());
                }
            }
        }
    }

    fn flush_held(&self, conn_id: u64) {
        if let Some(c) = self.lock().conns.get_mut(&conn_id) {
            if let Some(frame) = c.held.take() {
                c.outbox.push(frame);
            }
        }
    }

    /// Users and contacts with at least one live subscription.
    pub fn online(&self) -> (HashSet<i64>, HashSet<i64>) {
        let mut users = HashSet::new();
        let mut contacts = HashSet::new();
        for c in self.lock().conns.values() {
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
        let reg = self.lock();
        let mut subs = reg.conns.values().flat_map(|c| &c.subs);
        subs.any(
            |s| matches!(s.who, Subscriber::Contact { contact_id: id, .. } if id == contact_id),
        )
    }
}

/// `{"identifier":…,"message":…}` around an already serialized message, as
/// `ServerFrame::Broadcast` writes it.
fn broadcast_frame(identifier: &str, message: &str) -> Frame {
    let identifier = Value::from(identifier).to_string();
    let mut frame = String::with_capacity(identifier.len() + message.len() + 28);
    frame.push_str("{\"identifier\":");
    frame.push_str(&identifier);
    frame.push_str(",\"message\":");
    frame.push_str(message);
    frame.push('}');
    frame.into()
}

/// The address one client is counted under: an IPv6 client usually holds a whole /64, so
/// its connections count together; an IPv4-mapped address counts as the IPv4 one.
fn client_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

pub async fn cable(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(connection): Extension<ConnectionSlot>,
) -> Response {
    let slot = match state.hub.reserve(client_address(peer.ip())) {
        Ok(slot) => slot,
        Err((status, why)) => {
            tracing::info!("cable: refused {peer}: {why}");
            return (status, why).into_response();
        }
    };
    let max_in = state.hub.limits.cable.max_incoming_bytes;
    // Rails accepts any Origin here (Chatwoot disables forgery protection on the cable);
    // the token in the identifier is the only credential.
    ws.protocols([SUBPROTOCOL])
        .max_message_size(max_in)
        .max_frame_size(max_in)
        // Commands are small: tungstenite's default 128 KiB read buffer per connection
        // would be most of a connection's memory.
        .read_buffer_size(READ_BUFFER)
        // The write buffer keeps the capacity of the largest batch it held: bounded, it
        // still gathers small frames into one write.
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            // The socket keeps its place among the server's connections while it lives.
            let _connection = connection;
            serve_socket(socket, state, slot).await
        })
}

async fn serve_socket(socket: WebSocket, state: AppState, slot: CableSlot) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Frame>(QUEUE_FRAMES);
    let queued = Arc::new(AtomicUsize::new(0));
    let kick = CancellationToken::new();
    let outbox = Outbox(Arc::new(OutboxInner {
        tx,
        queued: Arc::clone(&queued),
        budget: state.hub.limits.cable.queue_bytes,
        kick: kick.clone(),
    }));
    let id = state.hub.register(outbox);
    // Its place among the open connections is given back when this task ends.
    let _slot = slot;
    // A write the client does not take within this long means it stopped reading.
    let stall = state.hub.limits.idle_timeout;

    // One writer owns the socket, so welcome is always first and pings interleave safely.
    let mut writer = tokio::spawn(async move {
        let welcome = WsMessage::Text(ServerFrame::Welcome.to_json().into());
        if !matches!(
            tokio::time::timeout(stall, sink.send(welcome)).await,
            Ok(Ok(()))
        ) {
            return;
        }
        let period = Duration::from_secs(3);
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            let sent = tokio::select! {
                frame = rx.recv() => match frame {
                    Some(first) => {
                        // Everything already waiting goes out with one flush.
                        let write = async {
                            let mut next = Some(first);
                            let mut n = 0;
                            while let Some(f) = next.take() {
                                queued.fetch_sub(f.len(), Ordering::Relaxed);
                                sink.feed(WsMessage::Text(f)).await?;
                                n += 1;
                                if n < WRITE_BATCH {
                                    next = rx.try_recv().ok();
                                }
                            }
                            sink.flush().await
                        };
                        tokio::time::timeout(stall, write).await
                    }
                    None => break,
                },
                _ = ping.tick() => {
                    let now = db::now_ms() / 1000;
                    let frame = WsMessage::Text(ServerFrame::Ping(now).to_json().into());
                    tokio::time::timeout(stall, sink.send(frame)).await
                }
            };
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
        }
    });

    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(WsMessage::Text(text))) => handle_command(&state, id, text.as_str()),
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    // An oversized frame lands here too: tungstenite refuses it from its header.
                    tracing::debug!("cable: connection {id} closed: {e}");
                    break;
                }
            },
            _ = kick.cancelled() => break,
            _ = &mut writer => break,
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
        // At its cap a connection is refused before any database lookup.
        "subscribe"
            if state.hub.subscription_count(conn) >= state.hub.limits.cable.max_subscriptions =>
        {
            let reject = ServerFrame::Reject {
                identifier: cmd.identifier,
            };
            send_raw(state, conn, reject.to_json());
        }
        "subscribe" => {
            let who = RoomIdentifier::parse(&cmd.identifier)
                .filter(|r| r.channel == parley_wire::cable::ROOM_CHANNEL)
                .and_then(|r| {
                    // The hub is keyed by the token's digest, as the database stores it.
                    authorize(state, &r).map(|who| (crate::auth::pubsub_key(&r.pubsub_token), who))
                });
            let outcome = match who {
                Some((token, who)) => state
                    .hub
                    .subscribe(conn, &cmd.identifier, &token, who)
                    .map(|()| who),
                None => Err(SubscribeRefusal::Reject),
            };
            match outcome {
                Ok(who) => {
                    let confirm = ServerFrame::Confirm {
                        identifier: cmd.identifier.clone(),
                    };
                    send_raw(state, conn, confirm.to_json());
                    send_presence(state, conn, &cmd.identifier, who);
                }
                Err(SubscribeRefusal::Repeat) => {}
                Err(SubscribeRefusal::Reject) => {
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
    state.hub.send_raw(conn, frame);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_address(a), client_address(b));
        assert_ne!(client_address(a), client_address(other));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client_address(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_address(mapped), v4);
    }

    #[test]
    fn a_broadcast_frame_reads_as_the_wire_type_says() {
        let message =
            json!({"event": "message.created", "data": {"id": 1, "content": "a \"quote\""}});
        let frame = broadcast_frame(
            r#"{"channel":"RoomChannel","pubsub_token":"t"}"#,
            &message.to_string(),
        );
        let parsed = ServerFrame::parse(&frame).unwrap();
        assert_eq!(
            parsed,
            ServerFrame::Broadcast {
                identifier: r#"{"channel":"RoomChannel","pubsub_token":"t"}"#.into(),
                message,
            }
        );
    }
}
