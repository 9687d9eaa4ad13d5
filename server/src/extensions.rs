//! Parley's extensions to the Chatwoot API, discoverable so a client can hide what a real
//! Chatwoot (which answers 404 here) does not have.

use axum::extract::State;
use axum::Json;
use parley_wire::Message;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::agent_conversation::AgentConversation;
use crate::auth::{AuthUser, Origin};
use crate::chat;
use crate::error::{ApiError, ApiResult};
use crate::views;
use crate::AppState;

/// `GET /api/v1/parley/capabilities`.
pub async fn capabilities(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    Json(json!({
        "parley": {
            "version": env!("CARGO_PKG_VERSION"),
            "echo_id_idempotency": state.faults.idempotency(),
            "message_edit": true,
        }
    }))
}

#[derive(Deserialize)]
pub struct EditBody {
    content: Option<String>,
}

/// `PATCH .../messages/{mid}/content` `{"content": "..."}`: the author edits a message;
/// `content_attributes.edited` keeps when and what it was before.
pub async fn edit_message(
    State(state): State<AppState>,
    AgentConversation {
        user,
        conv,
        message_id,
    }: AgentConversation,
    Origin(origin): Origin,
    body: Option<Json<EditBody>>,
) -> ApiResult<Json<Message>> {
    let message_id = message_id.ok_or(ApiError::NotFound)?;
    let content = body.and_then(|Json(b)| b.content).ok_or_else(|| {
        ApiError::Unprocessable("Validation failed: Content can't be blank".into())
    })?;
    let m = chat::edit_message(&state, &conv, message_id, &user, &content, &origin)?;
    let body = state
        .db
        .with(|c| views::message_rest(c, conv.display_id, &m, &origin, None))?;
    Ok(Json(body))
}
