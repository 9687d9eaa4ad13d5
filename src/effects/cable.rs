//! The live connection: Chatwoot's ActionCable `RoomChannel` over a WebSocket.
//!
//! Owns the socket and the timers; reports the connection state and each event of this
//! agent into the chat state. Pings arrive every 3 s, so 6 s of silence is a dead socket;
//! reconnects back off exponentially with jitter; after every re-subscribe the missed
//! messages are fetched (`messages?after=`), since a broadcast during the outage is gone.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use parley_wire::cable::CLIENT_SUBPROTOCOLS;
use parley_wire::{CableEvent, ClientCommand, RoomIdentifier, ServerFrame};

use crate::effects::clock::{now_ms, Interval, Timer};
use crate::effects::page::{browser_online, WindowListener};
use crate::effects::socket::{Socket, SocketEvent};
use crate::state::connection::ConnectionState;
use crate::state::conversation::ChatState;

const STALE_AFTER_MS: u64 = 6_000;
/// RoomChannel sends no reject for a bad token: no confirm in this long means refused.
const CONFIRM_TIMEOUT_MS: u64 = 10_000;
const PRESENCE_EVERY_MS: u64 = 20_000;
const BACKOFF_BASE_MS: f64 = 1_000.0;
const BACKOFF_MAX_MS: f64 = 30_000.0;

/// The running connection; dropping it closes the socket and stops every timer.
pub struct LiveCable {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    url: String,
    identifier: String,
    chat: ChatState,
    socket: Option<Socket>,
    /// Failed attempts since the last confirmed subscription.
    attempts: u32,
    last_heard_ms: u64,
    opened_ms: u64,
    subscribed: bool,
    ever_subscribed: bool,
    reconnect: Option<Timer>,
    _watchdog: Option<Interval>,
    _presence: Option<Interval>,
    _listeners: Vec<WindowListener>,
}

impl LiveCable {
    pub fn start(url: &str, chat: ChatState) -> LiveCable {
        let profile = chat.profile.get_value();
        let identifier = RoomIdentifier::agent(&profile.pubsub_token, chat.account_id, profile.id)
            .to_identifier();
        let inner = Rc::new(RefCell::new(Inner {
            url: url.to_owned(),
            identifier,
            chat,
            socket: None,
            attempts: 0,
            last_heard_ms: now_ms(),
            opened_ms: now_ms(),
            subscribed: false,
            ever_subscribed: false,
            reconnect: None,
            _watchdog: None,
            _presence: None,
            _listeners: Vec::new(),
        }));
        let weak = Rc::downgrade(&inner);
        {
            let mut me = inner.borrow_mut();
            let w = weak.clone();
            me._watchdog = Some(Interval::every(1_000, move || with(&w, Inner::check_alive)));
            let w = weak.clone();
            me._presence = Some(Interval::every(PRESENCE_EVERY_MS, move || {
                with(&w, |me, _| me.perform("update_presence"))
            }));
            let w = weak.clone();
            let w2 = weak.clone();
            me._listeners = [
                WindowListener::on_window("offline", move || {
                    with(&w, |me, _| me.set_state(ConnectionState::Offline))
                }),
                // Back online: try at once rather than waiting out the backoff.
                WindowListener::on_window("online", move || {
                    with(&w2, |me, weak| {
                        if !me.subscribed {
                            me.attempts = 0;
                            me.connect(weak);
                        }
                    })
                }),
            ]
            .into_iter()
            .flatten()
            .collect();
            me.connect(&weak);
        }
        LiveCable { inner }
    }
}

impl Drop for LiveCable {
    fn drop(&mut self) {
        let mut me = self.inner.borrow_mut();
        me.reconnect = None;
        me.socket = None;
        me._watchdog = None;
        me._presence = None;
        me._listeners.clear();
    }
}

/// Run `f` on the connection if it still exists (callbacks may outlive it).
fn with(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Inner, &Weak<RefCell<Inner>>)) {
    if let Some(inner) = weak.upgrade() {
        if let Ok(mut me) = inner.try_borrow_mut() {
            f(&mut me, weak);
        }
    }
}

impl Inner {
    fn set_state(&self, state: ConnectionState) {
        if self.chat.connection.get_untracked() != state {
            self.chat.connection.set(state);
        }
    }

    fn connect(&mut self, weak: &Weak<RefCell<Inner>>) {
        self.reconnect = None;
        self.subscribed = false;
        self.socket = None;
        if !browser_online() {
            self.set_state(ConnectionState::Offline);
            return;
        }
        if self.ever_subscribed || self.attempts > 0 {
            self.set_state(ConnectionState::Reconnecting);
        } else {
            self.set_state(ConnectionState::Connecting);
        }
        self.opened_ms = now_ms();
        self.last_heard_ms = now_ms();
        let w = weak.clone();
        match Socket::open(&self.url, &CLIENT_SUBPROTOCOLS, move |ev| {
            with(&w, |me, weak| me.on_socket(ev, weak))
        }) {
            Ok(socket) => self.socket = Some(socket),
            Err(_) => self.schedule_reconnect(weak),
        }
    }

    fn schedule_reconnect(&mut self, weak: &Weak<RefCell<Inner>>) {
        self.socket = None;
        self.subscribed = false;
        self.attempts += 1;
        self.set_state(if browser_online() {
            ConnectionState::Reconnecting
        } else {
            ConnectionState::Offline
        });
        // Full jitter over an exponential ceiling, so a restarted server is not stampeded.
        let ceiling =
            (BACKOFF_BASE_MS * 2f64.powi(self.attempts.min(10) as i32 - 1)).min(BACKOFF_MAX_MS);
        let delay = ceiling * (0.5 + 0.5 * js_sys::Math::random());
        let w = weak.clone();
        self.reconnect = Some(Timer::after(delay as u64, move || {
            with(&w, |me, weak| me.connect(weak))
        }));
    }

    fn on_socket(&mut self, ev: SocketEvent, weak: &Weak<RefCell<Inner>>) {
        match ev {
            SocketEvent::Open => self.last_heard_ms = now_ms(),
            SocketEvent::Text(text) => {
                self.last_heard_ms = now_ms();
                match ServerFrame::parse(&text) {
                    Ok(frame) => self.on_frame(frame, weak),
                    Err(e) => leptos::logging::warn!("parley: unreadable cable frame: {e}"),
                }
            }
            SocketEvent::Closed { .. } => self.schedule_reconnect(weak),
        }
    }

    fn on_frame(&mut self, frame: ServerFrame, weak: &Weak<RefCell<Inner>>) {
        match frame {
            ServerFrame::Welcome => {
                self.send(&ClientCommand::subscribe(&self.identifier).to_json());
            }
            ServerFrame::Ping(_) => {}
            ServerFrame::Confirm { identifier } if self.is_ours(&identifier) => {
                self.subscribed = true;
                self.attempts = 0;
                self.set_state(ConnectionState::Connected);
                if self.ever_subscribed {
                    leptos::task::spawn_local(self.chat.resync());
                }
                self.ever_subscribed = true;
            }
            ServerFrame::Reject { identifier } if self.is_ours(&identifier) => {
                self.refused();
            }
            ServerFrame::Broadcast {
                identifier,
                message,
            } if self.is_ours(&identifier) => match CableEvent::from_message(&message) {
                Ok(event) => self.chat.on_cable_event(event),
                Err(e) => leptos::logging::warn!("parley: unreadable cable event: {e}"),
            },
            ServerFrame::Disconnect { reconnect, reason } => {
                if reconnect {
                    self.schedule_reconnect(weak);
                } else {
                    self.socket = None;
                    self.set_state(ConnectionState::Offline);
                    self.chat.notice.set(Some(format!(
                        "The server closed the live connection ({}). Reload to reconnect.",
                        reason.unwrap_or_else(|| "no reason given".into())
                    )));
                }
            }
            _ => {}
        }
    }

    fn is_ours(&self, identifier: &str) -> bool {
        identifier == self.identifier
            || RoomIdentifier::parse(identifier) == RoomIdentifier::parse(&self.identifier)
    }

    fn refused(&mut self) {
        self.socket = None;
        self.set_state(ConnectionState::Offline);
        self.chat.notice.set(Some(
            "The server refused the live connection for this agent. Sign out and sign in again."
                .into(),
        ));
    }

    fn send(&self, text: &str) {
        if let Some(socket) = &self.socket {
            socket.send(text);
        }
    }

    fn perform(&mut self, action: &str) {
        if self.subscribed {
            self.send(&ClientCommand::perform(&self.identifier, action).to_json());
        }
    }

    fn check_alive(&mut self, weak: &Weak<RefCell<Inner>>) {
        if self.socket.is_none() {
            return;
        }
        let now = now_ms();
        if now.saturating_sub(self.last_heard_ms) > STALE_AFTER_MS {
            // No ping for two periods: the socket is dead even if the browser thinks not.
            self.schedule_reconnect(weak);
        } else if !self.subscribed && now.saturating_sub(self.opened_ms) > CONFIRM_TIMEOUT_MS {
            self.refused();
        }
    }
}
