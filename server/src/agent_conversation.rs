//! The conversation an agent request names in its path
//! (`/api/v1/accounts/{account_id}/conversations/{conversation_id}/...`), looked up once
//! for every handler of such a route, after the agent is known and may see the account.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use serde::Deserialize;

use crate::auth::{authorize_account, AuthUser};
use crate::db::{self, ConversationRow, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The signed-in agent and the conversation of the route, which the agent may see.
pub struct AgentConversation {
    pub user: UserRow,
    pub conv: ConversationRow,
    /// The route's `{message_id}`, on the routes of one message.
    pub message_id: Option<i64>,
}

/// The route's parameters, read in one go so that a malformed one is refused before the
/// lookup, as when each handler read its own path.
#[derive(Deserialize)]
struct RouteIds {
    account_id: i64,
    conversation_id: i64,
    message_id: Option<i64>,
}

impl FromRequestParts<AppState> for AgentConversation {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(ids) = Path::<RouteIds>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let conv = state
            .db
            .with(|c| load_conversation(c, &user, ids.account_id, ids.conversation_id))
            .map_err(IntoResponse::into_response)?;
        Ok(AgentConversation {
            user,
            conv,
            message_id: ids.message_id,
        })
    }
}

/// The conversation `display_id` of `account_id`, if the user may see that account.
pub fn load_conversation(
    c: &Connection,
    user: &UserRow,
    account_id: i64,
    display_id: i64,
) -> ApiResult<ConversationRow> {
    authorize_account(c, user, account_id)?;
    db::conversation_by_display_id(c, account_id, display_id)?.ok_or(ApiError::NotFound)
}
