//! The live connection: one ActionCable subscription (CONTRACTS.md §4) as a sans-IO state
//! machine.
//!
//! The effects layer owns the WebSocket, one timer and the browser's online/offline events.
//! It feeds [`Input`]s to [`CableConnection::handle`] with the current time and carries out
//! the [`Output`]s, in order; then it arms its timer for
//! [`CableConnection::next_deadline_ms`] and feeds [`Input::Tick`] when it fires. Every
//! decision lives here, so every interleaving of frames, silences and outages is tested
//! natively (`tests/connection.rs`, property tests included).
//!
//! The rules, and why:
//! - Open, wait for `welcome`, then subscribe; `confirm_subscription` means live.
//! - Any frame proves the socket alive. The server pings every 3 s, so
//!   [`ConnectionConfig::stale_after_ms`] of silence means a dead socket even when the
//!   browser has not noticed (a laptop lid, a NAT that forgot us): close it and reconnect.
//! - Reconnects back off exponentially with jitter, so a restarted server is not stampeded
//!   by every agent at once; a confirmed subscription resets the count.
//! - A broadcast sent while the socket was down is gone for good, so every confirm after
//!   the first asks the app to fetch what it missed ([`Output::Resync`]).
//! - RoomChannel never rejects: with a bad token it raises and sends nothing. No confirm
//!   within [`ConnectionConfig::confirm_timeout_ms`] is therefore a refusal, and retrying
//!   would only be refused again.
//! - While the browser says it is offline nothing is attempted; when it is back, the
//!   connection is retried at once rather than after the remaining backoff.
//! - RoomChannel's presence lasts 20 s, so a subscribed client renews it every 20 s, as the
//!   dashboard does.

use parley_wire::{CableEvent, ClientCommand, RoomIdentifier, ServerFrame};

/// Timings of the connection. The defaults are Chatwoot's and `@rails/actioncable`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Silence (no frame at all) after which the socket counts as dead: two ping periods.
    pub stale_after_ms: u64,
    /// No `confirm_subscription` this long after opening counts as a refusal.
    pub confirm_timeout_ms: u64,
    /// How often a subscribed client performs `update_presence`.
    pub presence_every_ms: u64,
    /// The first reconnect's ceiling; each failed attempt doubles it.
    pub backoff_base_ms: u64,
    /// The ceiling never grows past this.
    pub backoff_max_ms: u64,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            stale_after_ms: 6_000,
            confirm_timeout_ms: 10_000,
            presence_every_ms: 20_000,
            backoff_base_ms: 1_000,
            backoff_max_ms: 30_000,
        }
    }
}

/// The connection as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// The first attempt, not yet subscribed.
    Connecting,
    /// Subscribed: live events flow.
    Connected,
    /// Lost the connection (or never got it); trying again after a backoff.
    Reconnecting,
    /// The browser is offline, or the server ended the connection for good.
    Offline,
    /// The server would not subscribe this agent (a bad or expired token); not retried.
    Refused,
}

impl ConnectionStatus {
    /// A stable lowercase name (the app's `data-state`, which end-to-end tests read).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Reconnecting => "reconnecting",
            ConnectionStatus::Offline => "offline",
            ConnectionStatus::Refused => "refused",
        }
    }
}

/// What happened, as the effects layer reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin connecting. Feed [`Input::BrowserOffline`] first if the browser already says
    /// it is offline.
    Start,
    /// The socket asked for by [`Output::OpenSocket`] is open.
    SocketOpened,
    /// A text frame arrived on the open socket.
    SocketText(String),
    /// The socket closed, or could not be opened at all.
    SocketClosed,
    /// Time passed: the deadline from [`CableConnection::next_deadline_ms`] may be due.
    Tick,
    /// The browser's `online` event.
    BrowserOnline,
    /// The browser's `offline` event.
    BrowserOffline,
    /// The connection is no longer wanted (the chat screen went away). Final.
    Stop,
}

/// What to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a WebSocket to the cable URL (offering the ActionCable subprotocols). If that
    /// fails at once, feed [`Input::SocketClosed`].
    OpenSocket,
    /// Close the socket and detach its handlers: nothing from it is wanted any more.
    CloseSocket,
    /// Send this text frame on the open socket.
    Send(String),
    /// The status changed (never repeats the previous one).
    State(ConnectionStatus),
    /// A broadcast on our subscription (boxed: a decoded message dwarfs every other output).
    Event(Box<CableEvent>),
    /// Subscribed again after an outage: fetch the messages missed meanwhile.
    Resync,
    /// A problem the agent should read (the app words it in the agent's language).
    Notice(Notice),
    /// A problem worth a console line but not the agent's attention.
    Warn(String),
}

/// Why live updates stopped for good, as data: the app says it in the agent's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The server closed the connection and asked not to reconnect; `unauthorized` when
    /// it said the agent's credentials are the reason (ActionCable's `unauthorized`).
    ClosedByServer { unauthorized: bool },
    /// The server refused the subscription for this agent.
    Refused,
}

/// Where the connection is in its life.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Created, not started.
    Idle,
    /// A socket is open or opening.
    Live(Socket),
    /// No socket; the next attempt is due at `retry_at_ms`.
    Waiting { retry_at_ms: u64 },
    /// No socket, and none until the browser is back online.
    Offline,
    /// No socket, and none ever again automatically: refused, or the server said not to
    /// reconnect. The status says which.
    Halted,
    /// Stopped by the app. Final.
    Stopped,
}

/// The one socket of a [`Phase::Live`] connection.
#[derive(Debug, Clone, PartialEq)]
struct Socket {
    /// `SocketOpened` arrived: sending is possible.
    open: bool,
    opened_at_ms: u64,
    last_heard_ms: u64,
    subscribe_sent: bool,
    /// `Some` once subscribed: when presence is due next.
    presence_due_ms: Option<u64>,
}

/// The state machine of one ActionCable subscription. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct CableConnection {
    identifier: String,
    /// The identifier parsed once, for comparing echoes that reorder keys.
    room: Option<RoomIdentifier>,
    config: ConnectionConfig,
    phase: Phase,
    /// The last status emitted, so that each change is emitted exactly once.
    status: Option<ConnectionStatus>,
    /// What the browser last said; only `BrowserOffline`/`BrowserOnline` change it.
    online: bool,
    /// Failed attempts since the last confirmed subscription.
    attempts: u32,
    ever_subscribed: bool,
    rng: u64,
}

impl CableConnection {
    /// `identifier` is the exact subscription string (the server echoes it back);
    /// `seed` drives the backoff jitter (pass a random number; tests pass a constant).
    pub fn new(identifier: impl Into<String>, config: ConnectionConfig, seed: u64) -> Self {
        let identifier = identifier.into();
        CableConnection {
            room: RoomIdentifier::parse(&identifier),
            identifier,
            config,
            phase: Phase::Idle,
            status: None,
            online: true,
            attempts: 0,
            ever_subscribed: false,
            rng: seed,
        }
    }

    /// The status last emitted (`None` before the first).
    pub fn status(&self) -> Option<ConnectionStatus> {
        self.status
    }

    /// Failed attempts since the last confirmed subscription.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When to feed [`Input::Tick`] next; `None` when only an input can change anything.
    /// A deadline moves (every frame pushes the silence deadline back), so ask again after
    /// every `handle`.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        match &self.phase {
            Phase::Live(socket) => {
                let stale = socket
                    .last_heard_ms
                    .saturating_add(self.config.stale_after_ms);
                let next = match socket.presence_due_ms {
                    Some(presence) => presence,
                    None => socket
                        .opened_at_ms
                        .saturating_add(self.config.confirm_timeout_ms),
                };
                Some(stale.min(next))
            }
            Phase::Waiting { retry_at_ms } => Some(*retry_at_ms),
            Phase::Idle | Phase::Offline | Phase::Halted | Phase::Stopped => None,
        }
    }

    /// Feed one input at time `now_ms`; returns what to do, in order.
    pub fn handle(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        // Final: a callback that fires after Stop (a late socket event, a timer) gets nothing.
        if self.phase == Phase::Stopped {
            return out;
        }
        match input {
            Input::Start => {
                if self.phase == Phase::Idle {
                    if self.online {
                        self.open(now_ms, &mut out);
                    } else {
                        self.phase = Phase::Offline;
                        self.set_status(ConnectionStatus::Offline, &mut out);
                    }
                }
            }
            Input::SocketOpened => {
                if let Phase::Live(socket) = &mut self.phase {
                    socket.open = true;
                    socket.last_heard_ms = now_ms;
                }
            }
            Input::SocketText(text) => self.on_text(now_ms, &text, &mut out),
            Input::SocketClosed => {
                // The effects layer drops a socket it was told to close, so a close can
                // only come from the live one; anything else is stale and ignored.
                if matches!(self.phase, Phase::Live(_)) {
                    self.schedule_retry(now_ms, &mut out);
                }
            }
            Input::Tick => self.on_tick(now_ms, &mut out),
            Input::BrowserOffline => {
                self.online = false;
                match self.phase {
                    Phase::Live(_) => {
                        // navigator says certainly offline: the socket is dead or about to
                        // be, and a dead one would only be noticed after the silence.
                        out.push(Output::CloseSocket);
                        self.go_offline(&mut out);
                    }
                    Phase::Waiting { .. } => self.go_offline(&mut out),
                    Phase::Idle | Phase::Offline | Phase::Halted | Phase::Stopped => {}
                }
            }
            Input::BrowserOnline => {
                self.online = true;
                if matches!(self.phase, Phase::Offline | Phase::Waiting { .. }) {
                    // The network is back: the backoff was about a network that was not.
                    self.attempts = 0;
                    self.open(now_ms, &mut out);
                }
            }
            Input::Stop => {
                if matches!(self.phase, Phase::Live(_)) {
                    out.push(Output::CloseSocket);
                }
                self.phase = Phase::Stopped;
            }
        }
        out
    }

    fn on_text(&mut self, now_ms: u64, text: &str, out: &mut Vec<Output>) {
        match &mut self.phase {
            // A browser delivers `open` before any message; a frame before it is not ours.
            Phase::Live(socket) if socket.open => {
                // Whatever it says, even unreadable, a frame proves the socket alive.
                socket.last_heard_ms = now_ms;
            }
            _ => return,
        }
        match ServerFrame::parse(text) {
            Ok(frame) => self.on_frame(now_ms, frame, out),
            Err(e) => out.push(Output::Warn(format!("unreadable cable frame: {e}"))),
        }
    }

    /// A frame read from the live, open socket.
    fn on_frame(&mut self, now_ms: u64, frame: ServerFrame, out: &mut Vec<Output>) {
        let ours = match &frame {
            ServerFrame::Confirm { identifier }
            | ServerFrame::Reject { identifier }
            | ServerFrame::Broadcast { identifier, .. } => self.is_ours(identifier),
            _ => true,
        };
        if !ours {
            return;
        }
        let Phase::Live(socket) = &mut self.phase else {
            return;
        };
        match frame {
            ServerFrame::Welcome => {
                if !socket.subscribe_sent {
                    socket.subscribe_sent = true;
                    out.push(Output::Send(
                        ClientCommand::subscribe(&self.identifier).to_json(),
                    ));
                }
            }
            ServerFrame::Ping(_) => {}
            ServerFrame::Confirm { .. } => {
                // A repeated confirm on a subscription already live changes nothing.
                if socket.presence_due_ms.is_none() {
                    // Subscribing already wrote presence; the next renewal is a period away.
                    socket.presence_due_ms =
                        Some(now_ms.saturating_add(self.config.presence_every_ms));
                    self.attempts = 0;
                    self.set_status(ConnectionStatus::Connected, out);
                    if self.ever_subscribed {
                        out.push(Output::Resync);
                    }
                    self.ever_subscribed = true;
                }
            }
            ServerFrame::Reject { .. } => self.refuse(out),
            ServerFrame::Broadcast { message, .. } => match CableEvent::from_message(&message) {
                Ok(event) => out.push(Output::Event(Box::new(event))),
                Err(e) => out.push(Output::Warn(format!("unreadable cable event: {e}"))),
            },
            ServerFrame::Disconnect { reason, reconnect } => {
                out.push(Output::CloseSocket);
                if reconnect {
                    self.schedule_retry(now_ms, out);
                } else {
                    self.phase = Phase::Halted;
                    self.set_status(ConnectionStatus::Offline, out);
                    // The server's own word, for whoever reads the console.
                    out.push(Output::Warn(format!(
                        "the server closed the live connection ({})",
                        reason.as_deref().unwrap_or("no reason given")
                    )));
                    out.push(Output::Notice(Notice::ClosedByServer {
                        unauthorized: reason.as_deref() == Some("unauthorized"),
                    }));
                }
            }
        }
    }

    fn on_tick(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        match &mut self.phase {
            Phase::Live(socket) => {
                // Dead before refused: a silent socket says nothing about the subscription.
                if now_ms
                    >= socket
                        .last_heard_ms
                        .saturating_add(self.config.stale_after_ms)
                {
                    out.push(Output::CloseSocket);
                    self.schedule_retry(now_ms, out);
                    return;
                }
                match socket.presence_due_ms {
                    Some(due) if now_ms >= due => {
                        socket.presence_due_ms =
                            Some(now_ms.saturating_add(self.config.presence_every_ms));
                        out.push(Output::Send(
                            ClientCommand::perform(&self.identifier, "update_presence").to_json(),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        let confirm_by = socket
                            .opened_at_ms
                            .saturating_add(self.config.confirm_timeout_ms);
                        if now_ms >= confirm_by {
                            self.refuse(out);
                        }
                    }
                }
            }
            Phase::Waiting { retry_at_ms } => {
                if now_ms >= *retry_at_ms {
                    self.open(now_ms, out);
                }
            }
            Phase::Idle | Phase::Offline | Phase::Halted | Phase::Stopped => {}
        }
    }

    /// The server echoes the identifier unchanged, but compare parsed identifiers too, in
    /// case a proxy re-encodes the JSON. Two unreadable identifiers are not equal.
    fn is_ours(&self, identifier: &str) -> bool {
        identifier == self.identifier
            || (self.room.is_some() && RoomIdentifier::parse(identifier) == self.room)
    }

    fn open(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        let status = if self.ever_subscribed || self.attempts > 0 {
            ConnectionStatus::Reconnecting
        } else {
            ConnectionStatus::Connecting
        };
        self.set_status(status, out);
        out.push(Output::OpenSocket);
        self.phase = Phase::Live(Socket {
            open: false,
            opened_at_ms: now_ms,
            // A socket that never opens is as dead as one that stops talking.
            last_heard_ms: now_ms,
            subscribe_sent: false,
            presence_due_ms: None,
        });
    }

    fn schedule_retry(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        self.attempts = self.attempts.saturating_add(1);
        let delay = self.backoff_ms(self.attempts);
        self.phase = Phase::Waiting {
            retry_at_ms: now_ms.saturating_add(delay),
        };
        self.set_status(ConnectionStatus::Reconnecting, out);
    }

    fn go_offline(&mut self, out: &mut Vec<Output>) {
        self.phase = Phase::Offline;
        self.set_status(ConnectionStatus::Offline, out);
    }

    fn refuse(&mut self, out: &mut Vec<Output>) {
        out.push(Output::CloseSocket);
        self.phase = Phase::Halted;
        self.set_status(ConnectionStatus::Refused, out);
        out.push(Output::Notice(Notice::Refused));
    }

    fn set_status(&mut self, status: ConnectionStatus, out: &mut Vec<Output>) {
        if self.status != Some(status) {
            self.status = Some(status);
            out.push(Output::State(status));
        }
    }

    /// Full jitter over an exponential ceiling: base * 2^(attempts-1), at most the max,
    /// and a delay between half and all of it.
    fn backoff_ms(&mut self, attempts: u32) -> u64 {
        let doublings = attempts.saturating_sub(1).min(32);
        let ceiling = self
            .config
            .backoff_base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.config.backoff_max_ms);
        let half = ceiling / 2;
        half + (self.random_unit() * (ceiling - half) as f64) as u64
    }

    /// splitmix64: jitter needs no cryptography, only spread and reproducibility, and
    /// splitmix accepts any seed, zero included.
    fn random_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}
