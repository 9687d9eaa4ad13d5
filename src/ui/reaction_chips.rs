//! The reactions to a message (WhatsApp and Instagram emoji reactions), one chip per
//! emoji with how many, and who in its title; under the message they answer.

use leptos::prelude::*;
use parley_core::blocks::escape;

use crate::i18n::t_count;
use crate::state::conversation::ChatState;

#[component]
pub fn ReactionChips(chat: ChatState, id: i64) -> impl IntoView {
    let html = Memo::new(move |_| {
        // A reaction that arrives is an insert: the key list changes.
        chat.messages.order.track();
        let mut html = String::new();
        for r in chat.messages.reactions_to(id) {
            let n = r.names.len();
            let label = t_count(
                "message.reactions",
                n,
                &[("emoji", &r.emoji), ("names", &r.names.join(", "))],
            );
            let label = escape(&label);
            html.push_str(&format!(
                "<li class=\"parley-reaction\" title=\"{label}\"><span aria-hidden=\"true\">{} {n}</span><span class=\"parley-visually-hidden\">{label}</span></li>",
                escape(&r.emoji)
            ));
        }
        html
    });
    view! {
        <Show when=move || html.with(|h| !h.is_empty())>
            <ul class="parley-reactions" data-testid="reactions" inner_html=move || html.get()></ul>
        </Show>
    }
}
