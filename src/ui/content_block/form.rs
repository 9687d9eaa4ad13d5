//! `form`: the fields a bot asked for, then the customer's answers under their labels.

use leptos::prelude::*;
use parley_wire::content::{Answer, FormField};

use crate::i18n::t;

#[component]
pub fn FormAnswers(fields: Vec<FormField>, answers: Vec<Answer>) -> impl IntoView {
    if answers.is_empty() {
        return view! {
            <div class="parley-block" data-testid="block-form">
                <ul class="parley-choices" aria-label=t("block.fields")>
                    {fields.into_iter().map(|f| view! { <li class="parley-choice" dir="auto">{f.label}</li> }).collect_view()}
                </ul>
                <p class="parley-answer parley-block-note">{t("block.no_answer")}</p>
            </div>
        }
        .into_any();
    }
    view! {
        <dl class="parley-block parley-answers" data-testid="block-form">
            {answers.into_iter().map(|a| view! {
                <dt dir="auto">{a.label.unwrap_or_else(|| t("block.answer").to_owned())}</dt>
                <dd dir="auto">{a.value}</dd>
            }).collect_view()}
        </dl>
    }
    .into_any()
}
