//! The conversation's header: who the agent is talking to.

use leptos::prelude::*;

use crate::i18n::{t, t_args};
use crate::state::conversation::ChatState;
use crate::ui::avatar::Avatar;

/// Chatwoot's conversation status in the agent's language (an unknown one as it is).
fn status_label(status: &str) -> &str {
    match status {
        "open" => t("conversation.open"),
        "resolved" => t("conversation.resolved"),
        "pending" => t("conversation.pending"),
        "snoozed" => t("conversation.snoozed"),
        other => other,
    }
}

#[component]
pub fn ConversationHeader(
    chat: ChatState,
    on_sign_out: Option<Callback<()>>,
    /// Opens the keyboard help.
    #[prop(optional)]
    on_help: Option<Callback<()>>,
) -> impl IntoView {
    let name = Signal::derive(move || {
        chat.conversation.with(|c| {
            c.as_ref()
                .and_then(|c| c.meta.sender.name.clone())
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| t("message.customer").into())
        })
    });
    let avatar = Signal::derive(move || {
        chat.conversation.with(|c| {
            c.as_ref()
                .and_then(|c| c.meta.sender.thumbnail.clone())
                .filter(|u| !u.is_empty())
        })
    });
    let detail = move || {
        chat.conversation.with(|c| {
            c.as_ref().map(|c| {
                let contact = c
                    .meta
                    .sender
                    .email
                    .clone()
                    .or_else(|| c.meta.sender.phone_number.clone())
                    .unwrap_or_default();
                let status = status_label(&c.status);
                let id = c.id.to_string();
                if contact.is_empty() {
                    t_args("header.detail", &[("id", &id), ("status", status)])
                } else {
                    t_args(
                        "header.detail_contact",
                        &[("id", &id), ("contact", &contact), ("status", status)],
                    )
                }
            })
        })
    };
    let agent = chat
        .profile
        .with_value(|p| p.available_name.clone().unwrap_or_else(|| p.name.clone()));

    view! {
        <header class="parley-header">
            <Avatar name=name url=avatar large=true/>
            <div class="parley-header-text">
                <h1 data-testid="conversation-header"><bdi>{move || name.get()}</bdi></h1>
                <p class="parley-muted">{detail}</p>
            </div>
            {on_help.map(|help| view! {
                <button
                    type="button"
                    class="parley-button parley-button-quiet parley-icon-button"
                    aria-label=t("shortcuts.title")
                    title=t("shortcuts.button_title")
                    aria-haspopup="dialog"
                    data-testid="shortcuts-button"
                    on:click=move |_| help.run(())
                >
                    <svg viewBox="0 0 20 14" aria-hidden="true" class="parley-icon">
                        <rect x="1" y="1" width="18" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="1.4"/>
                        <path d="M4 5h1.5M7.5 5H9M11 5h1.5M14.5 5H16M5 9.5h10" stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/>
                    </svg>
                </button>
            })}
            {on_sign_out.map(|sign_out| view! {
                <div class="parley-header-actions">
                    <span class="parley-muted parley-agent-name">{agent}</span>
                    <button
                        type="button"
                        class="parley-button parley-button-quiet"
                        data-testid="sign-out"
                        on:click=move |_| sign_out.run(())
                    >
                        {t("header.sign_out")}
                    </button>
                </div>
            })}
        </header>
    }
}
