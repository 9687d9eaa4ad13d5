//! The live connection: Chatwoot's ActionCable `RoomChannel` over a WebSocket.
//!
//! Every decision (when to subscribe, when a silent socket is dead, how long to back off,
//! when to resync, what counts as refused) is made by `parley_core::connection`. This is
//! its I/O loop: it owns the socket, one timer armed at the machine's next deadline and the
//! browser's online/offline listeners, turns their callbacks into [`Input`]s and carries
//! out the [`Output`]s.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use parley_core::connection::{CableConnection, ConnectionConfig, Input, Output};
use parley_wire::cable::CLIENT_SUBPROTOCOLS;
use parley_wire::RoomIdentifier;

use crate::effects::clock::{now_ms, Timer};
use crate::effects::page::{browser_online, WindowListener};
use crate::effects::socket::{Socket, SocketEvent};
use crate::state::conversation::{ChatState, ServerEvent};

/// The running connection; dropping it closes the socket and stops the timer and listeners.
pub struct LiveCable {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    url: String,
    chat: ChatState,
    machine: CableConnection,
    socket: Option<Socket>,
    /// The one pending wake-up and the deadline it was armed for.
    wake: Option<(u64, Timer)>,
    _listeners: Vec<WindowListener>,
}

impl LiveCable {
    pub fn start(url: &str, chat: ChatState) -> LiveCable {
        let profile = chat.profile.get_value();
        let identifier = RoomIdentifier::agent(&profile.pubsub_token, chat.account_id, profile.id)
            .to_identifier();
        // Only the jitter is random; a different seed per tab keeps agents out of step.
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        let inner = Rc::new(RefCell::new(Inner {
            url: url.to_owned(),
            chat,
            machine: CableConnection::new(identifier, ConnectionConfig::default(), seed),
            socket: None,
            wake: None,
            _listeners: Vec::new(),
        }));
        let weak = Rc::downgrade(&inner);
        let (on_offline, on_online) = (weak.clone(), weak.clone());
        inner.borrow_mut()._listeners = [
            WindowListener::on_window("offline", move || feed(&on_offline, Input::BrowserOffline)),
            WindowListener::on_window("online", move || feed(&on_online, Input::BrowserOnline)),
        ]
        .into_iter()
        .flatten()
        .collect();
        // The machine assumes online until told otherwise, and no event says so at load.
        if !browser_online() {
            feed(&weak, Input::BrowserOffline);
        }
        feed(&weak, Input::Start);
        LiveCable { inner }
    }
}

impl Drop for LiveCable {
    fn drop(&mut self) {
        let weak = Rc::downgrade(&self.inner);
        if let Ok(mut me) = self.inner.try_borrow_mut() {
            me.run(&weak, Input::Stop);
            me.socket = None;
            me.wake = None;
            me._listeners.clear();
        }
    }
}

/// Hand `input` to the connection if it still exists (callbacks may outlive it).
fn feed(weak: &Weak<RefCell<Inner>>, input: Input) {
    if let Some(inner) = weak.upgrade() {
        if let Ok(mut me) = inner.try_borrow_mut() {
            me.run(weak, input);
        }
    }
}

impl Inner {
    /// Run `input` through the machine and carry out every output, then re-arm the timer.
    fn run(&mut self, weak: &Weak<RefCell<Inner>>, input: Input) {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            for output in self.machine.handle(now_ms(), input) {
                match output {
                    Output::OpenSocket => {
                        let w = weak.clone();
                        match Socket::open(&self.url, &CLIENT_SUBPROTOCOLS, move |ev| {
                            feed(&w, socket_input(ev))
                        }) {
                            Ok(socket) => self.socket = Some(socket),
                            Err(e) => {
                                leptos::logging::warn!("parley: cannot open the cable: {e}");
                                // Reported like any failed connection, so it backs off.
                                inputs.push_back(Input::SocketClosed);
                            }
                        }
                    }
                    // Dropping the socket closes it and detaches its handlers.
                    Output::CloseSocket => self.socket = None,
                    Output::Send(text) => {
                        if let Some(socket) = &self.socket {
                            socket.send(&text);
                        }
                    }
                    // The signal starts at Connecting: setting it to that again would only
                    // re-render the banner.
                    Output::State(state) => {
                        if self.chat.connection.get_untracked() != state {
                            self.chat.connection.set(state);
                        }
                    }
                    Output::Event(event) => {
                        self.chat.apply(ServerEvent::Cable(event));
                    }
                    Output::Resync => self.chat.spawn(self.chat.resync()),
                    Output::Notice(notice) => self
                        .chat
                        .notice
                        .set(Some(crate::reasons::notice_text(&notice).to_owned())),
                    Output::Warn(text) => leptos::logging::warn!("parley: {text}"),
                }
            }
        }
        self.arm_wake(weak);
    }

    /// Keep one timer at the machine's next deadline. A deadline that moved later (every
    /// ping pushes the silence deadline back) keeps the earlier timer: when it fires, the
    /// tick does nothing and the timer is re-armed, which costs less than re-arming on
    /// every frame.
    fn arm_wake(&mut self, weak: &Weak<RefCell<Inner>>) {
        let Some(deadline) = self.machine.next_deadline_ms() else {
            self.wake = None;
            return;
        };
        if self
            .wake
            .as_ref()
            .is_some_and(|(armed, _)| *armed <= deadline)
        {
            return;
        }
        let w = weak.clone();
        let timer = Timer::after(deadline.saturating_sub(now_ms()), move || {
            if let Some(inner) = w.upgrade() {
                if let Ok(mut me) = inner.try_borrow_mut() {
                    // This timer has fired: forget it so that the tick arms the next one.
                    me.wake = None;
                    me.run(&w, Input::Tick);
                }
            }
        });
        self.wake = Some((deadline, timer));
    }
}

fn socket_input(event: SocketEvent) -> Input {
    match event {
        SocketEvent::Open => Input::SocketOpened,
        SocketEvent::Text(text) => Input::SocketText(text),
        SocketEvent::Closed { .. } => Input::SocketClosed,
    }
}
