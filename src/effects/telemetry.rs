//! Where telemetry events go: nowhere by default, to the embedder's `onTelemetry`
//! callback when it passed one to `mount()`, to the console in development or when the
//! page's config says `"telemetry": "console"`. The events themselves are decided in the
//! core (`parley_core::telemetry`).

use leptos::prelude::*;
use parley_core::telemetry::TelemetryEvent;
use wasm_bindgen::JsValue;

#[derive(Debug, Clone, Default)]
pub enum Sink {
    #[default]
    None,
    Console,
    Callback(js_sys::Function),
}

/// The app's telemetry, provided as context by the app's root.
#[derive(Debug, Clone, Copy)]
pub struct Telemetry(StoredValue<Sink, LocalStorage>);

impl Telemetry {
    /// `setting` is the config's `telemetry` (`"console"`, `"none"`); a callback wins.
    pub fn new(setting: Option<&str>, callback: Option<js_sys::Function>) -> Telemetry {
        let sink = match (callback, setting) {
            (Some(f), _) => Sink::Callback(f),
            (None, Some("console")) => Sink::Console,
            (None, Some(_)) => Sink::None,
            (None, None) if cfg!(debug_assertions) => Sink::Console,
            (None, None) => Sink::None,
        };
        Telemetry(StoredValue::new_local(sink))
    }

    /// The app's telemetry, or none when no root provided one (a component in a test).
    pub fn from_context() -> Option<Telemetry> {
        use_context::<Telemetry>()
    }

    pub fn emit(&self, event: &TelemetryEvent) {
        let Some(sink) = self.0.try_get_value() else {
            return;
        };
        if matches!(sink, Sink::None) {
            return;
        }
        let Ok(json) = serde_json::to_string(event) else {
            return;
        };
        let value = js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL);
        match sink {
            Sink::None => {}
            Sink::Console => web_sys::console::info_2(&"parley telemetry".into(), &value),
            // The embedder's code: a throwing callback must not break the chat.
            Sink::Callback(f) => {
                if let Err(e) = f.call1(&JsValue::NULL, &value) {
                    web_sys::console::warn_2(&"parley: onTelemetry threw".into(), &e);
                }
            }
        }
    }
}
