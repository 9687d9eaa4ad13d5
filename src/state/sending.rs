//! Sending a message: validate, show it at once as pending (`echo_id` = UUID v4), and hand
//! it to its session's outbox (`effects::outbox_driver`), which persists it, sends it when it can and
//! reports its status into the row. The response (or the cable's `message.created`,
//! whichever comes first) replaces the pending row in place.

use leptos::prelude::*;
use parley_core::outbox::Draft;
use parley_wire::{Message, MessageStatus, MessageType, Sender, UserPush};

use crate::i18n::{number, t, t_count};
use crate::state::chat::ChatState;

/// Chatwoot refuses longer content (`Message` validation).
pub const MAX_CONTENT_CHARS: usize = 150_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("{}", t("compose.empty"))]
    Empty,
    #[error("{}", t_count("compose.too_long", *.over, &[("max", &number(MAX_CONTENT_CHARS))]))]
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

impl ChatState {
    /// The agent pressed Enter: returns the `echo_id` of the new pending row.
    pub fn send_text(self, content: String) -> Result<String, ComposeError> {
        validate(&content)?;
        let echo_id = uuid::Uuid::new_v4().to_string();
        let draft = Draft {
            conversation_id: self.conversation_id,
            content,
            private: self.private_mode.get_untracked(),
            in_reply_to: self.replying_to.get_untracked(),
            attachments: Vec::new(),
        };
        self.replying_to.set(None);
        self.show_pending(&echo_id, &draft, crate::effects::clock::now_s());
        self.typing_stop();
        self.with_outbox(|o| o.enqueue(echo_id.clone(), draft));
        Ok(echo_id)
    }

    /// Retry a failed message: the same draft, the same `echo_id`.
    pub fn retry(self, echo_id: String) {
        if self
            .toast
            .with_untracked(|t| t.as_ref().is_some_and(|t| t.echo_id == echo_id))
        {
            self.toast.set(None);
        }
        self.with_outbox(|o| o.retry(echo_id));
    }

    /// Delete a message that was never sent (its row goes when the outbox lets it go).
    pub fn discard(self, echo_id: String) {
        if self
            .toast
            .with_untracked(|t| t.as_ref().is_some_and(|t| t.echo_id == echo_id))
        {
            self.toast.set(None);
        }
        self.with_outbox(|o| o.discard(echo_id));
    }

    /// A pending row for a message of the outbox (new, or restored after a reload).
    pub(crate) fn show_pending(&self, echo_id: &str, draft: &Draft, created_at_s: i64) {
        self.note_pending_files(echo_id, draft);
        let pending = self.pending_message(echo_id, draft, created_at_s);
        let before_last = self.messages.last_key();
        self.messages.add_pending(echo_id, pending);
        if self.messages.last_key() != before_last {
            self.appended.update(|n| *n += 1);
        }
    }

    fn pending_message(&self, echo_id: &str, draft: &Draft, created_at_s: i64) -> Message {
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
            content_attributes: match draft.in_reply_to {
                Some(id) => serde_json::json!({ "in_reply_to": id }),
                None => serde_json::json!({}),
            },
            created_at: created_at_s,
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
}
