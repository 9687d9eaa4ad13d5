//! What a message's content type and its place-like attachments mean, as HTML for the
//! bubble (issue 16, points 1 and 2): a bot's options and the customer's choice, cards, a
//! form's answers, articles, an email's headers (its HTML part in a sandboxed frame), a
//! satisfaction rating; a location, a shared contact, a link, a voice note's transcript.
//!
//! It is one string per message, like the markdown, rather than a component per shape:
//! the app's size budget. Everything in it is the sender's text and goes through
//! [`Out::text`] or [`Out::attr`] (escaped); every link goes through `safe_link`; the only
//! markup the sender controls is an email's HTML part, and that only inside a `srcdoc`
//! frame with no scripts, an opaque origin and a policy that fetches nothing.

use parley_wire::content::{Block, Email};
use parley_wire::{Attachment, FileType, Message};

use crate::attachment::{map_link, safe_link, safe_url, tel_link};
use crate::i18n::{fill, text, Lang};

/// HTML being written; `lang` for the labels.
struct Out {
    html: String,
    lang: Lang,
}

/// `s` escaped for HTML text and attribute values (double-quoted).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

impl Out {
    fn raw(&mut self, s: &str) -> &mut Self {
        self.html.push_str(s);
        self
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.html.push_str(&escape(s));
        self
    }

    /// A catalog text.
    fn t(&mut self, key: &str) -> &mut Self {
        let s = text(self.lang, key);
        self.text(s)
    }

    /// ` name="value"`.
    fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        self.raw(" ").raw(name).raw("=\"").text(value).raw("\"")
    }

    /// A label: `<span class="parley-block-label">…</span> `.
    fn label(&mut self, key: &str) -> &mut Self {
        self.raw("<span class=\"parley-block-label\">")
            .t(key)
            .raw("</span> ")
    }

    /// Text in its own direction (names, addresses, answers: any script).
    fn auto(&mut self, tag: &str, s: &str) -> &mut Self {
        self.raw("<").raw(tag).raw(" dir=\"auto\">").text(s);
        self.raw("</").raw(tag).raw(">")
    }

    /// A link that opens in a new tab, or the text alone when the URL is not safe.
    fn link(&mut self, url: Option<&str>, body: &str, class: &str) -> &mut Self {
        match url.and_then(safe_link) {
            Some(href) => self
                .raw("<a")
                .attr("class", class)
                .attr("href", href)
                .raw(" target=\"_blank\" rel=\"noopener noreferrer\" dir=\"auto\">")
                .text(body)
                .raw("</a>"),
            None => self
                .raw("<span")
                .attr("class", class)
                .raw(" dir=\"auto\">")
                .text(body)
                .raw("</span>"),
        }
    }

    /// `<dt>label</dt><dd>value</dd>`.
    fn pair(&mut self, label: &str, value: &str) -> &mut Self {
        self.raw("<dt>").text(label).raw("</dt>").auto("dd", value)
    }
}

/// The HTML of what `m`'s content type and attachments add to its text; empty when
/// nothing (and for a deleted message). An email's text part is shown only when the
/// message has no text of its own (the bubble shows that already).
pub fn html(m: &Message, lang: Lang) -> String {
    let mut out = Out {
        html: String::new(),
        lang,
    };
    if !m.is_deleted() {
        let has_text = m.content.as_deref().is_some_and(|c| !c.trim().is_empty());
        block(&mut out, &m.block(), has_text);
        for a in m.attachments() {
            attachment(&mut out, a, m.content.as_deref());
        }
    }
    out.html
}

/// Whether `a` is drawn by [`html`] (a place, a contact, a link) rather than as a file.
pub fn draws(a: &Attachment) -> bool {
    matches!(
        a.file_type,
        FileType::Location
            | FileType::Contact
            | FileType::Fallback
            | FileType::Share
            | FileType::Embed
            | FileType::IgPost
            | FileType::IgReel
    )
}

fn block(out: &mut Out, block: &Block, has_text: bool) {
    let lang = out.lang;
    match block {
        Block::Plain => {}
        Block::InputEmail { submitted } => {
            if let Some(address) = submitted {
                out.raw(
                    "<p class=\"parley-block parley-answer\" data-testid=\"block-input-email\">",
                )
                .label("block.email_given")
                .auto("span", address)
                .raw("</p>");
            }
        }
        Block::Select { options, chosen } => {
            out.raw("<div class=\"parley-block\" data-testid=\"block-select\"><ul class=\"parley-choices\"")
                .attr("aria-label", text(lang, "block.options"))
                .raw(">");
            for o in options {
                let on = chosen
                    .iter()
                    .any(|c| c.value == o.value || c.title == o.title);
                out.raw(if on {
                    "<li class=\"parley-choice\" data-chosen=\"true\" dir=\"auto\"><span class=\"parley-visually-hidden\">"
                } else {
                    "<li class=\"parley-choice\" dir=\"auto\"><span hidden>"
                });
                out.t("block.chosen")
                    .raw(" </span>")
                    .text(&o.title)
                    .raw("</li>");
            }
            out.raw("</ul><p class=\"parley-answer\" data-testid=\"block-answer\">");
            match chosen.first() {
                Some(c) => out
                    .label("block.chose")
                    .raw("<strong dir=\"auto\">")
                    .text(&c.title)
                    .raw("</strong>"),
                None => no_answer(out),
            };
            out.raw("</p></div>");
        }
        Block::Cards(cards) => {
            out.raw("<ul class=\"parley-block parley-cards\" data-testid=\"block-cards\">");
            for c in cards {
                out.raw("<li class=\"parley-card\">");
                if let Some(src) = c.media_url.as_deref().and_then(safe_url) {
                    // A picture that fails to load shows its alt text: the card's title.
                    let alt = c.title.as_deref().unwrap_or(text(lang, "block.image"));
                    out.raw("<img class=\"parley-card-image\" loading=\"lazy\"")
                        .attr("src", src)
                        .attr("alt", alt)
                        .raw(">");
                }
                if let Some(title) = &c.title {
                    out.auto("strong", title);
                }
                if let Some(d) = &c.description {
                    out.auto("p", d);
                }
                out.raw("<div class=\"parley-card-actions\">");
                for a in &c.actions {
                    out.link(a.uri.as_deref(), &a.text, "parley-card-action");
                }
                out.raw("</div></li>");
            }
            out.raw("</ul>");
        }
        Block::Form { fields, answers } => {
            if answers.is_empty() {
                out.raw("<div class=\"parley-block\" data-testid=\"block-form\"><ul class=\"parley-choices\"")
                    .attr("aria-label", text(lang, "block.fields"))
                    .raw(">");
                for f in fields {
                    out.auto("li", &f.label);
                }
                out.raw("</ul><p class=\"parley-answer\">");
                no_answer(out).raw("</p></div>");
            } else {
                out.raw("<dl class=\"parley-block parley-answers\" data-testid=\"block-form\">");
                for a in answers {
                    let label = a.label.as_deref().unwrap_or(text(lang, "block.answer"));
                    out.pair(label, &a.value);
                }
                out.raw("</dl>");
            }
        }
        Block::Articles(list) => {
            out.raw("<ul class=\"parley-block parley-articles\" data-testid=\"block-articles\">");
            for a in list {
                out.raw("<li>").link(a.link.as_deref(), &a.title, "");
                if let Some(d) = &a.description {
                    out.auto("p", d);
                }
                out.raw("</li>");
            }
            out.raw("</ul>");
        }
        Block::Email(e) => email(out, e, has_text),
        Block::Csat(c) => match c.rating {
            None => {
                out.raw("<p class=\"parley-block parley-answer\" data-testid=\"block-csat\">");
                no_answer(out).raw("</p>");
            }
            Some(rating) => {
                let n = rating.to_string();
                let label = fill(text(lang, "block.rating"), &[("rating", &n)]);
                // Chatwoot's emoji for ratings 1 to 5 (`CSAT_RATINGS`).
                let shown = if c.stars {
                    let filled = usize::from(rating);
                    format!("{}{}", "★".repeat(filled), "☆".repeat(5 - filled))
                } else {
                    ["😞", "😑", "😐", "😀", "😍"][usize::from(rating) - 1].to_owned()
                };
                out.raw("<dl class=\"parley-block parley-answers\" data-testid=\"block-csat\"")
                    .attr("data-rating", &n)
                    .raw("><dt>")
                    .t("block.rating_title")
                    .raw("</dt><dd><span class=\"parley-rating\" role=\"img\"")
                    .attr("aria-label", &label)
                    .attr("title", &label)
                    .raw(">")
                    .text(&shown)
                    .raw("</span></dd>");
                if let Some(f) = &c.feedback {
                    out.pair(text(lang, "block.feedback"), f);
                }
                out.raw("</dl>");
            }
        },
        Block::Integration { kind } => {
            out.raw("<p class=\"parley-block parley-answer\" data-testid=\"block-integration\">")
                .t("block.integration");
            if !kind.is_empty() {
                out.raw(" (").auto("span", kind).raw(")");
            }
            out.raw("</p>");
        }
    }
}

fn no_answer(out: &mut Out) -> &mut Out {
    out.raw("<span class=\"parley-block-note\">")
        .t("block.no_answer")
        .raw("</span>")
}

/// Subject, from, to, cc, bcc; the text part when the bubble has no text; the quoted
/// history and the HTML part collapsed (a closed `<details>` does not render its frame,
/// and a lazy frame is not loaded until it is).
fn email(out: &mut Out, e: &Email, has_text: bool) {
    let lang = out.lang;
    out.raw("<div class=\"parley-block parley-email\" data-testid=\"block-email\"><p class=\"parley-email-subject\" dir=\"auto\"><span class=\"parley-visually-hidden\">")
        .t("block.email_subject")
        .raw(" </span>");
    match &e.subject {
        Some(s) => out.text(s),
        None => out.t("block.email_no_subject"),
    };
    out.raw("</p><dl class=\"parley-email-meta\">");
    for (key, list) in [
        ("block.email_from", &e.from),
        ("block.email_to", &e.to),
        ("block.email_cc", &e.cc),
        ("block.email_bcc", &e.bcc),
    ] {
        if !list.is_empty() {
            out.pair(text(lang, key), &list.join(", "));
        }
    }
    out.raw("</dl>");
    if let Some(t) = e.text.as_deref().filter(|_| !has_text) {
        out.raw("<p class=\"parley-email-text\" dir=\"auto\">")
            .text(t)
            .raw("</p>");
    }
    if let Some(q) = &e.quoted {
        out.raw("<details class=\"parley-email-quoted\"><summary>")
            .t("block.email_quoted")
            .raw("</summary><p class=\"parley-email-text\" dir=\"auto\">")
            .text(q)
            .raw("</p></details>");
    }
    if let Some(h) = &e.html {
        let doc = format!(
            "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" \
             content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
             <base target=\"_blank\">{h}"
        );
        out.raw("<details class=\"parley-email-quoted\" data-testid=\"email-html-toggle\"><summary>")
            .t("block.email_show_html")
            .raw("</summary><iframe class=\"parley-email-html\" data-testid=\"email-html\" loading=\"lazy\" sandbox=\"allow-popups allow-popups-to-escape-sandbox\" referrerpolicy=\"no-referrer\"")
            .attr("title", text(lang, "block.email_html_title"))
            .attr("srcdoc", &doc)
            .raw("></iframe><p class=\"parley-block-note\">")
            .t("block.email_images_blocked")
            .raw("</p></details>");
    }
    out.raw("</div>");
}

/// A location (name and address, a map link: no tile fetched), a shared contact (name,
/// phone to call, and a copy button the app handles), a link, a voice note's transcript.
fn attachment(out: &mut Out, a: &Attachment, message_text: Option<&str>) {
    let lang = out.lang;
    let title = a.fallback_title.as_deref().filter(|s| !s.trim().is_empty());
    match a.file_type {
        FileType::Location => {
            let href = a
                .coordinates_lat
                .zip(a.coordinates_long)
                .and_then(|(lat, long)| map_link(lat, long));
            out.raw("<div class=\"parley-place\" data-testid=\"attachment-location\">")
                .label("attachment.location")
                .auto("span", title.unwrap_or(text(lang, "attachment.location")));
            if let Some(href) = href {
                out.raw(
                    "<a class=\"parley-link-button\" target=\"_blank\" rel=\"noopener noreferrer\"",
                )
                .attr("href", &href)
                .raw(">")
                .t("attachment.open_map")
                .raw("</a>");
            }
            out.raw("</div>");
        }
        FileType::Contact => {
            let name = message_text
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(text(lang, "message.unknown_sender"));
            out.raw("<div class=\"parley-place\" data-testid=\"attachment-contact\">")
                .label("attachment.contact")
                .auto("span", name);
            let mut copy = name.to_owned();
            if let Some(phone) = title {
                copy.push('\n');
                copy.push_str(phone);
                match tel_link(phone) {
                    Some(href) => out
                        .raw("<a dir=\"ltr\"")
                        .attr("href", &href)
                        .raw(">")
                        .text(phone)
                        .raw("</a>"),
                    None => out.auto("span", phone),
                };
            }
            out.raw(
                "<button type=\"button\" class=\"parley-link-button\" data-testid=\"copy-contact\"",
            )
            .attr("data-copy", &copy)
            .attr("data-copied", text(lang, "attachment.copied"))
            .raw(">")
            .t("attachment.copy")
            .raw("</button></div>");
        }
        FileType::Audio => {
            if let Some(t) = a
                .transcribed_text
                .as_deref()
                .filter(|s| !s.trim().is_empty())
            {
                out.raw("<p class=\"parley-transcript\" data-testid=\"attachment-transcript\">")
                    .label("attachment.transcript")
                    .auto("span", t)
                    .raw("</p>");
            }
        }
        _ if draws(a) => {
            out.raw("<div class=\"parley-file-chip\" data-testid=\"attachment-link\">")
                .label("attachment.link");
            let url = a.data_url.as_deref();
            out.link(
                url,
                title
                    .or(url)
                    .unwrap_or(text(lang, "attachment.unavailable")),
                "parley-file-name",
            )
            .raw("</div>");
        }
        _ => {}
    }
}
