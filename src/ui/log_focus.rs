//! Keeps keyboard focus on a control in the log while the virtualized rows change around it.
//!
//! When rows enter above the rendered window, the keyed list moves the rows that stay
//! (removed and inserted again) instead of only inserting the new ones before them, and an
//! element that is moved loses focus to the page's body. A keyboard user who scrolls with
//! focus on a row's button (Reply, an image) would lose their place. The keeper notes the
//! element focused in the log and, after each change of the rendered rows, gives focus back
//! to it when a move took it, without scrolling. A real blur (focus taken elsewhere, or a
//! click outside any control) forgets it.
//!
//! Focus events also come after the log is gone (an element focused in it removed with the
//! chat): every access is a `try_`, a no-op once the chat's state is disposed.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Clone, Copy)]
pub struct LogFocus {
    focused: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
}

impl Default for LogFocus {
    fn default() -> Self {
        LogFocus {
            focused: StoredValue::new_local(None),
        }
    }
}

impl LogFocus {
    /// `focusin` inside the log.
    pub fn focus_in(self, ev: &web_sys::FocusEvent) {
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
        let _ = self.focused.try_set_value(target);
    }

    /// `focusout` inside the log. Focus going to another element is a real move. Focus going
    /// nowhere is either a real blur or a row being moved: the rows' change gives it back at
    /// once (see [`LogFocus::rows_changed`]), so if it is still gone a task later, it was real.
    pub fn focus_out(self, ev: &web_sys::FocusEvent) {
        if ev.related_target().is_some() {
            let _ = self.focused.try_set_value(None);
            return;
        }
        set_timeout(
            move || {
                let kept = self
                    .focused
                    .try_with_value(|f| f.as_ref().is_some_and(is_focused));
                if kept == Some(false) {
                    let _ = self.focused.try_set_value(None);
                }
            },
            std::time::Duration::ZERO,
        );
    }

    /// The rendered rows changed: if that took focus from the element focused in the log,
    /// and it is still in the log, it gets focus back where it is.
    pub fn rows_changed(self, log: &web_sys::Element) {
        let _ = self.focused.try_with_value(|focused| {
            let Some(el) = focused else { return };
            let lost = active_element().is_none_or(|a| a.tag_name() == "BODY");
            if lost && el.is_connected() && log.contains(Some(el)) {
                let options = web_sys::FocusOptions::new();
                options.set_prevent_scroll(true);
                let _ = el.focus_with_options(&options);
            }
        });
    }
}

fn active_element() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.active_element()
}

fn is_focused(el: &web_sys::HtmlElement) -> bool {
    active_element().is_some_and(|a| &a == el.unchecked_ref::<web_sys::Element>())
}
