//! `input_csat`: the customer's satisfaction rating, as stars or as Chatwoot's emoji
//! scale (`CSAT_RATINGS`), and their feedback.

use leptos::prelude::*;
use parley_wire::content::Csat;

use crate::i18n::{t, t_args};

/// Chatwoot's emoji for ratings 1 to 5 (`shared/constants/messages.js`).
const EMOJI: [&str; 5] = ["😞", "😑", "😐", "😀", "😍"];

#[component]
pub fn CsatRating(csat: Csat) -> impl IntoView {
    let Some(rating) = csat.rating else {
        return view! {
            <p class="parley-block parley-answer parley-block-note" data-testid="block-csat">{t("block.no_answer")}</p>
        }
        .into_any();
    };
    let n = rating.to_string();
    let label = t_args("block.rating", &[("rating", &n)]);
    let shown = if csat.stars {
        let filled = usize::from(rating);
        format!("{}{}", "★".repeat(filled), "☆".repeat(5 - filled))
    } else {
        EMOJI[usize::from(rating) - 1].to_owned()
    };
    view! {
        <dl class="parley-block parley-answers" data-testid="block-csat" data-rating=n>
            <dt>{t("block.rating_title")}</dt>
            <dd><span class="parley-rating" role="img" aria-label=label.clone() title=label>{shown}</span></dd>
            {csat.feedback.map(|f| view! {
                <dt>{t("block.feedback")}</dt>
                <dd dir="auto">{f}</dd>
            })}
        </dl>
    }
    .into_any()
}
