//! What happens in a conversation, shared by the agent API and the public (customer) API:
//! each operation validates, persists, then broadcasts to exactly the recipients Chatwoot's
//! `ActionCableListener` picks (agents of the account, plus the contact for what a contact
//! may see, minus the typer for typing).

use rusqlite::Connection;
use serde_json::{json, Value};

use crate::config::{MAX_ATTACHMENTS, MAX_CONTENT_CHARS};
use crate::db::{self, ContactRow, ConversationRow, MessageRow, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::files::StoredUpload;
use crate::views;
use crate::AppState;

/// Who caused an event.
#[derive(Debug, Clone)]
pub enum Actor {
    Agent(UserRow),
    Contact(ContactRow),
}

impl Actor {
    fn sender(&self) -> (&'static str, i64) {
        match self {
            Actor::Agent(u) => ("User", u.id),
            Actor::Contact(c) => ("Contact", c.id),
        }
    }

    fn performer(&self) -> Option<&UserRow> {
        match self {
            Actor::Agent(u) => Some(u),
            Actor::Contact(_) => None,
        }
    }
}

/// A message to create, already parsed from JSON or multipart.
#[derive(Debug, Default)]
pub struct MessageInput {
    pub content: Option<String>,
    pub private: bool,
    pub message_type: i64,
    pub content_type: Option<String>,
    pub content_attributes: Value,
    pub echo_id: Option<String>,
    pub uploads: Vec<StoredUpload>,
}

pub struct Created {
    pub message: MessageRow,
    /// True when echo_id idempotency returned an earlier message.
    pub existing: bool,
}

pub const DELETED_TEXT: &str = "This message was deleted";

/// The cable keys (pubsub token digests) of the account's agents.
fn agent_tokens(c: &Connection, account_id: i64) -> ApiResult<Vec<String>> {
    Ok(db::agent_pubsub_keys(c, account_id)?)
}

/// The cable key of the conversation's contact.
fn contact_token(c: &Connection, conv: &ConversationRow) -> ApiResult<Option<String>> {
    Ok(db::contact_inbox(c, conv.contact_inbox_id)?.map(|ci| ci.pubsub_key))
}

/// Agents always; the contact too unless the message is a private note or activity.
fn message_recipients(
    c: &Connection,
    conv: &ConversationRow,
    m: &MessageRow,
) -> ApiResult<Vec<String>> {
    let mut tokens = agent_tokens(c, conv.account_id)?;
    if !m.private && m.message_type != db::ACTIVITY {
        tokens.extend(contact_token(c, conv)?);
    }
    Ok(tokens)
}

/// What the listener merges into a message event besides the push data.
#[derive(Default)]
struct EventExtras<'a> {
    /// Only on the `message.created` of the request that carried it.
    echo_id: Option<&'a str>,
    /// The agent who caused the event.
    performer: Option<&'a UserRow>,
    /// `message.updated`: `{attr: [old, new]}`.
    previous_changes: Option<Value>,
}

/// `message.created` / `message.updated` data: the push shape, plus the extras.
fn message_event_data(
    c: &Connection,
    conv: &ConversationRow,
    m: &MessageRow,
    origin: &str,
    extras: EventExtras,
) -> ApiResult<Value> {
    let mut push = views::message_push(c, conv, m, origin, extras.echo_id)?;
    push.performer = extras.performer.map(views::user_push);
    push.previous_changes = extras.previous_changes;
    serde_json::to_value(push).map_err(|e| ApiError::Internal(e.to_string()))
}

fn broadcast_message(
    state: &AppState,
    conv_id: i64,
    m: &MessageRow,
    event: &str,
    origin: &str,
    extras: EventExtras,
) -> ApiResult<()> {
    let (tokens, contact, data) = state.db.with(|c| -> ApiResult<_> {
        let conv = db::conversation(c, conv_id)?.ok_or(ApiError::NotFound)?;
        let tokens = message_recipients(c, &conv, m)?;
        let data = message_event_data(c, &conv, m, origin, extras)?;
        Ok((tokens, contact_token(c, &conv)?, data))
    })?;
    broadcast_split(state, tokens, contact, event, data);
    Ok(())
}

/// Broadcasts `data` to `tokens`; the contact (when among them) gets it without what only
/// agents may read (`views::hide_from_contact`).
fn broadcast_split(
    state: &AppState,
    mut tokens: Vec<String>,
    contact: Option<String>,
    event: &str,
    data: Value,
) {
    let contact = contact.filter(|t| tokens.contains(t));
    if let Some(contact) = &contact {
        tokens.retain(|t| t != contact);
    }
    state.hub.broadcast(&tokens, event, &data);
    if let Some(contact) = contact {
        let mut data = data;
        views::hide_from_contact(&mut data);
        state.hub.broadcast(&[contact], event, &data);
    }
}

pub fn validate_content(content: Option<&str>) -> ApiResult<()> {
    if content.is_some_and(|c| c.chars().count() > MAX_CONTENT_CHARS) {
        return Err(ApiError::content_too_long());
    }
    Ok(())
}

/// Creates a message (Chatwoot's `MessageBuilder`) and broadcasts `message.created`.
/// With idempotency on, a repeated `echo_id` from the same sender in the same conversation
/// returns the first message instead (and broadcasts nothing). The lookup runs in the
/// insert's transaction and a unique index backs it, so simultaneous retries store one.
pub fn create_message(
    state: &AppState,
    conv: &ConversationRow,
    actor: &Actor,
    input: MessageInput,
    origin: &str,
) -> ApiResult<Created> {
    let echo_id = input.echo_id.clone().filter(|e| !e.is_empty());
    let idempotent = state.faults.idempotency();
    let content = input.content.as_deref();
    let checks = validate_content(content).and_then(|_| {
        if input.uploads.len() > MAX_ATTACHMENTS {
            return Err(ApiError::Unprocessable(
                "Validation failed: Attachments exceeded maximum allowed".into(),
            ));
        }
        if content.is_none_or(|c| c.trim().is_empty()) && input.uploads.is_empty() {
            return Err(ApiError::Unprocessable(
                "Validation failed: Content can't be blank".into(),
            ));
        }
        crate::content_attributes::for_agent(
            input.content_type.as_deref(),
            input.content_attributes.clone(),
        )
    });
    let (content_type, mut attrs) = match checks {
        Ok(checked) => checked,
        Err(e) => {
            discard_uploads(state, &input.uploads);
            return Err(e);
        }
    };

    let (sender_type, sender_id) = actor.sender();
    let now = db::now_ms();
    let result = state.db.tx(|c| -> ApiResult<(MessageRow, bool)> {
        if let (Some(echo), true) = (echo_id.as_deref(), idempotent) {
            if let Some(existing) =
                db::message_by_echo_id(c, conv.id, sender_type, sender_id, echo)?
            {
                return Ok((existing, true));
            }
        }
        // Chatwoot's InReplyToMessageBuilder fills in the quoted message's channel id. A
        // contact may only quote what it can see.
        if let Some(reply_to) = attrs.get("in_reply_to").and_then(Value::as_i64) {
            let quoted = db::message_in_conversation(c, conv.id, reply_to)?;
            let visible = matches!(actor, Actor::Agent(_))
                || quoted
                    .as_ref()
                    .is_some_and(|m| !m.private && m.message_type != db::ACTIVITY);
            if visible {
                let external = quoted.and_then(|m| m.source_id);
                attrs["in_reply_to_external_id"] =
                    external.map(Value::String).unwrap_or(Value::Null);
            } else if let Value::Object(map) = &mut attrs {
                map.remove("in_reply_to");
            }
        }
        let id = db::insert_message(
            c,
            &db::NewMessage {
                conversation: conv,
                message_type: input.message_type,
                content_type: &content_type,
                content,
                status: "sent",
                private: input.private,
                content_attributes: &attrs,
                sender_type: Some(sender_type),
                sender_id: Some(sender_id),
                // Without idempotency (a real Chatwoot's behaviour) a repeat is a new
                // message, so the echo_id is not kept where the unique index would see it.
                echo_id: echo_id.as_deref().filter(|_| idempotent),
            },
            now,
        )?;
        for u in &input.uploads {
            db::insert_attachment(c, &u.as_new(id, conv.account_id), now)?;
        }
        let m = db::message(c, id)?.ok_or(ApiError::NotFound)?;
        db::note_message_activity(c, &m)?;
        if let Actor::Contact(ct) = actor {
            db::touch_contact(c, ct.id, now)?;
        }
        Ok((m, false))
    });
    let (message, existing) = match result {
        Ok(found) => found,
        Err(e) => {
            discard_uploads(state, &input.uploads);
            return Err(e);
        }
    };
    if existing {
        discard_uploads(state, &input.uploads);
        return Ok(Created {
            message,
            existing: true,
        });
    }
    if matches!(actor, Actor::Contact(_)) && message.message_type == db::INCOMING {
        // The message is stored: a reopen that fails must not turn its answer into an error.
        if let Err(e) = crate::conversation_state::reopen_for_incoming(state, conv.id, origin) {
            tracing::warn!("could not reopen conversation {}: {e}", conv.id);
        }
    }
    broadcast_message(
        state,
        conv.id,
        &message,
        "message.created",
        origin,
        EventExtras {
            echo_id: echo_id.as_deref(),
            performer: actor.performer(),
            ..Default::default()
        },
    )?;
    Ok(Created {
        message,
        existing: false,
    })
}

pub fn discard_uploads(state: &AppState, uploads: &[StoredUpload]) {
    for u in uploads {
        crate::files::remove_stored(&state.uploads_dir, &u.stored_name);
    }
}

/// Chatwoot's soft delete: the content is replaced, `content_attributes` becomes
/// `{deleted: true}`, attachments are destroyed, and `message.updated` follows.
pub fn delete_message(
    state: &AppState,
    conv: &ConversationRow,
    message_id: i64,
    agent: &UserRow,
    origin: &str,
) -> ApiResult<MessageRow> {
    let now = db::now_ms();
    let (before, after, removed) = state.db.tx(|c| -> ApiResult<_> {
        let before =
            db::message_in_conversation(c, conv.id, message_id)?.ok_or(ApiError::NotFound)?;
        db::update_message_content(
            c,
            message_id,
            Some(DELETED_TEXT),
            "text",
            &json!({"deleted": true}),
            now,
        )?;
        let removed = db::delete_attachments_of(c, message_id)?;
        let after = db::message(c, message_id)?.ok_or(ApiError::NotFound)?;
        Ok((before, after, removed))
    })?;
    for a in &removed {
        crate::files::remove_stored(&state.uploads_dir, &a.stored_name);
    }
    let changes = json!({
        "content": [before.content, after.content],
        "content_attributes": [before.content_attributes, after.content_attributes],
        "updated_at": [views::iso_ms(before.updated_at), views::iso_ms(after.updated_at)],
    });
    broadcast_message(
        state,
        conv.id,
        &after,
        "message.updated",
        origin,
        EventExtras {
            performer: Some(agent),
            previous_changes: Some(changes),
            ..Default::default()
        },
    )?;
    Ok(after)
}

/// Parley's edit extension: only the author, never a deleted message; the history is kept
/// in `content_attributes.edited`.
pub fn edit_message(
    state: &AppState,
    conv: &ConversationRow,
    message_id: i64,
    agent: &UserRow,
    content: &str,
    origin: &str,
) -> ApiResult<MessageRow> {
    validate_content(Some(content))?;
    if content.trim().is_empty() {
        return Err(ApiError::Unprocessable(
            "Validation failed: Content can't be blank".into(),
        ));
    }
    let now = db::now_ms();
    let (before, after) = state.db.tx(|c| -> ApiResult<_> {
        let before =
            db::message_in_conversation(c, conv.id, message_id)?.ok_or(ApiError::NotFound)?;
        if before.sender_type.as_deref() != Some("User") || before.sender_id != Some(agent.id) {
            return Err(ApiError::Forbidden(
                "Only the author can edit this message".into(),
            ));
        }
        if before
            .content_attributes
            .get("deleted")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Err(ApiError::Unprocessable(
                "A deleted message cannot be edited".into(),
            ));
        }
        let mut attrs = match &before.content_attributes {
            Value::Object(m) => Value::Object(m.clone()),
            _ => json!({}),
        };
        let old_edit = attrs.get("edited").cloned();
        // The old text was current since the previous edit, or since creation.
        let old_at = old_edit
            .as_ref()
            .and_then(|e| e.get("at"))
            .and_then(Value::as_i64)
            .unwrap_or(views::secs(before.created_at));
        let mut previous = old_edit
            .as_ref()
            .and_then(|e| e.get("previous"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        previous.push(json!({"content": before.content, "at": old_at}));
        attrs["edited"] = json!({"at": views::secs(now), "previous": previous});
        db::update_message_content(
            c,
            message_id,
            Some(content),
            &before.content_type,
            &attrs,
            now,
        )?;
        let after = db::message(c, message_id)?.ok_or(ApiError::NotFound)?;
        Ok((before, after))
    })?;
    let changes = json!({
        "content": [before.content, after.content],
        "updated_at": [views::iso_ms(before.updated_at), views::iso_ms(after.updated_at)],
    });
    broadcast_message(
        state,
        conv.id,
        &after,
        "message.updated",
        origin,
        EventExtras {
            performer: Some(agent),
            previous_changes: Some(changes),
            ..Default::default()
        },
    )?;
    Ok(after)
}

/// `conversation.typing_on/off` to the agents and the contact, never back to the typer,
/// and never to the contact while an agent writes a private note.
pub fn typing(
    state: &AppState,
    conv: &ConversationRow,
    actor: &Actor,
    on: bool,
    is_private: bool,
    origin: &str,
) -> ApiResult<()> {
    let (tokens, contact, data) = state.db.with(|c| -> ApiResult<_> {
        let push = views::conversation_push(c, conv, origin)?;
        let (user, own_tokens) = match actor {
            Actor::Agent(u) => (
                parley_wire::Sender::User(views::user_push(u)),
                db::user_pubsub_keys(c, u.id)?,
            ),
            Actor::Contact(ct) => (
                parley_wire::Sender::Contact(views::contact_push(ct)),
                contact_token(c, conv)?.into_iter().collect(),
            ),
        };
        let mut tokens = agent_tokens(c, conv.account_id)?;
        let contact = contact_token(c, conv)?;
        if !is_private {
            tokens.extend(contact.clone());
        }
        tokens.retain(|t| !own_tokens.contains(t));
        let event = parley_wire::cable::TypingEvent {
            conversation: push,
            user,
            is_private,
            account_id: Some(conv.account_id),
        };
        let mut data =
            serde_json::to_value(event).map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(u) = actor.performer() {
            data["performer"] = serde_json::to_value(views::user_push(u)).unwrap_or(Value::Null);
        }
        Ok((tokens, contact, data))
    })?;
    let event = if on {
        "conversation.typing_on"
    } else {
        "conversation.typing_off"
    };
    broadcast_split(state, tokens, contact, event, data);
    Ok(())
}

/// The contact read the conversation: `conversation.read` to the agents, then every reply
/// they had not read yet becomes `read`, each with a `message.updated`
/// (Chatwoot's `UpdateMessageStatusJob`).
pub fn contact_read(state: &AppState, conv: &ConversationRow, origin: &str) -> ApiResult<()> {
    let now = db::now_ms();
    let (tokens, data, updated) = state.db.tx(|c| -> ApiResult<_> {
        db::set_contact_last_seen(c, conv.id, now)?;
        let fresh = db::conversation(c, conv.id)?.ok_or(ApiError::NotFound)?;
        let data = serde_json::to_value(views::conversation_push(c, &fresh, origin)?)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut updated = vec![];
        for m in db::unread_replies_until(c, conv.id, now)? {
            db::set_message_status(c, m.id, "read", now)?;
            updated.push((m.status.clone(), m.updated_at, m.id));
        }
        Ok((agent_tokens(c, conv.account_id)?, data, updated))
    })?;
    state.hub.broadcast(&tokens, "conversation.read", &data);
    for (old_status, old_updated, id) in updated {
        let Some(m) = state.db.with(|c| db::message(c, id))? else {
            continue;
        };
        let changes = json!({
            "status": [old_status, "read"],
            "updated_at": [views::iso_ms(old_updated), views::iso_ms(m.updated_at)],
        });
        broadcast_message(
            state,
            conv.id,
            &m,
            "message.updated",
            origin,
            EventExtras {
                previous_changes: Some(changes),
                ..Default::default()
            },
        )?;
    }
    Ok(())
}

/// A new conversation from the customer side: `conversation.created` to the agents and the
/// contact (`ActionCableListener#conversation_created`).
pub fn conversation_created(state: &AppState, conv: &ConversationRow, origin: &str) {
    let result = state.db.with(|c| -> ApiResult<_> {
        let data = serde_json::to_value(views::conversation_push(c, conv, origin)?)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut tokens = agent_tokens(c, conv.account_id)?;
        let contact = contact_token(c, conv)?;
        tokens.extend(contact.clone());
        Ok((tokens, contact, data))
    });
    if let Ok((tokens, contact, data)) = result {
        broadcast_split(state, tokens, contact, "conversation.created", data);
    }
}
