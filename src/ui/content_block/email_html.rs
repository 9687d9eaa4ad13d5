//! An email's HTML part, on demand, in a sandboxed frame: no script runs (no
//! `allow-scripts`), the frame has an opaque origin (no `allow-same-origin`), and its own
//! policy loads nothing from the network, so remote images (tracking pixels) stay blocked.
//! Links open in a new tab, outside the sandbox.

use leptos::prelude::*;

use crate::i18n::t;

/// The frame's document: the sender's HTML after a policy that allows inline styles and
/// embedded (`data:`) images only.
fn document(html: &str) -> String {
    format!(
        "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <base target=\"_blank\">{html}"
    )
}

#[component]
pub fn EmailHtml(html: String) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button type="button" class="parley-link-button" data-testid="email-html-toggle" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
            {move || if open.get() { t("block.email_hide_html") } else { t("block.email_show_html") }}
        </button>
        <Show when=move || open.get()>
            <iframe
                class="parley-email-html"
                data-testid="email-html"
                sandbox="allow-popups allow-popups-to-escape-sandbox"
                referrerpolicy="no-referrer"
                title=t("block.email_html_title")
                srcdoc=document(&html)
            ></iframe>
            <p class="parley-block-note">{t("block.email_images_blocked")}</p>
        </Show>
    }
}
