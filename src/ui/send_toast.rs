//! The toast that says a message was not sent, with Retry: the failed row says it too, but
//! the agent may be scrolled away from it.

use leptos::prelude::*;

use crate::state::conversation::ChatState;

#[component]
pub fn SendToast(chat: ChatState) -> impl IntoView {
    let retry = move |_| {
        if let Some(toast) = chat.toast.get_untracked() {
            chat.retry(toast.echo_id);
        }
    };
    view! {
        <Show when=move || chat.toast.with(Option::is_some)>
            <div class="parley-toast" role="alert" data-testid="toast">
                <span>
                    "Message not sent: "
                    {move || chat.toast.with(|t| t.as_ref().map(|t| t.reason.clone()).unwrap_or_default())}
                </span>
                <button type="button" class="parley-link-button" data-testid="toast-retry" on:click=retry>
                    "Retry"
                </button>
                <button type="button" class="parley-link-button" aria-label="Dismiss" on:click=move |_| chat.toast.set(None)>
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}
