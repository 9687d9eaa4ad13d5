//! "Jane is typing…": always in the DOM (empty when nobody types), announced politely.

use leptos::prelude::*;

use crate::i18n::{t_args, t_count};
use crate::state::conversation::ChatState;

#[component]
pub fn TypingIndicator(chat: ChatState) -> impl IntoView {
    let text = Memo::new(move |_| describe(&chat.typing.names.get()));
    view! {
        <div class="parley-typing" data-testid="typing-indicator" aria-live="polite">
            <Show when=move || !text.with(String::is_empty)>
                <span class="parley-typing-dots" aria-hidden="true"><i></i><i></i><i></i></span>
            </Show>
            <span>{move || text.get()}</span>
        </div>
    }
}

fn describe(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => t_args("typing.one", &[("name", one)]),
        [a, b] => t_args("typing.two", &[("a", a), ("b", b)]),
        [a, rest @ ..] => t_count("typing.many", rest.len(), &[("name", a)]),
    }
}
