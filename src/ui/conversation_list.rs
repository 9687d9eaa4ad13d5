//! A plain list of the account's conversations, to pick one.

use leptos::prelude::*;
use parley_wire::message::UNREADABLE_CONTENT_TYPE;
use parley_wire::{Conversation, MessagePush};

use crate::i18n::{t, t_args};
use crate::state::session::SessionCtx;
use crate::ui::avatar::Avatar;
use crate::ui::loading::Loading;

/// The start of the last message (a line of the list shows no more), or why it has no text.
fn preview_of(m: &MessagePush) -> String {
    const MAX_CHARS: usize = 200;
    match m.content.as_deref() {
        Some(text) => text.chars().take(MAX_CHARS).collect(),
        None if m.content_type == UNREADABLE_CONTENT_TYPE => t("message.unreadable").to_owned(),
        None => String::new(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum ListState {
    Loading,
    Ready(Vec<Conversation>),
    Failed(String),
}

#[component]
pub fn ConversationList(account_id: i64) -> impl IntoView {
    let session_ctx = expect_context::<SessionCtx>();
    // Messages left queued by an earlier page go out while the agent is on the list.
    session_ctx.outbox(account_id);
    let state = RwSignal::new(ListState::Loading);
    let load = move || {
        let Some(session) = session_ctx.session() else {
            return;
        };
        state.set(ListState::Loading);
        leptos::task::spawn_local(async move {
            state.set(match session.api.conversations(account_id).await {
                Ok(list) => ListState::Ready(list.data.payload),
                Err(e) => {
                    ListState::Failed(t_args("list.load_failed", &[("error", &e.to_string())]))
                }
            });
        });
    };
    load();

    view! {
        <main class="parley-list-page">
            <header class="parley-header">
                <div class="parley-brand">
                    <span class="parley-logo" aria-hidden="true">"P"</span>
                    <h1>{t("list.title")}</h1>
                </div>
                <div class="parley-header-actions">
                    <button type="button" class="parley-button parley-button-quiet" data-testid="sign-out"
                        on:click=move |_| {
                            session_ctx.sign_out();
                            if let Some(w) = web_sys::window() {
                                let _ = w.location().set_href("/app/login");
                            }
                        }>
                        {t("header.sign_out")}
                    </button>
                </div>
            </header>
            {move || match state.get() {
                ListState::Loading => view! { <Loading label=t("list.loading")/> }.into_any(),
                ListState::Failed(msg) => view! {
                    <div class="parley-load-error" role="alert">
                        <p>{msg}</p>
                        <button type="button" class="parley-button" on:click=move |_| load()>{t("common.try_again")}</button>
                    </div>
                }.into_any(),
                ListState::Ready(list) if list.is_empty() => view! {
                    <p class="parley-empty-log">{t("list.empty")}</p>
                }.into_any(),
                ListState::Ready(list) => view! {
                    <ul class="parley-conversations" data-testid="conversation-list">
                        {list.into_iter().map(|c| {
                            let name = c.meta.sender.name.clone().unwrap_or_else(|| t("message.customer").into());
                            let avatar = c.meta.sender.thumbnail.clone().filter(|u| !u.is_empty());
                            let preview = c.last_non_activity_message.as_ref()
                                .map(preview_of)
                                .unwrap_or_default();
                            let href = format!("/app/accounts/{account_id}/conversations/{}", c.id);
                            let unread = c.unread_count;
                            view! {
                                <li>
                                    <a class="parley-conversation-link" href=href>
                                        <Avatar name=name.clone() url=avatar/>
                                        <span class="parley-conversation-text">
                                            <strong><bdi>{name}</bdi></strong>
                                            <span class="parley-muted parley-preview"><bdi>{preview}</bdi></span>
                                        </span>
                                        <span class="parley-muted">{format!("#{}", c.id)}</span>
                                        {(unread > 0).then(|| view! {
                                            <span class="parley-badge">{if unread >= 10 { "9+".to_string() } else { unread.to_string() }}</span>
                                        })}
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </main>
    }
}
