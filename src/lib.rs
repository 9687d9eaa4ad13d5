//! Parley, the agent side of a support desk's live chat: a Leptos CSR app in wasm.
//!
//! Layers, as in DESIGN.md: `ui` (components) reads `state` (signals, one per row) and
//! sends intents to it; `state` calls `effects` (REST, the cable socket, timers, storage);
//! every decision (ordering, dedup, the ActionCable protocol, markdown) is in `parley_core`.
//!
//! Two ways in: standalone, the page carries `#parley-config` and a `<div id="parley">`
//! (parley-server serves it so); embedded, the host page calls `mount(element, config)`.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

pub mod config;
pub mod effects;
pub mod i18n;
pub mod reasons;
pub mod state;
pub mod ui;

// The browser tests (IndexedDB among them) need a browser, not Node.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use config::Config;

/// The element the standalone app mounts into.
pub const ROOT_ELEMENT_ID: &str = "parley";

/// Runs when the module loads: mounts the standalone app if the page is Parley's own.
/// On a host page (no `#parley-config`) it does nothing and waits for `mount()`.
#[wasm_bindgen(start)]
pub fn start() {
    let Ok(config) = Config::from_page() else {
        return;
    };
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(ROOT_ELEMENT_ID))
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    // Replace the static "loading" placeholder that index.html shows before wasm runs.
    root.set_inner_html("");
    leptos::mount::mount_to(root, move || view! { <ui::app::App config=config/> }).forget();
}

/// Parley's stylesheet, compiled in: a host page that loads only the module gets the
/// styles inside each chat's shadow root, where no host rule reaches them.
const STYLESHEET: &str = include_str!("../style/parley.css");

thread_local! {
    /// One parsed sheet, adopted by every chat mounted on the page.
    static SHEET: std::cell::OnceCell<Option<web_sys::CssStyleSheet>> =
        const { std::cell::OnceCell::new() };
}

fn parley_sheet() -> Option<web_sys::CssStyleSheet> {
    SHEET.with(|s| {
        s.get_or_init(|| {
            let sheet = web_sys::CssStyleSheet::new().ok()?;
            sheet.replace_sync(STYLESHEET).ok()?;
            Some(sheet)
        })
        .clone()
    })
}

/// The element's shadow root (an open one, created on the first mount; a later mount into
/// the same element reuses it) with Parley's sheet adopted and an empty container to mount
/// into.
fn shadow_container(element: &web_sys::HtmlElement) -> Result<web_sys::HtmlElement, JsError> {
    let root = match element.shadow_root() {
        Some(root) => root,
        None => element
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .map_err(|_| {
                JsError::new(
                    "Parley mount(): this element cannot hold a shadow root \
                     (use a <div>, a <section> or a custom element)",
                )
            })?,
    };
    let sheet = parley_sheet()
        .ok_or_else(|| JsError::new("Parley mount(): the stylesheet did not load"))?;
    root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
    // What an earlier, unmounted chat or the custom element's error message left.
    root.set_inner_html("");
    let document = element
        .owner_document()
        .ok_or_else(|| JsError::new("Parley mount(): the element is not in a document"))?;
    let container = document
        .create_element("div")
        .map_err(|_| JsError::new("Parley mount(): could not create its container"))?
        .dyn_into::<web_sys::HtmlElement>()
        .map_err(|_| JsError::new("Parley mount(): could not create its container"))?;
    // The chat fills the element; the element's size is the host's.
    let _ = container.set_attribute(
        "style",
        "display:block;height:100%;margin:0;padding:0;border:0",
    );
    root.append_child(&container)
        .map_err(|_| JsError::new("Parley mount(): could not attach its container"))?;
    Ok(container)
}

thread_local! {
    /// The view of every mounted chat, by handle id. A chat stays until `unmount()`, even
    /// when the host drops its handle: the browser frees a dropped handle at some garbage
    /// collection, and the chat must not vanish with it.
    static MOUNTS: std::cell::RefCell<std::collections::HashMap<u32, Box<dyn std::any::Any>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
    static NEXT_MOUNT: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// A mounted embedded chat: `unmount()` removes it and closes its connection;
/// `setConversation(id)` shows another conversation in its place.
#[wasm_bindgen]
pub struct Handle {
    /// Its view in [`MOUNTS`].
    id: u32,
    conversation: ArcRwSignal<i64>,
    element: web_sys::HtmlElement,
}

/// Set on an element while a chat is mounted in it: a second mount() would take the first
/// one's view away and leave its connection open, so it is refused.
const MOUNTED_MARK: &str = "__parleyMounted";

fn is_mounted(element: &web_sys::HtmlElement) -> bool {
    js_sys::Reflect::get(element, &MOUNTED_MARK.into()).is_ok_and(|v| v.is_truthy())
}

fn set_mounted(element: &web_sys::HtmlElement, mounted: bool) {
    let _ = js_sys::Reflect::set(element, &MOUNTED_MARK.into(), &mounted.into());
}

#[wasm_bindgen]
impl Handle {
    pub fn unmount(&mut self) {
        // Dropping the leptos handle unmounts the view and disposes its reactive owner,
        // which drops the cable (closing the socket) and every timer. Taken out of the
        // map first: the drop must not run while the map is borrowed.
        let view = MOUNTS.with(|m| m.borrow_mut().remove(&self.id));
        if view.is_some() {
            drop(view);
            set_mounted(&self.element, false);
        }
    }

    fn is_live(&self) -> bool {
        MOUNTS.with(|m| m.borrow().contains_key(&self.id))
    }

    /// Switches the chat to another conversation of the same account, without remounting:
    /// the old conversation's connection closes, its drafts stay saved for when it returns.
    #[wasm_bindgen(js_name = setConversation)]
    pub fn set_conversation(&self, conversation_id: f64) -> Result<(), JsError> {
        if !self.is_live() {
            return Err(JsError::new(
                "Parley setConversation(): the chat is unmounted",
            ));
        }
        if !(conversation_id.is_finite() && conversation_id.fract() == 0.0 && conversation_id > 0.0)
        {
            return Err(JsError::new(
                "Parley setConversation(): the id must be a positive whole number",
            ));
        }
        let id = conversation_id as i64;
        if self.conversation.get_untracked() != id {
            self.conversation.set(id);
        }
        Ok(())
    }

    /// The conversation shown.
    #[wasm_bindgen(getter, js_name = conversationId)]
    pub fn conversation_id(&self) -> f64 {
        self.conversation.get_untracked() as f64
    }
}

/// Mounts one conversation into `element`, inside the element's (open) shadow root, with
/// Parley's stylesheet there: the host's CSS does not reach Parley and Parley's does not
/// reach the host. `config`: `{baseUrl, token, accountId, conversationId, theme?, locale?,
/// onTelemetry?, onMessageSent?, onMessageFailed?, onUnreadCountChange?}`. Each event is
/// also dispatched on `element` as a bubbling, composed CustomEvent (`parley:telemetry`,
/// `parley:message-sent`, `parley:message-failed`, `parley:unread-count`).
#[wasm_bindgen]
pub fn mount(element: web_sys::HtmlElement, config: JsValue) -> Result<Handle, JsError> {
    // Functions do not survive the JSON round trip of the config: taken out first.
    let on_telemetry = js_sys::Reflect::get(&config, &"onTelemetry".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let callbacks = effects::host_events::HostCallbacks::from_config(&config);
    let config = Config::from_js(&config).map_err(|e| JsError::new(&e.to_string()))?;
    let Some(conversation_id) = config.conversation_id else {
        return Err(JsError::new(
            "Parley mount(): config.conversationId is required",
        ));
    };
    if conversation_id <= 0 {
        return Err(JsError::new(
            "Parley mount(): config.conversationId must be a positive whole number",
        ));
    }
    if is_mounted(&element) {
        return Err(JsError::new(
            "Parley mount(): a chat is already mounted in this element; unmount() it first",
        ));
    }
    let container = shadow_container(&element)?;
    let conversation = ArcRwSignal::new(conversation_id);
    let shown = conversation.clone();
    let host = element.clone();
    let handle = leptos::mount::mount_to(container, move || {
        view! {
            <ui::app::EmbeddedApp
                config=config
                conversation=shown.into()
                on_telemetry=on_telemetry
                callbacks=callbacks
                host=host
            />
        }
    });
    set_mounted(&element, true);
    let id = NEXT_MOUNT.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    MOUNTS.with(|m| m.borrow_mut().insert(id, Box::new(handle)));
    Ok(Handle {
        id,
        conversation,
        element,
    })
}
