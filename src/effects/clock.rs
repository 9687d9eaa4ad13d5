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

/// Which `Intl.DateTimeFormat` a label needs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum DateFormat {
    Time,
    DayTime,
    YearDayTime,
    Full,
    Day,
    YearDay,
}

impl DateFormat {
    fn options(self) -> js_sys::Object {
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
        };
        match self {
            DateFormat::Full => {
                set("dateStyle", "full");
                set("timeStyle", "short");
            }
            DateFormat::Day | DateFormat::YearDay => {
                set("weekday", "long");
                set("day", "numeric");
                set("month", "long");
            }
            DateFormat::Time | DateFormat::DayTime | DateFormat::YearDayTime => {
                set("hour", "numeric");
                set("minute", "2-digit");
            }
        }
        if matches!(self, DateFormat::DayTime | DateFormat::YearDayTime) {
            set("day", "numeric");
            set("month", "short");
        }
        if matches!(self, DateFormat::YearDayTime | DateFormat::YearDay) {
            set("year", "numeric");
        }
        options
    }
}

/// Formats `unix_s` with the browser's `Intl` in the mount's locale. The formatters are
/// built once per locale and kind: building one costs far more than using it, and a log
/// formats a time per row.
fn format_date(unix_s: i64, kind: DateFormat) -> String {
    thread_local! {
        static FORMATS: std::cell::RefCell<std::collections::HashMap<(String, DateFormat), js_sys::Function>> =
            Default::default();
    }
    let tag = crate::i18n::locale().tag;
    let format = FORMATS.with(|cache| {
        cache
            .borrow_mut()
            .entry((tag.clone(), kind))
            .or_insert_with(|| {
                js_sys::Intl::DateTimeFormat::new(&crate::i18n::locales(&tag), &kind.options())
                    .format()
            })
            .clone()
    });
    format
        .call1(
            &wasm_bindgen::JsValue::NULL,
            &wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0),
        )
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The time today, with the day earlier this year, and the year before, in the agent's
/// time zone and locale ("14:05", "24 nov., 14:05", "2:05 PM"): a history spans days, and
/// a bare time would mislead.
pub fn local_time_label(unix_s: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    let now = js_sys::Date::new_0();
    let same_year = date.get_full_year() == now.get_full_year();
    let kind = if local_day(unix_s) == local_day(now_s()) {
        DateFormat::Time
    } else if same_year {
        DateFormat::DayTime
    } else {
        DateFormat::YearDayTime
    };
    format_date(unix_s, kind)
}

/// A full local date and time for the `title` of a timestamp.
pub fn local_datetime_label(unix_s: i64) -> String {
    format_date(unix_s, DateFormat::Full)
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

/// "Today", "Yesterday" (from the catalog), or the date in the agent's locale ("Monday,
/// 24 November", with the year when it is not this year).
pub fn day_label(unix_s: i64) -> String {
    let today = local_day(now_s());
    match today - local_day(unix_s) {
        0 => return crate::i18n::t("day.today").into(),
        1 => return crate::i18n::t("day.yesterday").into(),
        _ => {}
    }
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    if date.get_full_year() != js_sys::Date::new_0().get_full_year() {
        format_date(unix_s, DateFormat::YearDay)
    } else {
        format_date(unix_s, DateFormat::Day)
    }
}

/// The browser builds its date and number formatters (ICU data) on first use, 10 to 20 ms
/// of one task. Paid here, in a task of its own while the first requests are in flight, it
/// is not paid by the first paint of a conversation. Once per page.
pub fn warm_up_formats() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    leptos::prelude::set_timeout(
        || {
            let now = now_s();
            let _ = (
                day_label(now - 3 * 86_400),
                local_datetime_label(now),
                local_time_label(now),
                crate::i18n::number(0),
            );
        },
        std::time::Duration::ZERO,
    );
}
