//! Errors as Chatwoot answers them (CONTRACTS.md §1): the status and the exact body shape a
//! Chatwoot client already knows how to read.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parley_wire::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials at all: devise's body.
    #[error("You need to sign in or sign up before continuing.")]
    SignInRequired,
    #[error("Invalid Access Token")]
    InvalidToken,
    /// Pundit's answer, e.g. for an account the user is not a member of.
    #[error("You are not authorized to do this action")]
    NotAuthorized,
    #[error("Resource could not be found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// 422 `{"error": msg}`.
    #[error("{0}")]
    Unprocessable(String),
    /// Any status with `{"error": msg}` (injected faults, payload limits).
    #[error("{1}")]
    Status(StatusCode, String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// 413 for a body (or a multipart text field) over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        ApiError::Status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request body is too large (the limit is {})",
                if limit.is_multiple_of(1024 * 1024) {
                    format!("{} MiB", limit / (1024 * 1024))
                } else {
                    format!("{} KiB", limit.div_ceil(1024))
                }
            ),
        )
    }

    pub fn content_too_long() -> Self {
        ApiError::Unprocessable(
            "Validation failed: Content is too long (maximum is 150000 characters)".into(),
        )
    }
}

impl ApiError {
    /// 507: the disk is full. Said in words, so whoever reads it knows the request may be
    /// retried once space is freed and that nothing of it was kept.
    pub fn storage_full() -> Self {
        ApiError::Status(
            StatusCode::INSUFFICIENT_STORAGE,
            "The server's disk is full: nothing of this request was stored. Try again once \
             space is freed."
                .into(),
        )
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        // SQLITE_FULL rolls the transaction back: nothing half-written stays.
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            tracing::error!("database write failed, disk full: {e}");
            return ApiError::storage_full();
        }
        ApiError::Internal(e.to_string())
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        if matches!(
            e.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ) {
            tracing::error!("write failed, disk full: {e}");
            return ApiError::storage_full();
        }
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::SignInRequired => (
                StatusCode::UNAUTHORIZED,
                ErrorBody {
                    errors: Some(vec![self.to_string()]),
                    ..Default::default()
                },
            ),
            ApiError::InvalidToken | ApiError::NotAuthorized => {
                (StatusCode::UNAUTHORIZED, ErrorBody::new(self.to_string()))
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, ErrorBody::new(self.to_string())),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, ErrorBody::new(m.clone())),
            ApiError::Unprocessable(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorBody::new(m.clone()))
            }
            ApiError::Status(s, m) => (*s, ErrorBody::new(m.clone())),
            ApiError::Internal(m) => {
                tracing::error!("internal error: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody::new("Internal server error"),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A 413 from a body limit (tower-http's plain "length limit exceeded", or an extractor's
/// text) becomes the `{"error": ...}` body every other refusal has. Its limit is unknown
/// here, so it names none; the routes' own refusals do.
pub async fn too_large_as_json(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    let body = ErrorBody::new("Request body is too large");
    let mut out = (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response();
    // CORS and other headers the layers below set still apply.
    for (name, value) in response.headers() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
