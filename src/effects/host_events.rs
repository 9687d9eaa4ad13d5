//! What an embedding page hears from its chat: a message sent, a message failed, the
//! unread count changed. Each is a `CustomEvent` dispatched on the element the host mounted
//! Parley into (bubbling and composed, so a listener on any ancestor hears it) and a call
//! of the matching config callback when the host passed one. Details carry ids and counts,
//! never message text.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// The embedder's callbacks, as `mount()` found them in its config.
#[derive(Debug, Clone, Default)]
pub struct HostCallbacks {
    pub on_message_sent: Option<js_sys::Function>,
    pub on_message_failed: Option<js_sys::Function>,
    pub on_unread_count_change: Option<js_sys::Function>,
}

impl HostCallbacks {
    /// The callbacks in an embedder's config object (`onMessageSent`, ...); anything that
    /// is not a function is ignored.
    pub fn from_config(config: &JsValue) -> HostCallbacks {
        let function = |name: &str| {
            use wasm_bindgen::JsCast;
            js_sys::Reflect::get(config, &name.into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        };
        HostCallbacks {
            on_message_sent: function("onMessageSent"),
            on_message_failed: function("onMessageFailed"),
            on_unread_count_change: function("onUnreadCountChange"),
        }
    }
}

/// The host's element and callbacks, provided as context by the embedded app's root.
#[derive(Debug, Clone, Copy)]
pub struct HostEvents {
    host: StoredValue<web_sys::HtmlElement, LocalStorage>,
    callbacks: StoredValue<HostCallbacks, LocalStorage>,
}

impl HostEvents {
    pub fn new(host: web_sys::HtmlElement, callbacks: HostCallbacks) -> HostEvents {
        HostEvents {
            host: StoredValue::new_local(host),
            callbacks: StoredValue::new_local(callbacks),
        }
    }

    /// The embedding page's events, or none on Parley's own page.
    pub fn from_context() -> Option<HostEvents> {
        use_context::<HostEvents>()
    }

    /// `parley:message-sent`: the server has the message.
    pub fn message_sent(&self, conversation_id: i64, message_id: i64, echo_id: &str) {
        let detail = object(&[
            ("conversationId", (conversation_id as f64).into()),
            ("messageId", (message_id as f64).into()),
            ("echoId", echo_id.into()),
        ]);
        self.dispatch("parley:message-sent", &detail, |c| &c.on_message_sent);
    }

    /// `parley:message-failed`: the outbox stopped retrying; the agent sees why and can
    /// retry.
    pub fn message_failed(&self, conversation_id: i64, echo_id: &str, reason: &str) {
        let detail = object(&[
            ("conversationId", (conversation_id as f64).into()),
            ("echoId", echo_id.into()),
            ("reason", reason.into()),
        ]);
        self.dispatch("parley:message-failed", &detail, |c| &c.on_message_failed);
    }

    /// `parley:unread-count`: customer messages the agent has not seen yet.
    pub fn unread_count(&self, conversation_id: i64, count: u32) {
        let detail = object(&[
            ("conversationId", (conversation_id as f64).into()),
            ("count", count.into()),
        ]);
        self.dispatch("parley:unread-count", &detail, |c| {
            &c.on_unread_count_change
        });
    }

    fn dispatch(
        &self,
        name: &str,
        detail: &JsValue,
        callback: impl Fn(&HostCallbacks) -> &Option<js_sys::Function>,
    ) {
        if let Some(host) = self.host.try_get_value() {
            let init = web_sys::CustomEventInit::new();
            init.set_detail(detail);
            init.set_bubbles(true);
            init.set_composed(true);
            if let Ok(e) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
                let _ = host.dispatch_event(&e);
            }
        }
        let Some(f) = self
            .callbacks
            .try_with_value(|c| callback(c).clone())
            .flatten()
        else {
            return;
        };
        // The embedder's code: a throwing callback must not break the chat.
        if let Err(e) = f.call1(&JsValue::NULL, detail) {
            web_sys::console::warn_3(
                &"parley: the host's callback threw for".into(),
                &name.into(),
                &e,
            );
        }
    }
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (key, value) in fields {
        let _ = js_sys::Reflect::set(&o, &(*key).into(), value);
    }
    o.into()
}
