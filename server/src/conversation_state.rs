//! A conversation's status and assignee, changed the way Chatwoot's models change them, for
//! every caller: the agent API (`toggle_status`, `assignments`), a customer's message (which
//! reopens a snoozed or resolved conversation, Chatwoot's `Message#reopen_conversation`) and
//! the snooze timer (Chatwoot's `ReopenSnoozedConversationsJob`). Each change persists, writes
//! the activity message Chatwoot writes (`ActivityMessageHandler`, the texts of its
//! `config/locales/en.yml`), then broadcasts what the model dispatches, in its order:
//!
//! - status: `conversation.status_changed` (`Conversation#notify_status_change`), then
//!   `conversation.updated` (`#notify_conversation_updation`: status and `snoozed_until` are
//!   among its keys), both to the account's agents and the contact (`ActionCableListener`);
//! - assignee: `assignee.changed` to the agents only (`AssignmentHandler`), then
//!   `conversation.updated` to the agents and the contact;
//! - then the activity message's `message.created`, to the agents only (an activity message
//!   never goes to a contact).
//!
//! Conversation events carry the conversation as it is after the change
//! (`Conversations::EventDataPresenter#push_data`, re-read by the broadcast job, no
//! `performer`); the contact's copy is scrubbed like every event a contact gets.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::db::{self, ConversationRow, MessageRow, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::views;
use crate::AppState;

/// Chatwoot's `Conversation.statuses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Resolved,
    Pending,
    Snoozed,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "resolved" => Some(Status::Resolved),
            "pending" => Some(Status::Pending),
            "snoozed" => Some(Status::Snoozed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Resolved => "resolved",
            Status::Pending => "pending",
            Status::Snoozed => "snoozed",
        }
    }

    /// `Conversation#toggle_status`: open becomes resolved, anything else open.
    pub fn toggled(current: &str) -> Status {
        if current == "open" {
            Status::Resolved
        } else {
            Status::Open
        }
    }
}

/// One conversation event, and whether the contact gets it too.
type Event = (&'static str, bool);

/// Sets the status (and the snooze time, kept only while snoozed). `by` is the agent who
/// did it: their name goes in the activity message; a change nobody made (a customer's
/// message reopening it, a snooze running out) writes none, as in Chatwoot. A change to
/// what is already there changes and broadcasts nothing.
pub fn change_status(
    state: &AppState,
    conversation_id: i64,
    status: Status,
    snoozed_until: Option<i64>,
    by: Option<&UserRow>,
    origin: &str,
) -> ApiResult<ConversationRow> {
    let now = db::now_ms();
    let snoozed_until = snoozed_until.filter(|_| status == Status::Snoozed);
    let (after, events, activity) = state.db.tx(|c| -> ApiResult<_> {
        let before = db::conversation(c, conversation_id)?.ok_or(ApiError::NotFound)?;
        let status_changed = before.status != status.as_str();
        if !status_changed && before.snoozed_until == snoozed_until {
            return Ok((before, vec![], None));
        }
        db::set_conversation_status(c, conversation_id, status.as_str(), snoozed_until, now)?;
        let after = db::conversation(c, conversation_id)?.ok_or(ApiError::NotFound)?;
        let mut events: Vec<Event> = vec![];
        let mut activity = None;
        if status_changed {
            events.push(("conversation.status_changed", true));
            if let Some(agent) = by {
                activity = Some(insert_activity(
                    c,
                    &after,
                    &status_text(status, agent),
                    now,
                )?);
            }
        }
        events.push(("conversation.updated", true));
        Ok((after, events, activity))
    })?;
    if after.snoozed_until.is_some() {
        // The snooze timer sleeps until the earliest snooze it knew of.
        state.snooze_wake.notify_one();
    }
    broadcast(state, &after, &events, activity.as_ref(), origin)?;
    Ok(after)
}

/// Assigns the conversation to `assignee` (an agent of its account), or unassigns it.
pub fn change_assignee(
    state: &AppState,
    conversation_id: i64,
    assignee: Option<&UserRow>,
    by: &UserRow,
    origin: &str,
) -> ApiResult<ConversationRow> {
    let now = db::now_ms();
    let assignee_id = assignee.map(|u| u.id);
    let (after, events, activity) = state.db.tx(|c| -> ApiResult<_> {
        let before = db::conversation(c, conversation_id)?.ok_or(ApiError::NotFound)?;
        if before.assignee_id == assignee_id {
            return Ok((before, vec![], None));
        }
        db::set_conversation_assignee(c, conversation_id, assignee_id, now)?;
        let after = db::conversation(c, conversation_id)?.ok_or(ApiError::NotFound)?;
        let text = assignee_text(assignee, by);
        let activity = insert_activity(c, &after, &text, now)?;
        let events: Vec<Event> = vec![("assignee.changed", false), ("conversation.updated", true)];
        Ok((after, events, Some(activity)))
    })?;
    broadcast(state, &after, &events, activity.as_ref(), origin)?;
    Ok(after)
}

/// Chatwoot's `Conversation.priorities`.
pub fn valid_priority(p: &str) -> bool {
    matches!(p, "low" | "medium" | "high" | "urgent")
}

/// Sets the priority (`Conversation#toggle_priority`), or removes it with None; the change
/// goes out as `conversation.updated` (priority is among its keys), then the activity
/// message (`ActivityMessageHandler#priority_change_activity`).
pub fn change_priority(
    state: &AppState,
    conversation_id: i64,
    priority: Option<&str>,
    by: &UserRow,
    origin: &str,
) -> ApiResult<ConversationRow> {
    let now = db::now_ms();
    let (after, events, activity) = state.db.tx(|c| -> ApiResult<_> {
        let before = db::conversation(c, conversation_id)?.ok_or(ApiError::NotFound)?;
        if before.priority.as_deref() == priority {
            return Ok((before, vec![], None));
        }
        db::set_conversation_priority(c, conversation_id, priority, now)?;
        let after = db::conversation(c, conversation_id)?.ok_or(ApiError::NotFound)?;
        let name = &by.name;
        // `conversations.activity.priority.*` of Chatwoot's `en.yml`.
        let text = match (before.priority.as_deref(), priority) {
            (None, Some(new)) => format!("{name} set the priority to {new}"),
            (Some(old), Some(new)) => {
                format!("{name} changed the priority from {old} to {new}")
            }
            _ => format!("{name} removed the priority"),
        };
        let activity = insert_activity(c, &after, &text, now)?;
        let events: Vec<Event> = vec![("conversation.updated", true)];
        Ok((after, events, Some(activity)))
    })?;
    broadcast(state, &after, &events, activity.as_ref(), origin)?;
    Ok(after)
}

/// A customer wrote: a snoozed or resolved conversation opens again, before the message's
/// own `message.created` goes out (Chatwoot's `Message#reopen_conversation` runs first).
pub fn reopen_for_incoming(state: &AppState, conversation_id: i64, origin: &str) -> ApiResult<()> {
    let status = state
        .db
        .with(|c| db::conversation(c, conversation_id))?
        .map(|conv| conv.status);
    if matches!(status.as_deref(), Some("snoozed" | "resolved")) {
        change_status(state, conversation_id, Status::Open, None, None, origin)?;
    }
    Ok(())
}

/// `conversations.activity.status.*` of Chatwoot's `en.yml`.
fn status_text(status: Status, agent: &UserRow) -> String {
    let name = &agent.name;
    match status {
        Status::Resolved => format!("Conversation was marked resolved by {name}"),
        Status::Open => format!("Conversation was reopened by {name}"),
        Status::Pending => format!("Conversation was marked as pending by {name}"),
        Status::Snoozed => format!("Conversation was snoozed by {name}"),
    }
}

/// `conversations.activity.assignee.*` of Chatwoot's `en.yml`.
fn assignee_text(assignee: Option<&UserRow>, by: &UserRow) -> String {
    match assignee {
        Some(a) if a.id == by.id => format!("{} self-assigned this conversation", by.name),
        Some(a) => format!("Assigned to {} by {}", a.name, by.name),
        None => format!("Conversation unassigned by {}", by.name),
    }
}

/// Chatwoot's `ActivityMessageJob`: an activity message with no sender.
fn insert_activity(
    c: &rusqlite::Connection,
    conv: &ConversationRow,
    text: &str,
    now: i64,
) -> ApiResult<MessageRow> {
    let id = db::insert_message(
        c,
        &db::NewMessage {
            conversation: conv,
            message_type: db::ACTIVITY,
            content_type: "text",
            content: Some(text),
            status: "sent",
            private: false,
            content_attributes: &json!({}),
            sender_type: None,
            sender_id: None,
            echo_id: None,
        },
        now,
    )?;
    let m = db::message(c, id)?.ok_or(ApiError::NotFound)?;
    db::note_message_activity(c, &m)?;
    Ok(m)
}

fn to_value(v: impl serde::Serialize) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

fn broadcast(
    state: &AppState,
    conv: &ConversationRow,
    events: &[Event],
    activity: Option<&MessageRow>,
    origin: &str,
) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (agents, contact, data, activity) = state.db.with(|c| -> ApiResult<_> {
        let agents = db::agent_pubsub_keys(c, conv.account_id)?;
        let contact = db::contact_inbox(c, conv.contact_inbox_id)?.map(|ci| ci.pubsub_key);
        let data = to_value(views::conversation_push(c, conv, origin)?)?;
        let activity = match activity {
            Some(m) => Some(to_value(views::message_push(c, conv, m, origin, None)?)?),
            None => None,
        };
        Ok((agents, contact, data, activity))
    })?;
    let mut for_contact = data.clone();
    views::hide_from_contact(&mut for_contact);
    for (event, to_contact) in events {
        state.hub.broadcast(&agents, event, &data);
        if let (true, Some(contact)) = (to_contact, &contact) {
            state
                .hub
                .broadcast(std::slice::from_ref(contact), event, &for_contact);
        }
    }
    if let Some(activity) = activity {
        state.hub.broadcast(&agents, "message.created", &activity);
    }
    Ok(())
}

/// Reopens snoozed conversations when their time comes. Chatwoot's job looks every five
/// minutes; this one sleeps until the earliest snooze (at most a minute, and woken when a
/// snooze is set), so a conversation comes back on time.
pub async fn reopen_due_snoozes(state: AppState, mut stop: watch::Receiver<bool>) {
    const BATCH: i64 = 100;
    const LONGEST_SLEEP_MS: i64 = 60_000;
    // A snooze that cannot be reopened (a database error) is tried again, but not in a
    // tight loop.
    const SHORTEST_SLEEP_MS: i64 = 250;
    loop {
        let now = db::now_ms();
        match state.db.with(|c| db::due_snoozes(c, now, BATCH)) {
            Ok(due) => {
                for conv in due {
                    let origin = state.public_url.to_string();
                    if let Err(e) =
                        change_status(&state, conv.id, Status::Open, None, None, &origin)
                    {
                        tracing::warn!("could not reopen snoozed conversation {}: {e}", conv.id);
                    }
                }
            }
            Err(e) => tracing::warn!("could not read the due snoozes: {e}"),
        }
        let next = state.db.with(db::next_snooze).ok().flatten();
        let wait = next
            .map(|at| at - db::now_ms())
            .unwrap_or(LONGEST_SLEEP_MS)
            .clamp(SHORTEST_SLEEP_MS, LONGEST_SLEEP_MS);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            _ = state.snooze_wake.notified() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}
