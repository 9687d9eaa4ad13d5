//! Where telemetry events go: nowhere by default, to the embedder's `onTelemetry`
//! callback when it passed one to `mount()` (and as `parley:telemetry` DOM events on the
//! element it mounted into), to the console in development or when the page's config says
//! `"telemetry": "console"`. The events themselves are decided in the
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
pub struct Telemetry {
    sink: StoredValue<Sink, LocalStorage>,
    /// The host's element, when embedded: each event is also a `parley:telemetry` DOM
    /// CustomEvent on it (bubbling), for hosts that prefer listening to passing callbacks.
    host: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
}

impl Telemetry {
    /// `setting` is the config's `telemetry` (`"console"`, `"none"`); a callback wins.
    pub fn new(
        setting: Option<&str>,
        callback: Option<js_sys::Function>,
        host: Option<web_sys::HtmlElement>,
    ) -> Telemetry {
        let sink = match (callback, setting) {
            (Some(f), _) => Sink::Callback(f),
            (None, Some("console")) => Sink::Console,
            (None, Some(_)) => Sink::None,
            (None, None) if cfg!(debug_assertions) => Sink::Console,
            (None, None) => Sink::None,
        };
        Telemetry {
            sink: StoredValue::new_local(sink),
            host: StoredValue::new_local(host),
        }
    }

    /// The app's telemetry, or none when no root provided one (a component in a test).
    pub fn from_context() -> Option<Telemetry> {
        use_context::<Telemetry>()
    }

    pub fn emit(&self, event: &TelemetryEvent) {
        let Some(sink) = self.sink.try_get_value() else {
            return;
        };
        let host = self.host.try_get_value().flatten();
        if matches!(sink, Sink::None) && host.is_none() {
            return;
        }
        let Ok(json) = serde_json::to_string(event) else {
            return;
        };
        let value = js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL);
        if let Some(host) = host {
            let init = web_sys::CustomEventInit::new();
            init.set_detail(&value);
            init.set_bubbles(true);
            init.set_composed(true);
            if let Ok(e) = web_sys::CustomEvent::new_with_event_init_dict("parley:telemetry", &init)
            {
                let _ = host.dispatch_event(&e);
            }
        }
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
