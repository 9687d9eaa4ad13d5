//! An attachment that is a link rather than a file: a fallback (a post or a link a channel
//! could not show otherwise), a share, an Instagram story, reel or post, or media that
//! could not be loaded. A label says what it is; the link opens it when it is safe.

use leptos::prelude::*;
use parley_core::attachment::safe_link;

#[component]
pub fn LinkChip(label: &'static str, title: Option<String>, url: Option<String>) -> impl IntoView {
    let href = url.as_deref().and_then(safe_link).map(str::to_owned);
    let title = title.filter(|s| !s.trim().is_empty());
    view! {
        <div class="parley-file-chip" data-testid="attachment-link">
            <span class="parley-block-label">{label}</span>
            " "
            {match href {
                Some(href) => {
                    let shown = title.unwrap_or_else(|| href.clone());
                    view! {
                    <a class="parley-file-name" href=href target="_blank" rel="noopener noreferrer" dir="auto">{shown}</a>
                }.into_any()
                }
                None => view! { <span class="parley-file-name" dir="auto">{title}</span> }.into_any(),
            }}
        </div>
    }
}
