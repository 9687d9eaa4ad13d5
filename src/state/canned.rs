//! The canned-response picker's state: what is searched, what came back, which one is
//! highlighted. Searches are debounced and only the newest answer counts, so a fast typist
//! never sees the results of an older query land over a newer one.

use leptos::prelude::*;
use parley_core::canned::{Context, Variables};
use parley_wire::CannedResponse;

use crate::effects::clock::Timer;
use crate::i18n::t_args;
use crate::state::conversation::ChatState;

/// Wait this long after the last keystroke before asking the server.
const DEBOUNCE_MS: u64 = 150;

#[derive(Debug, Clone, Copy)]
pub struct CannedSearch {
    /// The `/word` being typed: where its slash is (a byte offset in the text) and the
    /// query after it; `None` when the picker is closed.
    pub at: RwSignal<Option<(usize, String)>>,
    pub results: RwSignal<Vec<CannedResponse>>,
    pub active: RwSignal<usize>,
    pub loading: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    newest: StoredValue<u64>,
    debounce: StoredValue<Option<Timer>, LocalStorage>,
}

impl Default for CannedSearch {
    fn default() -> Self {
        Self::new()
    }
}

impl CannedSearch {
    pub fn new() -> Self {
        CannedSearch {
            at: RwSignal::new(None),
            results: RwSignal::new(Vec::new()),
            active: RwSignal::new(0),
            loading: RwSignal::new(false),
            error: RwSignal::new(None),
            newest: StoredValue::new(0),
            debounce: StoredValue::new_local(None),
        }
    }

    pub fn is_open(&self) -> bool {
        self.at.with_untracked(Option::is_some)
    }

    /// The text or caret changed: open, search again, or close.
    pub fn update(self, chat: ChatState, found: Option<(usize, &str)>) {
        let Some((slash, query)) = found else {
            self.close();
            return;
        };
        let query = query.to_owned();
        if self
            .at
            .with_untracked(|a| a.as_ref() == Some(&(slash, query.clone())))
        {
            return;
        }
        self.at.set(Some((slash, query.clone())));
        let seq = self.newest.get_value() + 1;
        self.newest.set_value(seq);
        let timer = Timer::after(DEBOUNCE_MS, move || {
            self.loading.set(true);
            // The chat's own: it stops when the chat goes.
            chat.spawn(async move {
                let answer = chat.api().canned_responses(chat.account_id, &query).await;
                if self.newest.try_get_value() != Some(seq) {
                    return; // a newer query is on its way
                }
                self.loading.set(false);
                match answer {
                    Ok(list) => {
                        self.results.set(list);
                        self.active.set(0);
                        self.error.set(None);
                    }
                    Err(e) => self.error.set(Some(t_args(
                        "canned.load_failed",
                        &[("error", &e.to_string())],
                    ))),
                }
            });
        });
        self.debounce.set_value(Some(timer));
    }

    /// Also called by the composer's blur, which can come after the chat is gone (its
    /// textarea removed while focused): then there is nothing to close.
    pub fn close(self) {
        let Some(open) = self.at.try_with_untracked(Option::is_some) else {
            return;
        };
        if open {
            self.at.set(None);
        }
        let _ = self.newest.try_update_value(|n| *n += 1);
        let _ = self.debounce.try_set_value(None);
        self.loading.set(false);
        self.error.set(None);
        self.results.set(Vec::new());
    }

    /// Arrow keys: move the highlight, wrapping around.
    pub fn move_active(self, delta: i32) {
        let len = self.results.with_untracked(Vec::len) as i32;
        if len == 0 {
            return;
        }
        self.active
            .update(|a| *a = ((*a as i32 + delta).rem_euclid(len)) as usize);
    }

    pub fn highlighted(self) -> Option<CannedResponse> {
        let i = self.active.get_untracked();
        self.results.with_untracked(|r| r.get(i).cloned())
    }
}

/// Chatwoot's variables for this conversation and agent.
pub fn variables(chat: ChatState) -> Variables {
    let profile = chat.profile.get_value();
    chat.conversation.with_untracked(|c| {
        let contact = c.as_ref().map(|c| &c.meta.sender);
        Variables::from_context(&Context {
            contact_name: contact.and_then(|c| c.name.as_deref()),
            contact_email: contact.and_then(|c| c.email.as_deref()),
            contact_phone: contact.and_then(|c| c.phone_number.as_deref()),
            contact_id: contact.map(|c| c.id),
            contact_custom: contact.map(|c| &c.custom_attributes),
            conversation_id: Some(chat.conversation_id),
            conversation_custom: c.as_ref().map(|c| &c.custom_attributes),
            agent_name: Some(profile.available_name.as_deref().unwrap_or(&profile.name)),
            agent_email: Some(profile.email.as_str()),
            inbox_id: c.as_ref().map(|c| c.inbox_id),
            inbox_name: None,
        })
    })
}
