//! Conversations: list (+ meta counts), show, typing, and the agent's read marker.

use axum::extract::{Path, Query, State};
use axum::Json;
use parley_wire::{Conversation, ConversationList, ConversationListData, ConversationsMeta};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::agent_conversation::AgentConversation;
use crate::auth::{authorize_account, AuthUser, Origin};
use crate::chat::{self, Actor};
use crate::db;
use crate::error::ApiResult;
use crate::views;
use crate::AppState;

/// Chatwoot's `CONVERSATION_RESULTS_PER_PAGE`.
const PER_PAGE: usize = 25;

#[derive(Deserialize, Default)]
pub struct ListParams {
    status: Option<String>,
    assignee_type: Option<String>,
    inbox_id: Option<i64>,
    page: Option<usize>,
}

impl ListParams {
    /// Chatwoot's default is the open conversations; `all` is every status.
    fn filter(&self, account_id: i64) -> db::ConversationFilter<'_> {
        db::ConversationFilter {
            account_id,
            status: match self.status.as_deref() {
                None | Some("") => Some("open"),
                Some("all") => None,
                Some(s) => Some(s),
            },
            inbox_id: self.inbox_id,
        }
    }
}

/// The four counts of the list's tabs, counted in SQL.
fn meta_of(
    c: &rusqlite::Connection,
    account_id: i64,
    user_id: i64,
    p: &ListParams,
) -> ApiResult<ConversationsMeta> {
    let n = db::conversation_counts(c, &p.filter(account_id), user_id)?;
    Ok(ConversationsMeta {
        mine_count: n.mine,
        assigned_count: n.assigned,
        unassigned_count: n.unassigned,
        all_count: n.all,
    })
}

pub async fn index(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Origin(origin): Origin,
    Path(account_id): Path<i64>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<ConversationList>> {
    let list = state.db.with(|c| -> ApiResult<_> {
        authorize_account(c, &user, account_id)?;
        let meta = meta_of(c, account_id, user.id, &p)?;
        // A page past any real list is empty, never an overflow.
        let page = p.page.unwrap_or(1).clamp(1, usize::MAX / PER_PAGE);
        let tab = match p.assignee_type.as_deref() {
            Some("me") => db::AssigneeTab::Mine(user.id),
            Some("unassigned") => db::AssigneeTab::Unassigned,
            Some("assigned") => db::AssigneeTab::Assigned,
            _ => db::AssigneeTab::All,
        };
        let rows = db::conversation_page(
            c,
            &p.filter(account_id),
            tab,
            (page - 1) * PER_PAGE,
            PER_PAGE,
        )?;
        let payload = rows
            .iter()
            .map(|r| {
                let online = state.hub.contact_online(r.contact_id);
                views::conversation_rest(c, r, &origin, online)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ConversationList {
            data: ConversationListData { meta, payload },
        })
    })?;
    Ok(Json(list))
}

pub async fn meta(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(account_id): Path<i64>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let meta = state.db.with(|c| -> ApiResult<_> {
        authorize_account(c, &user, account_id)?;
        meta_of(c, account_id, user.id, &p)
    })?;
    Ok(Json(json!({ "meta": meta })))
}

pub async fn show(
    State(state): State<AppState>,
    AgentConversation { conv, .. }: AgentConversation,
    Origin(origin): Origin,
) -> ApiResult<Json<Conversation>> {
    let conv = state.db.with(|c| -> ApiResult<_> {
        let online = state.hub.contact_online(conv.contact_id);
        Ok(views::conversation_rest(c, &conv, &origin, online)?)
    })?;
    Ok(Json(conv))
}

/// Body `{"typing_status": "on"|"off", "is_private": bool}`; any other status does nothing.
pub async fn toggle_typing_status(
    State(state): State<AppState>,
    AgentConversation { user, conv, .. }: AgentConversation,
    Origin(origin): Origin,
    body: Option<Json<Value>>,
) -> ApiResult<()> {
    let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
    let on = match body.get("typing_status").and_then(Value::as_str) {
        Some("on") => true,
        Some("off") => false,
        _ => return Ok(()),
    };
    let is_private = match body.get("is_private") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    chat::typing(&state, &conv, &Actor::Agent(user), on, is_private, &origin)
}

/// Sets `agent_last_seen_at` (and `assignee_last_seen_at` for the assignee) without any
/// broadcast, as Chatwoot's `update_column` does, and answers with the conversation.
pub async fn update_last_seen(
    State(state): State<AppState>,
    AgentConversation { user, conv, .. }: AgentConversation,
    Origin(origin): Origin,
) -> ApiResult<Json<Conversation>> {
    let conv = state.db.with(|c| -> ApiResult<_> {
        db::set_agent_last_seen(c, conv.id, db::now_ms(), conv.assignee_id == Some(user.id))?;
        let fresh = db::conversation(c, conv.id)?.unwrap_or(conv);
        let online = state.hub.contact_online(fresh.contact_id);
        Ok(views::conversation_rest(c, &fresh, &origin, online)?)
    })?;
    Ok(Json(conv))
}
