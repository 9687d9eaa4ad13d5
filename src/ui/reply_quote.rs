//! The quote of the message a message replies to: who wrote it and how it began. A click
//! brings the original into view.

use leptos::prelude::*;

use crate::i18n::t;
use crate::state::conversation::ChatState;

/// The first words of a message, on one line.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 120;
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > MAX {
        format!("{}…", line.chars().take(MAX).collect::<String>())
    } else {
        line
    }
}

/// Who wrote message `id` and how it began, if it is loaded.
pub fn describe(chat: ChatState, id: i64) -> Option<(String, String)> {
    let row = chat.messages.row(&chat.messages.key_of_id(id)?)?;
    Some(row.with_untracked(|r| {
        let who = r
            .message
            .sender
            .as_ref()
            .and_then(|s| s.display_name())
            .unwrap_or_else(|| t("message.customer"))
            .to_owned();
        (who, excerpt(r.message.content.as_deref().unwrap_or("")))
    }))
}

#[component]
pub fn ReplyQuote(chat: ChatState, id: i64) -> impl IntoView {
    // Read when shown: the original may load later than the reply (older history).
    let original = move || {
        chat.messages.order.track();
        describe(chat, id)
    };
    view! {
        <button
            type="button"
            class="parley-quote"
            data-testid="reply-quote"
            data-reply-to=id
            on:click=move |_| chat.jump_to.set(Some(id))
        >
            {move || match original() {
                Some((who, text)) => view! {
                    <span class="parley-quote-who" dir="auto">{who}</span>
                    <span class="parley-quote-text" dir="auto">{text}</span>
                }.into_any(),
                None => view! { <span class="parley-quote-text">{t("quote.earlier")}</span> }.into_any(),
            }}
        </button>
    }
}
