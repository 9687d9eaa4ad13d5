//! The multipart body of a message create, as the dashboard sends it: its files streamed
//! to disk by `files`, its text fields read into a [`MessageInput`].

use axum::extract::multipart::{Field, Multipart};
use axum::http::StatusCode;
use serde_json::Value;

use crate::chat::MessageInput;
use crate::config::{MAX_ATTACHMENTS, MAX_JSON_BYTES};
use crate::error::{ApiError, ApiResult};
use crate::files::{multipart_error, remove_stored, store_field};
use crate::AppState;

/// Why a multipart body was refused; decided while draining the rest of the body so the
/// client gets the answer instead of a reset connection.
enum Refusal {
    TooMany,
    TooBig,
    /// Storing failed (a full disk): the rest of the body is drained, then this is the answer.
    Storage(ApiError),
}

/// Reads a message-create multipart body as the dashboard sends it: `content`,
/// `attachments[]` parts, `private`, `echo_id`, `content_attributes` (a JSON string), ...
pub async fn read_message_form(
    state: &AppState,
    mut form: Multipart,
    message_type: i64,
) -> ApiResult<MessageInput> {
    let mut input = MessageInput {
        message_type,
        content_attributes: Value::Object(Default::default()),
        ..Default::default()
    };
    let mut refusal: Option<Refusal> = None;
    let result: ApiResult<()> = async {
        while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or("").to_owned();
            let is_file = field.file_name().is_some();
            if is_file && (name == "attachments[]" || name == "attachments") {
                if refusal.is_some() || input.uploads.len() >= MAX_ATTACHMENTS {
                    refusal.get_or_insert(Refusal::TooMany);
                    drain(&mut field).await?;
                    continue;
                }
                match store_field(state, &mut field).await {
                    Ok(Some(u)) => input.uploads.push(u),
                    Ok(None) => {
                        refusal = Some(Refusal::TooBig);
                    }
                    Err(e @ ApiError::Status(..)) => {
                        refusal = Some(Refusal::Storage(e));
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            if is_file {
                drain(&mut field).await?;
                continue;
            }
            let text = text_field(&mut field).await?;
            match name.as_str() {
                "content" => input.content = Some(text),
                "private" => input.private = matches!(text.as_str(), "true" | "1" | "t" | "on"),
                "echo_id" => input.echo_id = Some(text),
                "content_type" => input.content_type = Some(text),
                "content_attributes" => {
                    input.content_attributes = serde_json::from_str(&text)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| Value::Object(Default::default()))
                }
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    let failure = match (result, refusal) {
        (Err(e), _) => Some(e),
        (Ok(()), Some(Refusal::TooMany)) => Some(ApiError::Unprocessable(
            "Validation failed: Attachments exceeded maximum allowed".into(),
        )),
        (Ok(()), Some(Refusal::TooBig)) => Some(ApiError::Unprocessable(format!(
            "Validation failed: File size is too big (maximum is {} MB)",
            state.config.max_file_bytes / (1024 * 1024)
        ))),
        (Ok(()), Some(Refusal::Storage(e))) => Some(e),
        (Ok(()), None) => None,
    };
    if let Some(e) = failure {
        for u in &input.uploads {
            remove_stored(&state.uploads_dir, &u.stored_name);
        }
        return Err(e);
    }
    Ok(input)
}

/// A text part of at most `MAX_JSON_BYTES`, refused as soon as it passes that (never
/// buffered whole, unlike `Field::text`).
async fn text_field(field: &mut Field<'_>) -> ApiResult<String> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > MAX_JSON_BYTES {
            return Err(ApiError::too_large(MAX_JSON_BYTES));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| {
        ApiError::Status(
            StatusCode::BAD_REQUEST,
            format!(
                "The form field {:?} is not UTF-8 text",
                field.name().unwrap_or("")
            ),
        )
    })
}

async fn drain(field: &mut Field<'_>) -> ApiResult<()> {
    while field.chunk().await.map_err(multipart_error)?.is_some() {}
    Ok(())
}
