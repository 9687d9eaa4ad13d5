//! Adversarial message texts for the markdown renderer: the inputs known to make markdown
//! renderers and autolinkers super-linear (cmark's, md4c's and pulldown-cmark's pathological
//! cases, and our autolinker's own), each built to a requested length.
//!
//! Shared by the linearity test (`src/markdown.rs`), the inertness tests (`tests/markdown.rs`)
//! and the benchmark (`examples/markdown_bench.rs`).

/// Chatwoot's limit on a message's content, in characters.
pub const MESSAGE_LIMIT: usize = 150_000;

/// One adversarial input: a name for the report and how to build it at a length.
pub struct Adversarial {
    pub name: &'static str,
    pub build: fn(usize) -> String,
}

/// `unit` repeated to exactly `len` bytes (the units are ASCII, so bytes are characters).
fn repeat(unit: &str, len: usize) -> String {
    unit.chars().cycle().take(len).collect()
}

/// `head`, then `unit` repeated, to exactly `len` bytes.
fn after(head: &str, unit: &str, len: usize) -> String {
    let mut s = head.to_owned();
    s.push_str(&repeat(unit, len.saturating_sub(head.len())));
    s.truncate(len);
    s
}

/// `open` × k, `middle`, `close` × k: nesting as deep as `len` allows (then `a`s to `len`).
fn nest(open: &str, middle: &str, close: &str, len: usize) -> String {
    let k = len.saturating_sub(middle.len()) / (open.len() + close.len());
    let mut s = open.repeat(k);
    s.push_str(middle);
    s.push_str(&close.repeat(k));
    s.push_str(&"a".repeat(len - s.len()));
    s
}

/// Code spans whose backtick runs all differ in length (`` ` `` then ``` `` ``` …): each
/// run looks for a closing run of its own length.
fn backtick_runs(len: usize) -> String {
    let mut s = String::new();
    let mut k = 1;
    while s.len() + k < len {
        s.push_str(&"`".repeat(k));
        s.push('a');
        k += 1;
    }
    s.push_str(&"a".repeat(len - s.len()));
    s
}

/// A list nested one level deeper on each line, as deep as `len` allows (then `a`s).
fn indented_list(len: usize) -> String {
    let mut s = String::new();
    let mut depth = 0;
    loop {
        let line = format!("{}- a\n", "  ".repeat(depth));
        if s.len() + line.len() > len {
            break;
        }
        s.push_str(&line);
        depth += 1;
    }
    s.push_str(&"a".repeat(len - s.len()));
    s
}

/// One link reference definition with a long address, used as often as `len` allows: the
/// output repeats the address per use (pulldown-cmark caps the expansion).
fn reference_expansion(len: usize) -> String {
    let mut s = format!("[x]: http://{}\n", "a".repeat(len / 2));
    s.push_str(&repeat("\n[x]", len - s.len()));
    s
}

/// `unit` (all markup) for 4/15 of `len` (just under the renderer's cap of 40,000 markup
/// characters at 150,000), then letters to `len`.
fn under_the_markup_cap(unit: &str, len: usize) -> String {
    let mut s = repeat(unit, (len * 4 / 15).min(39_999));
    s.push_str(&"a".repeat(len - s.len()));
    s
}

pub const INPUTS: &[Adversarial] = &[
    // Our autolinker.
    Adversarial {
        name: "autolink then )))…",
        build: |n| after("http://a", ")", n),
    },
    Adversarial {
        name: "autolink then .,;:!?…",
        build: |n| after("http://a", ".,;:!?\"'*_~", n),
    },
    Adversarial {
        name: "autolink (((…)))…",
        build: |n| after("http://a", "()", n),
    },
    Adversarial {
        name: "one long autolink",
        build: |n| after("https://", "a", n),
    },
    Adversarial {
        name: "many autolinks",
        build: |n| repeat("http://a.io ", n),
    },
    Adversarial {
        name: "many autolinks, no spaces",
        build: |n| repeat("http://a.io,", n),
    },
    Adversarial {
        name: "prefixes inside words",
        build: |n| repeat("xhttp://", n),
    },
    Adversarial {
        name: "prefixes without a host",
        build: |n| repeat("(http://", n),
    },
    Adversarial {
        name: "www. runs",
        build: |n| repeat("www.", n),
    },
    // Code spans.
    Adversarial {
        name: "backticks",
        build: |n| repeat("`", n),
    },
    Adversarial {
        name: "backtick runs of every length",
        build: backtick_runs,
    },
    Adversarial {
        name: "``\\ repeated",
        build: |n| repeat("``\\", n),
    },
    Adversarial {
        name: "\\`` repeated",
        build: |n| repeat("\\``", n),
    },
    // Emphasis.
    Adversarial {
        name: "* run",
        build: |n| repeat("*", n),
    },
    Adversarial {
        name: "_ run",
        build: |n| repeat("_", n),
    },
    Adversarial {
        name: "a*** repeated",
        build: |n| repeat("a***", n),
    },
    Adversarial {
        name: "*_ alternating",
        build: |n| repeat("*_", n),
    },
    Adversarial {
        name: "*a _a repeated",
        build: |n| repeat("*a _a ", n),
    },
    Adversarial {
        name: "nested *a **a ***…",
        build: |n| nest("*a ", "b", " a*", n),
    },
    Adversarial {
        name: "~~ runs",
        build: |n| repeat("~~a", n),
    },
    // Nesting.
    Adversarial {
        name: "> > > … a",
        build: |n| after("", "> ", n - 1) + "a",
    },
    Adversarial {
        name: ">>>… run",
        build: |n| repeat(">", n),
    },
    Adversarial {
        name: "- - - … a",
        build: |n| after("", "- ", n - 1) + "a",
    },
    Adversarial {
        name: "* * * … a",
        build: |n| after("", "* ", n - 1) + "a",
    },
    Adversarial {
        name: "1. 1. 1. … a",
        build: |n| after("", "1. ", n - 1) + "a",
    },
    Adversarial {
        name: "list indented per line",
        build: indented_list,
    },
    Adversarial {
        name: "quotes, 100 deep, per line",
        build: |n| repeat(&format!("{}a\n", "> ".repeat(100)), n),
    },
    Adversarial {
        name: "> - > - … a",
        build: |n| after("", "> - ", n - 1) + "a",
    },
    // Links and brackets.
    Adversarial {
        name: "[ run",
        build: |n| repeat("[", n),
    },
    Adversarial {
        name: "[[[a]]]…",
        build: |n| nest("[", "a", "]", n),
    },
    Adversarial {
        name: "![ run",
        build: |n| repeat("![", n),
    },
    Adversarial {
        name: "nested images",
        build: |n| nest("![", "a", "](http://a)", n),
    },
    Adversarial {
        name: "nested links",
        build: |n| nest("[", "a", "](http://a)", n),
    },
    Adversarial {
        name: "[a](<b repeated",
        build: |n| repeat("[a](<b", n),
    },
    Adversarial {
        name: "[ (]( repeated",
        build: |n| repeat("[ (](", n),
    },
    Adversarial {
        name: "[]( repeated",
        build: |n| repeat("[](", n),
    },
    Adversarial {
        name: "[*_a repeated",
        build: |n| repeat("[*_a", n),
    },
    Adversarial {
        name: "]([ lines",
        build: |n| repeat("]([\n", n),
    },
    Adversarial {
        name: "many links",
        build: |n| repeat("[a](http://a.io) ", n),
    },
    Adversarial {
        name: "reference expanded per use",
        build: reference_expansion,
    },
    Adversarial {
        name: "( run in a link",
        build: |n| after("[a](", "(", n),
    },
    // Raw HTML and entities.
    Adversarial {
        name: "< run",
        build: |n| repeat("<", n),
    },
    Adversarial {
        name: "<> repeated",
        build: |n| repeat("<>", n),
    },
    Adversarial {
        name: "<a  repeated",
        build: |n| repeat("<a ", n),
    },
    Adversarial {
        name: "a <![CDATA[ repeated",
        build: |n| repeat("a <![CDATA[", n),
    },
    Adversarial {
        name: "a <? repeated",
        build: |n| repeat("a <? ", n),
    },
    Adversarial {
        name: "a <!A repeated",
        build: |n| repeat("a <!A", n),
    },
    Adversarial {
        name: "<!-- repeated",
        build: |n| repeat("a <!--", n),
    },
    Adversarial {
        name: "<http://a repeated",
        build: |n| repeat("<http://a", n),
    },
    Adversarial {
        name: "HTML block of autolinks",
        build: |n| after("<div>\n", "<b>http://a.io</b>\n", n),
    },
    Adversarial {
        name: "unclosed <!-- block",
        build: |n| after("<!--\n", "a -- > -\n", n),
    },
    Adversarial {
        name: "``` fences",
        build: |n| repeat("```\n", n),
    },
    Adversarial {
        name: "reference definitions",
        build: |n| repeat("[a]: http://a\n", n),
    },
    Adversarial {
        name: "&# repeated",
        build: |n| repeat("&#", n),
    },
    Adversarial {
        name: "\\ run",
        build: |n| repeat("\\", n),
    },
    // As much markup as still renders as markdown (`MAX_MARKUP_CHARACTERS` is 40,000), then
    // prose.
    Adversarial {
        name: "*_ up to the markup cap, then prose",
        build: |n| under_the_markup_cap("*_", n),
    },
    Adversarial {
        name: "]([ lines up to the markup cap, then prose",
        build: |n| under_the_markup_cap("]([\n", n),
    },
    // Plain text, for scale.
    Adversarial {
        name: "prose",
        build: |n| repeat("The quick brown fox jumps over the lazy dog. ", n),
    },
    Adversarial {
        name: "short lines",
        build: |n| repeat("a\n", n),
    },
];
