//! The reactions to a message (WhatsApp and Instagram emoji reactions), one chip per
//! emoji with how many, and who in its title; under the message they answer.

use leptos::prelude::*;

use crate::i18n::t_count;
use crate::state::conversation::ChatState;

#[component]
pub fn ReactionChips(chat: ChatState, id: i64) -> impl IntoView {
    let reactions = Memo::new(move |_| {
        // A reaction that arrives is an insert: the key list changes.
        chat.messages.order.track();
        chat.messages.reactions_to(id)
    });
    move || {
        reactions.with(|list| {
            (!list.is_empty()).then(|| {
                let chips = list
                    .iter()
                    .map(|r| {
                        let n = r.names.len();
                        let who = r.names.join(", ");
                        let label = t_count(
                            "message.reactions",
                            n,
                            &[("emoji", &r.emoji), ("names", &who)],
                        );
                        let title = label.clone();
                        view! {
                            <li class="parley-reaction" title=title>
                                <span aria-hidden="true">{r.emoji.clone()}" "{n}</span>
                                <span class="parley-visually-hidden">{label}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="parley-reactions" data-testid="reactions">{chips}</ul> }
            })
        })
    }
}
