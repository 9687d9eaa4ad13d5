//! The agent's inbox actions, as Chatwoot's controllers answer them: a conversation's status
//! (`ConversationsController#toggle_status`), its priority (`#toggle_priority`), marking it
//! unread (`#unread`), assigning it
//! (`Conversations::AssignmentsController#create`), the account's agents
//! (`AgentsController#index`) and a failed message's retry (`MessagesController#retry`).
//! What each change broadcasts is `conversation_state`'s.

use axum::extract::{Path, State};
use axum::Json;
use parley_wire::{Agent, Conversation, Message};
use serde_json::{json, Value};

use crate::agent_conversation::AgentConversation;
use crate::auth::{authorize_account, AuthUser, Origin};
use crate::conversation_state::{self, Status};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::views;
use crate::AppState;

/// The latest snooze time accepted: 9999-12-31T23:59:59Z, the last second an ISO 8601 time
/// with a four-digit year (what `snoozed_until` is rendered as) can say.
const LATEST_SNOOZE_SECS: i64 = 253_402_300_799;

/// A JSON body that may be absent (Chatwoot reads `params`, which a bodiless POST leaves
/// empty).
fn body_of(body: Option<Json<Value>>) -> Value {
    body.map(|Json(v)| v).unwrap_or(Value::Null)
}

/// `snoozed_until` as Chatwoot's `parse_date_time` reads it (`DateTime.strptime(s, '%s')`):
/// unix seconds, a JSON number or a string of digits. Unlike Chatwoot (whose job reopens a
/// past snooze within five minutes, and which fails on a time its database cannot hold), a
/// time that is not in the future, or past year 9999, is refused with a reason.
fn snooze_time(v: &Value, now_ms: i64) -> ApiResult<i64> {
    let secs = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i64>().ok()
        }
        _ => None,
    };
    let Some(secs) = secs else {
        return Err(ApiError::Unprocessable(
            "snoozed_until must be a unix time in seconds".into(),
        ));
    };
    if secs > LATEST_SNOOZE_SECS {
        return Err(ApiError::Unprocessable(
            "snoozed_until is too far in the future".into(),
        ));
    }
    let ms = secs * 1000;
    if ms <= now_ms {
        return Err(ApiError::Unprocessable(
            "snoozed_until must be in the future".into(),
        ));
    }
    Ok(ms)
}

/// `POST .../conversations/{id}/toggle_status` with `{status, snoozed_until}`; without a
/// status it toggles (open ⇄ resolved, pending and snoozed to open). An agent whose role is
/// `agent` (not an administrator) who leaves it open becomes its assignee
/// (`should_assign_conversation?`). Answers `toggle_status.json.jbuilder`:
/// `{meta: {}, payload: {success, conversation_id, current_status, snoozed_until}}`.
pub async fn toggle_status(
    State(state): State<AppState>,
    AgentConversation { user, conv, .. }: AgentConversation,
    Origin(origin): Origin,
    body: Option<Json<Value>>,
) -> ApiResult<Json<Value>> {
    let body = body_of(body);
    let role = state.db.with(|c| -> ApiResult<_> {
        Ok(db::account_agent(c, conv.account_id, user.id)?.map(|(_, role)| role))
    })?;
    // Rails' `params[:status].present?`: absent, null and "" all mean toggle.
    let requested = match body.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v.as_str().and_then(Status::parse).ok_or_else(|| {
            ApiError::Unprocessable("status must be one of open, resolved, pending, snoozed".into())
        })?),
    };
    let (status, snoozed_until) = match requested {
        Some(status) => {
            // A snooze time is read only with a status (`set_conversation_status`); a
            // snoozed conversation snoozed again without one keeps the time it had.
            let asked = match body.get("snoozed_until") {
                None | Some(Value::Null) => None,
                Some(v) => Some(snooze_time(v, db::now_ms())?),
            };
            (status, asked.or(conv.snoozed_until))
        }
        None => (Status::toggled(&conv.status), None),
    };
    let mut after = conversation_state::change_status(
        &state,
        conv.id,
        status,
        snoozed_until,
        Some(&user),
        &origin,
    )?;
    if after.status == "open" && role.as_deref() == Some("agent") {
        after = conversation_state::change_assignee(&state, conv.id, Some(&user), &user, &origin)?;
    }
    Ok(Json(json!({
        "meta": {},
        "payload": {
            "success": true,
            "conversation_id": after.display_id,
            "current_status": after.status,
            "snoozed_until": after.snoozed_until.map(views::iso_ms),
        }
    })))
}

/// `POST .../conversations/{id}/toggle_priority` with `{priority}`: `low`, `medium`, `high`,
/// `urgent`, or none (absent, null, "") to remove it. Answers an empty 200 (`head :ok`). A
/// priority other than those is refused with 422 (Chatwoot's enum would raise).
pub async fn toggle_priority(
    State(state): State<AppState>,
    AgentConversation { user, conv, .. }: AgentConversation,
    Origin(origin): Origin,
    body: Option<Json<Value>>,
) -> ApiResult<()> {
    let body = body_of(body);
    // Rails' `priority.presence`.
    let priority = match body.get("priority") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(
            v.as_str()
                .filter(|p| conversation_state::valid_priority(p))
                .ok_or_else(|| {
                    ApiError::Unprocessable(
                        "priority must be one of low, medium, high, urgent".into(),
                    )
                })?,
        ),
    };
    conversation_state::change_priority(&state, conv.id, priority, &user, &origin)?;
    Ok(())
}

/// `POST .../conversations/{id}/unread`: both agent read markers go to one second before the
/// last incoming message (cleared when there is none), without an event (`update_columns`).
/// Answers the conversation partial, whose `unread_count` and `agent_last_seen_at` the
/// dashboard applies.
pub async fn unread(
    State(state): State<AppState>,
    AgentConversation { conv, .. }: AgentConversation,
    Origin(origin): Origin,
) -> ApiResult<Json<Conversation>> {
    let conv = state.db.tx(|c| -> ApiResult<_> {
        let last_incoming = db::last_incoming_created_at(c, conv.id)?;
        db::set_agent_read_markers(c, conv.id, last_incoming.map(|at| at - 1000))?;
        let fresh = db::conversation(c, conv.id)?.ok_or(ApiError::NotFound)?;
        let online = state.hub.contact_online(fresh.contact_id);
        Ok(views::conversation_rest(c, &fresh, &origin, online)?)
    })?;
    Ok(Json(conv))
}

/// An integer id as Rails' `find_by(id:)` takes it from JSON: a number or a string of
/// digits; anything else finds nobody.
fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `POST .../conversations/{id}/assignments` with `{assignee_id}`: assigns the conversation
/// to that agent of the account, and answers the `_agent` partial. An id that is no agent
/// of this account (another account's, none, `0`, `null`) unassigns it and answers `null`,
/// as Chatwoot's `account.users.find_by(id:)` does. `{team_id}` and agent bots: this server
/// has neither, so, as Chatwoot finding none, nothing changes and the answer is `null`.
pub async fn assign(
    State(state): State<AppState>,
    AgentConversation { user, conv, .. }: AgentConversation,
    Origin(origin): Origin,
    body: Option<Json<Value>>,
) -> ApiResult<Json<Option<Agent>>> {
    let account_id = conv.account_id;
    let body = body_of(body);
    let Some(asked) = body.get("assignee_id") else {
        return Ok(Json(None));
    };
    if body.get("assignee_type").and_then(Value::as_str) == Some("AgentBot") {
        return Ok(Json(None));
    }
    let assignee = match id_of(asked) {
        Some(id) => state.db.with(|c| db::account_agent(c, account_id, id))?,
        None => None,
    };
    conversation_state::change_assignee(
        &state,
        conv.id,
        assignee.as_ref().map(|(u, _)| u),
        &user,
        &origin,
    )?;
    Ok(Json(
        assignee.map(|(u, role)| views::agent(&u, account_id, &role)),
    ))
}

/// `GET /api/v1/accounts/{id}/agents`: the account's agents, by name
/// (`agents/index.json.jbuilder`, an array of `_agent` partials).
pub async fn agents(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(account_id): Path<i64>,
) -> ApiResult<Json<Vec<Agent>>> {
    let agents = state.db.with(|c| -> ApiResult<_> {
        authorize_account(c, &user, account_id)?;
        Ok(db::account_agents(c, account_id)?
            .iter()
            .map(|(u, role)| views::agent(u, account_id, role))
            .collect())
    })?;
    Ok(Json(agents))
}

/// `POST .../conversations/{id}/messages/{message_id}/retry`: Chatwoot sends a message that
/// its channel failed to deliver again. This server delivers through no channel, so no
/// message is ever `failed` here and there is nothing to send again: as Chatwoot's retry
/// does for a message that is not failed (upstream PR #15432), it answers the message as it
/// is, and 404 for a message that is not in the conversation.
pub async fn retry(
    State(state): State<AppState>,
    AgentConversation {
        conv, message_id, ..
    }: AgentConversation,
    Origin(origin): Origin,
) -> ApiResult<Json<Message>> {
    let message_id = message_id.ok_or(ApiError::NotFound)?;
    let message = state.db.with(|c| -> ApiResult<_> {
        let m = db::message_in_conversation(c, conv.id, message_id)?.ok_or(ApiError::NotFound)?;
        Ok(views::message_rest(c, conv.display_id, &m, &origin, None)?)
    })?;
    Ok(Json(message))
}
