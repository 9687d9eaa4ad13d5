//! `cards`: image, title, description, and the buttons (links open in a new tab;
//! postbacks to the bot have no link and are shown as what the customer could press).

use leptos::prelude::*;
use parley_core::attachment::{safe_link, safe_url};
use parley_wire::content::Card;

use crate::i18n::t;

#[component]
pub fn Cards(cards: Vec<Card>) -> impl IntoView {
    view! {
        <ul class="parley-block parley-cards" data-testid="block-cards">
            {cards.into_iter().map(|c| view! { <CardView card=c/> }).collect_view()}
        </ul>
    }
}

#[component]
fn CardView(card: Card) -> impl IntoView {
    let image = card
        .media_url
        .as_deref()
        .and_then(safe_url)
        .map(str::to_owned);
    let broken = RwSignal::new(false);
    let actions = card
        .actions
        .into_iter()
        .map(|a| match a.uri.as_deref().and_then(safe_link) {
            Some(href) => view! {
                <a class="parley-card-action" href=href.to_owned() target="_blank" rel="noopener noreferrer" dir="auto">{a.text}</a>
            }
            .into_any(),
            None => view! { <span class="parley-card-action" dir="auto">{a.text}</span> }.into_any(),
        })
        .collect_view();
    view! {
        <li class="parley-card">
            {image.map(|src| view! {
                <Show when=move || !broken.get() fallback=|| view! { <span class="parley-media-gone">{t("block.image_unavailable")}</span> }>
                    <img class="parley-card-image" src=src.clone() alt="" loading="lazy" on:error=move |_| broken.set(true)/>
                </Show>
            })}
            {card.title.map(|s| view! { <strong class="parley-card-title" dir="auto">{s}</strong> })}
            {card.description.map(|s| view! { <p class="parley-card-text" dir="auto">{s}</p> })}
            <div class="parley-card-actions">{actions}</div>
        </li>
    }
}
