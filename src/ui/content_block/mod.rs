//! What a message's content type adds to its text, shown inside the bubble (issue 16,
//! point 1): a bot's options and the customer's choice, cards, a form and its answers,
//! articles, an email's headers, a satisfaction rating. The shapes are read in
//! `parley_wire::content`; every text here is the sender's, so it is only ever text
//! (never HTML) and every link goes through `safe_link`.

mod articles;
mod cards;
mod choices;
mod csat;
mod email;
mod email_html;
mod form;

use leptos::prelude::*;
use parley_wire::content::Block;

use crate::i18n::t;

/// The block of a message; `has_text` says whether the bubble already shows its text.
#[component]
pub fn ContentBlock(block: Block, has_text: bool) -> impl IntoView {
    match block {
        Block::Plain => ().into_any(),
        Block::InputEmail { submitted } => submitted
            .map(|address| {
                view! {
                    <p class="parley-block parley-answer" data-testid="block-input-email">
                        <span class="parley-block-label">{t("block.email_given")}</span>
                        " "
                        <span dir="auto">{address}</span>
                    </p>
                }
            })
            .into_any(),
        Block::Select { options, chosen } => {
            view! { <choices::Choices options=options chosen=chosen/> }.into_any()
        }
        Block::Cards(cards) => view! { <cards::Cards cards=cards/> }.into_any(),
        Block::Form { fields, answers } => {
            view! { <form::FormAnswers fields=fields answers=answers/> }.into_any()
        }
        Block::Articles(list) => view! { <articles::Articles articles=list/> }.into_any(),
        Block::Email(e) => view! { <email::EmailHeaders email=*e has_text=has_text/> }.into_any(),
        Block::Csat(c) => view! { <csat::CsatRating csat=c/> }.into_any(),
        Block::Integration { kind } => view! {
            <p class="parley-block parley-answer" data-testid="block-integration">
                {t("block.integration")}
                {(!kind.is_empty()).then(|| view! { " (" <span dir="auto">{kind}</span> ")" })}
            </p>
        }
        .into_any(),
    }
}
