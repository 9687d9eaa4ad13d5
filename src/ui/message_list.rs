//! The conversation log, virtualized: whatever the length of the history, the DOM holds
//! only the rows near the viewport (at most [`MAX_ROWS`]) between two spacers that stand
//! in for the rest. Rows are measured as they render; unmeasured rows count at an estimate.
//!
//! What the agent reads stays still: after anything that moves rows (a row measured taller
//! than its estimate, the window swapping rows, a page of history landing above), the
//! message at the top of the view is put back to the pixel, before the browser paints.
//! The browser's own scroll anchoring cannot be trusted with this: it does nothing at
//! scroll position 0, exactly where history loads from. At the bottom, the log follows new
//! messages; scrolled up, it counts them in a "new messages" pill instead.

use std::collections::HashMap;

use leptos::html::Div;
use leptos::prelude::*;
use parley_core::timeline::Item;
use parley_core::viewport::{Anchor, Layout};
use wasm_bindgen::JsCast;

use crate::effects::clock::local_day;
use crate::effects::resize::ResizeWatch;
use crate::i18n::{t, t_count};
use crate::state::conversation::{ChatState, OlderState};
use crate::ui::day_separator::DaySeparator;
use crate::ui::log_focus::LogFocus;
use crate::ui::message_item::MessageItem;
use crate::ui::unread_divider::UnreadDivider;

/// Within this many pixels of the bottom counts as "at the bottom".
const BOTTOM_SLACK_PX: f64 = 48.0;
/// Start loading older history this close to the top.
const TOP_TRIGGER_PX: f64 = 600.0;
/// Rendered beyond the viewport on each side, so a fast scroll rarely shows a gap.
const OVERSCAN_PX: f64 = 800.0;
/// The most rows in the DOM at once, however small they are.
pub const MAX_ROWS: usize = 120;

/// Height of a row not measured yet.
fn estimate(item: &Item) -> f64 {
    match item {
        Item::Day { .. } => 44.0,
        Item::Unread { .. } => 40.0,
        Item::Message {
            continued: true, ..
        } => 48.0,
        Item::Message { .. } => 76.0,
    }
}

/// The `<For>` key: a message that joins or leaves a group is rendered anew.
fn row_key(item: &Item) -> String {
    match item {
        Item::Message {
            key,
            continued: true,
        } => format!("{key}+"),
        other => other.key(),
    }
}

/// Where the log opens: a little above the unread divider when the unread part does not
/// fit on one screen, else at the bottom.
fn opening_top(layout: &Layout, items: &[Item], viewport: f64) -> f64 {
    let bottom = (layout.total() - viewport).max(0.0);
    items
        .iter()
        .position(|i| matches!(i, Item::Unread { .. }))
        .map(|i| layout.top(i) - 8.0)
        .filter(|&top| top < bottom)
        .unwrap_or(bottom)
        .max(0.0)
}

/// The rows in the DOM now.
fn rows_of(content: &web_sys::HtmlDivElement) -> Vec<web_sys::Element> {
    let Ok(rows) = content.query_selector_all(".parley-row") else {
        return Vec::new();
    };
    (0..rows.length())
        .filter_map(|i| rows.item(i)?.dyn_into::<web_sys::Element>().ok())
        .collect()
}

/// The first message row visible in `list`: its key and its top relative to the list's.
fn first_message_on_screen(list: &web_sys::HtmlDivElement) -> Option<(String, f64)> {
    let list_top = list.get_bounding_client_rect().top();
    let rows = list.query_selector_all(".parley-row").ok()?;
    (0..rows.length())
        .filter_map(|i| rows.item(i)?.dyn_into::<web_sys::Element>().ok())
        .filter_map(|row| Some((row.get_attribute("data-key")?, row)))
        .filter(|(key, _)| is_message_key(key))
        .map(|(key, row)| (key, row.get_bounding_client_rect()))
        .find(|(_, rect)| rect.bottom() > list_top)
        .map(|(key, rect)| (key, rect.top() - list_top))
}

/// Where the row `key` is, relative to the list's top, if it is rendered.
fn row_on_screen(list: &web_sys::HtmlDivElement, key: &str) -> Option<f64> {
    let row = list
        .query_selector(&format!(".parley-row[data-key=\"{key}\"]"))
        .ok()??;
    Some(row.get_bounding_client_rect().top() - list.get_bounding_client_rect().top())
}

/// Messages anchor the reading position; separators and the divider move with content.
fn is_message_key(key: &str) -> bool {
    key.starts_with("m:") || key.starts_with("e:")
}

/// The message at the top of the view, where it was on screen, and the scroll position
/// it was seen at.
#[derive(Debug, Clone)]
struct KeptRow {
    key: String,
    y: f64,
    scroll_top: i32,
}

#[component]
pub fn MessageList(chat: ChatState) -> impl IntoView {
    let messages = chat.messages;
    let list = NodeRef::<Div>::new();
    let content = NodeRef::<Div>::new();
    let top_spacer = NodeRef::<Div>::new();
    let bottom_spacer = NodeRef::<Div>::new();

    // The divider stays where the unread part started when the agent opened the
    // conversation, however much is read since.
    let unread_after = Memo::new(move |_| {
        chat.conversation
            .with(|c| c.as_ref().map(|c| c.agent_last_seen_at))
            .filter(|t| *t > 0)
    });
    let items = Memo::new(move |_| {
        messages.order.track();
        messages.timeline(local_day, unread_after.get())
    });
    let keys =
        Memo::new(move |_| items.with(|items| items.iter().map(Item::key).collect::<Vec<_>>()));

    let heights = StoredValue::new(HashMap::<String, f64>::new());
    let measured = RwSignal::new(0_u64);
    let layout =
        Memo::new(move |_| {
            measured.track();
            items.with(|items| {
                keys.with(|keys| {
                    heights.with_value(|h| {
                        Layout::new(items.iter().zip(keys).map(|(item, key)| {
                            h.get(key).copied().unwrap_or_else(|| estimate(item))
                        }))
                    })
                })
            })
        });

    // Where the log is scrolled, relative to the first row (the history edge sits above).
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport = RwSignal::new(800.0_f64);
    let at_bottom = StoredValue::new(true);
    // The scroll position at the last scroll event or our own last scroll, to tell the
    // agent scrolling up from content growing below.
    let last_scroll_top = StoredValue::new(0_i32);
    let anchor = StoredValue::new(None::<Anchor>);
    let kept_row = StoredValue::new(None::<KeptRow>);
    let new_below = RwSignal::new(0_usize);

    // Until the log is opened (scrolled to where the agent starts reading), the window is
    // the place it will open at, so the first rows rendered are the ones shown: no frame
    // is spent rendering the top of the history first.
    let opened = RwSignal::new(false);
    let window = Memo::new(move |_| {
        layout.with(|l| {
            let top = if opened.get() {
                scroll_top.get()
            } else {
                items.with(|items| opening_top(l, items, viewport.get()))
            };
            l.window(top, viewport.get(), OVERSCAN_PX, MAX_ROWS)
        })
    });
    let visible = Memo::new(move |_| {
        let rows = window.with(|w| w.rows.clone());
        items.with(|items| items.get(rows).map(<[Item]>::to_vec).unwrap_or_default())
    });

    let content_offset = move || {
        content
            .get_untracked()
            .map_or(0.0, |c| f64::from(c.offset_top()))
    };

    // Scroll position and viewport into the signals the window is computed from.
    let sync_scroll = move |el: &web_sys::HtmlDivElement| {
        let top = f64::from(el.scroll_top()) - content_offset();
        let height = f64::from(el.client_height());
        if at_bottom.get_value() {
            new_below.set(0);
        }
        if (scroll_top.get_untracked() - top).abs() >= 1.0 {
            scroll_top.set(top.max(0.0));
        }
        if (viewport.get_untracked() - height).abs() >= 1.0 {
            viewport.set(height);
        }
        top
    };

    // Rows report their height; the layout follows, and the window with it.
    let record_heights = move |rows: Vec<web_sys::Element>| {
        let mut changed = false;
        heights.update_value(|h| {
            for el in rows {
                let Some(key) = el.get_attribute("data-key") else {
                    continue;
                };
                let height = el.get_bounding_client_rect().height();
                if height > 0.0 && h.get(&key).is_none_or(|old| (old - height).abs() >= 0.5) {
                    h.insert(key, height);
                    changed = true;
                }
            }
        });
        if changed {
            measured.update(|n| *n += 1);
        }
    };

    // Keeps the log where the agent left it, after anything that moves rows: a row
    // measured, rows swapped by the window, history landing above, an image loading.
    // At the bottom it stays at the bottom. Elsewhere the message that was at the top of
    // the view is put back to the pixel (or, when it is no longer rendered, near it by the
    // layout; the next settle, once it renders, finishes the job). A scroll by the agent
    // (the scroll position moved since the last settle) is not undone: it sets the new
    // place to keep. Then the signals follow, and the window with them.
    // Here and in every frame callback below: the list may be gone by the time a frame or a
    // resize runs (the host unmounted the chat meanwhile), and its refs with it; reading a
    // disposed ref panics, so a callback that finds it gone does nothing.
    let settle = move || {
        let Some(el) = list.try_get_untracked().flatten() else {
            return;
        };
        // Every rendered row is measured now, not a frame later: a row that enters and
        // leaves the window between two frames would otherwise keep its estimate, and the
        // window could flip between two positions forever.
        if let Some(content) = content.get_untracked() {
            record_heights(rows_of(&content));
        }
        if at_bottom.get_value() {
            el.set_scroll_top(el.scroll_height());
        } else if let Some(mut kept) = kept_row.get_value() {
            if kept.scroll_top == el.scroll_top() {
                match row_on_screen(&el, &kept.key) {
                    Some(now) if (now - kept.y).abs() >= 0.5 => {
                        el.set_scroll_top(el.scroll_top() + (now - kept.y).round() as i32);
                    }
                    Some(_) => {}
                    None => {
                        let target = anchor.with_value(|a| {
                            a.as_ref().and_then(|a| {
                                layout
                                    .with_untracked(|l| keys.with_untracked(|k| a.scroll_top(l, k)))
                            })
                        });
                        if let Some(target) = target {
                            el.set_scroll_top((target + content_offset()).round() as i32);
                            // Still the same message to keep, from the new position.
                            kept.scroll_top = el.scroll_top();
                            kept_row.set_value(Some(kept));
                            sync_scroll(&el);
                            return;
                        }
                    }
                }
            }
        }
        let top = sync_scroll(&el);
        last_scroll_top.set_value(el.scroll_top());
        anchor
            .set_value(layout.with_untracked(|l| {
                keys.with_untracked(|k| Anchor::at(l, k, top, is_message_key))
            }));
        kept_row.set_value(first_message_on_screen(&el).map(|(key, y)| KeptRow {
            key,
            y,
            scroll_top: el.scroll_top(),
        }));
    };

    let scroll_to_bottom = move || {
        request_animation_frame(move || {
            if let Some(el) = list.try_get_untracked().flatten() {
                at_bottom.set_value(true);
                chat.set_at_latest(at_bottom.get_value());
                new_below.set(0);
                el.set_scroll_top(el.scroll_height());
                settle();
            }
        });
    };

    let load_older = move || {
        if chat.older.get_untracked() != OlderState::Idle {
            return;
        }
        chat.spawn(async move {
            if chat.load_older().await > 0 {
                request_animation_frame(settle);
            }
        });
    };

    let on_scroll = move |_| {
        if let Some(el) = list.get_untracked() {
            // Only the agent scrolling up unpins the log from the bottom. Content growing
            // below (a message landing between our scroll to the bottom and the browser's
            // scroll event for it) also makes a distance, and must not count as leaving.
            let top = el.scroll_top();
            let moved_up = top < last_scroll_top.get_value() - 1;
            let distance = el.scroll_height() - top - el.client_height();
            let near_bottom = f64::from(distance) <= BOTTOM_SLACK_PX;
            at_bottom.set_value(near_bottom || (at_bottom.get_value() && !moved_up));
            chat.set_at_latest(at_bottom.get_value());
            last_scroll_top.set_value(top);
        }
        settle();
        if scroll_top.get_untracked() <= TOP_TRIGGER_PX {
            load_older();
        }
    };

    // Focus on a row's control survives the rows moving as the window changes.
    let log_focus = LogFocus::default();
    Effect::new(move |_| {
        visible.track();
        if let Some(el) = list.get_untracked() {
            log_focus.rows_changed(&el);
        }
    });

    // A row that changes size later (an image loads, an edit) reports it.
    let rows_watch = StoredValue::new_local(None::<ResizeWatch>);
    let on_rows_resized = move |entries: Vec<web_sys::Element>| record_heights(entries);
    // After each change of the rendered rows: watch exactly the rows in the DOM.
    Effect::new(move |_| {
        visible.track();
        request_animation_frame(move || {
            let Some(content) = content.try_get_untracked().flatten() else {
                return;
            };
            if rows_watch.with_value(Option::is_none) {
                rows_watch.set_value(ResizeWatch::each(on_rows_resized));
            }
            rows_watch.with_value(|w| {
                if let Some(w) = w {
                    w.watch_only(&content.query_selector_all(".parley-row").ok());
                }
            });
        });
    });

    // Anything that moves rows changes the size of the content or of a spacer (the window
    // moving trades rows for spacer, a row measured changes the spacer above the window).
    // ResizeObserver runs after layout and before paint: a correction never shows.
    let content_watch = StoredValue::new_local(None::<ResizeWatch>);
    content.on_load(move |el| {
        let watched: Vec<web_sys::Element> = [
            Some(el.into()),
            top_spacer.get_untracked().map(Into::into),
            bottom_spacer.get_untracked().map(Into::into),
        ]
        .into_iter()
        .flatten()
        .collect();
        content_watch.set_value(ResizeWatch::all(&watched, settle));
    });
    let list_watch = StoredValue::new_local(None::<ResizeWatch>);
    list.on_load(move |el| {
        list_watch.set_value(ResizeWatch::one(&el, settle));
    });

    // Open at the bottom, or at the unread divider when it is above the first screen: in
    // the first frame after the rows are in, with the window already there.
    Effect::new(move |_| {
        if opened.get_untracked() || items.with(Vec::is_empty) {
            return;
        }
        request_animation_frame(move || {
            let Some(el) = list.try_get_untracked().flatten() else {
                return;
            };
            let height = f64::from(el.client_height());
            let (top, total) = layout.with_untracked(|l| {
                items.with_untracked(|items| (opening_top(l, items, height), l.total()))
            });
            if total - top > height + BOTTOM_SLACK_PX {
                at_bottom.set_value(false);
                chat.set_at_latest(at_bottom.get_value());
                el.set_scroll_top((top + content_offset()) as i32);
            } else {
                at_bottom.set_value(true);
                chat.set_at_latest(at_bottom.get_value());
                el.set_scroll_top(el.scroll_height());
            }
            kept_row.set_value(None);
            opened.set(true);
            settle();
        });
    });

    // A quote was clicked: bring the original into view, a third down the screen, and
    // flash it so the eye finds it.
    Effect::new(move |_| {
        let Some(id) = chat.jump_to.get() else {
            return;
        };
        chat.jump_to.set(None);
        let target = messages.key_of_id(id).and_then(|key| {
            let i = keys.with_untracked(|k| k.iter().position(|k| *k == key.0))?;
            Some((key.0, layout.with_untracked(|l| l.top(i))))
        });
        let Some((key, top)) = target else {
            chat.notice.set(Some(t("log.original_further_back").into()));
            return;
        };
        let Some(el) = list.get_untracked() else {
            return;
        };
        at_bottom.set_value(false);
        chat.set_at_latest(at_bottom.get_value());
        kept_row.set_value(None);
        let y = top + content_offset() - f64::from(el.client_height()) / 3.0;
        el.set_scroll_top(y.max(0.0) as i32);
        settle();
        request_animation_frame(move || {
            let Some(el) = list.try_get_untracked().flatten() else {
                return;
            };
            let selector = format!(".parley-row[data-key=\"{key}\"]");
            if let Ok(Some(row)) = el.query_selector(&selector) {
                let _ = row.class_list().add_1("parley-row-flash");
                set_timeout(
                    move || {
                        let _ = row.class_list().remove_1("parley-row-flash");
                    },
                    std::time::Duration::from_millis(1500),
                );
            }
        });
    });

    // A message appended at the end: follow it if the agent was at the bottom or sent it;
    // otherwise count it in the pill.
    Effect::new(move |previous: Option<u64>| {
        let n = chat.appended.get();
        if previous.is_some() {
            let last = messages.last_key().and_then(|k| messages.row(&k));
            let own_send = last.is_some_and(|r| r.with_untracked(|r| r.send.is_some()));
            if at_bottom.get_value() || own_send {
                scroll_to_bottom();
            } else {
                new_below.update(|n| *n += 1);
            }
        }
        n
    });

    let retry = Callback::new(move |echo_id: String| chat.retry(echo_id));
    let discard = Callback::new(move |echo_id: String| chat.discard(echo_id));
    let px = |v: f64| format!("{v:.0}px");

    view! {
        <div class="parley-log-frame">
            <div
                class="parley-message-list"
                data-testid="message-list"
                // Set once the log has been put where the agent starts reading (the bottom,
                // or the unread divider): until then the app moves the scroll position itself.
                data-opened=move || opened.get().then_some("true")
                // Whether the agent is reading the newest messages (arriving ones count as read).
                data-at-latest=move || chat.at_latest.get().then_some("true")
                role="log"
                // Rows enter and leave the DOM as the agent scrolls: that must not be read
                // out. New incoming messages are announced by the live region below.
                aria-live="off"
                aria-label=t("log.label")
                tabindex="0"
                node_ref=list
                on:scroll=on_scroll
                on:focusin=move |ev| log_focus.focus_in(&ev)
                on:focusout=move |ev| log_focus.focus_out(&ev)
            >
                <HistoryEdge chat=chat load_older=load_older/>
                <div class="parley-log-content" node_ref=content>
                    <Show when=move || items.with(Vec::is_empty)>
                        <p class="parley-empty-log">{t("log.empty")}</p>
                    </Show>
                    <div class="parley-spacer" aria-hidden="true" node_ref=top_spacer style:height=move || px(window.with(|w| w.pad_top))></div>
                    <For
                        each=move || visible.get()
                        key=row_key
                        children=move |item| {
                            let key = item.key();
                            let row = match item {
                                Item::Day { at, .. } => view! { <DaySeparator at=at/> }.into_any(),
                                Item::Unread { count } => view! { <UnreadDivider count=count/> }.into_any(),
                                Item::Message { key, continued } => messages
                                    .row(&parley_core::store::RowKey(key))
                                    .map(|row| view! { <MessageItem row=row continued=continued on_retry=retry on_discard=discard chat=chat/> })
                                    .into_any(),
                            };
                            view! { <div class="parley-row" data-key=key>{row}</div> }
                        }
                    />
                    <div class="parley-spacer" aria-hidden="true" node_ref=bottom_spacer style:height=move || px(window.with(|w| w.pad_bottom))></div>
                </div>
            </div>
            <Show when=move || { new_below.get() != 0 }>
                <button type="button" class="parley-new-pill" data-testid="new-messages-pill" on:click=move |_| scroll_to_bottom()>
                    {move || t_count("log.new_messages", new_below.get(), &[])}
                    <span aria-hidden="true">" ↓"</span>
                </button>
            </Show>
            <Announcer chat=chat/>
        </div>
    }
}

/// Above the first row: loading older history, its failure, or the start.
#[component]
fn HistoryEdge(
    chat: ChatState,
    load_older: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="parley-history-edge">
            {move || match chat.older.get() {
                OlderState::Loading => view! {
                    <span class="parley-muted" role="status">{t("log.loading_older")}</span>
                }.into_any(),
                OlderState::Exhausted => view! {
                    <span class="parley-muted">{t("log.start")}</span>
                }.into_any(),
                OlderState::Failed(msg) => view! {
                    <span class="parley-inline-error" role="alert">
                        {msg}
                        " "
                        <button type="button" class="parley-link-button" on:click=move |_| {
                            chat.older.set(OlderState::Idle);
                            load_older();
                        }>{t("common.try_again")}</button>
                    </span>
                }.into_any(),
                OlderState::Idle => view! {
                    <button type="button" class="parley-link-button" on:click=move |_| load_older()>
                        {t("log.load_older")}
                    </button>
                }.into_any(),
            }}
        </div>
    }
}

/// A polite live region: one line per incoming message, for screen readers.
#[component]
fn Announcer(chat: ChatState) -> impl IntoView {
    view! {
        <div class="parley-visually-hidden" aria-live="polite" data-testid="announcer">
            {move || chat.announcement.get()}
        </div>
    }
}
