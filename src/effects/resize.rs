//! `ResizeObserver`, owned: dropping a watch disconnects it and frees its callback.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, NodeList, ResizeObserver, ResizeObserverEntry};

pub struct ResizeWatch {
    observer: ResizeObserver,
    _callback: Closure<dyn FnMut(js_sys::Array)>,
}

impl ResizeWatch {
    /// Calls `f` whenever `el` changes size.
    pub fn one(el: &Element, f: impl Fn() + 'static) -> Option<ResizeWatch> {
        Self::all(std::slice::from_ref(el), f)
    }

    /// Calls `f` (once per batch) whenever any of `els` changes size.
    pub fn all(els: &[Element], f: impl Fn() + 'static) -> Option<ResizeWatch> {
        let watch = Self::new(Closure::new(move |_| f()))?;
        for el in els {
            watch.observer.observe(el);
        }
        Some(watch)
    }

    /// Calls `f` with the elements that changed size, among those given to `watch_only`.
    pub fn each(f: impl Fn(Vec<Element>) + 'static) -> Option<ResizeWatch> {
        Self::new(Closure::new(move |entries: js_sys::Array| {
            let targets = entries
                .iter()
                .filter_map(|e| e.dyn_into::<ResizeObserverEntry>().ok())
                .map(|e| e.target())
                .collect();
            f(targets);
        }))
    }

    /// Watches exactly these elements from now on (each is reported once at the start).
    pub fn watch_only(&self, nodes: &Option<NodeList>) {
        self.observer.disconnect();
        let Some(nodes) = nodes else {
            return;
        };
        for i in 0..nodes.length() {
            if let Some(el) = nodes.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                self.observer.observe(&el);
            }
        }
    }

    fn new(callback: Closure<dyn FnMut(js_sys::Array)>) -> Option<ResizeWatch> {
        let observer = ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        Some(ResizeWatch {
            observer,
            _callback: callback,
        })
    }
}

impl Drop for ResizeWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}
