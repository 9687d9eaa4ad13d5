//! The files picked for the next message, above the composer: a thumbnail for an image,
//! the first frame for a video, an icon with name and size for anything else, each with
//! a button to take it out; and, when a file was not added, which one and why.

use leptos::prelude::*;
use parley_core::attachment::{preview_kind, PreviewKind};

use crate::state::attaching::PickedFile;
use crate::state::conversation::ChatState;

/// The strings of this component, in one place for the message catalogs.
mod text {
    use crate::i18n::{t, t_args};
    pub fn list_label() -> &'static str {
        t("tray.label")
    }
    pub fn remove(name: &str) -> String {
        t_args("tray.remove", &[("name", name)])
    }
}

#[component]
pub fn AttachmentTray(chat: ChatState) -> impl IntoView {
    let ids = Memo::new(move |_| {
        chat.tray
            .with(|t| t.iter().map(|f| f.id).collect::<Vec<_>>())
    });
    view! {
        <Show when=move || !ids.with(Vec::is_empty)>
            <ul class="parley-tray" aria-label=text::list_label() data-testid="attachment-tray">
                <For each=move || ids.get() key=|id| *id let:id>
                    {chat
                        .tray
                        .with_untracked(|t| t.iter().find(|f| f.id == id).cloned())
                        .map(|file| view! { <TrayItem chat=chat file=file/> })}
                </For>
            </ul>
        </Show>
        <Show when=move || !chat.tray_notes.with(Vec::is_empty)>
            // The alert wraps the list: on the list itself the role would replace its own.
            <div class="parley-tray-notes" role="alert" data-testid="attachment-refused">
                <ul>
                    {move || chat.tray_notes.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                </ul>
            </div>
        </Show>
    }
}

#[component]
fn TrayItem(chat: ChatState, file: PickedFile) -> impl IntoView {
    let PickedFile {
        id,
        name,
        mime,
        size,
        preview,
        ..
    } = file;
    let label = text::remove(&name);
    let size = crate::i18n::file_size(size.min(i64::MAX as u64) as i64);
    let preview = match (preview_kind(&mime), preview) {
        (PreviewKind::Image, Some(url)) => view! {
            <img class="parley-tray-preview" src=url alt="" data-testid="tray-image"/>
        }
        .into_any(),
        // `preload=metadata` loads enough for the first frame to show as the poster.
        (PreviewKind::Video, Some(url)) => view! {
            <video class="parley-tray-preview" src=url preload="metadata" muted data-testid="tray-video"></video>
        }
        .into_any(),
        _ => view! {
            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon parley-tray-icon">
                <path d="M4 1.5h5l3.5 3.5v9.5h-8.5z" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
                <path d="M9 1.5V5h3.5" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
            </svg>
        }
        .into_any(),
    };
    view! {
        <li class="parley-tray-item" data-testid="tray-item">
            {preview}
            <span class="parley-file-name" title=name.clone() data-testid="tray-name">{name.clone()}</span>
            <span class="parley-file-size">{size}</span>
            <button
                type="button"
                class="parley-tray-remove"
                aria-label=label.clone()
                title=label
                data-testid="tray-remove"
                on:click=move |_| chat.unpick(id)
            >
                "✕"
            </button>
        </li>
    }
}
