//! Chatwoot's agent API (CONTRACTS.md §2): the paths, status codes and JSON the dashboard
//! and the mobile app use, so a Chatwoot client works against this server unchanged.

mod canned;
mod conversations;
mod messages;
mod profile;

pub(crate) use messages::read_body;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use rusqlite::Connection;

use crate::auth::authorize_account;
use crate::db::{self, ConversationRow, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    // A message may carry 15 files of the per-file limit, plus the form fields.
    let message_body_limit = (crate::config::MAX_ATTACHMENTS as u64)
        .saturating_mul(state.config.max_file_bytes)
        .saturating_add(4 * 1024 * 1024);
    let conv = "/api/v1/accounts/{account_id}/conversations/{conversation_id}";
    Router::new()
        .route("/auth/sign_in", post(profile::sign_in))
        .route("/api/v1/profile", get(profile::show))
        .route(
            "/api/v1/accounts/{account_id}/conversations",
            get(conversations::index),
        )
        .route(
            "/api/v1/accounts/{account_id}/conversations/meta",
            get(conversations::meta),
        )
        .route(conv, get(conversations::show))
        .route(
            &format!("{conv}/messages"),
            get(messages::index)
                .post(messages::create)
                .layer(DefaultBodyLimit::max(
                    usize::try_from(message_body_limit).unwrap_or(usize::MAX),
                )),
        )
        .route(
            &format!("{conv}/messages/{{message_id}}"),
            delete(messages::destroy),
        )
        .route(
            &format!("{conv}/messages/{{message_id}}/content"),
            patch(crate::extensions::edit_message),
        )
        .route(
            &format!("{conv}/toggle_typing_status"),
            post(conversations::toggle_typing_status),
        )
        .route(
            &format!("{conv}/update_last_seen"),
            post(conversations::update_last_seen),
        )
        .route(
            "/api/v1/accounts/{account_id}/canned_responses",
            get(canned::index),
        )
        .route(
            "/api/v1/parley/capabilities",
            get(crate::extensions::capabilities),
        )
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
