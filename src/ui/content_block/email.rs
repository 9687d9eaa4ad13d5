//! `incoming_email`: subject, from, to and cc above the text part; the quoted history
//! collapsed; the HTML part on demand ([`EmailHtml`]).

use leptos::prelude::*;
use parley_wire::content::Email;

use crate::i18n::t;
use crate::ui::content_block::email_html::EmailHtml;

#[component]
pub fn EmailHeaders(email: Email, has_text: bool) -> impl IntoView {
    let line = |label: &'static str, list: Vec<String>| {
        (!list.is_empty()).then(|| {
            view! {
                <dt>{label}</dt>
                <dd dir="auto">{list.join(", ")}</dd>
            }
        })
    };
    let text = (!has_text).then_some(email.text).flatten();
    view! {
        <div class="parley-block parley-email" data-testid="block-email">
            <p class="parley-email-subject" dir="auto">
                <span class="parley-visually-hidden">{t("block.email_subject")}" "</span>
                {email.subject.unwrap_or_else(|| t("block.email_no_subject").to_owned())}
            </p>
            <dl class="parley-email-meta">
                {line(t("block.email_from"), email.from)}
                {line(t("block.email_to"), email.to)}
                {line(t("block.email_cc"), email.cc)}
                {line(t("block.email_bcc"), email.bcc)}
            </dl>
            {text.map(|s| view! { <p class="parley-email-text" dir="auto">{s}</p> })}
            {email.quoted.map(|q| view! {
                <details class="parley-email-quoted">
                    <summary>{t("block.email_quoted")}</summary>
                    <p class="parley-email-text" dir="auto">{q}</p>
                </details>
            })}
            {email.html.map(|html| view! { <EmailHtml html=html/> })}
        </div>
    }
}
