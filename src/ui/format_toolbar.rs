//! The rich text editor's toolbar (behind the `richTextEditor` flag): bold, italic,
//! strikethrough, code, link, lists and quote, by button or by the usual shortcuts.
//!
//! The composer stays a text field of markdown (exactly what Chatwoot stores); a command
//! edits that text through the browser's own editing (`insertText`), so Ctrl+Z undoes it,
//! and the preview under the field shows it as the customer will see it.

use leptos::html::Textarea;
use leptos::prelude::*;
use parley_core::formatting::{apply, Format};
use wasm_bindgen::JsCast;

use crate::i18n::t;

struct Button {
    format: Format,
    /// The English name, for the class and the test id (the words shown are [`name`]).
    label: &'static str,
    /// The key with Ctrl/Cmd (and Shift when `shift`).
    key: &'static str,
    shift: bool,
    glyph: &'static str,
}

const BUTTONS: [Button; 8] = [
    Button {
        format: Format::Bold,
        label: "Bold",
        key: "B",
        shift: false,
        glyph: "B",
    },
    Button {
        format: Format::Italic,
        label: "Italic",
        key: "I",
        shift: false,
        glyph: "I",
    },
    Button {
        format: Format::Strikethrough,
        label: "Strikethrough",
        key: "X",
        shift: true,
        glyph: "S",
    },
    Button {
        format: Format::Code,
        label: "Code",
        key: "E",
        shift: false,
        glyph: "</>",
    },
    Button {
        format: Format::Link,
        label: "Link",
        key: "K",
        shift: false,
        glyph: "",
    },
    Button {
        format: Format::BulletList,
        label: "Bulleted list",
        key: "8",
        shift: true,
        glyph: "•",
    },
    Button {
        format: Format::NumberedList,
        label: "Numbered list",
        key: "7",
        shift: true,
        glyph: "1.",
    },
    Button {
        format: Format::Quote,
        label: "Quote",
        key: "9",
        shift: true,
        glyph: "❝",
    },
];

/// What a button is called, in the agent's language.
fn name(format: Format) -> &'static str {
    match format {
        Format::Bold => t("format.bold"),
        Format::Italic => t("format.italic"),
        Format::Strikethrough => t("format.strikethrough"),
        Format::Code => t("format.code"),
        Format::Link => t("format.link"),
        Format::BulletList => t("format.bulleted"),
        Format::NumberedList => t("format.numbered"),
        Format::Quote => t("format.quote"),
    }
}

/// Whether the platform's shortcut modifier is ⌘ (Apple) rather than Ctrl.
fn apple() -> bool {
    web_sys::window()
        .and_then(|w| w.navigator().platform().ok())
        .is_some_and(|p| p.starts_with("Mac") || p.starts_with("iP"))
}

/// "Ctrl+Shift+7" or "⌘⇧7", as this platform writes it.
pub fn shortcut_label(key: &str, shift: bool) -> String {
    if apple() {
        format!("⌘{}{key}", if shift { "⇧" } else { "" })
    } else {
        let shift = if shift {
            format!("{}+", t("key.shift"))
        } else {
            String::new()
        };
        format!("{}+{shift}{key}", t("key.ctrl"))
    }
}

/// Every formatting shortcut, for the keyboard help: (what it does, keys).
pub fn shortcuts() -> Vec<(&'static str, String)> {
    BUTTONS
        .iter()
        .map(|b| (name(b.format), shortcut_label(b.key, b.shift)))
        .collect()
}

/// The command a key press asks for, if it is a formatting shortcut. Keys are matched by
/// their physical position for the digits (Shift changes the character they type).
pub fn shortcut_of(ev: &web_sys::KeyboardEvent) -> Option<Format> {
    let modifier = if apple() {
        ev.meta_key()
    } else {
        ev.ctrl_key()
    };
    if !modifier || ev.alt_key() || ev.is_composing() {
        return None;
    }
    let code = ev.code();
    let pressed = code
        .strip_prefix("Key")
        .or_else(|| code.strip_prefix("Digit"))?;
    BUTTONS
        .iter()
        .find(|b| b.key == pressed && b.shift == ev.shift_key())
        .map(|b| b.format)
}

/// Applies `format` at the field's selection, as one undoable edit, and selects what the
/// command leaves selected. The field's `input` event follows, as for typing.
pub fn apply_format(el: &web_sys::HtmlTextAreaElement, format: Format) {
    let value = el.value();
    let start = byte_of(&value, el.selection_start().ok().flatten());
    let end = byte_of(&value, el.selection_end().ok().flatten());
    let r = apply(&value, start..end, format);
    let _ = el.focus();
    let _ = el.set_selection_range(
        utf16_of(&value, r.range.start),
        utf16_of(&value, r.range.end),
    );
    let edited = el
        .owner_document()
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        .and_then(|d| {
            d.exec_command_with_show_ui_and_value("insertText", false, &r.insert)
                .ok()
        })
        .unwrap_or(false);
    let new_value = r.apply_to(&value);
    if !edited || el.value() != new_value {
        // No native edit (an old engine): set the text and tell the composer.
        el.set_value(&new_value);
        if let Ok(ev) = web_sys::Event::new_with_event_init_dict("input", &{
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            init
        }) {
            let _ = el.dispatch_event(&ev);
        }
    }
    let _ = el.set_selection_range(
        utf16_of(&new_value, r.select.start),
        utf16_of(&new_value, r.select.end),
    );
}

/// A UTF-16 offset (the browser's) as a byte offset into `value`.
fn byte_of(value: &str, utf16: Option<u32>) -> usize {
    let Some(target) = utf16 else {
        return value.len();
    };
    let mut units = 0u32;
    for (i, c) in value.char_indices() {
        if units >= target {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    value.len()
}

fn utf16_of(value: &str, byte: usize) -> u32 {
    value[..byte.min(value.len())].encode_utf16().count() as u32
}

/// The toolbar: one tab stop, arrow keys move between its buttons (ARIA toolbar pattern).
#[component]
pub fn FormatToolbar(input: NodeRef<Textarea>) -> impl IntoView {
    let active = RwSignal::new(0usize);
    let buttons = NodeRef::<leptos::html::Div>::new();

    let run = move |format: Format| {
        if let Some(el) = input.get_untracked() {
            apply_format(&el, format);
        }
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let rtl = buttons
            .get_untracked()
            .and_then(|el| el.closest("[dir=rtl]").ok().flatten())
            .is_some();
        let n = BUTTONS.len();
        let step = match (ev.key().as_str(), rtl) {
            ("ArrowRight", false) | ("ArrowLeft", true) => 1,
            ("ArrowLeft", false) | ("ArrowRight", true) => n - 1,
            ("Home", _) => n - active.get_untracked(),
            ("End", _) => n - 1 - active.get_untracked() + n,
            _ => return,
        };
        ev.prevent_default();
        let next = (active.get_untracked() + step) % n;
        active.set(next);
        if let Some(button) = buttons
            .get_untracked()
            .and_then(|el| el.children().item(next as u32))
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    };

    view! {
        <div
            class="parley-format-toolbar"
            role="toolbar"
            aria-label=t("format.toolbar")
            aria-controls="parley-composer-input"
            data-testid="format-toolbar"
            node_ref=buttons
            on:keydown=on_keydown
        >
            {BUTTONS
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let format = b.format;
                    let title = format!("{} ({})", name(format), shortcut_label(b.key, b.shift));
                    let slug = b.label.to_lowercase().replace(' ', "-");
                    let glyph = match icon_path(format) {
                        Some(d) => view! {
                            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                                <path d=d fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/>
                            </svg>
                        }
                        .into_any(),
                        None => view! { <span aria-hidden="true">{b.glyph}</span> }.into_any(),
                    };
                    view! {
                        <button
                            type="button"
                            class=format!("parley-format-button parley-format-{slug}")
                            aria-label=name(format)
                            title=title
                            data-testid=format!("format-{slug}")
                            tabindex=move || if active.get() == i { "0" } else { "-1" }
                            // Keep the field's focus and selection when clicked with a mouse.
                            on:focus=move |_| active.set(i)
                            on:mousedown=|ev| ev.prevent_default()
                            on:click=move |_| {
                                active.set(i);
                                run(format);
                            }
                        >
                            {glyph}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The drawn icons (the letters B, I, S and `</>` are their own icons).
fn icon_path(format: Format) -> Option<&'static str> {
    Some(match format {
        Format::Link => "M6.5 9.5l3-3M7 4.5l1.2-1.2a2.6 2.6 0 013.6 3.6L10.5 8.2M9 11.5l-1.2 1.2a2.6 2.6 0 01-3.6-3.6L5.5 7.8",
        Format::BulletList => "M6 4h8M6 8h8M6 12h8M2.5 4h.01M2.5 8h.01M2.5 12h.01",
        Format::NumberedList => "M6 4h8M6 8h8M6 12h8M2 2.8l1-.6v3.6M1.8 9.2c.3-.6 1.7-.6 1.7.3 0 .6-1.7 1.4-1.7 2.3h1.8",
        Format::Quote => "M3 3v10M6.5 5h7M6.5 8h7M6.5 11h5",
        _ => return None,
    })
}

/// What the customer will see, under the field, once the text has any formatting.
#[component]
pub fn ComposerPreview(#[prop(into)] text: Signal<String>) -> impl IntoView {
    let html = Memo::new(move |_| text.with(|t| parley_core::markdown::render(t)));
    let formatted = Memo::new(move |_| html.with(|h| has_markup(h)));
    view! {
        <Show when=move || formatted.get()>
            <div class="parley-composer-preview" data-testid="composer-preview">
                <span class="parley-composer-preview-label">{t("format.preview")}</span>
                <div class="parley-content" inner_html=move || html.get()></div>
            </div>
        </Show>
    }
}

/// Anything beyond paragraphs and line breaks: plain text needs no preview.
fn has_markup(html: &str) -> bool {
    html.replace("<p>", "")
        .replace("</p>", "")
        .replace("<br />", "")
        .contains('<')
}
