//! The rich text editor's commands: bold, italic, code, strikethrough, lists, quote and
//! link, applied to the composer's markdown at the selection.
//!
//! The composer stays a plain text field holding exactly the markdown Chatwoot stores, so
//! what is sent is what the agent wrote; the toolbar and the shortcuts only edit that text.
//! Each command is a toggle (applying bold to bold text removes it) and returns one
//! [`Replacement`], so the browser can apply it as a single native edit that Ctrl+Z undoes.
//!
//! Offsets are byte offsets into the text, always on character boundaries.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Bold,
    Italic,
    Code,
    Strikethrough,
    BulletList,
    NumberedList,
    Quote,
    Link,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Bold,
        Format::Italic,
        Format::Strikethrough,
        Format::Code,
        Format::Link,
        Format::BulletList,
        Format::NumberedList,
        Format::Quote,
    ];
}

/// Replace `range` of the old text by `insert`, then select `select` (offsets into the new
/// text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub range: Range<usize>,
    pub insert: String,
    pub select: Range<usize>,
}

impl Replacement {
    /// The text after the replacement (what the browser's edit produces).
    pub fn apply_to(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.insert.len());
        out.push_str(&text[..self.range.start]);
        out.push_str(&self.insert);
        out.push_str(&text[self.range.end..]);
        out
    }
}

/// What applying `format` to `selection` of `text` changes.
pub fn apply(text: &str, selection: Range<usize>, format: Format) -> Replacement {
    let selection = clamp(text, selection);
    match format {
        Format::Bold => inline(text, selection, "**"),
        Format::Italic => inline(text, selection, "*"),
        Format::Strikethrough => inline(text, selection, "~~"),
        Format::Code if text[selection.clone()].contains('\n') => code_block(text, selection),
        Format::Code => inline(text, selection, "`"),
        Format::BulletList => lines(text, selection, LinePrefix::Bullet),
        Format::NumberedList => lines(text, selection, LinePrefix::Numbered),
        Format::Quote => lines(text, selection, LinePrefix::Quote),
        Format::Link => link(text, selection),
    }
}

fn clamp(text: &str, r: Range<usize>) -> Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (a, b) = (fix(r.start), fix(r.end));
    a.min(b)..a.max(b)
}

/// `marker` just before `at` in `text`, not as part of a longer run of the same character
/// (so the `*` of `**` is bold's, not italic's).
fn marker_before(text: &str, at: usize, marker: &str) -> bool {
    let Some(start) = at.checked_sub(marker.len()) else {
        return false;
    };
    if !text.is_char_boundary(start) || &text[start..at] != marker {
        return false;
    }
    let c = marker.chars().next().unwrap_or(' ');
    run_fits(
        marker,
        text[..at].chars().rev().take_while(|&x| x == c).count(),
    )
}

fn marker_after(text: &str, at: usize, marker: &str) -> bool {
    if !text[at..].starts_with(marker) {
        return false;
    }
    let c = marker.chars().next().unwrap_or(' ');
    run_fits(marker, text[at..].chars().take_while(|&x| x == c).count())
}

/// Whether a run of `run` marker characters holds `marker`: `***` is bold and italic at
/// once, `**` only bold, `*` only italic.
fn run_fits(marker: &str, run: usize) -> bool {
    match marker {
        "**" => run == 2 || run == 3,
        "*" => run == 1 || run == 3,
        _ => run == marker.len(),
    }
}

fn inline(text: &str, sel: Range<usize>, marker: &str) -> Replacement {
    let m = marker.len();
    // Toggle off: the markers sit just outside the selection…
    if marker_before(text, sel.start, marker) && marker_after(text, sel.end, marker) {
        return Replacement {
            range: sel.start - m..sel.end + m,
            insert: text[sel.clone()].to_owned(),
            select: sel.start - m..sel.end - m,
        };
    }
    let selected = &text[sel.clone()];
    // …or were selected with the text.
    if selected.len() >= 2 * m
        && marker_after(selected, 0, marker)
        && marker_before(selected, selected.len(), marker)
    {
        let inner = &selected[m..selected.len() - m];
        return Replacement {
            range: sel.clone(),
            insert: inner.to_owned(),
            select: sel.start..sel.start + inner.len(),
        };
    }
    if selected.is_empty() {
        return Replacement {
            range: sel.clone(),
            insert: format!("{marker}{marker}"),
            select: sel.start + m..sel.start + m,
        };
    }
    // Markdown does not see `** bold **` as bold: spaces stay outside the markers. Each
    // line is wrapped on its own (emphasis cannot span a paragraph break).
    let mut insert = String::with_capacity(selected.len() + 4 * m);
    for (i, line) in selected.split('\n').enumerate() {
        if i > 0 {
            insert.push('\n');
        }
        let core = line.trim();
        if core.is_empty() {
            insert.push_str(line);
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        insert.push_str(&line[..lead]);
        insert.push_str(marker);
        insert.push_str(core);
        insert.push_str(marker);
        insert.push_str(&line[lead + core.len()..]);
    }
    // One line: the words stay selected (inside the markers), so the next command or the
    // next keystroke applies to them. Several: the whole block.
    let select = if selected.contains('\n') {
        sel.start..sel.start + insert.len()
    } else {
        let lead = selected.len() - selected.trim_start().len();
        let start = sel.start + lead + m;
        start..start + selected.trim().len()
    };
    Replacement {
        range: sel.clone(),
        insert,
        select,
    }
}

fn code_block(text: &str, sel: Range<usize>) -> Replacement {
    let selected = &text[sel.clone()];
    if let Some(inner) = selected
        .strip_prefix("```\n")
        .and_then(|s| s.strip_suffix("\n```"))
    {
        return Replacement {
            range: sel.clone(),
            insert: inner.to_owned(),
            select: sel.start..sel.start + inner.len(),
        };
    }
    // A fence must start its own line.
    let before = if sel.start == 0 || text[..sel.start].ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let after = if sel.end == text.len() || text[sel.end..].starts_with('\n') {
        ""
    } else {
        "\n"
    };
    let insert = format!(
        "{before}```\n{}\n```{after}",
        selected.trim_end_matches('\n')
    );
    let len = insert.len();
    Replacement {
        range: sel.clone(),
        insert,
        select: sel.start..sel.start + len,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LinePrefix {
    Bullet,
    Numbered,
    Quote,
}

impl LinePrefix {
    /// The length of this kind of prefix at the start of `line`, if it has one.
    fn present(self, line: &str) -> Option<usize> {
        match self {
            LinePrefix::Bullet => ["- ", "* ", "+ "]
                .iter()
                .find(|p| line.starts_with(*p))
                .map(|p| p.len()),
            LinePrefix::Quote => {
                line.starts_with('>')
                    .then(|| if line.starts_with("> ") { 2 } else { 1 })
            }
            LinePrefix::Numbered => {
                let digits = line.bytes().take_while(u8::is_ascii_digit).count();
                (digits > 0 && line[digits..].starts_with(". ")).then_some(digits + 2)
            }
        }
    }

    fn make(self, n: usize) -> String {
        match self {
            LinePrefix::Bullet => "- ".into(),
            LinePrefix::Quote => "> ".into(),
            LinePrefix::Numbered => format!("{n}. "),
        }
    }
}

fn lines(text: &str, sel: Range<usize>, kind: LinePrefix) -> Replacement {
    // Whole lines: from the start of the selection's first line to the end of its last.
    let start = text[..sel.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[sel.end..]
        .find('\n')
        .map_or(text.len(), |i| sel.end + i);
    let block = &text[start..end];
    let all_have = block
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .all(|l| kind.present(l).is_some())
        && !block.trim().is_empty();

    let mut insert = String::with_capacity(block.len() + 8);
    let mut n = 0;
    for (i, line) in block.split('\n').enumerate() {
        if i > 0 {
            insert.push('\n');
        }
        if all_have {
            let cut = kind.present(line).unwrap_or(0);
            insert.push_str(&line[cut..]);
        } else if line.trim().is_empty() && block.contains('\n') {
            insert.push_str(line);
        } else {
            n += 1;
            // A line that is another kind of list item changes kind.
            let other = [LinePrefix::Bullet, LinePrefix::Numbered, LinePrefix::Quote]
                .into_iter()
                .filter(|k| *k != kind)
                .find_map(|k| k.present(line))
                .unwrap_or(0);
            let rest = match kind.present(line) {
                Some(cut) => &line[cut..],
                None => &line[other..],
            };
            insert.push_str(&kind.make(n));
            insert.push_str(rest);
        }
    }
    let len = insert.len();
    // A single empty line becomes the prefix with the caret after it; otherwise the block
    // stays selected so the next command applies to the same lines.
    let select = if block.is_empty() {
        start + len..start + len
    } else {
        start..start + len
    };
    Replacement {
        range: start..end,
        insert,
        select,
    }
}

fn looks_like_url(s: &str) -> bool {
    let s = s.trim();
    !s.contains(char::is_whitespace)
        && ["https://", "http://", "mailto:", "tel:", "www."]
            .iter()
            .any(|p| s.len() > p.len() && s.to_ascii_lowercase().starts_with(p))
}

fn link(text: &str, sel: Range<usize>) -> Replacement {
    let selected = &text[sel.clone()];
    if looks_like_url(selected) {
        // A selected address becomes the target; the caret waits for the link's words.
        let url = selected.trim();
        let url = if url.to_ascii_lowercase().starts_with("www.") {
            format!("https://{url}")
        } else {
            url.to_owned()
        };
        let insert = format!("[]({url})");
        return Replacement {
            range: sel.clone(),
            insert,
            select: sel.start + 1..sel.start + 1,
        };
    }
    // Words become the link text; the placeholder address is selected, ready to be typed
    // or pasted over.
    let placeholder = "https://";
    let insert = format!("[{selected}]({placeholder})");
    let url_at = sel.start + 1 + selected.len() + 2;
    Replacement {
        range: sel.clone(),
        insert,
        select: url_at..url_at + placeholder.len(),
    }
}
