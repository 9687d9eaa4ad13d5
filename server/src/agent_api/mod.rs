//! Chatwoot's agent API (CONTRACTS.md §2): the paths, status codes and JSON the dashboard
//! and the mobile app use, so a Chatwoot client works against this server unchanged.

mod canned;
mod conversations;
mod inbox;
mod message_form;
mod messages;
mod profile;

pub(crate) use messages::read_body;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::MAX_JSON_BYTES;
use crate::AppState;

/// The whole body of a message create: 15 files of the per-file limit, plus the form
/// fields. Files stream to disk and text fields are capped on their own, so this bounds
/// time and disk, not memory.
pub fn message_body_limit(state: &AppState) -> usize {
    let bytes = (crate::config::MAX_ATTACHMENTS as u64)
        .saturating_mul(state.config.max_file_bytes)
        .saturating_add(4 * 1024 * 1024);
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The limits of a message-create route: a declared `Content-Length` over the upload limit
/// is refused before a byte is read; the JSON branch applies its own, smaller limit.
pub fn upload_route<S: Clone + Send + Sync + 'static>(
    route: axum::routing::MethodRouter<S>,
    limit: usize,
) -> axum::routing::MethodRouter<S> {
    let route: axum::routing::MethodRouter<S> = route.layer(DefaultBodyLimit::max(limit));
    route.layer(RequestBodyLimitLayer::new(limit))
}

pub fn routes(state: &AppState) -> Router<AppState> {
    let conv = "/api/v1/accounts/{account_id}/conversations/{conversation_id}";
    let api = Router::new()
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
        // The inbox's actions (issue 13).
        .route(&format!("{conv}/toggle_status"), post(inbox::toggle_status))
        .route(
            &format!("{conv}/toggle_priority"),
            post(inbox::toggle_priority),
        )
        .route(&format!("{conv}/unread"), post(inbox::unread))
        .route(&format!("{conv}/assignments"), post(inbox::assign))
        .route(
            &format!("{conv}/messages/{{message_id}}/retry"),
            post(inbox::retry),
        )
        .route("/api/v1/accounts/{account_id}/agents", get(inbox::agents))
        .route(
            "/api/v1/parley/capabilities",
            get(crate::extensions::capabilities),
        )
        // Every route above reads at most a small JSON body.
        .layer(RequestBodyLimitLayer::new(MAX_JSON_BYTES))
        .route(
            &format!("{conv}/messages"),
            upload_route(
                get(messages::index).post(messages::create),
                message_body_limit(state),
            ),
        );
    let api = if state.config.api_cors {
        // The token travels in a header, never a cookie: any origin may call with it. A
        // preflight answer is cached for two hours, so a send costs one request, not two.
        api.layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers(Any)
                .max_age(Duration::from_secs(2 * 60 * 60)),
        )
    } else {
        api
    };
    Router::new()
        .route("/auth/sign_in", post(profile::sign_in))
        .layer(RequestBodyLimitLayer::new(MAX_JSON_BYTES))
        .merge(api)
}
