//! A WebSocket with its callbacks owned in one place: dropping it closes the socket and
//! detaches every handler, so a stale socket can never call into a newer connection.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

pub enum SocketEvent {
    Open,
    /// A text frame.
    Text(String),
    /// Closed, or failed to open (the browser gives no more detail than the code).
    Closed {
        code: u16,
    },
}

pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens `url` offering `protocols`; events arrive through `on_event`.
    pub fn open(
        url: &str,
        protocols: &[&str],
        on_event: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Socket, String> {
        let list = js_sys::Array::new();
        for p in protocols {
            list.push(&(*p).into());
        }
        let ws = WebSocket::new_with_str_sequence(url, &list).map_err(|e| format!("{e:?}"))?;

        let f = on_event.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| f(SocketEvent::Open));
        let f = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                f(SocketEvent::Text(text));
            }
        });
        let f = on_event;
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            f(SocketEvent::Closed { code: ev.code() })
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    pub fn send(&self, text: &str) -> bool {
        self.ws.send_with_str(text).is_ok()
    }

    /// The subprotocol the server picked ("" before open).
    pub fn protocol(&self) -> String {
        self.ws.protocol()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
