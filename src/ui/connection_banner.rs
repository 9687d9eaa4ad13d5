//! The live connection's state: always present for tests and assistive tech, visible only
//! when there is something to say.

use leptos::prelude::*;

use crate::i18n::t;
use crate::state::connection::{banner_message, ConnectionState};
use crate::state::conversation::ChatState;

#[component]
pub fn ConnectionBanner(chat: ChatState) -> impl IntoView {
    let state = chat.connection;
    let visible = move || state.get() != ConnectionState::Connected;
    view! {
        <div
            class=move || format!("parley-connection parley-connection-{}", state.get().as_str())
            data-testid="connection-state"
            data-state=move || state.get().as_str()
            role="status"
            class:parley-connection-hidden=move || !visible()
        >
            <span class="parley-connection-dot" aria-hidden="true"></span>
            <span>{move || banner_message(state.get()).unwrap_or_else(|| t("connection.connected"))}</span>
        </div>
        <Show when=move || chat.notice.with(Option::is_some)>
            <div class="parley-notice" role="alert">
                <span>{move || chat.notice.get().unwrap_or_default()}</span>
                <button type="button" class="parley-link-button" aria-label=t("common.dismiss") on:click=move |_| chat.notice.set(None)>
                    {t("common.dismiss")}
                </button>
            </div>
        </Show>
    }
}
