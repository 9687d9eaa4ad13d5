//! What the agent can do to a message: reply to it (any message); edit their own (where
//! the backend can) and delete it (after saying so twice: it is for everyone, for good).

use leptos::prelude::*;
use parley_core::store::{Row, SendState};
use parley_wire::{MessageType, Sender};

use crate::i18n::t;
use crate::state::conversation::ChatState;

#[derive(Debug, Clone, PartialEq)]
enum DeleteState {
    Idle,
    Confirming,
    Deleting,
    Failed(String),
}

/// Any message the server has, that is not deleted nor an activity line.
fn repliable(row: &Row) -> bool {
    let m = &row.message;
    m.id > 0 && !m.is_deleted() && m.message_type != MessageType::Activity
}

/// Sent by this agent, confirmed by the server, not already deleted.
fn deletable(row: &Row, me: i64) -> bool {
    let m = &row.message;
    row.send.is_none()
        && m.id > 0
        && !m.is_deleted()
        && m.message_type == MessageType::Outgoing
        && matches!(&m.sender, Some(Sender::User(u)) if u.id == me)
}

#[component]
pub fn MessageActions(
    row: RwSignal<Row>,
    chat: ChatState,
    /// Set to open the row's editor.
    editing: RwSignal<bool>,
) -> impl IntoView {
    let me = chat.profile.with_value(|p| p.id);
    let can_delete = Memo::new(move |_| row.with(|r| deletable(r, me)));
    let can_reply = Memo::new(move |_| row.with(repliable));
    // Still in the outbox and not in the air: its text can always change.
    let can_edit_queued = Memo::new(move |_| {
        row.with(|r| matches!(r.send, Some(SendState::Queued | SendState::Failed { .. })))
    });
    let reply = move |_| {
        // The composer shows what is replied to and takes the focus.
        chat.replying_to
            .set(Some(row.with_untracked(|r| r.message.id)));
    };
    let state = RwSignal::new(DeleteState::Idle);
    let confirm = move |_| {
        let id = row.with_untracked(|r| r.message.id);
        state.set(DeleteState::Deleting);
        // The chat's own work: it stops if the chat goes, not when the row scrolls away.
        chat.spawn(async move {
            match chat.delete_message(id).await {
                Ok(()) => state.set(DeleteState::Idle),
                Err(e) => state.set(DeleteState::Failed(e)),
            }
        });
    };
    // Keyboard flow of the confirmation: it opens with the focus on Cancel (the safe
    // answer); Escape or Cancel closes it and gives the focus back to Delete.
    let cancel_button = NodeRef::<leptos::html::Button>::new();
    let delete_button = NodeRef::<leptos::html::Button>::new();
    let refocus_delete = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(el) = cancel_button.get() {
            let _ = el.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(el) = delete_button.get() {
            if refocus_delete.get_value() {
                refocus_delete.set_value(false);
                let _ = el.focus();
            }
        }
    });
    let back_to_idle = move || {
        refocus_delete.set_value(true);
        state.set(DeleteState::Idle);
    };
    view! {
        <Show when=move || can_reply.get() || can_edit_queued.get()>
            <div class="parley-message-actions">
                {move || match state.get() {
                    DeleteState::Idle => view! {
                        <Show when=move || can_reply.get()>
                            <button type="button" class="parley-link-button parley-action" data-testid="reply-message" on:click=reply>
                                {t("actions.reply")}
                            </button>
                        </Show>
                        <Show when=move || can_edit_queued.get() || (can_delete.get() && chat.can_edit.get())>
                            <button type="button" class="parley-link-button parley-action" data-testid="edit-message"
                                on:click=move |_| editing.set(true)>
                                {t("actions.edit")}
                            </button>
                        </Show>
                        <Show when=move || can_delete.get()>
                            <button type="button" class="parley-link-button parley-action" data-testid="delete-message"
                                node_ref=delete_button
                                on:click=move |_| state.set(DeleteState::Confirming)>
                                {t("actions.delete")}
                            </button>
                        </Show>
                    }.into_any(),
                    DeleteState::Confirming => view! {
                        <span class="parley-confirm" role="group" aria-label=t("actions.confirm_group")
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Escape" {
                                    ev.prevent_default();
                                    ev.stop_propagation();
                                    back_to_idle();
                                }
                            }>
                            <span>{t("actions.confirm_question")}</span>
                            <button type="button" class="parley-link-button parley-danger-link" data-testid="confirm-delete" on:click=confirm>
                                {t("actions.delete")}
                            </button>
                            <button type="button" class="parley-link-button" data-testid="cancel-delete"
                                node_ref=cancel_button
                                on:click=move |_| back_to_idle()>
                                {t("common.cancel")}
                            </button>
                        </span>
                    }.into_any(),
                    DeleteState::Deleting => view! {
                        <span class="parley-muted" role="status">{t("actions.deleting")}</span>
                    }.into_any(),
                    DeleteState::Failed(e) => view! {
                        <span class="parley-inline-error" role="alert">
                            {e}
                            " "
                            <button type="button" class="parley-link-button" on:click=move |_| state.set(DeleteState::Confirming)>
                                {t("common.try_again")}
                            </button>
                        </span>
                    }.into_any(),
                }}
            </div>
        </Show>
    }
}
