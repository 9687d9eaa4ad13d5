//! Fault injection for end-to-end tests (only with `--test-controls`): failures that are
//! real on the wire (a 500, a connection closed without an answer, duplicated or delayed
//! cable frames) so the client's recovery is tested as users meet it.

use std::sync::Mutex;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::files::StoredUpload;
use crate::{chat, db, demo, files, AppState};

/// The current fault state; `POST /__parley/test/faults` changes only the keys it sends.
#[derive(Debug, Clone, Serialize)]
pub struct FaultState {
    /// The next n message-create POSTs answer `fail_status` without storing anything.
    pub fail_next_posts: u32,
    pub fail_status: u16,
    /// The next n message-create POSTs store the message, then close the connection
    /// without an answer (the ambiguous failure an outbox must survive).
    pub drop_next_responses: u32,
    /// echo_id idempotency on or off (starts as the command line says).
    pub idempotency: bool,
    /// Every cable broadcast is sent twice.
    pub cable_duplicate: bool,
    /// Every cable broadcast is held back this long.
    pub cable_delay_ms: u64,
    /// Broadcasts to a connection are swapped pairwise.
    pub cable_reorder: bool,
    /// The next n messages with attachments fail with 500 before storing.
    pub upload_fail_next: u32,
    /// Message-create POSTs with attachments wait this long after the whole body has
    /// arrived, before storing (a slow server processing the files).
    pub upload_hold_ms: u64,
}

#[derive(Debug, Default, Deserialize)]
pub struct FaultUpdate {
    pub fail_next_posts: Option<u32>,
    pub fail_status: Option<u16>,
    pub drop_next_responses: Option<u32>,
    pub idempotency: Option<bool>,
    pub cable_duplicate: Option<bool>,
    pub cable_delay_ms: Option<u64>,
    pub cable_reorder: Option<bool>,
    pub upload_fail_next: Option<u32>,
    pub upload_hold_ms: Option<u64>,
}

pub struct Faults {
    state: Mutex<FaultState>,
}

/// What the message-create path must do for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostFault {
    None,
    Fail(StatusCode),
    Drop,
}

impl Faults {
    pub fn new(idempotency: bool) -> Self {
        Faults {
            state: Mutex::new(FaultState {
                fail_next_posts: 0,
                fail_status: 500,
                drop_next_responses: 0,
                idempotency,
                cable_duplicate: false,
                cable_delay_ms: 0,
                cable_reorder: false,
                upload_fail_next: 0,
                upload_hold_ms: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> FaultState {
        self.lock().clone()
    }

    pub fn apply(&self, u: FaultUpdate) -> FaultState {
        let mut s = self.lock();
        if let Some(v) = u.fail_next_posts {
            s.fail_next_posts = v;
        }
        if let Some(v) = u.fail_status {
            s.fail_status = v;
        }
        if let Some(v) = u.drop_next_responses {
            s.drop_next_responses = v;
        }
        if let Some(v) = u.idempotency {
            s.idempotency = v;
        }
        if let Some(v) = u.cable_duplicate {
            s.cable_duplicate = v;
        }
        if let Some(v) = u.cable_delay_ms {
            s.cable_delay_ms = v;
        }
        if let Some(v) = u.cable_reorder {
            s.cable_reorder = v;
        }
        if let Some(v) = u.upload_fail_next {
            s.upload_fail_next = v;
        }
        if let Some(v) = u.upload_hold_ms {
            s.upload_hold_ms = v;
        }
        s.clone()
    }

    pub fn idempotency(&self) -> bool {
        self.lock().idempotency
    }

    /// Consumes one pending post fault, failures first.
    pub fn take_post_fault(&self) -> PostFault {
        let mut s = self.lock();
        if s.fail_next_posts > 0 {
            s.fail_next_posts -= 1;
            let status =
                StatusCode::from_u16(s.fail_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return PostFault::Fail(status);
        }
        if s.drop_next_responses > 0 {
            s.drop_next_responses -= 1;
            return PostFault::Drop;
        }
        PostFault::None
    }

    pub fn take_upload_fault(&self) -> bool {
        let mut s = self.lock();
        if s.upload_fail_next > 0 {
            s.upload_fail_next -= 1;
            return true;
        }
        false
    }
}

/// What a message create must do with its answer once the message is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerFault {
    Send,
    /// Close the connection without an answer (`ConnectionKill`).
    Drop,
}

/// The injected faults of a message create whose body has been read (none without
/// `--test-controls`): a slow server holds a message with files, an injected failure
/// answers an error after discarding the files already stored, and a dropped answer is
/// left to the handler, which must store the message first. Each create is noted in
/// [`CREATE_LOG`] with the fault it met.
pub async fn message_create_faults(
    state: &AppState,
    uploads: &[StoredUpload],
    echo_id: Option<&str>,
) -> ApiResult<AnswerFault> {
    if !state.config.test_controls {
        return Ok(AnswerFault::Send);
    }
    let hold = state.faults.snapshot().upload_hold_ms;
    if !uploads.is_empty() && hold > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
    }
    if !uploads.is_empty() && state.faults.take_upload_fault() {
        chat::discard_uploads(state, uploads);
        return Err(ApiError::Status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Injected upload failure (test control)".into(),
        ));
    }
    let fault = state.faults.take_post_fault();
    log_create(&state.config.data_dir, echo_id, fault);
    match fault {
        PostFault::Fail(status) => {
            chat::discard_uploads(state, uploads);
            Err(ApiError::Status(
                status,
                "Injected failure (test control)".into(),
            ))
        }
        PostFault::Drop => Ok(AnswerFault::Drop),
        PostFault::None => Ok(AnswerFault::Send),
    }
}

/// Where every message-create POST that reached the server is noted (test controls only),
/// one JSON line each, before anything is stored: a test tells a copy stored by a request
/// the page never made (Chromium's own resend of a POST whose connection closed unanswered)
/// from one the page's outbox sent. In the data dir, so it outlives a restart.
pub const CREATE_LOG: &str = "test-creates.jsonl";

/// Notes one message-create POST and the fault it met (see [`CREATE_LOG`]).
pub fn log_create(data_dir: &std::path::Path, echo_id: Option<&str>, fault: PostFault) {
    use std::io::Write;
    let fault = match fault {
        PostFault::None => "none",
        PostFault::Fail(_) => "fail",
        PostFault::Drop => "drop",
    };
    let line = serde_json::json!({ "echo_id": echo_id, "fault": fault }).to_string();
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join(CREATE_LOG))
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        tracing::warn!("test controls: cannot note a message create: {e}");
    }
}

pub async fn get_faults(State(state): State<AppState>) -> Json<FaultState> {
    Json(state.faults.snapshot())
}

pub async fn set_faults(
    State(state): State<AppState>,
    Json(update): Json<FaultUpdate>,
) -> Json<FaultState> {
    Json(state.faults.apply(update))
}

/// `POST /__parley/test/long_conversation`: a new conversation with the same contact,
/// inbox and assignee as `like_conversation_id`, holding `count` messages that end now, for
/// the long-conversation tests and benchmarks (10,000 messages in one request). Ids and
/// times grow together, as in a real Chatwoot, so `before=`/`after=` paging holds.
#[derive(Debug, Deserialize)]
pub struct LongConversationRequest {
    pub account_id: i64,
    /// A display id, as in the agent API's URLs.
    pub like_conversation_id: i64,
    pub count: u32,
    /// Time between two messages (default 10 minutes: 10,000 messages span ten weeks).
    #[serde(default)]
    pub every_s: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct LongConversation {
    /// The new conversation's display id.
    pub conversation_id: i64,
    pub first_message_id: i64,
    pub last_message_id: i64,
}

/// Texts of every shape a real history has: one-liners, markdown, links, long paragraphs.
const HISTORY_TEXTS: [&str; 8] = [
    "Thanks!",
    "Could you check the **order status** for me? It says _processing_ since Monday.",
    "Sure, here are the steps:\n\n1. Open *Settings*\n2. Choose **Billing**\n3. Press `Update card`",
    "See https://acme.example/help/returns for the return policy.",
    "> I was charged twice\n\nI've refunded the second charge; it takes 3–5 business days to show.",
    "ok",
    "I have been trying to set this up for a while now and I keep running into the same problem: after I connect the device it shows up for a few seconds, then disappears from the list, and the app tells me to restart it. I've restarted it four times, reinstalled the app, and tried another phone. Nothing changes. Is this a known issue?",
    "Let me look into it and get back to you in a moment.",
];

pub async fn long_conversation(
    State(state): State<AppState>,
    Json(req): Json<LongConversationRequest>,
) -> ApiResult<Json<LongConversation>> {
    if req.count == 0 || req.count > 100_000 {
        return Err(ApiError::Unprocessable(
            "count must be between 1 and 100000".into(),
        ));
    }
    // One small image, stored once and attached to every 25th message.
    let image = files::store_bytes(
        &state.uploads_dir,
        "history.png",
        "image/png",
        &demo::demo_png(),
    )?;
    let made = state.db.tx(|c| -> ApiResult<LongConversation> {
        let like = db::conversation_by_display_id(c, req.account_id, req.like_conversation_id)?
            .ok_or(ApiError::NotFound)?;
        let agent = match like.assignee_id {
            Some(id) => id,
            None => db::account_users(c, like.account_id)?
                .first()
                .map(|u| u.id)
                .ok_or(ApiError::NotFound)?,
        };
        let step_ms = req.every_s.unwrap_or(600).max(1) * 1000;
        let now = db::now_ms();
        let start = now - step_ms * i64::from(req.count);
        let id = db::insert_conversation(
            c,
            &db::NewConversation {
                account_id: like.account_id,
                inbox_id: like.inbox_id,
                contact_id: like.contact_id,
                contact_inbox_id: like.contact_inbox_id,
                assignee_id: Some(agent),
                status: "open",
                uuid: &uuid::Uuid::new_v4().to_string(),
                additional_attributes: &like.additional_attributes,
            },
            start,
        )?;
        let conv = db::conversation(c, id)?.ok_or(ApiError::NotFound)?;
        let empty = serde_json::json!({});
        let (mut first, mut last) = (None, 0);
        for i in 0..req.count {
            let incoming = i % 3 != 2;
            let at = start + step_ms * i64::from(i);
            let mid = db::insert_message(
                c,
                &db::NewMessage {
                    conversation: &conv,
                    message_type: if incoming { 0 } else { 1 },
                    content_type: "text",
                    content: Some(HISTORY_TEXTS[i as usize % HISTORY_TEXTS.len()]),
                    status: if incoming { "sent" } else { "read" },
                    private: false,
                    content_attributes: &empty,
                    sender_type: Some(if incoming { "Contact" } else { "User" }),
                    sender_id: Some(if incoming { conv.contact_id } else { agent }),
                    echo_id: None,
                },
                at,
            )?;
            if i % 25 == 24 {
                // One file on disk; each attachment has its own (unique) URL token.
                let token = format!("{}{i}", image.token);
                let attachment = db::NewAttachment {
                    token: &token,
                    ..image.as_new(mid, conv.account_id)
                };
                db::insert_attachment(c, &attachment, at)?;
            }
            first.get_or_insert(mid);
            last = mid;
        }
        if let Some(m) = db::message(c, last)? {
            db::note_message_activity(c, &m)?;
        }
        // The agent has read all but the last five: the unread divider has a place.
        let seen = start + step_ms * (i64::from(req.count) - 6);
        db::set_agent_last_seen(c, id, seen, true)?;
        Ok(LongConversation {
            conversation_id: conv.display_id,
            first_message_id: first.unwrap_or_default(),
            last_message_id: last,
        })
    })?;
    Ok(Json(made))
}
