//! A spinner with what is being waited for, said to screen readers too.

use leptos::prelude::*;

#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="parley-loading" role="status">
            <span class="parley-spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}
