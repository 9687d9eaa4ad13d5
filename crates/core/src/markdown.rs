//! Message text → safe HTML.
//!
//! Message content is untrusted: it comes from customers, other agents and bots. The
//! renderer is pulldown-cmark (CommonMark plus strikethrough) with every risky construct
//! turned into something inert:
//!
//! - raw HTML, block or inline, is shown as the text it is (`<script>` appears literally);
//! - links are links only for `http`, `https`, `mailto` and `tel`; any other scheme
//!   (`javascript:`, `data:`, `vbscript:`, relative paths) leaves just the link text;
//! - every link opens in a new tab with `rel="noopener noreferrer"`;
//! - images are never loaded (a remote image is a tracking pixel): an image becomes a link
//!   to it, labelled with its alt text;
//! - bare URLs (`https://…`, `http://…`, `www.…`) become links, without trailing
//!   punctuation;
//! - a single newline is a line break, as people expect in a chat.
//!
//! The app puts the result in `innerHTML`; nothing in it can run script or fetch anything.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Render message markdown to HTML that is safe to insert into the page.
pub fn render(src: &str) -> String {
    let parser = Parser::new_ext(src, Options::ENABLE_STRIKETHROUGH);
    let mut out: Vec<Event<'_>> = Vec::new();
    let mut text = String::new();
    // Per open link or image: whether it became an `<a>` (so its end closes one), and for
    // an image, where its alt text starts and the address to show if there is none.
    let mut links: Vec<(bool, Option<(usize, String)>)> = Vec::new();
    let mut in_code_block = false;

    for event in parser {
        match &event {
            // Text can come in pieces; autolink the whole run once. Raw HTML is shown,
            // never interpreted: it is text.
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(t);
                continue;
            }
            _ => {}
        }
        let inside_a = links.iter().any(|(a, _)| *a);
        if !matches!(event, Event::End(TagEnd::HtmlBlock)) {
            flush_text(&mut text, &mut out, !inside_a && !in_code_block);
        }
        match event {
            Event::Text(_) | Event::Html(_) | Event::InlineHtml(_) => {
                unreachable!("handled above")
            }
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => {
                // The block's last line ends with a newline; it would become a `<br>`.
                let trimmed = text.trim_end_matches('\n').len();
                text.truncate(trimmed);
                flush_block_html(&mut text, &mut out);
                out.push(Event::End(TagEnd::Paragraph));
            }
            Event::SoftBreak => out.push(Event::HardBreak),
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                out.push(Event::Start(Tag::CodeBlock(kind)));
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                out.push(Event::End(TagEnd::CodeBlock));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                let href = match link_type {
                    LinkType::Email => Some(format!("mailto:{dest_url}")),
                    _ => safe_href(&dest_url),
                };
                // No link inside a link: the inner one is just its text.
                match href.filter(|_| !inside_a) {
                    Some(href) => {
                        out.push(Event::Html(open_a(&href, &title).into()));
                        links.push((true, None));
                    }
                    None => links.push((false, None)),
                }
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                // Never an <img>: a link to the picture, labelled by the alt text that
                // follows (or by the address when there is none).
                match safe_href(&dest_url).filter(|_| !inside_a) {
                    Some(href) => {
                        out.push(Event::Html(open_a(&href, &title).into()));
                        links.push((true, Some((out.len(), href))));
                    }
                    None => links.push((false, None)),
                }
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if let Some((true, label)) = links.pop() {
                    // No alt text: the address is the label.
                    if let Some((_, href)) = label.filter(|(start, _)| *start == out.len()) {
                        out.push(Event::Text(href.into()));
                    }
                    out.push(Event::Html("</a>".into()));
                }
            }
            other => out.push(other),
        }
    }
    flush_text(&mut text, &mut out, !in_code_block);

    let mut html = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    html
}

fn flush_text<'a>(text: &mut String, out: &mut Vec<Event<'a>>, autolink: bool) {
    if text.is_empty() {
        return;
    }
    let s = std::mem::take(text);
    if autolink {
        push_autolinked(&s, out);
    } else {
        out.push(Event::Text(CowStr::from(s)));
    }
}

/// The text of a raw HTML block, keeping its line breaks.
fn flush_block_html(text: &mut String, out: &mut Vec<Event<'_>>) {
    let s = std::mem::take(text);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push(Event::HardBreak);
        }
        push_autolinked(line, out);
    }
}

fn open_a(href: &str, title: &str) -> String {
    let mut a = format!(
        "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\"",
        escape_attr(href)
    );
    if !title.is_empty() {
        a.push_str(&format!(" title=\"{}\"", escape_attr(title)));
    }
    a.push('>');
    a
}

fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The address if its scheme is one we allow. pulldown-cmark has already decoded entities
/// and backslash escapes, so `&#106;avascript:` arrives here as `javascript:`.
fn safe_href(dest: &str) -> Option<String> {
    let dest = dest.trim();
    if dest.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (scheme, rest) = dest.split_once(':')?;
    let allowed = ["http", "https", "mailto", "tel"]
        .iter()
        .any(|a| scheme.eq_ignore_ascii_case(a));
    if !allowed || rest.is_empty() {
        return None;
    }
    Some(dest.to_owned())
}

/// Text with bare URLs turned into links.
fn push_autolinked<'a>(s: &str, out: &mut Vec<Event<'a>>) {
    let mut rest = s;
    while let Some((start, end)) = find_bare_url(rest) {
        if start > 0 {
            out.push(Event::Text(CowStr::from(rest[..start].to_owned())));
        }
        let url = &rest[start..end];
        let href = if url.len() >= 4 && url[..4].eq_ignore_ascii_case("www.") {
            format!("https://{url}")
        } else {
            url.to_owned()
        };
        out.push(Event::Html(open_a(&href, "").into()));
        out.push(Event::Text(CowStr::from(url.to_owned())));
        out.push(Event::Html("</a>".into()));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(Event::Text(CowStr::from(rest.to_owned())));
    }
}

/// The byte range of the first bare URL in `s`: `http://`, `https://` or `www.` at the
/// start of a word, up to whitespace or `<`, minus trailing punctuation (GFM's rules: a
/// closing parenthesis stays only when it closes one opened inside the URL).
fn find_bare_url(s: &str) -> Option<(usize, usize)> {
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while from < s.len() {
        let candidates = ["https://", "http://", "www."]
            .iter()
            .filter_map(|p| lower[from..].find(p).map(|i| (from + i, p.len())))
            .min_by_key(|(i, _)| *i);
        let (start, prefix_len) = candidates?;
        let at_word_start = s[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '/' || c == '.' || c == '@'));
        let body_start = start + prefix_len;
        let mut end = s[body_start..]
            .find(|c: char| c.is_whitespace() || c == '<' || c.is_control())
            .map_or(s.len(), |i| body_start + i);
        // Trailing punctuation is the sentence's, not the URL's.
        while let Some(last) = s[body_start..end].chars().next_back() {
            let drop = match last {
                '.' | ',' | ':' | ';' | '!' | '?' | '"' | '\'' | '*' | '_' | '~' => true,
                ')' => {
                    let body = &s[start..end];
                    body.matches(')').count() > body.matches('(').count()
                }
                _ => false,
            };
            if !drop {
                break;
            }
            end -= last.len_utf8();
        }
        // A host must follow the prefix.
        let has_host = s[body_start..end]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric());
        if at_word_start && has_host {
            return Some((start, end));
        }
        from = body_start;
    }
    None
}
