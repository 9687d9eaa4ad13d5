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
    parley_wire::from_str(&text).ok()
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
        .and_then(|t| parley_wire::from_str(&t).ok())
        .unwrap_or_default()
}

/// Messages typed whose outbox entry may not be on disk yet, per outbox database. The
/// outbox's first write of an entry is an IndexedDB transaction that a reload right after
/// Enter can abort (and before the store is open there is none at all); this note is
/// written synchronously when the message is typed and removed once the entry's write has
/// committed, so a reload never loses what was typed.
const UNSTORED_PREFIX: &str = "parley.unstored-outbox.v1:";

/// One typed message waiting for its outbox entry to be written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnstoredSend {
    /// The tab that typed it (`None` without Web Locks: any tab takes it).
    pub tab: Option<String>,
    pub echo_id: String,
    pub draft: parley_core::outbox::Draft,
}

fn unstored(storage: &web_sys::Storage, db: &str) -> Vec<UnstoredSend> {
    storage
        .get_item(&format!("{UNSTORED_PREFIX}{db}"))
        .ok()
        .flatten()
        .and_then(|t| parley_wire::from_str(&t).ok())
        .unwrap_or_default()
}

fn save_unstored(storage: &web_sys::Storage, db: &str, sends: &[UnstoredSend]) {
    let key = format!("{UNSTORED_PREFIX}{db}");
    let _ = if sends.is_empty() {
        storage.remove_item(&key)
    } else {
        match serde_json::to_string(sends) {
            Ok(text) => storage.set_item(&key, &text),
            Err(_) => Ok(()),
        }
    };
}

/// Notes, synchronously, a message just typed (replacing an earlier note of it).
pub fn remember_unstored(db: &str, send: UnstoredSend) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut sends = unstored(&storage, db);
    sends.retain(|s| s.echo_id != send.echo_id);
    sends.push(send);
    save_unstored(&storage, db, &sends);
}

/// Its entry is on disk (or it left the outbox): the note is no longer needed.
pub fn forget_unstored(db: &str, echo_id: &str) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut sends = unstored(&storage, db);
    let before = sends.len();
    sends.retain(|s| s.echo_id != echo_id);
    if sends.len() != before {
        save_unstored(&storage, db, &sends);
    }
}

/// The notes of tabs that are gone (`is_live` says which are not), now noted as `tab`'s,
/// in the order they were typed; and how many notes other live tabs hold.
pub fn adopt_unstored(
    db: &str,
    tab: Option<&str>,
    is_live: impl Fn(&str) -> bool,
) -> (Vec<UnstoredSend>, usize) {
    let Some(storage) = local_storage() else {
        return (Vec::new(), 0);
    };
    let mut sends = unstored(&storage, db);
    let mut adopted = Vec::new();
    let mut held_elsewhere = 0;
    for s in &mut sends {
        match &s.tab {
            Some(t) if Some(t.as_str()) == tab => continue,
            Some(t) if is_live(t) => {
                held_elsewhere += 1;
                continue;
            }
            _ => {}
        }
        s.tab = tab.map(str::to_owned);
        adopted.push(s.clone());
    }
    if !adopted.is_empty() {
        save_unstored(&storage, db, &sends);
    }
    (adopted, held_elsewhere)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::outbox::Draft;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn note(tab: Option<&str>, echo_id: &str) -> UnstoredSend {
        UnstoredSend {
            tab: tab.map(str::to_owned),
            echo_id: echo_id.to_owned(),
            draft: Draft::text(1, echo_id),
        }
    }

    fn echoes(sends: &[UnstoredSend]) -> Vec<&str> {
        sends.iter().map(|s| s.echo_id.as_str()).collect()
    }

    #[wasm_bindgen_test]
    fn typed_messages_stay_noted_until_written_and_only_gone_tabs_notes_are_taken() {
        let db = format!("test-{}", uuid::Uuid::new_v4());
        remember_unstored(&db, note(Some("live"), "a"));
        remember_unstored(&db, note(Some("gone"), "b"));
        remember_unstored(&db, note(None, "c"));
        remember_unstored(&db, note(Some("me"), "d"));
        let is_live = |t: &str| t == "live" || t == "me";
        // A live tab's and this tab's own stay theirs; the gone tab's (and an unowned one)
        // are taken, in the order typed, and noted as this tab's.
        let (taken, held) = adopt_unstored(&db, Some("me"), is_live);
        assert_eq!(echoes(&taken), ["b", "c"]);
        assert_eq!(held, 1, "the live tab's");
        assert!(taken.iter().all(|s| s.tab.as_deref() == Some("me")));
        assert!(adopt_unstored(&db, Some("me"), is_live).0.is_empty());
        // Written (or gone from the outbox): no longer noted.
        forget_unstored(&db, "b");
        forget_unstored(&db, "never-noted");
        // This tab goes too: another takes what is left of its notes and the live tab's
        // once that one has gone.
        let (next, _) = adopt_unstored(&db, Some("next"), |_| false);
        assert_eq!(echoes(&next), ["a", "c", "d"]);
        for s in next {
            forget_unstored(&db, &s.echo_id);
        }
        assert_eq!(
            adopt_unstored(&db, Some("after"), |_| false),
            (Vec::new(), 0)
        );
    }
}
