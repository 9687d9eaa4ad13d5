//! Which tabs are alive, by the Web Locks API: each tab holds a lock named after it for as
//! long as it lives (the browser lets go when the tab closes or crashes), so another tab
//! can tell a live owner of an outbox entry from a dead one. A second lock makes restoring
//! (read, pick the orphans, take them over) one tab at a time.
//!
//! `navigator.locks` is missing outside secure contexts: then [`TabLocks::start`] gives
//! `None` and every tab takes every entry, as before.
//!
//! web-sys marks `LockManager` unstable; the two methods needed are bound here.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method)]
    fn request(this: &LockManager, name: &str, callback: &js_sys::Function) -> Promise;

    #[wasm_bindgen(method)]
    fn query(this: &LockManager) -> Promise;
}

#[derive(Clone)]
pub struct TabLocks {
    manager: Rc<LockManager>,
    prefix: String,
    tab_id: String,
}

impl TabLocks {
    /// Take this tab's lock (`<prefix><tab id>`), held until the page goes.
    pub fn start(prefix: &str) -> Option<TabLocks> {
        let navigator = web_sys::window()?.navigator();
        let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
        if locks.is_undefined() || locks.is_null() {
            return None;
        }
        let manager: LockManager = locks.unchecked_into();
        let tab_id = uuid::Uuid::new_v4().to_string();
        // The callback's promise never settles: the lock is held for the page's life.
        let hold = Closure::once_into_js(|_lock: JsValue| Promise::new(&mut |_, _| {}));
        let _ = manager.request(&format!("{prefix}{tab_id}"), hold.unchecked_ref());
        Some(TabLocks {
            manager: Rc::new(manager),
            prefix: prefix.to_owned(),
            tab_id,
        })
    }

    pub fn tab_id(&self) -> &str {
        &self.tab_id
    }

    /// The ids of the tabs alive now (this one included).
    pub async fn live_tabs(&self) -> HashSet<String> {
        let Ok(snapshot) = JsFuture::from(self.manager.query()).await else {
            return HashSet::new();
        };
        let mut live = HashSet::new();
        for key in ["held", "pending"] {
            let Ok(list) = Reflect::get(&snapshot, &JsValue::from_str(key)) else {
                continue;
            };
            for info in Array::from(&list).iter() {
                let name = Reflect::get(&info, &JsValue::from_str("name"))
                    .ok()
                    .and_then(|n| n.as_string());
                if let Some(id) = name.and_then(|n| n.strip_prefix(&self.prefix).map(str::to_owned))
                {
                    live.insert(id);
                }
            }
        }
        live
    }

    /// Run `f` while holding the exclusive lock `name` (one tab at a time).
    pub async fn exclusive<T: 'static, Fut: Future<Output = T> + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> Fut + 'static,
    ) -> Option<T> {
        let out: Rc<RefCell<Option<T>>> = Rc::default();
        let slot = out.clone();
        let callback = Closure::once_into_js(move |_lock: JsValue| {
            future_to_promise(async move {
                let value = f().await;
                *slot.borrow_mut() = Some(value);
                Ok(JsValue::UNDEFINED)
            })
        });
        let done = self.manager.request(name, callback.unchecked_ref());
        let _ = JsFuture::from(done).await;
        let value = out.borrow_mut().take();
        value
    }
}
