//! The row above the first message the agent had not read when they opened the
//! conversation.

use leptos::prelude::*;

#[component]
pub fn UnreadDivider(count: usize) -> impl IntoView {
    let label = match count {
        1 => "1 unread message".to_owned(),
        n => format!("{n} unread messages"),
    };
    let aria_label = label.clone();
    view! {
        <div class="parley-unread" data-testid="unread-divider" role="separator" aria-label=aria_label>
            <span>{label}</span>
        </div>
    }
}
