//! Chatwoot's public client API (the customer side):
//! `/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/...`.
//! The contact identifier is the contact inbox's `source_id`; the contact's cable
//! subscription uses the contact inbox's `pubsub_token`. CORS is open here, as Chatwoot's
//! rack-cors config does for `/public/api/*`.

use axum::extract::{Path, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use parley_wire::{Attachment, Sender};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::agent_api;
use crate::auth::Origin;
use crate::chat::{self, Actor};
use crate::config::MAX_JSON_BYTES;
use crate::db::{self, ContactInboxRow, ContactRow, ConversationRow, InboxRow, MessageRow};
use crate::error::{ApiError, ApiResult};
use crate::views;
use crate::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    let contact = "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}";
    let conv = format!("{contact}/conversations/{{conversation_id}}");
    // Creating is what a stranger can repeat to fill the agents' list and the disk.
    let throttled =
        || axum::middleware::from_fn_with_state(state.clone(), crate::throttle::public_create);
    Router::new()
        .route(
            "/public/api/v1/inboxes/{inbox_identifier}/contacts",
            post(create_contact).layer(throttled()),
        )
        .route(contact, get(show_contact))
        .route(
            &format!("{contact}/conversations"),
            get(list_conversations).merge(post(create_conversation).layer(throttled())),
        )
        .route(&conv, get(show_conversation))
        .route(&format!("{conv}/toggle_typing"), post(toggle_typing))
        .route(&format!("{conv}/update_last_seen"), post(update_last_seen))
        // Every route above reads at most a small JSON body.
        .layer(RequestBodyLimitLayer::new(MAX_JSON_BYTES))
        .route(
            &format!("{conv}/messages"),
            agent_api::upload_route(
                get(list_messages).post(create_message),
                agent_api::message_body_limit(state),
            ),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers(Any),
        )
}

/// `public/api/v1/models/_contact`.
#[derive(Serialize)]
struct PublicContact {
    id: i64,
    source_id: String,
    name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    pubsub_token: String,
}

#[derive(Serialize)]
struct PublicContactRef {
    id: i64,
    name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
}

/// `public/api/v1/models/_message`.
#[derive(Serialize)]
struct PublicMessage {
    id: i64,
    content: Option<String>,
    message_type: i64,
    content_type: String,
    content_attributes: Value,
    created_at: i64,
    conversation_id: i64,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    echo_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachments: Option<Vec<Attachment>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<Sender>,
}

/// `public/api/v1/models/_conversation`.
#[derive(Serialize)]
struct PublicConversation {
    id: i64,
    uuid: String,
    inbox_id: i64,
    contact_last_seen_at: i64,
    status: String,
    agent_last_seen_at: i64,
    messages: Vec<PublicMessage>,
    contact: PublicContactRef,
}

fn public_contact(ct: &ContactRow, ci: &ContactInboxRow) -> PublicContact {
    PublicContact {
        id: ct.id,
        source_id: ci.source_id.clone(),
        name: ct.name.clone(),
        email: ct.email.clone(),
        phone_number: ct.phone_number.clone(),
        pubsub_token: ci.pubsub_token.clone(),
    }
}

fn public_message(
    c: &Connection,
    conv: &ConversationRow,
    m: &MessageRow,
    origin: &str,
    echo_id: Option<&str>,
) -> ApiResult<PublicMessage> {
    // The REST view has the sender and attachments this view needs.
    let rest = views::message_rest(c, conv.display_id, m, origin, None)?;
    Ok(PublicMessage {
        id: m.id,
        content: m.content.clone(),
        message_type: m.message_type,
        content_type: m.content_type.clone(),
        content_attributes: views::contact_attributes(&m.content_attributes),
        created_at: views::secs(m.created_at),
        conversation_id: conv.display_id,
        status: m.status.clone(),
        echo_id: echo_id.map(str::to_owned),
        attachments: rest.attachments,
        sender: rest.sender,
    })
}

fn public_conversation(
    c: &Connection,
    conv: &ConversationRow,
    contact: &ContactRow,
    origin: &str,
) -> ApiResult<PublicConversation> {
    let messages = db::messages_page(c, conv.id, db::MessagePage::Recent(200), true)?
        .iter()
        .map(|m| public_message(c, conv, m, origin, None))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(PublicConversation {
        id: conv.display_id,
        uuid: conv.uuid.clone(),
        inbox_id: conv.inbox_id,
        contact_last_seen_at: conv.contact_last_seen_at.map(views::secs).unwrap_or(0),
        status: conv.status.clone(),
        agent_last_seen_at: conv.agent_last_seen_at.map(views::secs).unwrap_or(0),
        messages,
        contact: PublicContactRef {
            id: contact.id,
            name: contact.name.clone(),
            email: contact.email.clone(),
            phone_number: contact.phone_number.clone(),
        },
    })
}

fn inbox(c: &Connection, identifier: &str) -> ApiResult<InboxRow> {
    db::inbox_by_identifier(c, identifier)?.ok_or(ApiError::NotFound)
}

fn contact_of(
    c: &Connection,
    inbox_identifier: &str,
    source_id: &str,
) -> ApiResult<(InboxRow, ContactInboxRow, ContactRow)> {
    let inbox = inbox(c, inbox_identifier)?;
    let ci = db::contact_inbox_by_source(c, inbox.id, source_id)?.ok_or(ApiError::NotFound)?;
    let contact = db::contact(c, ci.contact_id)?.ok_or(ApiError::NotFound)?;
    Ok((inbox, ci, contact))
}

fn conversation_of(
    c: &Connection,
    inbox_identifier: &str,
    source_id: &str,
    display_id: i64,
) -> ApiResult<(ConversationRow, ContactRow)> {
    let (inbox, ci, contact) = contact_of(c, inbox_identifier, source_id)?;
    let conv = db::conversation_by_display_id(c, inbox.account_id, display_id)?
        .filter(|conv| conv.contact_inbox_id == ci.id)
        .ok_or(ApiError::NotFound)?;
    Ok((conv, contact))
}

#[derive(Deserialize, Default)]
pub struct NewContactBody {
    identifier: Option<String>,
    name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
}

/// A friendly name for an anonymous visitor, like Chatwoot's generated ones.
fn visitor_name() -> String {
    use rand::seq::SliceRandom;
    let mut rng = rand::thread_rng();
    let adjectives = ["calm", "bright", "swift", "quiet", "bold", "lucky", "misty"];
    let nouns = [
        "river", "field", "cloud", "harbor", "meadow", "forest", "comet",
    ];
    format!(
        "{}-{}-{}",
        adjectives.choose(&mut rng).unwrap_or(&"calm"),
        nouns.choose(&mut rng).unwrap_or(&"river"),
        rand::Rng::gen_range(&mut rng, 100..1000)
    )
}

async fn create_contact(
    State(state): State<AppState>,
    Path(inbox_identifier): Path<String>,
    body: Option<Json<NewContactBody>>,
) -> ApiResult<Json<PublicContact>> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let out = state.db.tx(|c| -> ApiResult<_> {
        let inbox = inbox(c, &inbox_identifier)?;
        let now = db::now_ms();
        let name = body
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(visitor_name);
        let contact_id = db::insert_contact(
            c,
            &db::NewContact {
                account_id: inbox.account_id,
                name: Some(&name),
                email: body.email.as_deref(),
                phone_number: body.phone_number.as_deref(),
                identifier: body.identifier.as_deref(),
            },
            now,
        )?;
        let source_id = uuid::Uuid::new_v4().to_string();
        let ci_id = db::insert_contact_inbox(c, contact_id, inbox.id, &source_id, now)?;
        let ci = db::contact_inbox(c, ci_id)?.ok_or(ApiError::NotFound)?;
        let contact = db::contact(c, contact_id)?.ok_or(ApiError::NotFound)?;
        Ok(public_contact(&contact, &ci))
    })?;
    Ok(Json(out))
}

async fn show_contact(
    State(state): State<AppState>,
    Path((inbox_identifier, source_id)): Path<(String, String)>,
) -> ApiResult<Json<PublicContact>> {
    let out = state.db.with(|c| -> ApiResult<_> {
        let (_, ci, contact) = contact_of(c, &inbox_identifier, &source_id)?;
        Ok(public_contact(&contact, &ci))
    })?;
    Ok(Json(out))
}

async fn list_conversations(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<PublicConversation>>> {
    let out = state.db.with(|c| -> ApiResult<_> {
        let (_, ci, contact) = contact_of(c, &inbox_identifier, &source_id)?;
        db::conversations_of_contact_inbox(c, ci.id)?
            .iter()
            .map(|conv| public_conversation(c, conv, &contact, &origin))
            .collect::<ApiResult<Vec<_>>>()
    })?;
    Ok(Json(out))
}

async fn create_conversation(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id)): Path<(String, String)>,
) -> ApiResult<Json<PublicConversation>> {
    let (conv, contact) = state.db.tx(|c| -> ApiResult<_> {
        let (inbox, ci, contact) = contact_of(c, &inbox_identifier, &source_id)?;
        let id = db::insert_conversation(
            c,
            &db::NewConversation {
                account_id: inbox.account_id,
                inbox_id: inbox.id,
                contact_id: contact.id,
                contact_inbox_id: ci.id,
                assignee_id: None,
                status: "open",
                uuid: &uuid::Uuid::new_v4().to_string(),
                additional_attributes: &Value::Object(Default::default()),
            },
            db::now_ms(),
        )?;
        Ok((db::conversation(c, id)?.ok_or(ApiError::NotFound)?, contact))
    })?;
    chat::conversation_created(&state, &conv, &origin);
    let out = state
        .db
        .with(|c| public_conversation(c, &conv, &contact, &origin))?;
    Ok(Json(out))
}

async fn show_conversation(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> ApiResult<Json<PublicConversation>> {
    let out = state.db.with(|c| -> ApiResult<_> {
        let (conv, contact) = conversation_of(c, &inbox_identifier, &source_id, display_id)?;
        public_conversation(c, &conv, &contact, &origin)
    })?;
    Ok(Json(out))
}

async fn list_messages(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> ApiResult<Json<Vec<PublicMessage>>> {
    let out = state.db.with(|c| -> ApiResult<_> {
        let (conv, _) = conversation_of(c, &inbox_identifier, &source_id, display_id)?;
        db::messages_page(c, conv.id, db::MessagePage::Recent(200), true)?
            .iter()
            .map(|m| public_message(c, &conv, m, &origin, None))
            .collect::<ApiResult<Vec<_>>>()
    })?;
    Ok(Json(out))
}

async fn create_message(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id, display_id)): Path<(String, String, i64)>,
    request: Request,
) -> ApiResult<Json<PublicMessage>> {
    let (conv, contact) = state
        .db
        .with(|c| conversation_of(c, &inbox_identifier, &source_id, display_id))?;
    let (input, _) = agent_api::read_body(&state, request, db::INCOMING).await?;
    // Chatwoot's public API permits `content` and `echo_id` (and the files); a reply's
    // integer `in_reply_to` is the one attribute kept. A contact never sets a content type,
    // `deleted`, an edit history, or a private note.
    let input = chat::MessageInput {
        content: input.content,
        private: false,
        message_type: db::INCOMING,
        content_type: None,
        content_attributes: crate::content_attributes::for_contact(&input.content_attributes),
        echo_id: input.echo_id,
        uploads: input.uploads,
    };
    let echo_id = input.echo_id.clone().filter(|e| !e.is_empty());
    let created = chat::create_message(&state, &conv, &Actor::Contact(contact), input, &origin)?;
    let out = state
        .db
        .with(|c| public_message(c, &conv, &created.message, &origin, echo_id.as_deref()))?;
    Ok(Json(out))
}

#[derive(Deserialize, Default)]
pub struct TypingBody {
    typing_status: Option<String>,
}

async fn toggle_typing(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id, display_id)): Path<(String, String, i64)>,
    body: Option<Json<TypingBody>>,
) -> ApiResult<()> {
    let (conv, contact) = state
        .db
        .with(|c| conversation_of(c, &inbox_identifier, &source_id, display_id))?;
    let on = match body.and_then(|Json(b)| b.typing_status).as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => return Ok(()),
    };
    chat::typing(&state, &conv, &Actor::Contact(contact), on, false, &origin)
}

async fn update_last_seen(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Path((inbox_identifier, source_id, display_id)): Path<(String, String, i64)>,
) -> ApiResult<()> {
    let (conv, _) = state
        .db
        .with(|c| conversation_of(c, &inbox_identifier, &source_id, display_id))?;
    chat::contact_read(&state, &conv, &origin)
}
