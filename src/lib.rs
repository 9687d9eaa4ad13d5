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

/// A mounted embedded chat; `unmount()` removes it and closes its connection.
#[wasm_bindgen]
pub struct Handle {
    mounted: Option<Box<dyn std::any::Any>>,
}

#[wasm_bindgen]
impl Handle {
    pub fn unmount(&mut self) {
        // Dropping the leptos handle unmounts the view and disposes its reactive owner,
        // which drops the cable (closing the socket) and every timer.
        self.mounted.take();
    }
}

/// Mounts one conversation into `element`. `config`: `{baseUrl, token, accountId,
/// conversationId, onTelemetry?}`; `onTelemetry(event)` receives each telemetry event,
/// which is also dispatched on `element` as a bubbling `parley:telemetry` CustomEvent.
/// All of Parley's styles are scoped under its root (`.parley`).
#[wasm_bindgen]
pub fn mount(element: web_sys::HtmlElement, config: JsValue) -> Result<Handle, JsError> {
    // Functions do not survive the JSON round trip of the config: taken out first.
    let on_telemetry = js_sys::Reflect::get(&config, &"onTelemetry".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let config = Config::from_js(&config).map_err(|e| JsError::new(&e.to_string()))?;
    if config.conversation_id.is_none() {
        return Err(JsError::new(
            "Parley mount(): config.conversationId is required",
        ));
    }
    let host = element.clone();
    let handle = leptos::mount::mount_to(element, move || match on_telemetry {
        Some(f) => {
            view! { <ui::app::EmbeddedApp config=config on_telemetry=f host=host/> }.into_any()
        }
        None => view! { <ui::app::EmbeddedApp config=config host=host/> }.into_any(),
    });
    Ok(Handle {
        mounted: Some(Box::new(handle)),
    })
}
