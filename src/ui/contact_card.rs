//! A shared contact: the name (the message's text, as Chatwoot stores it) and the phone
//! number (`fallback_title`), with a call link and a copy button.

use leptos::prelude::*;
use parley_core::attachment::tel_link;
use parley_wire::Attachment;

use crate::i18n::t;

#[component]
pub fn ContactCard(attachment: Attachment, name: Option<String>) -> impl IntoView {
    let phone = attachment.fallback_title.filter(|s| !s.trim().is_empty());
    let copied = RwSignal::new(false);
    let text = [name.clone(), phone.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        let _promise = clipboard.write_text(&text);
        copied.set(true);
    };
    view! {
        <div class="parley-place" data-testid="attachment-contact">
            <span class="parley-block-label">{t("attachment.contact")}</span>
            <span class="parley-place-name" dir="auto">{name.unwrap_or_else(|| t("message.unknown_sender").to_owned())}</span>
            {phone.map(|p| match tel_link(&p) {
                Some(href) => view! { <a href=href dir="ltr">{p}</a> }.into_any(),
                None => view! { <span dir="auto">{p}</span> }.into_any(),
            })}
            <button type="button" class="parley-link-button" data-testid="copy-contact" on:click=copy>
                {move || if copied.get() { t("attachment.copied") } else { t("attachment.copy") }}
            </button>
        </div>
    }
}
