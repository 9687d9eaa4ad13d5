//! Sending files: checked before anything is uploaded (Chatwoot's types, the size limit
//! per file, 15 per message), shown at once as a pending row with its files, kept as Blobs
//! next to the outbox entry (so a reload does not lose them) and sent through the same
//! outbox as text, as one multipart upload with progress (`effects::upload`).
//!
//! [`send_files`] is the one door: the composer's tray uses it, and so does the voice
//! recorder. The files stay browser Blobs from the picker (or the recorder) to the
//! request: their bytes never enter wasm memory.

use leptos::prelude::*;
use parley_core::attachment::{
    check_file, preview_kind, AttachmentDraft, FileRefusal, PreviewKind, MAX_FILES_PER_MESSAGE,
};
use parley_core::outbox::Draft;

use crate::effects::outbox_store::blob_key;
use crate::i18n::{file_size, number, size_limit, t, t_args, t_count};
use crate::state::chat::ChatState;
use crate::state::sending::{char_count, MAX_CONTENT_CHARS};

/// A file to send: a Blob (a `File` from the picker, a recording), its name and type.
pub struct OutgoingFile {
    pub blob: web_sys::Blob,
    pub name: String,
    pub mime: String,
}

/// Why files could not be sent; each says what a person can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("{}", t("attach.no_files"))]
    NoFiles,
    #[error("{}", t_count("attach.too_many", *.over, &[("max", &number(MAX_FILES_PER_MESSAGE))]))]
    TooMany { over: usize },
    #[error("{}", refusal_text(.0))]
    Refused(#[from] FileRefusal),
    #[error("{}", t_count("attach.caption_too_long", *.over, &[("max", &number(MAX_CONTENT_CHARS))]))]
    CaptionTooLong { over: usize },
}

/// Why a file was refused, in the agent's language, sizes in its units.
pub fn refusal_text(refusal: &FileRefusal) -> String {
    match refusal {
        FileRefusal::TooBig { name, size, limit } => t_args(
            "attach.too_big",
            &[
                ("name", name),
                ("size", &file_size((*size).min(i64::MAX as u64) as i64)),
                ("limit", &size_limit(*limit)),
            ],
        ),
        FileRefusal::TypeNotAccepted { name } => t_args("attach.type", &[("name", name)]),
        FileRefusal::Empty { name } => t_args("attach.empty_file", &[("name", name)]),
        FileRefusal::TooMany { name, max } => t_count("attach.not_added", *max, &[("name", name)]),
    }
}

pub use crate::effects::upload::UploadPhase;
pub use crate::state::chat::{PendingUpload, PickedFile, Uploads};

/// Checks `files` and `caption`, shows the message as pending and hands it to the outbox.
/// Nothing is queued when anything is refused: the caller keeps what the agent made.
pub fn send_files(
    chat: ChatState,
    files: Vec<OutgoingFile>,
    caption: String,
) -> Result<(), AttachError> {
    send_files_with_limit(chat, files, caption, chat.max_file_bytes).map(|_| ())
}

/// [`send_files`] with an explicit size limit; returns the pending row's `echo_id`.
pub(crate) fn send_files_with_limit(
    chat: ChatState,
    files: Vec<OutgoingFile>,
    caption: String,
    max_file_bytes: u64,
) -> Result<String, AttachError> {
    if files.is_empty() {
        return Err(AttachError::NoFiles);
    }
    if files.len() > MAX_FILES_PER_MESSAGE {
        return Err(AttachError::TooMany {
            over: files.len() - MAX_FILES_PER_MESSAGE,
        });
    }
    let over = char_count(&caption).saturating_sub(MAX_CONTENT_CHARS);
    if over > 0 {
        return Err(AttachError::CaptionTooLong { over });
    }
    let mut checked = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let size = f.blob.size().max(0.0) as u64;
        let mime = check_file(&f.name, &f.mime, size, i, max_file_bytes)?;
        checked.push((mime, size));
    }

    let echo_id = uuid::Uuid::new_v4().to_string();
    let mut attachments = Vec::with_capacity(files.len());
    let mut blobs = Vec::with_capacity(files.len());
    for (i, (f, (mime, size))) in files.into_iter().zip(checked).enumerate() {
        let key = blob_key(&echo_id, i);
        blobs.push((key.clone(), typed(f.blob, &mime)));
        attachments.push(AttachmentDraft {
            blob_key: key,
            file_name: f.name,
            mime,
            size,
        });
    }
    let draft = Draft {
        conversation_id: chat.conversation_id,
        content: caption,
        private: chat.private_mode.get_untracked(),
        in_reply_to: chat.replying_to.get_untracked(),
        attachments,
    };
    chat.replying_to.set(None);
    chat.show_pending(&echo_id, &draft, crate::effects::clock::now_s());
    chat.typing_stop();
    chat.with_outbox(|o| o.enqueue_with_files(echo_id.clone(), draft, blobs));
    Ok(echo_id)
}

/// The Blob with the type it is sent as (a file the browser gave no type keeps its
/// bytes; only the label changes). `new Blob([blob])` refers to the bytes, no copy.
fn typed(blob: web_sys::Blob, mime: &str) -> web_sys::Blob {
    if blob.type_() == mime {
        return blob;
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let parts = js_sys::Array::of1(&blob);
    web_sys::Blob::new_with_blob_sequence_and_options(&parts, &options).unwrap_or(blob)
}

impl ChatState {
    /// Add files to the tray (from the picker, a drop or a paste). Each is checked as it
    /// comes: a refused one is named with the reason, and the others still join.
    pub fn pick_files(self, files: Vec<web_sys::File>) {
        let mut notes = Vec::new();
        let mut picked = Vec::new();
        let already = self.tray.with_untracked(Vec::len);
        for file in files {
            let name = file.name();
            let size = file.size().max(0.0) as u64;
            match check_file(
                &name,
                &file.type_(),
                size,
                already + picked.len(),
                self.max_file_bytes,
            ) {
                Ok(mime) => {
                    let preview = match preview_kind(&mime) {
                        PreviewKind::Image | PreviewKind::Video => {
                            web_sys::Url::create_object_url_with_blob(&file).ok()
                        }
                        PreviewKind::Other => None,
                    };
                    picked.push(PickedFile {
                        id: next_pick_id(),
                        blob: file.into(),
                        name,
                        mime,
                        size,
                        preview,
                    });
                }
                Err(refusal) => notes.push(refusal_text(&refusal)),
            }
        }
        self.tray_notes.set(notes);
        if !picked.is_empty() {
            self.tray.update(|t| t.extend(picked));
        }
    }

    /// Take one file out of the tray.
    pub fn unpick(self, id: u64) {
        self.tray.update(|t| {
            if let Some(i) = t.iter().position(|f| f.id == id) {
                revoke(&t.remove(i));
            }
        });
        self.tray_notes.set(Vec::new());
    }

    /// Empty the tray (its previews are let go).
    pub fn clear_tray(self) {
        let files = self.tray.try_update(std::mem::take).unwrap_or_default();
        files.iter().for_each(revoke);
    }

    /// Send the tray's files with `caption`; the tray is emptied only when they are queued.
    pub fn send_tray(self, caption: String) -> Result<(), AttachError> {
        let files = self.tray.with_untracked(|t| {
            t.iter()
                .map(|f| OutgoingFile {
                    blob: f.blob.clone(),
                    name: f.name.clone(),
                    mime: f.mime.clone(),
                })
                .collect()
        });
        send_files(self, files, caption)?;
        self.clear_tray();
        self.tray_notes.set(Vec::new());
        Ok(())
    }

    /// Cancel a message with files that has not been stored: while its body is going up
    /// the request is aborted (a body cut short never becomes a message).
    pub fn cancel_upload(self, echo_id: String) {
        if self
            .toast
            .with_untracked(|t| t.as_ref().is_some_and(|t| t.echo_id == echo_id))
        {
            self.toast.set(None);
        }
        self.with_outbox(|o| o.cancel(echo_id));
    }
}

/// The files of a `FileList` (the picker's, a paste's, a drop's).
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

fn revoke(f: &PickedFile) {
    if let Some(url) = &f.preview {
        let _ = web_sys::Url::revoke_object_url(url);
    }
}

fn next_pick_id() -> u64 {
    thread_local! {
        static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    NEXT.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn blob(bytes: usize, mime: &str) -> web_sys::Blob {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::new_with_length(bytes as u32));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).unwrap()
    }

    fn file(name: &str, bytes: usize, mime: &str) -> OutgoingFile {
        OutgoingFile {
            blob: blob(bytes, mime),
            name: name.into(),
            mime: mime.into(),
        }
    }

    fn chat() -> ChatState {
        let profile: parley_wire::Profile = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "Agent", "email": "a@example.com",
            "access_token": "t", "pubsub_token": "p",
        }))
        .unwrap();
        ChatState::new(crate::effects::api::Api::new("", None), profile, 1, 5)
    }

    #[wasm_bindgen_test]
    fn nothing_is_queued_when_a_file_is_refused() {
        let owner = Owner::new();
        owner.with(|| {
            let chat = chat();
            let e = send_files_with_limit(
                chat,
                vec![
                    file("ok.png", 10, "image/png"),
                    file("big.pdf", 2_000, "application/pdf"),
                ],
                "caption".into(),
                1_000,
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                "“big.pdf” is 2 KB, over the 1,000 B limit per file."
            );
            let e = send_files_with_limit(
                chat,
                vec![file("tool.exe", 10, "application/x-msdownload")],
                String::new(),
                1_000,
            )
            .unwrap_err();
            assert!(matches!(
                e,
                AttachError::Refused(FileRefusal::TypeNotAccepted { .. })
            ));
            assert_eq!(
                send_files_with_limit(chat, Vec::new(), String::new(), 1_000),
                Err(AttachError::NoFiles)
            );
            let many = (0..16)
                .map(|i| file(&format!("{i}.png"), 1, "image/png"))
                .collect();
            assert_eq!(
                send_files_with_limit(chat, many, String::new(), 1_000),
                Err(AttachError::TooMany { over: 1 })
            );
            assert!(chat.messages.is_empty());
            assert!(chat.uploads.with_untracked(|m| m.is_empty()));
        });
    }

    #[wasm_bindgen_test]
    fn accepted_files_become_one_pending_row_with_their_descriptors() {
        let owner = Owner::new();
        owner.with(|| {
            let chat = chat();
            let echo = send_files_with_limit(
                chat,
                vec![file("a.png", 10, "image/png"), file("notes.csv", 20, "")],
                "see these".into(),
                1_000,
            )
            .unwrap();
            assert!(chat.messages.is_pending(&echo));
            let files = chat.uploads.with_untracked(|m| m[&echo].files.clone());
            assert_eq!(files.len(), 2);
            assert_eq!(files[1].file_name, "notes.csv");
            // A file without a type goes as the type its extension stands for.
            assert_eq!(files[1].mime, "text/csv");
            assert_eq!(files[1].size, 20);
            assert_eq!(files[0].blob_key, format!("{echo}/0"));
        });
    }

    #[wasm_bindgen_test]
    fn a_relabelled_blob_keeps_its_bytes() {
        let b = typed(blob(7, ""), "text/csv");
        assert_eq!(b.type_(), "text/csv");
        assert_eq!(b.size(), 7.0);
    }
}
