//! The keyboard help: every shortcut of the chat screen, opened with `?` (outside a text
//! field) or the header's keyboard button. A native modal `<dialog>`: it keeps focus
//! inside while open, Escape closes it, and focus goes back where it was.

use leptos::html::Dialog;
use leptos::prelude::*;

use crate::i18n::t;
use crate::ui::format_toolbar;

/// Whether a key press is the agent asking for the help: `?` while not typing in a field
/// (`؟` on an Arabic keyboard, the same key).
pub fn asks_for_help(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    if !matches!(ev.key().as_str(), "?" | "؟") || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return false;
    }
    // In a field `?` is just a character. Inside a shadow root the event's target is the
    // host; the composed path's first node is the element really focused.
    let target = ev
        .composed_path()
        .get(0)
        .dyn_into::<web_sys::Element>()
        .ok();
    !target.is_some_and(|el| {
        matches!(el.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT")
            || el
                .dyn_ref::<web_sys::HtmlElement>()
                .is_some_and(|h| h.is_content_editable())
    })
}

#[component]
pub fn ShortcutsHelp(open: RwSignal<bool>, rich_text: bool) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else {
            return;
        };
        if open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });

    view! {
        <dialog
            class="parley-dialog parley-shortcuts"
            aria-labelledby="parley-shortcuts-title"
            data-testid="shortcuts-help"
            node_ref=dialog
            // Escape: the state follows at once (`cancel` comes with the key press; `close`
            // only in a later task, and a `?` pressed in between must open the help again).
            on:cancel=move |_: web_sys::Event| open.set(false)
            // A `close` event of an earlier closing, queued while the help was opened again,
            // must not close it.
            on:close=move |_| {
                if !dialog.try_get_untracked().flatten().is_some_and(|d| d.open()) {
                    open.set(false);
                }
            }
        >
            <div class="parley-dialog-head">
                <h2 id="parley-shortcuts-title">{t("shortcuts.title")}</h2>
                <button
                    type="button"
                    class="parley-button parley-button-quiet"
                    data-testid="shortcuts-close"
                    on:click=move |_| open.set(false)
                >
                    {t("common.close")}
                </button>
            </div>
            // Built when opened: nothing of it is needed to open a conversation.
            {move || open.get().then(|| view! { <ShortcutTable rich_text=rich_text/> })}
        </dialog>
    }
}

#[component]
fn ShortcutTable(rich_text: bool) -> impl IntoView {
    let (enter, shift, escape) = (t("key.enter"), t("key.shift"), t("key.escape"));
    let mut rows: Vec<(String, Vec<String>)> = vec![
        (t("shortcuts.send").into(), vec![enter.into()]),
        (
            t("shortcuts.new_line").into(),
            vec![format!("{shift}+{enter}")],
        ),
        (t("shortcuts.canned").into(), vec!["/".into()]),
        (
            t("shortcuts.canned_move").into(),
            vec!["↑".into(), "↓".into(), enter.into()],
        ),
        (t("shortcuts.escape").into(), vec![escape.into()]),
        (t("shortcuts.images").into(), vec!["←".into(), "→".into()]),
    ];
    if rich_text {
        rows.extend(
            format_toolbar::shortcuts()
                .into_iter()
                .map(|(what, keys)| (what.to_string(), vec![keys])),
        );
        rows.push((t("shortcuts.toolbar").into(), vec!["←".into(), "→".into()]));
    }
    rows.push((t("shortcuts.help").into(), vec!["?".into()]));

    view! {
    <table class="parley-shortcut-table">
        <tbody>
            {rows
                .into_iter()
                .map(|(what, keys)| view! {
                    <tr>
                        <th scope="row">{what}</th>
                        <td>
                            {keys.into_iter().map(|k| view! { <kbd>{k}</kbd> }).collect_view()}
                        </td>
                    </tr>
                })
                .collect_view()}
        </tbody>
    </table>
    }
}
