//! The row that opens a calendar day in the log: "Today", "Yesterday", or the date.

use leptos::prelude::*;

use crate::effects::clock::{day_label, iso_datetime};

#[component]
pub fn DaySeparator(at: i64) -> impl IntoView {
    view! {
        <div class="parley-day" data-testid="day-separator" role="separator">
            <time datetime=iso_datetime(at)>{day_label(at)}</time>
        </div>
    }
}
