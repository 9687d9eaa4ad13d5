//! The session kept across reloads, in `localStorage`. Keyed by API origin so that one
//! browser can hold sessions for several servers without mixing their tokens.

use serde::{Deserialize, Serialize};

const KEY_PREFIX: &str = "parley.session.v1:";
const SIGNED_OUT_PREFIX: &str = "parley.signed-out.v1:";

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
