//! `article`: help-centre articles a bot suggested, each a link.

use leptos::prelude::*;
use parley_core::attachment::safe_link;
use parley_wire::content::Article;

#[component]
pub fn Articles(articles: Vec<Article>) -> impl IntoView {
    view! {
        <ul class="parley-block parley-articles" data-testid="block-articles">
            {articles.into_iter().map(|a| {
                let title = match a.link.as_deref().and_then(safe_link) {
                    Some(href) => view! { <a href=href.to_owned() target="_blank" rel="noopener noreferrer" dir="auto">{a.title}</a> }.into_any(),
                    None => view! { <strong dir="auto">{a.title}</strong> }.into_any(),
                };
                view! {
                    <li>
                        {title}
                        {a.description.map(|d| view! { <p class="parley-card-text" dir="auto">{d}</p> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
