//! Editing a sent message in place: its text in a box, Save (or Enter) and Cancel (or
//! Escape). Nothing is lost on a failure: the text stays in the box with the reason.

use leptos::html::Textarea;
use leptos::prelude::*;

use crate::i18n::t;
use crate::state::conversation::ChatState;

/// What is edited: a sent message (the server's edit extension), or one still in the
/// outbox (its queued text).
#[derive(Debug, Clone, PartialEq)]
pub enum EditTarget {
    Sent(i64),
    Queued(String),
}

#[component]
pub fn MessageEditor(
    chat: ChatState,
    target: EditTarget,
    original: String,
    /// Called when the editor should close (saved or cancelled).
    on_done: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(original.clone());
    let original = StoredValue::new(original);
    let target = StoredValue::new(target);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let input = NodeRef::<Textarea>::new();
    input.on_load(move |el| {
        let _ = el.focus();
    });
    let save = move || {
        if saving.get_untracked() {
            return;
        }
        let content = text.get_untracked();
        if original.with_value(|o| *o == content) {
            on_done.run(());
            return;
        }
        match target.get_value() {
            EditTarget::Queued(echo_id) => match chat.edit_queued(echo_id, content) {
                Ok(()) => on_done.run(()),
                Err(e) => error.set(Some(e)),
            },
            EditTarget::Sent(message_id) => {
                saving.set(true);
                // The chat's own work: it stops if the chat goes.
                chat.spawn(async move {
                    match chat.edit_message(message_id, content).await {
                        Ok(()) => on_done.run(()),
                        Err(e) => {
                            saving.set(false);
                            error.set(Some(e));
                        }
                    }
                });
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" if !ev.shift_key() && !ev.is_composing() => {
            ev.prevent_default();
            save();
        }
        "Escape" => {
            ev.prevent_default();
            on_done.run(());
        }
        _ => {}
    };
    view! {
        <div class="parley-editor" data-testid="message-editor">
            <textarea
                class="parley-editor-input"
                aria-label=t("editor.label")
                node_ref=input
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <div class="parley-editor-actions">
                <button type="button" class="parley-link-button" data-testid="save-edit" disabled=move || saving.get() on:click=move |_| save()>
                    {move || if saving.get() { t("editor.saving") } else { t("editor.save") }}
                </button>
                <button type="button" class="parley-link-button" data-testid="cancel-edit" on:click=move |_| on_done.run(())>
                    {t("common.cancel")}
                </button>
            </div>
            <Show when=move || error.with(Option::is_some)>
                <p class="parley-inline-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
        </div>
    }
}
