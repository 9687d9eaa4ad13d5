//! Fault injection for end-to-end tests (only with `--test-controls`): failures that are
//! real on the wire (a 500, a connection closed without an answer, duplicated or delayed
//! cable frames) so the client's recovery is tested as users meet it.

use std::sync::Mutex;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::AppState;

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

pub async fn get_faults(State(state): State<AppState>) -> Json<FaultState> {
    Json(state.faults.snapshot())
}

pub async fn set_faults(
    State(state): State<AppState>,
    Json(update): Json<FaultUpdate>,
) -> Json<FaultState> {
    Json(state.faults.apply(update))
}
