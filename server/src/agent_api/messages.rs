//! Messages of a conversation: the paged index, create (JSON or multipart), soft delete.

use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_body_util::BodyExt;
use parley_wire::{Message, MessagesIndex, NewMessage};
use serde::Deserialize;
use serde_json::Value;

use crate::agent_conversation::AgentConversation;
use crate::auth::Origin;
use crate::chat::{self, Actor, MessageInput};
use crate::config::MAX_JSON_BYTES;
use crate::connections::ConnectionKill;
use crate::db::{self, MessagePage};
use crate::error::{ApiError, ApiResult};
use crate::test_controls::{self, AnswerFault};
use crate::views;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct PageParams {
    before: Option<String>,
    after: Option<String>,
    filter_internal_messages: Option<String>,
}

/// Chatwoot's `MessageFinder`: ids are the cursors (CONTRACTS.md §2.3).
fn page_of(p: &PageParams) -> MessagePage {
    let id = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    match (id(&p.after), id(&p.before)) {
        (Some(after), Some(before)) => MessagePage::Between { after, before },
        (None, Some(before)) => MessagePage::Before(before),
        (Some(after), None) => MessagePage::After(after),
        (None, None) => MessagePage::Latest,
    }
}

pub async fn index(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(p): Query<PageParams>,
    // After the query: a malformed one is refused before any lookup, as it always was.
    AgentConversation { conv, .. }: AgentConversation,
) -> ApiResult<Json<MessagesIndex>> {
    let internal_hidden = p.filter_internal_messages.as_deref() == Some("true");
    let index = state.db.with(|c| -> ApiResult<_> {
        let rows = db::messages_page(c, conv.id, page_of(&p), internal_hidden)?;
        // Extension (with echo_id idempotency): the index names the echo_id each message
        // was created with, so a client that lost an answer matches its pending message
        // exactly. A real Chatwoot (and `--no-idempotency`) never puts it in the index.
        let idempotent = state.faults.idempotency();
        let payload = rows
            .iter()
            .map(|m| {
                let echo_id = m.echo_id.as_deref().filter(|_| idempotent);
                views::message_rest(c, conv.display_id, m, &origin, echo_id)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MessagesIndex {
            meta: views::messages_index_meta(c, &conv)?,
            payload,
        })
    })?;
    Ok(Json(index))
}

/// The JSON branch: `content_attributes` may also arrive as a JSON string.
fn from_json(m: NewMessage) -> MessageInput {
    let attrs = match m.content_attributes {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap_or(Value::Null),
        Some(v) => v,
        None => Value::Null,
    };
    MessageInput {
        content: m.content,
        private: m.private,
        message_type: db::OUTGOING,
        content_type: m.content_type,
        content_attributes: attrs,
        echo_id: m.echo_id,
        uploads: vec![],
    }
}

/// Parses either body shape the dashboard sends.
pub async fn read_body(
    state: &AppState,
    request: Request,
    message_type: i64,
) -> ApiResult<(MessageInput, Option<String>)> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        let form = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::Status(e.status(), e.body_text()))?;
        let input = super::message_form::read_message_form(state, form, message_type).await?;
        Ok((input, None))
    } else {
        let body = read_json::<NewMessage>(request).await?;
        let requested_type = body.message_type.clone();
        let mut input = from_json(body);
        input.message_type = message_type;
        Ok((input, requested_type))
    }
}

/// A JSON body of at most `MAX_JSON_BYTES`, on a route whose overall limit is the upload
/// one: a larger declared length is refused before reading, a longer stream as soon as
/// it passes the limit, so no body is ever buffered beyond it.
async fn read_json<T: serde::de::DeserializeOwned>(request: Request) -> ApiResult<T> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_JSON_BYTES as u64) {
        return Err(ApiError::too_large(MAX_JSON_BYTES));
    }
    let (parts, body) = request.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_JSON_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiError::too_large(MAX_JSON_BYTES));
        }
        Err(e) => {
            return Err(ApiError::Status(
                StatusCode::BAD_REQUEST,
                format!("Cannot read the request body: {e}"),
            ));
        }
    };
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    let Json(body) = Json::<T>::from_request(request, &())
        .await
        .map_err(|e| ApiError::Status(e.status(), e.body_text()))?;
    Ok(body)
}

pub async fn create(
    State(state): State<AppState>,
    AgentConversation { user, conv, .. }: AgentConversation,
    Origin(origin): Origin,
    kill: Option<Extension<ConnectionKill>>,
    request: Request,
) -> ApiResult<Response> {
    let (input, requested_type) = read_body(&state, request, db::OUTGOING).await?;
    if requested_type.as_deref() == Some("incoming") {
        crate::chat::discard_uploads(&state, &input.uploads);
        return Err(ApiError::Unprocessable(
            "Incoming messages are only allowed in Api inboxes".into(),
        ));
    }
    let answer =
        test_controls::message_create_faults(&state, &input.uploads, input.echo_id.as_deref())
            .await?;
    let echo_id = input.echo_id.clone().filter(|e| !e.is_empty());
    let created = chat::create_message(&state, &conv, &Actor::Agent(user), input, &origin)?;
    if answer == AnswerFault::Drop {
        if let Some(Extension(kill)) = kill {
            kill.close_without_response().await;
        }
    }
    let body = state.db.with(|c| {
        views::message_rest(
            c,
            conv.display_id,
            &created.message,
            &origin,
            echo_id.as_deref(),
        )
    })?;
    let mut response = Json(body).into_response();
    if created.existing {
        // Tells a test (or a curious client) that idempotency answered, not a new insert.
        response.headers_mut().insert(
            "x-parley-idempotent-replay",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

pub async fn destroy(
    State(state): State<AppState>,
    AgentConversation {
        user,
        conv,
        message_id,
    }: AgentConversation,
    Origin(origin): Origin,
) -> ApiResult<Json<Message>> {
    let message_id = message_id.ok_or(ApiError::NotFound)?;
    let m = chat::delete_message(&state, &conv, message_id, &user, &origin)?;
    let body = state
        .db
        .with(|c| views::message_rest(c, conv.display_id, &m, &origin, None))?;
    Ok(Json(body))
}
