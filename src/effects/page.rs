//! What the page itself says: is the agent looking at it, is the browser online.

use web_sys::VisibilityState;

/// The conversation counts as read only when the agent can see it: the tab is visible and
/// the window has focus (Chatwoot marks read on open and on each message while watching).
pub fn is_watching() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    document.visibility_state() == VisibilityState::Visible && document.has_focus().unwrap_or(false)
}

/// `navigator.onLine`: false means certainly offline; true means maybe online.
pub fn browser_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

/// An event listener on the window or the document, removed when dropped.
pub struct WindowListener {
    target: web_sys::EventTarget,
    event: &'static str,
    callback: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
}

impl WindowListener {
    pub fn on_window(event: &'static str, f: impl Fn() + 'static) -> Option<WindowListener> {
        let target: web_sys::EventTarget = web_sys::window()?.into();
        Self::attach(target, event, f)
    }

    pub fn on_document(event: &'static str, f: impl Fn() + 'static) -> Option<WindowListener> {
        Self::on_document_event(event, move |_| f())
    }

    /// A document listener that reads the event (a key press, say).
    pub fn on_document_event(
        event: &'static str,
        f: impl Fn(web_sys::Event) + 'static,
    ) -> Option<WindowListener> {
        let target: web_sys::EventTarget = web_sys::window()?.document()?.into();
        Self::attach_event(target, event, f)
    }

    fn attach(
        target: web_sys::EventTarget,
        event: &'static str,
        f: impl Fn() + 'static,
    ) -> Option<WindowListener> {
        Self::attach_event(target, event, move |_| f())
    }

    fn attach_event(
        target: web_sys::EventTarget,
        event: &'static str,
        f: impl Fn(web_sys::Event) + 'static,
    ) -> Option<WindowListener> {
        use wasm_bindgen::JsCast;
        let callback = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(f);
        target
            .add_event_listener_with_callback(event, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(WindowListener {
            target,
            event,
            callback,
        })
    }
}

impl Drop for WindowListener {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        let _ = self.target.remove_event_listener_with_callback(
            self.event,
            self.callback.as_ref().unchecked_ref(),
        );
    }
}
