//! The canned-response picker that `/` opens above the composer: a listbox the agent moves
//! through with the arrow keys (the focus stays in the text) or the mouse.

use leptos::prelude::*;
use parley_wire::CannedResponse;

use crate::i18n::t;
use crate::state::canned::CannedSearch;

pub const LISTBOX_ID: &str = "parley-canned-list";

pub fn option_id(i: usize) -> String {
    format!("parley-canned-{i}")
}

#[component]
pub fn CannedPicker(search: CannedSearch, on_choose: Callback<CannedResponse>) -> impl IntoView {
    let open = move || search.at.with(Option::is_some);
    view! {
        <Show when=open>
            <div class="parley-canned" data-testid="canned-picker">
                {move || {
                    if let Some(e) = search.error.get() {
                        return view! { <p class="parley-inline-error" role="alert">{e}</p> }.into_any();
                    }
                    let results = search.results.get();
                    if results.is_empty() {
                        let text = if search.loading.get() { t("canned.searching") } else { t("canned.no_match") };
                        return view! { <p class="parley-muted" role="status">{text}</p> }.into_any();
                    }
                    view! {
                        <ul id=LISTBOX_ID role="listbox" aria-label=t("canned.list")>
                            {results
                                .into_iter()
                                .enumerate()
                                .map(|(i, r)| {
                                    let chosen = r.clone();
                                    view! {
                                        <li
                                            id=option_id(i)
                                            role="option"
                                            data-testid="canned-option"
                                            aria-selected=move || (search.active.get() == i).to_string()
                                            // Before the textarea loses focus: the choice wins.
                                            on:mousedown=move |ev| {
                                                ev.prevent_default();
                                                on_choose.run(chosen.clone());
                                            }
                                            on:mouseenter=move |_| search.active.set(i)
                                        >
                                            <span class="parley-canned-code">{format!("/{}", r.short_code)}</span>
                                            <span class="parley-canned-content" dir="auto">{r.content}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </div>
        </Show>
    }
}
