//! The row above the first message the agent had not read when they opened the
//! conversation.

use leptos::prelude::*;

use crate::i18n::t_count;

#[component]
pub fn UnreadDivider(count: usize) -> impl IntoView {
    let label = t_count("log.unread", count, &[]);
    let aria_label = label.clone();
    view! {
        <div class="parley-unread" data-testid="unread-divider" role="separator" aria-label=aria_label>
            <span>{label}</span>
        </div>
    }
}
