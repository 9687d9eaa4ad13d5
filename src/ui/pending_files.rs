//! The files of a message that is still being sent: their names and sizes, how much of
//! the upload has gone (a real progress bar from the request's own progress), and Cancel
//! while the body is going up. Once the whole body is out the server is storing it: the
//! row says "Processing…" and offers no Cancel, because the message may already exist and
//! nothing could take it back (it can be deleted once it appears).

use leptos::prelude::*;
use parley_core::store::SendState;

use crate::state::attaching::{PendingUpload, UploadPhase};
use crate::state::conversation::ChatState;

/// The strings of this component, in one place for the message catalogs.
mod text {
    use crate::i18n::{number, t, t_args};
    pub fn uploading() -> &'static str {
        t("upload.uploading")
    }
    pub fn processing() -> &'static str {
        t("upload.processing")
    }
    pub fn processing_title() -> &'static str {
        t("upload.processing_title")
    }
    pub fn cancel() -> &'static str {
        t("common.cancel")
    }
    pub fn cancel_label() -> &'static str {
        t("upload.cancel_label")
    }
    pub fn percent(p: u32) -> String {
        t_args("upload.percent", &[("n", &number(p as usize))])
    }
}

#[component]
pub fn PendingFiles(
    chat: ChatState,
    echo_id: String,
    send: Signal<Option<SendState>>,
) -> impl IntoView {
    let key = echo_id.clone();
    let upload = Memo::new(move |_| chat.uploads.with(|m| m.get(&key).cloned()));
    let files = move || upload.with(|u| u.as_ref().map(|u| u.files.clone()).unwrap_or_default());
    let phase = Memo::new(move |_| upload.with(|u| u.as_ref().map(|u| u.phase.clone())));
    let percent = Memo::new(move |_| match phase.get() {
        Some(UploadPhase::Sending { sent, total }) if total > 0.0 => {
            ((sent / total) * 100.0).clamp(0.0, 100.0).floor() as u32
        }
        Some(UploadPhase::Processing) => 100,
        _ => 0,
    });
    // Cancel while nothing is stored: going up, or waiting to (queued, or between two
    // attempts). A failed message has Retry and Delete in its error line instead.
    let cancellable = Memo::new(move |_| {
        let waiting_or_sending = matches!(
            phase.get(),
            Some(UploadPhase::Sending { .. } | UploadPhase::Waiting)
        );
        waiting_or_sending
            && !matches!(
                send.get(),
                Some(SendState::Failed { .. } | SendState::Unknown) | None
            )
    });
    let uploading = move || matches!(phase.get(), Some(UploadPhase::Sending { .. }));
    let processing = move || phase.get() == Some(UploadPhase::Processing);
    let cancel = {
        let echo_id = echo_id.clone();
        move |_| chat.cancel_upload(echo_id.clone())
    };
    view! {
        <div class="parley-pending-files" data-testid="pending-files">
            <ul class="parley-pending-file-list">
                {move || files().into_iter().map(|f| view! {
                    <li class="parley-file-chip" data-testid="pending-file">
                        <span class="parley-file-name" title=f.file_name.clone()>{f.file_name.clone()}</span>
                        <span class="parley-file-size">{crate::i18n::file_size(f.size.min(i64::MAX as u64) as i64)}</span>
                    </li>
                }).collect_view()}
            </ul>
            <Show when=uploading>
                <div class="parley-upload">
                    <div
                        class="parley-progress"
                        role="progressbar"
                        aria-label=text::uploading()
                        aria-valuemin="0"
                        aria-valuemax="100"
                        aria-valuenow=move || percent.get().to_string()
                        data-testid="upload-progress"
                    >
                        <div class="parley-progress-bar" style:width=move || format!("{}%", percent.get())></div>
                    </div>
                    <span class="parley-upload-percent" data-testid="upload-percent">{move || text::percent(percent.get())}</span>
                </div>
            </Show>
            <Show when=processing>
                <span class="parley-upload-processing" title=text::processing_title() data-testid="upload-processing">
                    {text::processing()}
                </span>
            </Show>
            <Show when=move || cancellable.get()>
                <button
                    type="button"
                    class="parley-link-button"
                    aria-label=text::cancel_label()
                    data-testid="upload-cancel"
                    on:click=cancel.clone()
                >
                    {text::cancel()}
                </button>
            </Show>
        </div>
    }
}

/// Whether a pending row has files (and so shows [`PendingFiles`]).
pub fn has_files(upload: Option<&PendingUpload>) -> bool {
    upload.is_some_and(|u| !u.files.is_empty())
}
