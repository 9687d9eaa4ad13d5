//! A location attachment: its name and address (Chatwoot's `fallback_title`) and a link
//! that opens the place on a map. No map tiles are fetched: the page loads nothing from
//! a map provider until the agent follows the link.

use leptos::prelude::*;
use parley_core::attachment::map_link;
use parley_wire::Attachment;

use crate::i18n::t;

#[component]
pub fn LocationCard(attachment: Attachment) -> impl IntoView {
    let href = attachment
        .coordinates_lat
        .zip(attachment.coordinates_long)
        .and_then(|(lat, long)| map_link(lat, long));
    let title = attachment
        .fallback_title
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| t("attachment.location").to_owned());
    view! {
        <div class="parley-place" data-testid="attachment-location">
            <span class="parley-block-label">{t("attachment.location")}</span>
            <span class="parley-place-name" dir="auto">{title}</span>
            {href.map(|href| view! {
                <a class="parley-link-button" href=href target="_blank" rel="noopener noreferrer">{t("attachment.open_map")}</a>
            })}
        </div>
    }
}
