//! The rich text editor's commands edit the composer's markdown: each is a toggle, keeps
//! the selection on what it formatted, and renders as the formatting it names.

use parley_core::formatting::{apply, Format};
use parley_core::markdown::render;

/// Applies `format` to the part of `marked` between `[` and `]` (the selection; `|` for a
/// caret) and returns the new text with its selection marked the same way.
fn run(marked: &str, format: Format) -> String {
    let (text, sel) = unmark(marked);
    let r = apply(&text, sel, format);
    let out = r.apply_to(&text);
    mark(&out, r.select)
}

fn unmark(marked: &str) -> (String, std::ops::Range<usize>) {
    if let Some(at) = marked.find('|') {
        let text = marked.replacen('|', "", 1);
        return (text, at..at);
    }
    let a = marked.find('[').expect("a selection");
    let b = marked.rfind(']').expect("a selection end");
    let text = format!("{}{}{}", &marked[..a], &marked[a + 1..b], &marked[b + 1..]);
    (text, a..b - 1)
}

fn mark(text: &str, sel: std::ops::Range<usize>) -> String {
    if sel.is_empty() {
        format!("{}|{}", &text[..sel.start], &text[sel.start..])
    } else {
        format!(
            "{}[{}]{}",
            &text[..sel.start],
            &text[sel.clone()],
            &text[sel.end..]
        )
    }
}

#[test]
fn bold_italic_strike_and_code_wrap_the_selection_and_keep_the_words_selected() {
    assert_eq!(run("say [hello] now", Format::Bold), "say **[hello]** now");
    assert_eq!(run("say [hello] now", Format::Italic), "say *[hello]* now");
    assert_eq!(
        run("say [hello] now", Format::Strikethrough),
        "say ~~[hello]~~ now"
    );
    assert_eq!(
        run("run [ls -la] here", Format::Code),
        "run `[ls -la]` here"
    );
    assert!(render("say **hello** now").contains("<strong>hello</strong>"));
    assert!(render("say *hello* now").contains("<em>hello</em>"));
    assert!(render("say ~~hello~~ now").contains("<del>hello</del>"));
    assert!(render("run `ls -la` here").contains("<code>ls -la</code>"));
}

#[test]
fn applying_twice_gives_the_text_back() {
    for format in [
        Format::Bold,
        Format::Italic,
        Format::Strikethrough,
        Format::Code,
    ] {
        let once = run("say [hello] now", format);
        assert_eq!(run(&once, format), "say [hello] now", "{format:?}");
    }
    // Selecting the markers with the word also toggles off.
    assert_eq!(run("say **[hello]** now", Format::Bold), "say [hello] now");
}

#[test]
fn italic_inside_bold_is_not_mistaken_for_italic() {
    // In `**hello**` the stars are bold's: italic adds its own, it does not strip them.
    assert_eq!(run("**[hello]**", Format::Italic), "***[hello]***");
    assert!(render("***hello***").contains("<em><strong>hello</strong></em>"));
    // `***` is both: each command takes off its own part.
    assert_eq!(run("***[hello]***", Format::Italic), "**[hello]**");
    assert_eq!(run("***[hello]***", Format::Bold), "*[hello]*");
}

#[test]
fn an_empty_selection_gets_a_pair_with_the_caret_inside() {
    assert_eq!(run("hi |", Format::Bold), "hi **|**");
    assert_eq!(run("|", Format::Code), "`|`");
}

#[test]
fn spaces_stay_outside_markers_and_each_line_is_wrapped() {
    assert_eq!(run("a[ word ]b", Format::Bold), "a **[word]** b");
    assert_eq!(run("[one\ntwo]", Format::Italic), "[*one*\n*two*]");
    assert!(render("*one*\n*two*").matches("<em>").count() == 2);
}

#[test]
fn code_over_several_lines_is_a_fenced_block_on_its_own_lines() {
    assert_eq!(
        run("see [let a = 1;\nlet b = 2;] ok", Format::Code),
        "see [\n```\nlet a = 1;\nlet b = 2;\n```\n] ok"
    );
    assert_eq!(
        run("[```\nx\n```]", Format::Code),
        "[x]",
        "a selected block is unwrapped"
    );
    assert!(render("```\nlet a = 1;\nlet b = 2;\n```")
        .contains("<pre><code>let a = 1;\nlet b = 2;\n</code></pre>"));
}

#[test]
fn lists_and_quotes_prefix_every_selected_line_and_toggle_off() {
    assert_eq!(
        run("in[tro\nmilk]\neggs", Format::BulletList),
        "[- intro\n- milk]\neggs"
    );
    assert_eq!(run("[a\nb\nc]", Format::NumberedList), "[1. a\n2. b\n3. c]");
    assert_eq!(run("[1. a\n2. b]", Format::NumberedList), "[a\nb]");
    assert_eq!(run("[- a\n- b]", Format::BulletList), "[a\nb]");
    assert_eq!(run("[tell me]", Format::Quote), "[> tell me]");
    assert_eq!(run("[> tell me]", Format::Quote), "[tell me]");
    // The caret's line is the selection; an empty line gets the prefix and the caret.
    assert_eq!(run("first\nsec|ond", Format::Quote), "first\n[> second]");
    assert_eq!(run("first\n|", Format::BulletList), "first\n- |");
    // One kind of list becomes the other.
    assert_eq!(run("[- a\n- b]", Format::NumberedList), "[1. a\n2. b]");
    // Blank lines inside the selection are left blank.
    assert_eq!(run("[a\n\nb]", Format::BulletList), "[- a\n\n- b]");

    let html = render("- milk\n- eggs");
    assert!(
        html.contains("<ul>") && html.matches("<li>").count() == 2,
        "{html}"
    );
    let html = render("1. a\n2. b");
    assert!(
        html.contains("<ol>") && html.matches("<li>").count() == 2,
        "{html}"
    );
    assert!(render("> tell me").contains("<blockquote>"));
}

#[test]
fn a_link_takes_the_words_and_selects_the_address_to_type() {
    let text = "see our docs now";
    let r = apply(text, 4..12, Format::Link);
    let out = r.apply_to(text);
    assert_eq!(out, "see [our docs](https://) now");
    assert_eq!(&out[r.select.clone()], "https://");
    // A selected address becomes the target, the caret goes between the brackets.
    let text = "at www.example.com/help ok";
    let r = apply(text, 3..23, Format::Link);
    let out = r.apply_to(text);
    assert_eq!(out, "at [](https://www.example.com/help) ok");
    assert_eq!(r.select, 4..4);
    // Nothing selected: an empty link with the address selected.
    let r = apply("", 0..0, Format::Link);
    assert_eq!(r.apply_to(""), "[](https://)");
    assert!(render("see [our docs](https://docs.example.com) now")
        .contains(r#"<a href="https://docs.example.com""#));
}

#[test]
fn offsets_out_of_range_or_inside_a_character_are_pulled_back() {
    let text = "héllo";
    // 2 is inside "é" (bytes 1..3): the selection starts at its start instead.
    let r = apply(text, 2..99, Format::Bold);
    assert_eq!(r.apply_to(text), "h**éllo**");
}
