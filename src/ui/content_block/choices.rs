//! `input_select`: the options a bot offered, the customer's choice marked.

use leptos::prelude::*;
use parley_wire::content::Choice;

use crate::i18n::t;

#[component]
pub fn Choices(options: Vec<Choice>, chosen: Vec<Choice>) -> impl IntoView {
    let picked = |o: &Choice| {
        chosen
            .iter()
            .any(|c| c.value == o.value || c.title == o.title)
    };
    let rows = options
        .iter()
        .map(|o| {
            let on = picked(o);
            view! {
                <li class="parley-choice" data-chosen=on.then_some("true") dir="auto">
                    {on.then(|| view! { <span class="parley-visually-hidden">{t("block.chosen")}" "</span> })}
                    {o.title.clone()}
                </li>
            }
        })
        .collect_view();
    let answer = chosen.first().map(|c| c.title.clone());
    view! {
        <div class="parley-block" data-testid="block-select">
            <ul class="parley-choices" aria-label=t("block.options")>{rows}</ul>
            <p class="parley-answer" data-testid="block-answer">
                {match answer {
                    Some(a) => view! { <span class="parley-block-label">{t("block.chose")}</span> " " <strong dir="auto">{a}</strong> }.into_any(),
                    None => view! { <span class="parley-block-note">{t("block.no_answer")}</span> }.into_any(),
                }}
            </p>
        </div>
    }
}
