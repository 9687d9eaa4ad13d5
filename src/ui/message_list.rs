//! The conversation log: a keyed list of rows (one signal each), history loading upward
//! with the visible message kept in place, and auto-scroll only when the agent is already
//! at the bottom. Rows are addressed by key, so virtualization (issue 3) can window the
//! key list without touching the rows.

use leptos::html::Div;
use leptos::prelude::*;

use crate::state::conversation::{ChatState, OlderState};

/// Within this many pixels of the bottom counts as "at the bottom".
const BOTTOM_SLACK_PX: i32 = 48;
/// Start loading older history this close to the top.
const TOP_TRIGGER_PX: i32 = 160;

#[component]
pub fn MessageList(chat: ChatState) -> impl IntoView {
    let list = NodeRef::<Div>::new();
    let content = NodeRef::<Div>::new();
    let at_bottom = StoredValue::new(true);
    let messages = chat.messages;

    let scroll_to_bottom = move || {
        request_animation_frame(move || {
            if let Some(el) = list.get_untracked() {
                el.set_scroll_top(el.scroll_height());
                at_bottom.set_value(true);
            }
        });
    };

    let load_older = move || {
        let Some(el) = list.get_untracked() else {
            return;
        };
        if chat.older.get_untracked() != OlderState::Idle {
            return;
        }
        // Keep the message under the agent's eyes still: remember the distance from the
        // bottom, which does not change when rows are added above.
        let from_bottom = el.scroll_height() - el.scroll_top();
        leptos::task::spawn_local(async move {
            let added = chat.load_older().await;
            if added > 0 {
                request_animation_frame(move || {
                    if let Some(el) = list.get_untracked() {
                        el.set_scroll_top(el.scroll_height() - from_bottom);
                    }
                });
            }
        });
    };

    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let distance = el.scroll_height() - el.scroll_top() - el.client_height();
        at_bottom.set_value(distance <= BOTTOM_SLACK_PX);
        if el.scroll_top() <= TOP_TRIGGER_PX {
            load_older();
        }
    };

    // Open at the bottom.
    scroll_to_bottom();

    // Rows also grow after they are added (an error line under a failed send, an image
    // loading, an edit): stay pinned to the bottom through that when the agent was there.
    let observer = StoredValue::new_local(None::<ResizeWatch>);
    content.on_load(move |el| {
        observer.set_value(ResizeWatch::new(&el, move || {
            if at_bottom.get_value() {
                if let Some(list) = list.get_untracked() {
                    list.set_scroll_top(list.scroll_height());
                }
            }
        }));
    });

    // A message appended at the end: follow it if the agent was at the bottom, or if it
    // is the agent's own send.
    Effect::new(move |previous: Option<u64>| {
        let n = chat.appended.get();
        if previous.is_some() {
            let own_send = messages
                .last_key()
                .and_then(|k| messages.row(&k))
                .is_some_and(|r| r.with_untracked(|r| r.send.is_some()));
            if at_bottom.get_value() || own_send {
                scroll_to_bottom();
            }
        }
        n
    });

    let retry = Callback::new(move |echo_id: String| chat.retry(echo_id));

    view! {
        <div
            class="parley-message-list"
            data-testid="message-list"
            role="log"
            aria-live="polite"
            aria-label="Messages"
            tabindex="0"
            node_ref=list
            on:scroll=on_scroll
        >
            <div class="parley-history-edge">
                {move || match chat.older.get() {
                    OlderState::Loading => view! {
                        <span class="parley-muted" role="status">"Loading older messages…"</span>
                    }.into_any(),
                    OlderState::Exhausted => view! {
                        <span class="parley-muted">"Start of the conversation"</span>
                    }.into_any(),
                    OlderState::Failed(msg) => view! {
                        <span class="parley-inline-error" role="alert">
                            {msg}
                            " "
                            <button type="button" class="parley-link-button" on:click=move |_| {
                                chat.older.set(OlderState::Idle);
                                load_older();
                            }>"Try again"</button>
                        </span>
                    }.into_any(),
                    OlderState::Idle => view! {
                        <button type="button" class="parley-link-button" on:click=move |_| load_older()>
                            "Load older messages"
                        </button>
                    }.into_any(),
                }}
            </div>
            <div class="parley-log-content" node_ref=content>
            <Show when=move || messages.order.with(Vec::is_empty)>
                <p class="parley-empty-log">"No messages yet. Say hello!"</p>
            </Show>
            <For
                each=move || messages.order.get()
                key=|key| key.clone()
                children=move |key| {
                    messages
                        .row(&key)
                        .map(|row| view! { <crate::ui::message_item::MessageItem row=row on_retry=retry/> })
                }
            />
            </div>
        </div>
    }
}

/// A `ResizeObserver` on one element, disconnected when dropped.
struct ResizeWatch {
    observer: web_sys::ResizeObserver,
    _callback: wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Array)>,
}

impl ResizeWatch {
    fn new(el: &web_sys::Element, f: impl Fn() + 'static) -> Option<ResizeWatch> {
        use wasm_bindgen::JsCast;
        let callback =
            wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(move |_| f());
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        observer.observe(el);
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
