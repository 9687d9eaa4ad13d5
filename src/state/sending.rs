//! Sending a message: validate, show it at once as pending (`echo_id` = UUID v4), POST it,
//! and let the response (or the cable's `message.created`, whichever comes first) replace
//! the pending row in place.
//!
//! Shaped for the outbox (issue 4): a send is a `parley_core::outbox::Draft` plus an
//! `echo_id`, and [`ChatState::deliver`] is exactly the outbox's `Command::Send`, with its
//! result classified as the outbox's `SendError`. Today every send is attempted at once
//! and a failure waits for the agent's Retry; the outbox will drive the same two calls.

use std::collections::HashMap;

use leptos::prelude::*;
use parley_core::outbox::{Draft, SendError};
use parley_core::store::SendState;
use parley_wire::{Message, MessageStatus, MessageType, NewMessage, Sender, UserPush};

use crate::effects::api::ApiError;
use crate::effects::clock::now_s;
use crate::state::conversation::ChatState;

/// Chatwoot refuses longer content (`Message` validation).
pub const MAX_CONTENT_CHARS: usize = 150_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("Type a message first.")]
    Empty,
    #[error(
        "This message is {over} characters over the 150,000-character limit. Shorten it to send."
    )]
    TooLong { over: usize },
}

/// Characters as Chatwoot counts them (Ruby `String#length`: code points).
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

pub fn validate(text: &str) -> Result<(), ComposeError> {
    if text.trim().is_empty() {
        return Err(ComposeError::Empty);
    }
    let count = char_count(text);
    if count > MAX_CONTENT_CHARS {
        return Err(ComposeError::TooLong {
            over: count - MAX_CONTENT_CHARS,
        });
    }
    Ok(())
}

/// The drafts of messages not yet confirmed, by `echo_id`, so Retry resends exactly what
/// was typed with the same `echo_id`.
#[derive(Debug, Clone, Copy)]
pub struct Unconfirmed(StoredValue<HashMap<String, Draft>>);

impl Default for Unconfirmed {
    fn default() -> Self {
        Unconfirmed(StoredValue::new(HashMap::new()))
    }
}

impl Unconfirmed {
    pub fn forget(&self, echo_id: &str) {
        self.0.update_value(|d| {
            d.remove(echo_id);
        });
    }
}

/// How the outbox will see a failed attempt.
pub fn classify(e: &ApiError) -> SendError {
    match e {
        ApiError::Network => SendError::Ambiguous(e.to_string()),
        ApiError::Http { status: 429, .. } => SendError::Throttled(e.to_string()),
        ApiError::Http { status, .. } if *status >= 500 => SendError::Ambiguous(e.to_string()),
        other => SendError::Rejected(other.to_string()),
    }
}

impl ChatState {
    /// The agent pressed Enter: returns the `echo_id` of the new pending row.
    pub fn send_text(self, content: String) -> Result<String, ComposeError> {
        validate(&content)?;
        let echo_id = uuid::Uuid::new_v4().to_string();
        let draft = Draft {
            conversation_id: self.conversation_id,
            content,
            private: self.private_mode.get_untracked(),
            in_reply_to: None,
        };
        let pending = self.pending_message(&echo_id, &draft);
        self.unconfirmed.0.update_value(|d| {
            d.insert(echo_id.clone(), draft.clone());
        });
        let before_last = self.messages.last_key();
        self.messages.add_pending(&echo_id, pending);
        if self.messages.last_key() != before_last {
            self.appended.update(|n| *n += 1);
        }
        self.typing_stop();
        leptos::task::spawn_local(self.deliver(echo_id.clone(), draft));
        Ok(echo_id)
    }

    /// Retry a failed message: the same draft, the same `echo_id`.
    pub fn retry(self, echo_id: String) {
        let Some(draft) = self.unconfirmed.0.with_value(|d| d.get(&echo_id).cloned()) else {
            return;
        };
        self.messages
            .set_send_state(&echo_id, Some(SendState::Sending));
        leptos::task::spawn_local(self.deliver(echo_id, draft));
    }

    /// One attempt: POST with the `echo_id`; the response replaces the pending row.
    pub async fn deliver(self, echo_id: String, draft: Draft) {
        let body = NewMessage {
            content: Some(draft.content.clone()),
            private: draft.private,
            echo_id: Some(echo_id.clone()),
            content_attributes: draft
                .in_reply_to
                .map(|id| serde_json::json!({ "in_reply_to": id })),
            ..Default::default()
        };
        let result = self
            .api()
            .send_message(self.account_id, self.conversation_id, &body)
            .await;
        match result {
            Ok(mut message) => {
                // The create response carries `echo_id`; a server that drops it still
                // answers for this request, so it is put back to match the pending row.
                message.echo_id.get_or_insert_with(|| echo_id.clone());
                self.receive(message);
                self.messages.set_send_state(&echo_id, None);
            }
            Err(e) => {
                // The server's own `{error}` text when it answered; otherwise plain words.
                let reason = match e {
                    ApiError::Network => "Can't reach the server.".to_owned(),
                    other => other.to_string(),
                };
                self.messages
                    .set_send_state(&echo_id, Some(SendState::Failed { reason }));
            }
        }
    }

    fn pending_message(&self, echo_id: &str, draft: &Draft) -> Message {
        let profile = self.profile.get_value();
        let inbox_id = self
            .conversation
            .with_untracked(|c| c.as_ref().map(|c| c.inbox_id))
            .unwrap_or_default();
        let avatar = profile.avatar_url.clone().filter(|u| !u.is_empty());
        Message {
            id: 0,
            content: Some(draft.content.clone()),
            inbox_id,
            echo_id: Some(echo_id.to_owned()),
            conversation_id: draft.conversation_id,
            message_type: MessageType::Outgoing,
            content_type: "text".into(),
            status: MessageStatus::Progress,
            content_attributes: serde_json::json!({}),
            created_at: now_s(),
            private: draft.private,
            source_id: None,
            sender: Some(Sender::User(UserPush {
                id: profile.id,
                name: Some(profile.name.clone()),
                available_name: profile.available_name.clone(),
                avatar_url: avatar.clone(),
                kind: Some("user".into()),
                availability_status: None,
                thumbnail: avatar,
            })),
            attachments: None,
            account_id: Some(self.account_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn empty_and_whitespace_cannot_be_sent() {
        assert_eq!(validate(""), Err(ComposeError::Empty));
        assert_eq!(validate(" \n\t "), Err(ComposeError::Empty));
        assert_eq!(validate(" hi "), Ok(()));
    }

    #[wasm_bindgen_test]
    fn the_limit_counts_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_CONTENT_CHARS);
        assert_eq!(validate(&at_limit), Ok(()));
        let over = format!("{at_limit}🙂🙂");
        assert_eq!(validate(&over), Err(ComposeError::TooLong { over: 2 }));
    }

    #[wasm_bindgen_test]
    fn failures_are_classified_for_the_outbox() {
        assert!(matches!(
            classify(&ApiError::Network),
            SendError::Ambiguous(_)
        ));
        let e500 = ApiError::Http {
            status: 500,
            message: "boom".into(),
        };
        assert!(matches!(classify(&e500), SendError::Ambiguous(_)));
        let e422 = ApiError::Http {
            status: 422,
            message: "Validation failed".into(),
        };
        assert_eq!(
            classify(&e422),
            SendError::Rejected("Validation failed".into())
        );
        let e429 = ApiError::Http {
            status: 429,
            message: "slow down".into(),
        };
        assert!(matches!(classify(&e429), SendError::Throttled(_)));
    }
}
