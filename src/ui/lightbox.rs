//! The lightbox: an image of the conversation at full size, in a modal dialog over the chat.
//! Arrows (and the on-screen buttons) move through the images of the loaded messages in
//! display order; Escape, the close button or a click beside the image close it, and focus
//! goes back to the thumbnail it was opened from.
//!
//! It is a native `<dialog>` opened with `showModal()`: the browser puts it in the top
//! layer (above any host page's stacking), makes the chat behind it inert, and moves focus
//! into it. Nothing behind it changes size or scrolls, so closing it finds the log as it
//! was. The list of images comes from the message store, not the DOM: the virtualized log
//! may unmount the thumbnail's row while the lightbox is open.

use leptos::html::{Button, Dialog};
use leptos::prelude::*;
use parley_core::gallery::{neighbour, position, GalleryImage};
use wasm_bindgen::JsCast;

use crate::i18n::{number, t, t_args};
use crate::state::conversation::ChatState;

/// The lightbox of one chat screen, shared (as context) with the thumbnails in its log.
#[derive(Debug, Clone, Copy)]
pub struct Lightbox {
    /// The image shown; `None` when the lightbox is closed.
    shown: RwSignal<Option<GalleryImage>>,
    /// The attachment whose thumbnail opened it, to give focus back to.
    opened_from: StoredValue<Option<i64>>,
}

impl Lightbox {
    /// A closed lightbox, provided as context for the thumbnails below the caller.
    pub fn provide() -> Lightbox {
        let lightbox = Lightbox {
            shown: RwSignal::new(None),
            opened_from: StoredValue::new(None),
        };
        provide_context(lightbox);
        lightbox
    }

    /// The lightbox of this chat screen, if there is one (not in a bare component test).
    pub fn from_context() -> Option<Lightbox> {
        use_context::<Lightbox>()
    }

    pub fn open(&self, image: GalleryImage) {
        self.opened_from.set_value(Some(image.id));
        self.shown.set(Some(image));
    }

    fn close(&self) {
        self.shown.set(None);
    }
}

/// The attribute a thumbnail carries so that focus can find it again.
pub const THUMB_ATTR: &str = "data-lightbox-id";

#[component]
pub fn LightboxDialog(chat: ChatState, lightbox: Lightbox) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    let close_button = NodeRef::<Button>::new();
    let failed = RwSignal::new(false);
    let loaded = RwSignal::new(false);

    // "2 of 5", and whether there is a previous and a next, from the loaded messages now.
    let place = Memo::new(move |_| {
        chat.messages.order.track();
        let id = lightbox.shown.with(|s| s.as_ref().map(|i| i.id))?;
        let images = chat.messages.images();
        let (at, count) = position(&images, id)?;
        Some((at, count))
    });
    let has_prev = move || place.get().is_some_and(|(at, _)| at > 0);
    let has_next = move || place.get().is_some_and(|(at, count)| at + 1 < count);
    // One image: nothing to move to, no buttons for it.
    let alone = move || place.get().is_none_or(|(_, count)| count < 2);

    let step = move |by: isize| {
        let Some(id) = lightbox.shown.with_untracked(|s| s.as_ref().map(|i| i.id)) else {
            return;
        };
        let images = chat.messages.images();
        if let Some(next) = neighbour(&images, id, by) {
            lightbox.shown.set(Some(next.clone()));
        }
    };

    // A new image starts loading: no error, no picture yet.
    Effect::new(move |_| {
        lightbox.shown.with(|s| s.as_ref().map(|i| i.id));
        failed.set(false);
        loaded.set(false);
    });

    // Open and close the native dialog with the state; focus in, then back to the thumbnail.
    Effect::new(move |_| {
        let open = lightbox.shown.with(Option::is_some);
        let Some(el) = dialog.get() else {
            return;
        };
        if open && !el.open() {
            if el.show_modal().is_ok() {
                if let Some(b) = close_button.get_untracked() {
                    let _ = b.focus();
                }
            }
        } else if !open && el.open() {
            el.close();
            return_focus(&el, lightbox.opened_from.get_value());
        }
    });

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Right to left, the previous image is on the right: the arrows follow the layout.
        let rtl = dialog
            .get_untracked()
            .and_then(|el| el.closest("[dir=rtl]").ok().flatten())
            .is_some();
        match (ev.key().as_str(), rtl) {
            // The browser lets Tab leave a modal dialog for its own toolbar, and focus lands on
            // the page's body on the way back, where the arrows do nothing: wrap instead.
            ("Tab", _) => {
                if let Some(el) = dialog.get_untracked() {
                    if wrap_tab(&el, ev.shift_key()) {
                        ev.prevent_default();
                    }
                }
            }
            ("Escape", _) => {
                ev.prevent_default();
                lightbox.close();
            }
            ("ArrowLeft", false) | ("ArrowRight", true) | ("ArrowUp" | "PageUp", _) => {
                ev.prevent_default();
                step(-1);
            }
            ("ArrowRight", false) | ("ArrowLeft", true) | ("ArrowDown" | "PageDown", _) => {
                ev.prevent_default();
                step(1);
            }
            ("Home" | "End", _) => {
                ev.prevent_default();
                let images = chat.messages.images();
                let end = if ev.key() == "Home" {
                    images.first()
                } else {
                    images.last()
                };
                if let Some(image) = end {
                    lightbox.shown.set(Some(image.clone()));
                }
            }
            _ => {}
        }
    };

    // A click on the dim area around the image (not on the image or a control) closes.
    let on_backdrop = move |ev: leptos::ev::MouseEvent| {
        if ev.target() == ev.current_target() {
            lightbox.close();
        }
    };

    let name = move || {
        lightbox
            .shown
            .with(|s| s.as_ref().map(|i| i.name.clone()))
            .unwrap_or_default()
    };
    let url = move || {
        lightbox
            .shown
            .with(|s| s.as_ref().map(|i| i.url.clone()))
            .unwrap_or_default()
    };

    view! {
        <dialog
            class="parley-lightbox"
            data-testid="lightbox"
            role="dialog"
            aria-modal="true"
            // Focusable itself, so a click on the picture keeps focus (and the keys) inside.
            tabindex="-1"
            aria-label=move || t_args("lightbox.label", &[("name", &name())])
            node_ref=dialog
            on:keydown=on_keydown
            // Closed by the browser itself (a close request): the state follows, unless the
            // event is a late one of an earlier closing and the lightbox is open again (or
            // the chat is gone: events can outlive it, hence the `try_`).
            on:close=move |_| {
                let reopened = dialog.try_get_untracked().flatten().is_some_and(|d| d.open());
                let shown = lightbox.shown.try_with_untracked(Option::is_some);
                if !reopened && shown == Some(true) {
                    lightbox.close();
                }
            }
        >
            <div class="parley-lightbox-bar">
                <span class="parley-lightbox-name" data-testid="lightbox-name" title=name>{name}</span>
                <span class="parley-lightbox-place" data-testid="lightbox-place">
                    {move || place.get().map(|(at, count)| place_label(at + 1, count))}
                </span>
                <a
                    class="parley-button parley-button-quiet"
                    href=url
                    target="_blank"
                    rel="noopener noreferrer"
                    data-testid="lightbox-original"
                >
                    {t("lightbox.open_original")}
                </a>
                <button
                    type="button"
                    class="parley-button parley-lightbox-close"
                    data-testid="lightbox-close"
                    aria-label=t("common.close")
                    node_ref=close_button
                    on:click=move |_| lightbox.close()
                >
                    <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                        <path d="M3.5 3.5l9 9M12.5 3.5l-9 9" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>
                    </svg>
                </button>
            </div>
            <div class="parley-lightbox-stage" on:click=on_backdrop>
                <StepButton
                    forward=false
                    hidden=Signal::derive(alone)
                    at_end=Signal::derive(move || !has_prev())
                    on_step=Callback::new(move |()| step(-1))
                />
                <Show
                    when=move || !failed.get()
                    fallback=move || view! {
                        <p class="parley-lightbox-error" role="alert" data-testid="lightbox-error">
                            {t("lightbox.failed")}
                        </p>
                    }
                >
                    <img
                        class="parley-lightbox-image"
                        class:parley-lightbox-loading=move || !loaded.get()
                        data-testid="lightbox-image"
                        src=url
                        alt=name
                        decoding="async"
                        on:load=move |_| loaded.set(true)
                        on:error=move |_| failed.set(true)
                    />
                </Show>
                <StepButton
                    forward=true
                    hidden=Signal::derive(alone)
                    at_end=Signal::derive(move || !has_next())
                    on_step=Callback::new(move |()| step(1))
                />
            </div>
        </dialog>
    }
}

/// Tab from the last control goes to the first (Shift+Tab from the first to the last).
/// Returns whether it moved focus.
fn wrap_tab(dialog: &web_sys::HtmlDialogElement, backwards: bool) -> bool {
    // The hidden prev/next (a single image) take no focus: they are not ends.
    let Ok(list) = dialog.query_selector_all("a[href]:not([hidden]), button:not([hidden])") else {
        return false;
    };
    let controls: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
        return false;
    };
    // The focused element of the dialog's own tree: inside a shadow root (a mounted
    // chat) `document.activeElement` is only the host.
    let active = js_sys::Reflect::get(&dialog.get_root_node(), &"activeElement".into())
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::Element>().ok());
    let is = |el: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == el.as_ref());
    let target = match backwards {
        true if is(first) || active.as_ref().is_some_and(|a| a == dialog.as_ref()) => last,
        false if is(last) => first,
        _ => return false,
    };
    target.focus().is_ok()
}

/// Focus back on the thumbnail that opened the lightbox, in this chat screen; when its row
/// is no longer rendered (the log moved), on the log itself, so focus is never lost.
fn return_focus(dialog: &web_sys::HtmlDialogElement, opened_from: Option<i64>) {
    let Ok(Some(screen)) = dialog.closest(".parley-chat") else {
        return;
    };
    let thumb = opened_from
        .and_then(|id| {
            screen
                .query_selector(&format!("[{THUMB_ATTR}=\"{id}\"]"))
                .ok()
                .flatten()
        })
        .or_else(|| {
            screen
                .query_selector("[data-testid=message-list]")
                .ok()
                .flatten()
        });
    if let Some(el) = thumb.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// "2 of 5", with the locale's digits.
fn place_label(n: usize, count: usize) -> String {
    t_args(
        "lightbox.place",
        &[("n", &number(n)), ("count", &number(count))],
    )
}

/// The previous or next button beside the image.
#[component]
fn StepButton(
    forward: bool,
    /// One image: nothing to move to.
    hidden: Signal<bool>,
    /// No image further this way.
    at_end: Signal<bool>,
    on_step: Callback<()>,
) -> impl IntoView {
    let (class, testid, label, path) = if forward {
        (
            "parley-lightbox-next",
            "lightbox-next",
            "lightbox.next",
            "M6 3l5 5-5 5",
        )
    } else {
        (
            "parley-lightbox-prev",
            "lightbox-prev",
            "lightbox.previous",
            "M10 3L5 8l5 5",
        )
    };
    view! {
        <button
            type="button"
            class=format!("parley-button parley-lightbox-step {class}")
            data-testid=testid
            aria-label=t(label)
            hidden=move || hidden.get()
            // Not `disabled`: a focused button that turns disabled drops focus out of the
            // dialog, and the arrows with it.
            aria-disabled=move || at_end.get().to_string()
            on:click=move |_| on_step.run(())
        >
            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon parley-icon-directional">
                <path d=path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>
            </svg>
        </button>
    }
}
