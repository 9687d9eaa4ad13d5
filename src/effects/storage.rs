//! What is kept across reloads in `localStorage`: the session, and the drafts of unsent
//! replies and notes. Keyed by API origin so that one browser can hold several servers'
//! sessions and conversations without mixing them.

use serde::{Deserialize, Serialize};

const KEY_PREFIX: &str = "parley.session.v1:";
const SIGNED_OUT_PREFIX: &str = "parley.signed-out.v1:";
const DRAFT_PREFIX: &str = "parley.draft.v1:";
const LEFT_OUTBOX_KEY: &str = "parley.left-outbox.v1";
/// Echo ids remembered as gone from the outbox; the oldest are dropped past this.
const LEFT_OUTBOX_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    pub token: String,
}

fn local_storage() -> Option<web_sys::Storage> {
    // Storage can be disabled (privacy settings, sandboxed iframes): then the session
    // simply lasts as long as the page.
    web_sys::window()?.local_storage().ok()?
}

pub fn load_session(origin: &str) -> Option<StoredSession> {
    let text = local_storage()?
        .get_item(&format!("{KEY_PREFIX}{origin}"))
        .ok()??;
    serde_json::from_str(&text).ok()
}

pub fn save_session(origin: &str, session: &StoredSession) {
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(session)) {
        let _ = storage.set_item(&format!("{KEY_PREFIX}{origin}"), &text);
        let _ = storage.remove_item(&format!("{SIGNED_OUT_PREFIX}{origin}"));
    }
}

/// Forget the token, and remember that the agent signed out on purpose so that a token
/// the page hands over (demo mode) does not sign them straight back in on reload.
pub fn clear_session(origin: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(&format!("{KEY_PREFIX}{origin}"));
        let _ = storage.set_item(&format!("{SIGNED_OUT_PREFIX}{origin}"), "1");
    }
}

pub fn signed_out_on_purpose(origin: &str) -> bool {
    local_storage()
        .and_then(|s| s.get_item(&format!("{SIGNED_OUT_PREFIX}{origin}")).ok()?)
        .is_some()
}

/// Where the unsent text of one conversation's reply (or private note) is kept.
pub fn draft_key(origin: &str, account_id: i64, conversation_id: i64, private: bool) -> String {
    let mode = if private { "note" } else { "reply" };
    format!("{DRAFT_PREFIX}{origin}:{account_id}:{conversation_id}:{mode}")
}

pub fn load_draft(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok()?
}

/// Keeps `text` under `key`; an empty draft is removed rather than stored.
pub fn save_draft(key: &str, text: &str) {
    if let Some(storage) = local_storage() {
        let _ = if text.is_empty() {
            storage.remove_item(key)
        } else {
            storage.set_item(key, text)
        };
    }
}

/// Notes, synchronously, that a message left the outbox (delivered or discarded). The
/// outbox's own delete is an IndexedDB transaction that a reload right after can abort;
/// this note survives it, so the message does not come back as pending.
pub fn remember_left_outbox(echo_id: &str) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut ids = left_outbox(&storage);
    if ids.iter().any(|i| i == echo_id) {
        return;
    }
    ids.push(echo_id.to_owned());
    if ids.len() > LEFT_OUTBOX_MAX {
        ids.drain(..ids.len() - LEFT_OUTBOX_MAX);
    }
    if let Ok(text) = serde_json::to_string(&ids) {
        let _ = storage.set_item(LEFT_OUTBOX_KEY, &text);
    }
}

pub fn has_left_outbox(echo_id: &str) -> bool {
    local_storage().is_some_and(|s| left_outbox(&s).iter().any(|i| i == echo_id))
}

fn left_outbox(storage: &web_sys::Storage) -> Vec<String> {
    storage
        .get_item(LEFT_OUTBOX_KEY)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}
