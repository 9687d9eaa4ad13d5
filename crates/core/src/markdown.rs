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
//!
//! No message can stall the page either: rendering is linear in the message's length (the
//! autolinker is one pass), quotes and lists nest at most [`MAX_BLOCK_NESTING`] deep and
//! emphasis [`MAX_INLINE_NESTING`] deep (deeper ones are flattened, their text kept), and a
//! message with more than [`MAX_MARKUP_CHARACTERS`] markup characters is shown as its lines.

use std::collections::VecDeque;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// How many quotes and lists deep a message is shown as written. Deeper ones are flattened
/// into the deepest shown (their text stays, an item per line): a few levels already fill a
/// chat bubble with indentation, and thousands (`> > > …`) would push the text out of sight
/// and hand the browser a DOM deep enough to stall its layout.
pub const MAX_BLOCK_NESTING: usize = 8;
/// How many emphasis, strong and strikethrough spans deep a message is shown as written;
/// deeper ones add nothing visible, only depth (`*****…a…*****`), so they are dropped.
pub const MAX_INLINE_NESTING: usize = 8;

/// A message with more markup characters than this (ASCII punctuation and line breaks) is
/// shown as plain text: its lines, with links, as one paragraph. pulldown-cmark is linear, but
/// every delimiter, bracket and line is an event of its own, and 150,000 of them (`*_*_…`)
/// took it 25-30 ms on a busy machine, over the 20 ms a render may take; 40,000 take it under
/// 10. No person writes 40,000 characters of markup; a pasted log or dump that big reads
/// better as its lines than as accidental emphasis.
pub const MAX_MARKUP_CHARACTERS: usize = 40_000;

/// Render message markdown to HTML that is safe to insert into the page.
///
/// Linear in the input's length, whatever it holds: a 150,000-character message (Chatwoot's
/// limit) renders in milliseconds (`cargo run --release -p parley-core --example
/// markdown_bench` measures adversarial ones).
pub fn render(src: &str) -> String {
    let mut html = String::with_capacity(src.len() * 3 / 2);
    let markup = src
        .bytes()
        .filter(|b| b.is_ascii_punctuation() || *b == b'\n')
        .count();
    if markup > MAX_MARKUP_CHARACTERS {
        push_plain_text(&mut html, src);
    } else {
        push_markdown(&mut html, src);
    }
    html
}

fn push_markdown(html: &mut String, src: &str) {
    let events = Parser::new_ext(src, Options::ENABLE_STRIKETHROUGH);
    pulldown_cmark::html::push_html(html, Sanitized::new(events));
}

/// A message's lines as one paragraph, with links, as markdown would show them had they no
/// markup; written straight out (a line per event costs as much as markdown would).
fn push_plain_text(html: &mut String, src: &str) {
    html.push_str("<p>");
    for (i, line) in src.split('\n').enumerate() {
        if i > 0 {
            html.push_str("<br />\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut done = 0;
        for (start, end) in BareUrls::new(line) {
            push_escaped(html, &line[done..start]);
            html.push_str(&open_a(&bare_url_href(&line[start..end]), ""));
            push_escaped(html, &line[start..end]);
            html.push_str("</a>");
            done = end;
        }
        push_escaped(html, &line[done..]);
    }
    html.push_str("</p>\n");
}

/// Text as HTML text: nothing in it can open a tag or an entity. NUL becomes U+FFFD, as
/// pulldown-cmark makes it.
fn push_escaped(html: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\0']) {
        html.push_str(&rest[..i]);
        html.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "\u{FFFD}",
        });
        rest = &rest[i + 1..];
    }
    html.push_str(rest);
}

/// pulldown-cmark's events made inert (see the module's documentation), handed to the HTML
/// writer as they come rather than collected: a message of 150,000 one-character lines is
/// 300,000 events.
struct Sanitized<'a, I> {
    events: I,
    out: Output<'a>,
    text: TextRun<'a>,
    /// Per open link or image: whether it became an `<a>` (so its end closes one), and for
    /// an image, which output event its alt text starts at and the address to show if there
    /// is none.
    links: Vec<(bool, Option<(usize, String)>)>,
    /// How many of `links` became an `<a>`: a count, so the check before every event does
    /// not walk a stack that nested images (`![![![…`) make as long as the message.
    open_anchors: usize,
    in_code_block: bool,
    block_nesting: usize,
    inline_nesting: usize,
    finished: bool,
}

/// The events made and not yet written.
struct Output<'a> {
    queue: VecDeque<Event<'a>>,
    /// Events made so far, written or not.
    made: usize,
    /// Whether the last event made leaves the line open (so what must start a line of its
    /// own needs a break first).
    ends_inline: bool,
}

impl<'a> Output<'a> {
    fn push(&mut self, event: Event<'a>) {
        self.ends_inline = matches!(
            event,
            Event::Text(_)
                | Event::Code(_)
                | Event::Html(_)
                | Event::End(TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough)
        );
        self.made += 1;
        self.queue.push_back(event);
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Sanitized<'a, I> {
    fn new(events: I) -> Self {
        Sanitized {
            events,
            out: Output {
                queue: VecDeque::new(),
                made: 0,
                ends_inline: false,
            },
            text: TextRun::Empty,
            links: Vec::new(),
            open_anchors: 0,
            in_code_block: false,
            block_nesting: 0,
            inline_nesting: 0,
            finished: false,
        }
    }

    fn handle(&mut self, event: Event<'a>) {
        let out = &mut self.out;
        let event = match event {
            // Text can come in pieces; autolink the whole run once. Raw HTML is shown,
            // never interpreted: it is text.
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => {
                self.text.push(t);
                return;
            }
            other => other,
        };
        let inside_a = self.open_anchors > 0;
        if !matches!(event, Event::End(TagEnd::HtmlBlock)) {
            flush_text(&mut self.text, out, !inside_a && !self.in_code_block);
        }
        match event {
            Event::Text(_) | Event::Html(_) | Event::InlineHtml(_) => {
                unreachable!("handled above")
            }
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => {
                flush_block_html(&mut self.text, out);
                out.push(Event::End(TagEnd::Paragraph));
            }
            Event::SoftBreak => out.push(Event::HardBreak),
            Event::Start(Tag::CodeBlock(kind)) => {
                self.in_code_block = true;
                out.push(Event::Start(Tag::CodeBlock(kind)));
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code_block = false;
                out.push(Event::End(TagEnd::CodeBlock));
            }
            Event::Start(tag @ (Tag::BlockQuote(_) | Tag::List(_))) => {
                self.block_nesting += 1;
                if self.block_nesting <= MAX_BLOCK_NESTING {
                    out.push(Event::Start(tag));
                }
            }
            Event::End(tag @ (TagEnd::BlockQuote(_) | TagEnd::List(_))) => {
                if self.block_nesting <= MAX_BLOCK_NESTING {
                    out.push(Event::End(tag));
                }
                self.block_nesting -= 1;
            }
            // An item is shown when its list is.
            Event::Start(Tag::Item) if self.block_nesting > MAX_BLOCK_NESTING => {
                // A flattened item starts a line of its own.
                if out.ends_inline {
                    out.push(Event::HardBreak);
                }
            }
            Event::End(TagEnd::Item) if self.block_nesting > MAX_BLOCK_NESTING => {}
            Event::Start(tag @ (Tag::Emphasis | Tag::Strong | Tag::Strikethrough)) => {
                self.inline_nesting += 1;
                if self.inline_nesting <= MAX_INLINE_NESTING {
                    out.push(Event::Start(tag));
                }
            }
            Event::End(tag @ (TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough)) => {
                if self.inline_nesting <= MAX_INLINE_NESTING {
                    out.push(Event::End(tag));
                }
                self.inline_nesting -= 1;
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
                        self.links.push((true, None));
                        self.open_anchors += 1;
                    }
                    None => self.links.push((false, None)),
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
                        self.links.push((true, Some((out.made, href))));
                        self.open_anchors += 1;
                    }
                    None => self.links.push((false, None)),
                }
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if let Some((true, label)) = self.links.pop() {
                    self.open_anchors -= 1;
                    // No alt text: the address is the label.
                    if let Some((_, href)) = label.filter(|(start, _)| *start == out.made) {
                        out.push(Event::Text(href.into()));
                    }
                    out.push(Event::Html("</a>".into()));
                }
            }
            other => out.push(other),
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Sanitized<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if let Some(event) = self.out.queue.pop_front() {
                return Some(event);
            }
            if self.finished {
                return None;
            }
            match self.events.next() {
                Some(event) => self.handle(event),
                None => {
                    self.finished = true;
                    flush_text(&mut self.text, &mut self.out, !self.in_code_block);
                }
            }
        }
    }
}

/// Consecutive text events joined. Most runs are one piece, which stays borrowed from the
/// message: no copy per line of a 75,000-line message.
enum TextRun<'a> {
    Empty,
    One(CowStr<'a>),
    Many(String),
}

impl<'a> TextRun<'a> {
    fn push(&mut self, piece: CowStr<'a>) {
        *self = match std::mem::replace(self, TextRun::Empty) {
            TextRun::Empty => TextRun::One(piece),
            TextRun::One(first) => TextRun::Many(format!("{first}{piece}")),
            TextRun::Many(mut run) => {
                run.push_str(&piece);
                TextRun::Many(run)
            }
        };
    }

    fn take(&mut self) -> Option<CowStr<'a>> {
        match std::mem::replace(self, TextRun::Empty) {
            TextRun::Empty => None,
            TextRun::One(text) => Some(text),
            TextRun::Many(text) => Some(text.into()),
        }
    }
}

fn flush_text<'a>(text: &mut TextRun<'a>, out: &mut Output<'a>, autolink: bool) {
    match text.take() {
        Some(text) if autolink => push_autolinked(text, out),
        Some(text) => out.push(Event::Text(text)),
        None => {}
    }
}

/// The text of a raw HTML block, keeping its line breaks.
fn flush_block_html<'a>(text: &mut TextRun<'a>, out: &mut Output<'a>) {
    let Some(text) = text.take() else {
        return;
    };
    // The block's last line ends with a newline; it would become a `<br>`.
    let mut start = 0;
    for (i, line) in text.trim_end_matches('\n').split('\n').enumerate() {
        if i > 0 {
            out.push(Event::HardBreak);
        }
        push_autolinked(piece(&text, start..start + line.len()), out);
        start += line.len() + 1;
    }
}

/// Part of a text, borrowed from the message when the text is.
fn piece<'a>(text: &CowStr<'a>, range: std::ops::Range<usize>) -> CowStr<'a> {
    match text {
        CowStr::Borrowed(s) => CowStr::Borrowed(&s[range]),
        _ => text[range].to_owned().into(),
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
fn push_autolinked<'a>(text: CowStr<'a>, out: &mut Output<'a>) {
    if text.is_empty() {
        return;
    }
    let urls: Vec<(usize, usize)> = BareUrls::new(&text).collect();
    if urls.is_empty() {
        out.push(Event::Text(text));
        return;
    }
    let mut done = 0;
    for (start, end) in urls {
        if start > done {
            out.push(Event::Text(piece(&text, done..start)));
        }
        out.push(Event::Html(
            open_a(&bare_url_href(&text[start..end]), "").into(),
        ));
        out.push(Event::Text(piece(&text, start..end)));
        out.push(Event::Html("</a>".into()));
        done = end;
    }
    if done < text.len() {
        out.push(Event::Text(piece(&text, done..text.len())));
    }
}

/// Where a bare URL leads: `www.` ones to https.
fn bare_url_href(url: &str) -> String {
    if url.len() >= 4 && url[..4].eq_ignore_ascii_case("www.") {
        format!("https://{url}")
    } else {
        url.to_owned()
    }
}

/// The byte ranges of the bare URLs in a text, in order: `http://`, `https://` or `www.` at
/// the start of a word, up to whitespace or `<`, minus trailing punctuation (GFM's rules: a
/// closing parenthesis stays only when it closes one opened inside the URL).
///
/// One pass, linear in the text: a message is untrusted and can be 150,000 characters of
/// `http://a)))…`; each byte is looked at a bounded number of times, never once per
/// candidate or per trimmed character.
struct BareUrls<'s> {
    s: &'s str,
    /// Where the search for the next prefix resumes.
    from: usize,
    /// The first byte at or after the last lookup that ends a URL (whitespace, `<`, a
    /// control character), or the text's length. Lookups only move forward, so one scan
    /// serves every candidate before it.
    stop: Option<usize>,
    /// Bytes examined so far: the tests hold it proportional to the text's length.
    work: usize,
}

impl<'s> BareUrls<'s> {
    fn new(s: &'s str) -> Self {
        BareUrls {
            s,
            from: 0,
            stop: None,
            work: 0,
        }
    }

    /// The first byte at or after `at` that cannot be part of a URL.
    fn stop_at_or_after(&mut self, at: usize) -> usize {
        if let Some(stop) = self.stop.filter(|&stop| stop >= at) {
            return stop;
        }
        let mut stop = self.s.len();
        for (i, c) in self.s[at..].char_indices() {
            self.work += 1;
            if c.is_whitespace() || c == '<' || c.is_control() {
                stop = at + i;
                break;
            }
        }
        self.stop = Some(stop);
        stop
    }

    /// The end of the URL that starts at `start` and whose host starts at `body_start`:
    /// the next stop, minus the sentence's trailing punctuation.
    fn end(&mut self, start: usize, body_start: usize) -> usize {
        let mut end = self.stop_at_or_after(body_start);
        // Counted once; each trimmed `)` then takes one off, so trimming a run of them is
        // linear (counting again per character was quadratic).
        let (mut opens, mut closes) = (0usize, 0usize);
        for &b in &self.s.as_bytes()[start..end] {
            self.work += 1;
            match b {
                b'(' => opens += 1,
                b')' => closes += 1,
                _ => {}
            }
        }
        while let Some(last) = self.s[body_start..end].chars().next_back() {
            self.work += 1;
            let drop = match last {
                '.' | ',' | ':' | ';' | '!' | '?' | '"' | '\'' | '*' | '_' | '~' => true,
                ')' => closes > opens,
                _ => false,
            };
            if !drop {
                break;
            }
            if last == ')' {
                closes -= 1;
            }
            end -= last.len_utf8();
        }
        end
    }
}

impl Iterator for BareUrls<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let s = self.s;
        let bytes = s.as_bytes();
        while self.from < s.len() {
            // Straight to the next byte that can start a prefix (`h`, `w`, either case).
            let skipped = bytes[self.from..]
                .iter()
                .position(|&b| matches!(b | 0x20, b'h' | b'w'));
            let Some(skipped) = skipped else {
                self.work += s.len() - self.from;
                self.from = s.len();
                break;
            };
            self.work += skipped + 1;
            let start = self.from + skipped;
            // The prefixes are ASCII, so a match starts on a character boundary.
            let prefix_len = ["https://", "http://", "www."]
                .iter()
                .find(|p| {
                    bytes
                        .get(start..start + p.len())
                        .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
                })
                .map(|p| p.len());
            let Some(prefix_len) = prefix_len else {
                self.from = start + 1;
                continue;
            };
            let body_start = start + prefix_len;
            self.from = body_start;
            let at_word_start = s[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '/' || c == '.' || c == '@'));
            // A host must follow the prefix. Trimming only ever removes punctuation, so
            // the first character decides, before any scan to the URL's end.
            let has_host = s[body_start..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric());
            if !(at_word_start && has_host) {
                continue;
            }
            let end = self.end(start, body_start);
            self.from = end;
            return Some((start, end));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::BareUrls;
    use proptest::prelude::*;

    /// Bytes the autolinker examines to find every URL in `s`.
    fn work(s: &str) -> usize {
        let mut urls = BareUrls::new(s);
        urls.by_ref().for_each(drop);
        urls.work
    }

    fn repeat(unit: &str, len: usize) -> String {
        unit.chars().cycle().take(len).collect()
    }

    #[test]
    fn autolinker_work_is_linear_in_the_text() {
        type Build = fn(usize) -> String;
        let inputs: &[(&str, Build)] = &[
            ("autolink then )))…", |n| {
                format!("http://a{}", ")".repeat(n))
            }),
            ("autolink then .,;…", |n| {
                format!("http://a{}", repeat(".,;:!?", n))
            }),
            ("autolink (((…)))…", |n| {
                format!("http://a{}", repeat("()", n))
            }),
            ("one long autolink", |n| {
                format!("https://{}", "a".repeat(n))
            }),
            ("many autolinks", |n| repeat("http://a.io ", n)),
            ("many autolinks, no spaces", |n| repeat("http://a.io,", n)),
            ("prefixes inside words", |n| repeat("xhttp://", n)),
            ("prefixes without a host", |n| repeat("(http://", n)),
            ("www. runs", |n| repeat("www.", n)),
            ("mixed", |n| {
                repeat("see (https://x.io/a_(b)), www.y.io. é ", n)
            }),
        ];
        for (name, build) in inputs {
            let n = 20_000;
            let (small, large) = (build(n), build(2 * n));
            let (at_n, at_2n) = (work(&small), work(&large));
            // Twice the text, twice the work (quadratic work would be four times).
            let ratio = at_2n as f64 / at_n as f64;
            assert!(
                (1.8..=2.2).contains(&ratio),
                "{name}: work {at_n} at {} bytes, {at_2n} at {} (×{ratio:.2})",
                small.len(),
                large.len()
            );
            // And a few looks per byte.
            assert!(
                at_2n <= 4 * large.len(),
                "{name}: work {at_2n} for {} bytes",
                large.len()
            );
        }
    }

    /// The autolinker before it was made linear (quadratic on `http://a)))…`, on many URLs
    /// and on prefixes that are not URLs): what it found is what the linear one must find.
    fn quadratic_reference(s: &str) -> Vec<(usize, usize)> {
        fn first(s: &str) -> Option<(usize, usize)> {
            let lower = s.to_ascii_lowercase();
            let mut from = 0;
            while from < s.len() {
                let (start, prefix_len) = ["https://", "http://", "www."]
                    .iter()
                    .filter_map(|p| lower[from..].find(p).map(|i| (from + i, p.len())))
                    .min_by_key(|(i, _)| *i)?;
                let at_word_start = s[..start]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '/' || c == '.' || c == '@'));
                let body_start = start + prefix_len;
                let mut end = s[body_start..]
                    .find(|c: char| c.is_whitespace() || c == '<' || c.is_control())
                    .map_or(s.len(), |i| body_start + i);
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
        let mut found = Vec::new();
        let mut done = 0;
        while let Some((start, end)) = first(&s[done..]) {
            found.push((done + start, done + end));
            done += end;
        }
        found
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn finds_the_same_urls_as_before(parts in proptest::collection::vec(prop_oneof![
            Just("http://"), Just("HTTPS://"), Just("https://"), Just("www."), Just("WWW."),
            Just("("), Just(")"), Just("."), Just(","), Just("!"), Just("\""), Just("_"),
            Just("~"), Just(" "), Just("\n"), Just("\u{0}"), Just("<"), Just("/"), Just("@"),
            Just("a"), Just("x.io"), Just("é"), Just("ß"), Just("\u{a0}"), Just("h"), Just("w"),
        ], 0..30)) {
            let s: String = parts.concat();
            prop_assert_eq!(BareUrls::new(&s).collect::<Vec<_>>(), quadratic_reference(&s));
        }
    }
}

#[cfg(test)]
#[path = "../tests/support/adversarial.rs"]
mod adversarial;

/// The renderer's time grows linearly with the message, for every adversarial input, on both
/// of its paths (markdown, and plain text for messages dense with markup; choosing one is a
/// count of bytes).
///
/// Not a timing test against a clock: within one run, each input is rendered at n and at 8n
/// characters (a 16th and half of Chatwoot's limit: big enough that the small size does not
/// sit in the caches while the large one cannot, which alone made linear inputs look up to
/// 17 times slower at 8n from a 32nd of the limit), and the second may take at most 20 times
/// as long as the first. Linear work takes about 8 times as long; quadratic work 64 times.
/// Time is the test thread's CPU time, not the clock's: on a busy machine other processes
/// stretch a long render's wall time far more than a short one's, CPU time they barely touch.
/// Each size keeps its fastest of several renders, so what they do disturb (caches) does not
/// count either.
#[cfg(test)]
mod linear_time {
    use std::time::Duration;

    use super::adversarial::{INPUTS, MESSAGE_LIMIT};

    /// Well above the 8 of linear work, well below the 64 of quadratic work.
    const MAX_RATIO: f64 = 20.0;
    const RENDERS_PER_SIZE: usize = 5;
    /// Below this the sizes' times are mostly timer and allocator noise; an input that fast
    /// at 8n is linear enough whatever the ratio says.
    const NOISE_FLOOR: Duration = Duration::from_millis(1);

    /// CPU time this thread has used.
    fn thread_cpu_time() -> Duration {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to fill in.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }

    /// The fastest of a few renders; fewer when two already take longer than `enough` (a
    /// quadratic render at 8n takes minutes in a debug build, and two of them settle it).
    fn fastest(render: fn(&str) -> String, src: &str, enough: Duration) -> Duration {
        let mut fastest = Duration::MAX;
        for i in 0..RENDERS_PER_SIZE {
            let start = thread_cpu_time();
            std::hint::black_box(render(std::hint::black_box(src)));
            fastest = fastest.min(thread_cpu_time() - start);
            if i >= 1 && fastest > enough {
                break;
            }
        }
        fastest
    }

    fn markdown_path(src: &str) -> String {
        let mut html = String::new();
        super::push_markdown(&mut html, src);
        html
    }

    fn plain_text_path(src: &str) -> String {
        let mut html = String::new();
        super::push_plain_text(&mut html, src);
        html
    }

    #[test]
    fn render_time_grows_linearly_for_every_adversarial_input() {
        let (small, large) = (MESSAGE_LIMIT / 16, MESSAGE_LIMIT / 2);
        // Each path on its own: `render` takes one or the other by the message's markup, so
        // n and 8n of one input can take different paths.
        type Render = fn(&str) -> String;
        let paths: [(&str, Render); 2] =
            [("markdown", markdown_path), ("plain text", plain_text_path)];
        let mut failures = Vec::new();
        for input in INPUTS {
            let (src_small, src_large) = ((input.build)(small), (input.build)(large));
            for (path, render) in paths {
                let at_small = fastest(render, &src_small, Duration::MAX);
                let enough = at_small.mul_f64(2.0 * MAX_RATIO);
                let at_large = fastest(render, &src_large, enough);
                let ratio = at_large.as_secs_f64() / at_small.as_secs_f64().max(1e-9);
                eprintln!(
                    "{:<34} {path:<13} {small}: {at_small:>10.2?}  {large}: {at_large:>10.2?}  ratio {ratio:.1}",
                    input.name
                );
                if ratio > MAX_RATIO && at_large > NOISE_FLOOR {
                    failures.push(format!(
                        "{} ({path}): {at_small:.2?} at {small} characters, {at_large:.2?} at {large} (×{ratio:.1})",
                        input.name
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "render time grows faster than linearly (8× the input may take at most {MAX_RATIO}× the time):\n{}",
            failures.join("\n")
        );
    }
}
