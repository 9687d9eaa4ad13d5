//! Typing, both ways: who is typing to the agent (each typer expires 30 s after their last
//! `typing_on`, so a lost `typing_off` never leaves the indicator stuck), and the agent's own
//! bursts (one `on` per burst, `off` after 4 s idle, on send and on leaving).

use leptos::prelude::*;
use parley_wire::Sender;

use crate::effects::clock::{now_ms, Timer};
use crate::i18n::{t, t_args};

/// Chatwoot's dashboard auto-off for remote typers.
pub const REMOTE_EXPIRY_MS: u64 = 30_000;
/// Chatwoot's `createTypingIndicator(on, off, 4000)`.
pub const LOCAL_IDLE_MS: u64 = 4_000;

#[derive(Debug, Clone, PartialEq)]
struct Typer {
    key: String,
    name: String,
    expires_at_ms: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct TypingState {
    /// Names of who is typing now, in the order they started.
    pub names: RwSignal<Vec<String>>,
    typers: StoredValue<Vec<Typer>>,
    expiry: StoredValue<Option<Timer>, LocalStorage>,
    /// The agent's own burst (see `agent_typing`).
    pub(crate) local_active: StoredValue<bool>,
    pub(crate) local_idle: StoredValue<Option<Timer>, LocalStorage>,
}

impl Default for TypingState {
    fn default() -> Self {
        Self::new()
    }
}

fn typer_key(sender: &Sender) -> String {
    match sender {
        Sender::User(u) => format!("user:{}", u.id),
        Sender::Contact(c) => format!("contact:{}", c.id),
        Sender::AgentBot(b) | Sender::CaptainAssistant(b) => format!("bot:{}", b.id),
        Sender::Unknown => "unknown".into(),
    }
}

impl TypingState {
    pub fn new() -> Self {
        TypingState {
            names: RwSignal::new(Vec::new()),
            typers: StoredValue::new(Vec::new()),
            expiry: StoredValue::new_local(None),
            local_active: StoredValue::new(false),
            local_idle: StoredValue::new_local(None),
        }
    }

    pub fn remote_on(self, sender: &Sender, is_private: bool) {
        let key = typer_key(sender);
        let mut name = sender
            .display_name()
            .unwrap_or_else(|| t("typing.someone"))
            .to_owned();
        if is_private {
            name = t_args("typing.private_note", &[("name", &name)]);
        }
        let expires_at_ms = now_ms() + REMOTE_EXPIRY_MS;
        self.typers
            .update_value(|typers| match typers.iter_mut().find(|t| t.key == key) {
                Some(t) => {
                    t.expires_at_ms = expires_at_ms;
                    t.name = name;
                }
                None => typers.push(Typer {
                    key,
                    name,
                    expires_at_ms,
                }),
            });
        self.publish();
    }

    pub fn remote_off(self, sender: &Sender) {
        let key = typer_key(sender);
        let removed = self
            .typers
            .try_update_value(|typers| {
                let before = typers.len();
                typers.retain(|t| t.key != key);
                before != typers.len()
            })
            .unwrap_or(false);
        if removed {
            self.publish();
        }
    }

    /// Drop expired typers, update the names, and wake at the next expiry.
    fn publish(self) {
        let now = now_ms();
        let (names, next) = self
            .typers
            .try_update_value(|typers| {
                typers.retain(|t| t.expires_at_ms > now);
                (
                    typers.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                    typers.iter().map(|t| t.expires_at_ms).min(),
                )
            })
            .unwrap_or_default();
        if self
            .names
            .try_with_untracked(|n| *n != names)
            .unwrap_or(false)
        {
            self.names.set(names);
        }
        let timer =
            next.map(|at| Timer::after(at.saturating_sub(now) + 10, move || self.publish()));
        self.expiry.try_set_value(timer);
    }
}
