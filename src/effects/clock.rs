//! Time and timers: the browser's clock feeds the pure state machines, which only ever see
//! milliseconds.

use std::time::Duration;

use leptos::prelude::{
    set_interval_with_handle, set_timeout_with_handle, IntervalHandle, TimeoutHandle,
};

/// Wall-clock milliseconds since the epoch.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Unix seconds, the unit of Chatwoot's `created_at`.
pub fn now_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// A one-shot timer that is cancelled when dropped, so a component or an effect that owns
/// one never gets a callback after it is gone.
pub struct Timer(Option<TimeoutHandle>);

impl Timer {
    pub fn after(delay_ms: u64, f: impl FnOnce() + 'static) -> Timer {
        Timer(set_timeout_with_handle(f, Duration::from_millis(delay_ms)).ok())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.clear();
        }
    }
}

/// A repeating timer, cancelled when dropped.
pub struct Interval(Option<IntervalHandle>);

impl Interval {
    pub fn every(period_ms: u64, f: impl Fn() + 'static) -> Interval {
        Interval(set_interval_with_handle(f, Duration::from_millis(period_ms)).ok())
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.clear();
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "14:05" today, "24 Nov, 14:05" earlier this year, "24 Nov 2025, 14:05" before, in the
/// agent's local time zone: a history spans days, and a bare time would mislead.
pub fn local_time_label(unix_s: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    let now = js_sys::Date::new_0();
    let time = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    let same_year = date.get_full_year() == now.get_full_year();
    if same_year && date.get_month() == now.get_month() && date.get_date() == now.get_date() {
        return time;
    }
    let month = MONTHS[date.get_month() as usize % 12];
    if same_year {
        format!("{} {month}, {time}", date.get_date())
    } else {
        format!(
            "{} {month} {}, {time}",
            date.get_date(),
            date.get_full_year()
        )
    }
}

/// A full local date and time for the `title`/`datetime` of a timestamp.
pub fn local_datetime_label(unix_s: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// ISO 8601 (UTC) for `<time datetime>`.
pub fn iso_datetime(unix_s: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    String::from(date.to_iso_string())
}

/// The calendar day of a timestamp in the agent's time zone (days since 1970-01-01 local),
/// for the log's day separators. The offset is the one in force on that day (DST).
pub fn local_day(unix_s: i64) -> i64 {
    let ms = unix_s as f64 * 1000.0;
    let offset_min = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms)).get_timezone_offset();
    ((ms - offset_min * 60_000.0) / 86_400_000.0).floor() as i64
}

/// "Today", "Yesterday", or the date in the agent's locale ("Monday, 24 November", with the
/// year when it is not this year).
pub fn day_label(unix_s: i64) -> String {
    let today = local_day(now_s());
    match today - local_day(unix_s) {
        0 => return "Today".into(),
        1 => return "Yesterday".into(),
        _ => {}
    }
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    };
    set("weekday", "long");
    set("day", "numeric");
    set("month", "long");
    if date.get_full_year() != js_sys::Date::new_0().get_full_year() {
        set("year", "numeric");
    }
    String::from(date.to_locale_date_string("default", &options))
}

/// The browser builds its date formatter (ICU data) on first use, 10 to 20 ms of one task.
/// Paid here, in a task of its own while the first requests are in flight, it is not paid
/// by the first paint of a conversation. Once per page.
pub fn warm_up_date_formats() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    leptos::prelude::set_timeout(
        || {
            let now = now_s();
            let _ = (day_label(now - 3 * 86_400), local_datetime_label(now));
        },
        std::time::Duration::ZERO,
    );
}
