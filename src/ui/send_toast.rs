//! The toast that says a message was not sent, with Retry: the failed row says it too, but
//! the agent may be scrolled away from it.

use leptos::prelude::*;

use crate::i18n::{t, t_args};
use crate::reasons::fail_reason_text;
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
                    {move || chat.toast.with(|toast| {
                        let reason = toast.as_ref().map(|toast| fail_reason_text(&toast.reason)).unwrap_or_default();
                        t_args("toast.not_sent", &[("reason", &reason)])
                    })}
                </span>
                <button type="button" class="parley-link-button" data-testid="toast-retry" on:click=retry>
                    {t("common.retry")}
                </button>
                <button type="button" class="parley-link-button" aria-label=t("common.dismiss") on:click=move |_| chat.toast.set(None)>
                    {t("common.dismiss")}
                </button>
            </div>
        </Show>
    }
}
