//! Markdown rendering, ordinary and hostile.

use parley_core::markdown::{render, MAX_BLOCK_NESTING, MAX_INLINE_NESTING, MAX_MARKUP_CHARACTERS};

mod support {
    pub mod adversarial;
}

const A: &str = r#"target="_blank" rel="noopener noreferrer""#;

fn link(href: &str, text: &str) -> String {
    format!(r#"<a href="{href}" {A}>{text}</a>"#)
}

/// Only the elements markdown makes, only our attributes, only allowed link targets.
/// (Text never holds a literal `<`: it is escaped, so every `<` opens a real tag.)
fn assert_inert(html: &str) {
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap();
        let tag = tag
            .strip_prefix('/')
            .unwrap_or(tag)
            .trim_end_matches('/')
            .trim();
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        let allowed: &[&str] = match name {
            "a" => &["href", "target", "rel", "title"],
            "code" => &["class"],
            "ol" => &["start"],
            "p" | "em" | "strong" | "del" | "pre" | "ul" | "li" | "blockquote" | "br" | "hr"
            | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &[],
            other => panic!("element <{other}> in {html}"),
        };
        // Attribute values are quoted and never contain a quote (escaped).
        let mut rest = attrs.trim();
        while !rest.is_empty() {
            let (attr, after) = rest
                .split_once("=\"")
                .unwrap_or_else(|| panic!("attrs {rest:?} in {html}"));
            let (value, after) = after.split_once('"').unwrap();
            assert!(
                allowed.contains(&attr),
                "attribute {attr} on <{name}> in {html}"
            );
            if attr == "href" {
                let v = value.to_ascii_lowercase();
                assert!(
                    ["http://", "https://", "mailto:", "tel:"]
                        .iter()
                        .any(|p| v.starts_with(p)),
                    "href {value} in {html}"
                );
            }
            rest = after.trim_start();
        }
    }
}

#[test]
fn emphasis_strong_strike_code() {
    assert_eq!(
        render("*a* **b** ~~c~~ `d<e>`"),
        "<p><em>a</em> <strong>b</strong> <del>c</del> <code>d&lt;e&gt;</code></p>\n"
    );
}

#[test]
fn lists_quotes_and_code_blocks() {
    assert_eq!(
        render("- one\n- two"),
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
    );
    assert_eq!(
        render("1. one\n2. two"),
        "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"
    );
    assert_eq!(
        render("> quoted"),
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
    );
    assert_eq!(
        render("```rust\nlet a = \"<b>\"; // https://x.y\n```"),
        "<pre><code class=\"language-rust\">let a = \"&lt;b&gt;\"; // https://x.y\n</code></pre>\n"
    );
}

#[test]
fn a_newline_is_a_line_break() {
    assert_eq!(render("one\ntwo"), "<p>one<br />\ntwo</p>\n");
}

#[test]
fn links_open_in_a_new_tab_without_opener_or_referrer() {
    assert_eq!(
        render("[docs](https://example.com/a?b=1&c=2)"),
        format!(
            "<p>{}</p>\n",
            link("https://example.com/a?b=1&amp;c=2", "docs")
        )
    );
    assert_eq!(
        render("[mail](mailto:a@b.c) [call](tel:+123)"),
        format!(
            "<p>{} {}</p>\n",
            link("mailto:a@b.c", "mail"),
            link("tel:+123", "call")
        )
    );
    assert_eq!(
        render("<https://x.io>"),
        format!("<p>{}</p>\n", link("https://x.io", "https://x.io"))
    );
    assert_eq!(
        render("<a@b.io>"),
        format!("<p>{}</p>\n", link("mailto:a@b.io", "a@b.io"))
    );
    assert_eq!(
        render(r#"[t](https://x.io "the \"title\"")"#),
        format!("<p><a href=\"https://x.io\" {A} title=\"the &quot;title&quot;\">t</a></p>\n")
    );
}

#[test]
fn other_schemes_leave_only_the_text() {
    for src in [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox)",
        "[x](/relative/path)",
        "[x](//evil.example/x)",
        "[x](file:///etc/passwd)",
        "[x]: javascript:alert(1)\n\n[x]",
    ] {
        let html = render(src);
        assert_eq!(html, "<p>x</p>\n", "{src}");
    }
    // An autolink with another scheme is not a link either.
    let html = render("<javascript:alert(1)>");
    assert!(!html.contains("<a"), "{html}");
    assert_inert(&html);
}

#[test]
fn raw_html_is_shown_as_text() {
    assert_eq!(
        render("<script>alert(1)</script>"),
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    );
    assert_eq!(
        render("hi <b onclick=\"x()\">there</b>"),
        "<p>hi &lt;b onclick=\"x()\"&gt;there&lt;/b&gt;</p>\n"
    );
    assert_eq!(
        render("<img src=x onerror=alert(1)>"),
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"
    );
    assert_eq!(
        render("<div>\nline one\nline two\n</div>"),
        "<p>&lt;div&gt;<br />\nline one<br />\nline two<br />\n&lt;/div&gt;</p>\n"
    );
    assert_eq!(render("<!-- hidden -->"), "<p>&lt;!-- hidden --&gt;</p>\n");
}

#[test]
fn entities_do_not_smuggle_markup() {
    let html = render("&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;");
    assert!(html.starts_with("<p>&lt;script&gt;"), "{html}");
    assert_inert(&html);
}

#[test]
fn images_are_never_loaded() {
    assert_eq!(
        render("![a cat](https://t.example/p.gif)"),
        format!("<p>{}</p>\n", link("https://t.example/p.gif", "a cat"))
    );
    assert_eq!(
        render("![](https://t.example/p.gif)"),
        format!(
            "<p>{}</p>\n",
            link("https://t.example/p.gif", "https://t.example/p.gif")
        )
    );
    assert_eq!(render("![x](javascript:alert(1))"), "<p>x</p>\n");
    assert_eq!(render("![x](data:image/png;base64,AAAA)"), "<p>x</p>\n");
    // An image inside a link is that link's label, not a second link.
    assert_eq!(
        render("[![logo](https://a.example/l.png)](https://b.example)"),
        format!("<p>{}</p>\n", link("https://b.example", "logo"))
    );
}

#[test]
fn bare_urls_are_linked_without_trailing_punctuation() {
    assert_eq!(
        render("see https://example.com/a."),
        format!(
            "<p>see {}.</p>\n",
            link("https://example.com/a", "https://example.com/a")
        )
    );
    assert_eq!(
        render("(http://x.io/a_(b))!"),
        format!(
            "<p>({})!</p>\n",
            link("http://x.io/a_(b)", "http://x.io/a_(b)")
        )
    );
    assert_eq!(
        render("(see www.x.io)"),
        format!("<p>(see {})</p>\n", link("https://www.x.io", "www.x.io"))
    );
    assert_eq!(
        render("HTTPS://X.IO, ok"),
        format!("<p>{}, ok</p>\n", link("HTTPS://X.IO", "HTTPS://X.IO"))
    );
    assert_eq!(
        render("a https://x.io?q=1&r=2 b"),
        format!(
            "<p>a {} b</p>\n",
            link("https://x.io?q=1&amp;r=2", "https://x.io?q=1&amp;r=2")
        )
    );
    // Not inside words, not without a host, not in code, not inside a link's text.
    assert_eq!(render("nohttps://x.io"), "<p>nohttps://x.io</p>\n");
    assert_eq!(render("http:// nothing"), "<p>http:// nothing</p>\n");
    assert_eq!(
        render("`https://x.io`"),
        "<p><code>https://x.io</code></p>\n"
    );
    assert_eq!(
        render("[https://a.io](https://b.io)"),
        format!("<p>{}</p>\n", link("https://b.io", "https://a.io"))
    );
    assert_eq!(
        render("two: https://a.io and https://b.io"),
        format!(
            "<p>two: {} and {}</p>\n",
            link("https://a.io", "https://a.io"),
            link("https://b.io", "https://b.io")
        )
    );
}

#[test]
fn a_bare_url_cannot_break_out_of_its_attribute() {
    let html = render(r#"https://x.io/"onmouseover="alert(1)"#);
    assert_inert(&html);
    assert!(
        html.contains("href=\"https://x.io/&quot;onmouseover=&quot;alert(1)\""),
        "{html}"
    );
}

#[test]
fn hostile_inputs_stay_inert() {
    for src in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "<iframe src=javascript:alert(1)>",
        "[a](javascript:alert(1))",
        "[a](  javascript:alert(1)  )",
        "[a](java\nscript:alert(1))",
        "![a](https://x.io/\" onerror=\"alert(1))",
        "[a](https://x.io/\"onclick=\"alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<style>*{display:none}</style>",
        "```\n</code></pre><script>alert(1)</script>\n```",
        "`</code><script>alert(1)</script>`",
        "> <script>alert(1)</script>",
        "- <img src=x onerror=alert(1)>",
        "[x](data:text/html,<script>alert(1)</script>)",
        "www.x.io/<script>alert(1)</script>",
        "https://x.io/'onfocus='alert(1)",
        "&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E;",
        "\u{0}<script>",
    ] {
        let html = render(src);
        assert_inert(&html);
    }
}

#[test]
fn quotes_and_lists_deeper_than_the_cap_are_flattened_keeping_their_text() {
    let html = render(&format!("{}deep", "> ".repeat(MAX_BLOCK_NESTING + 1000)));
    assert_eq!(
        html.matches("<blockquote>").count(),
        MAX_BLOCK_NESTING,
        "{html}"
    );
    assert_eq!(html.matches("</blockquote>").count(), MAX_BLOCK_NESTING);
    assert!(html.contains("<p>deep</p>"), "{html}");

    // A list one level deeper per line: the levels past the cap are lines of the deepest item.
    let depth = MAX_BLOCK_NESTING + 4;
    let src: String = (0..depth)
        .map(|d| format!("{}- item{d}\n", "  ".repeat(d)))
        .collect();
    let html = render(&src);
    assert_eq!(html.matches("<ul>").count(), MAX_BLOCK_NESTING, "{html}");
    assert_eq!(html.matches("<li>").count(), MAX_BLOCK_NESTING, "{html}");
    assert_eq!(html.matches("</li>").count(), MAX_BLOCK_NESTING, "{html}");
    let flattened: Vec<String> = (MAX_BLOCK_NESTING - 1..depth)
        .map(|d| format!("item{d}"))
        .collect();
    assert!(
        html.contains(&format!("<li>{}</li>", flattened.join("<br />\n"))),
        "{html}"
    );
    assert_inert(&html);
}

#[test]
fn emphasis_deeper_than_the_cap_keeps_its_text_without_the_depth() {
    let k = MAX_INLINE_NESTING + 20;
    let html = render(&format!("{}deep{}", "*a ".repeat(k), " a*".repeat(k)));
    assert_eq!(html.matches("<em>").count(), MAX_INLINE_NESTING, "{html}");
    assert_eq!(html.matches("</em>").count(), MAX_INLINE_NESTING, "{html}");
    assert!(html.contains(" deep "), "{html}");
    assert_eq!(html.matches('a').count(), 2 * k, "{html}");
}

#[test]
fn a_message_dense_with_markup_is_shown_as_its_lines() {
    let markup = "*_".repeat(MAX_MARKUP_CHARACTERS / 2);
    // At the limit it is still markdown.
    assert!(render(&markup).contains("<em>"));
    let src = format!("{markup}*\r\nsee https://x.io/a. <b>\"&\"</b>\u{0}\n\n**end**");
    let html = render(&src);
    assert_eq!(
        html,
        format!(
            "<p>{markup}*<br />\nsee {}. &lt;b&gt;&quot;&amp;&quot;&lt;/b&gt;\u{FFFD}<br />\n<br />\n**end**</p>\n",
            link("https://x.io/a", "https://x.io/a")
        )
    );
    assert_inert(&html);
}

/// The inputs of the benchmark and of the linearity test, at Chatwoot's limit.
#[test]
fn adversarial_messages_at_the_limit_render_inert() {
    for input in support::adversarial::INPUTS {
        let src = (input.build)(support::adversarial::MESSAGE_LIMIT);
        // Names the input when the check below fails.
        eprintln!("{}", input.name);
        assert_inert(&render(&src));
    }
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any mix of markdown syntax, HTML and URL fragments renders inert.
    #[test]
    fn any_mix_of_fragments_renders_inert(parts in proptest::collection::vec(prop_oneof![
        Just("<"), Just(">"), Just("\""), Just("'"), Just("&"), Just("&#60;"), Just("&lt;"),
        Just("<script>"), Just("<img src=x onerror=alert(1)>"), Just("javascript:"),
        Just("data:text/html,"), Just("https://x.io/"), Just("www.y.io"), Just("mailto:a@b.c"),
        Just("["), Just("]"), Just("("), Just(")"), Just("!"), Just("`"), Just("```"),
        Just("*"), Just("_"), Just("~~"), Just("\n"), Just(" "), Just("> "), Just("- "),
        Just("<a href=\"x\">"), Just("</a>"), Just("\\"), Just("text"),
    ], 0..40)) {
        let src: String = parts.concat();
        assert_inert(&render(&src));
    }
}
