//! A message with files: one multipart `POST .../messages` by `XMLHttpRequest`, because
//! `fetch` reports no upload progress. The files go in as the browser's Blobs (from the
//! picker, or read back from IndexedDB): the browser streams them, wasm never holds them.
//!
//! The body has the fields Chatwoot's dashboard sends (CONTRACTS.md §2.4): `echo_id`
//! (parley-server's idempotency key), `content` (only when there is a caption), one
//! `attachments[]` part per file with its name, `private`, and `content_attributes` as a
//! JSON string when replying. `echo_id` comes first (the dashboard sends it after the
//! files): a proxy that streams the files (`parley-server --upstream`) reads it before them. Errors are the same [`ApiError`]s as every other request, so the outbox
//! classifies them the same way (`outbox_driver::classify`).

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Promise;
use parley_wire::Message;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, FormData, ProgressEvent, XmlHttpRequest};

use crate::effects::api::{error_from, Api, ApiError};

/// One file of the message.
pub struct UploadFile {
    pub blob: Blob,
    pub name: String,
}

/// The message: the caption and its settings, and the files.
pub struct UploadRequest {
    pub echo_id: String,
    pub content: String,
    pub private: bool,
    pub in_reply_to: Option<i64>,
    pub files: Vec<UploadFile>,
}

/// How far an upload has come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UploadProgress {
    /// `sent` of `total` bytes of the body have gone out.
    Sending { sent: f64, total: f64 },
    /// The whole body is out; the server is storing it and has not answered yet.
    Processing,
}

/// The multipart body: `echo_id` first, then the dashboard's order.
fn form_of(request: &UploadRequest) -> Result<FormData, JsValue> {
    let form = FormData::new()?;
    form.append_with_str("echo_id", &request.echo_id)?;
    if !request.content.is_empty() {
        form.append_with_str("content", &request.content)?;
    }
    for file in &request.files {
        form.append_with_blob_and_filename("attachments[]", &file.blob, &file.name)?;
    }
    form.append_with_str("private", if request.private { "true" } else { "false" })?;
    if let Some(id) = request.in_reply_to {
        form.append_with_str(
            "content_attributes",
            &serde_json::json!({ "in_reply_to": id }).to_string(),
        )?;
    }
    Ok(form)
}

/// Sends `request` to conversation `conversation_id`, reporting progress as it goes. The
/// request is aborted when `signal` fires (it then fails as [`ApiError::Network`]; the
/// caller knows it aborted and ignores it). A multipart body cut short is never a message
/// on the server.
pub async fn upload(
    api: &Api,
    account_id: i64,
    conversation_id: i64,
    request: UploadRequest,
    signal: &AbortSignal,
    on_progress: impl Fn(UploadProgress) + 'static,
) -> Result<Message, ApiError> {
    if signal.aborted() {
        return Err(ApiError::Network);
    }
    let url = api.url(&format!(
        "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages"
    ));
    let xhr = XmlHttpRequest::new().map_err(|_| ApiError::Network)?;
    let form = form_of(&request).map_err(|e| ApiError::Decode(format!("{e:?}")))?;
    xhr.open_with_async("POST", &url, true)
        .map_err(|_| ApiError::Network)?;
    let _ = xhr.set_request_header("Accept", "application/json");
    if let Some(token) = api.access_token() {
        // Chatwoot's own spelling, as in `Api`.
        let _ = xhr.set_request_header("api_access_token", token);
    }
    let upload = xhr.upload().map_err(|_| ApiError::Network)?;

    let on_progress = Rc::new(on_progress);
    let body_sent = Rc::new(Cell::new(false));
    let progress = {
        let on_progress = on_progress.clone();
        let body_sent = body_sent.clone();
        Closure::<dyn Fn(ProgressEvent)>::new(move |e: ProgressEvent| {
            if !body_sent.get() {
                on_progress(UploadProgress::Sending {
                    sent: e.loaded(),
                    total: e.total(),
                });
            }
        })
    };
    let sent = {
        let on_progress = on_progress.clone();
        let body_sent = body_sent.clone();
        Closure::<dyn Fn()>::new(move || {
            body_sent.set(true);
            on_progress(UploadProgress::Processing);
        })
    };
    upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    upload.set_onload(Some(sent.as_ref().unchecked_ref()));

    let abort = {
        let xhr = xhr.clone();
        Closure::<dyn Fn()>::new(move || {
            let _ = xhr.abort();
        })
    };
    signal.set_onabort(Some(abort.as_ref().unchecked_ref()));

    // Settles once: `load` (any HTTP answer) resolves, `error`/`abort`/`timeout` reject.
    let target = xhr.clone();
    let finished = Promise::new(&mut |resolve, reject| {
        let on_load = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
        let on_fail = Closure::once_into_js(move || {
            let _ = reject.call0(&JsValue::UNDEFINED);
        });
        target.set_onload(Some(on_load.unchecked_ref()));
        target.set_onerror(Some(on_fail.unchecked_ref()));
        target.set_onabort(Some(on_fail.unchecked_ref()));
        target.set_ontimeout(Some(on_fail.unchecked_ref()));
    });
    let result = match xhr.send_with_opt_form_data(Some(&form)) {
        Err(_) => Err(ApiError::Network),
        Ok(()) => match JsFuture::from(finished).await {
            Err(_) => Err(ApiError::Network),
            Ok(_) => {
                let status = xhr.status().unwrap_or(0);
                let text = xhr.response_text().ok().flatten().unwrap_or_default();
                if (200..300).contains(&status) {
                    parley_wire::from_str::<Message>(&text)
                        .map_err(|e| ApiError::Decode(e.to_string()))
                } else if status == 0 {
                    Err(ApiError::Network)
                } else {
                    Err(error_from(status, &text))
                }
            }
        },
    };
    // The closures go with this call: unhook them first.
    signal.set_onabort(None);
    upload.set_onprogress(None);
    upload.set_onload(None);
    drop((progress, sent, abort));
    result
}

/// Where a message with files stands, for its pending row.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadPhase {
    /// Not going up now: queued, waiting to retry, or failed (the row's status says which).
    Waiting,
    /// `sent` of `total` bytes of the request body are out.
    Sending { sent: f64, total: f64 },
    /// The body is out; the server has not answered yet.
    Processing,
}
