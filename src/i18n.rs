//! The agent's language at the edge: which locale a mount uses (its config, else the
//! browser's languages, else English), the catalog texts in it, and the browser's `Intl`
//! for what depends on the language's rules (plural categories, digits, dates).
//!
//! The locale is fixed for the life of a mount, so components read it once when they
//! render. It is provided as context at each root (two embedded chats on one page may
//! speak different languages); code that runs outside any component (an error built in a
//! spawned task) reads the locale of the latest mount.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::{provide_context, use_context};
use parley_core::i18n::{self as catalog, Locale};
use wasm_bindgen::JsValue;

thread_local! {
    static LATEST: RefCell<Locale> = RefCell::new(Locale::english());
    static PLURAL_RULES: RefCell<HashMap<String, js_sys::Intl::PluralRules>> = RefCell::new(HashMap::new());
    static NUMBER_FORMATS: RefCell<HashMap<String, js_sys::Intl::NumberFormat>> = RefCell::new(HashMap::new());
    static DECIMAL_FORMATS: RefCell<HashMap<(String, u8), js_sys::Intl::NumberFormat>> = RefCell::new(HashMap::new());
}

/// The config's locale when it names one (an unknown one means English: the embedder
/// asked for it, the browser's choice would surprise them), else the browser's.
pub fn resolve(configured: Option<&str>) -> Locale {
    match configured.map(str::trim).filter(|t| !t.is_empty()) {
        Some(tag) => Locale::negotiate([tag]),
        None => {
            let languages: Vec<String> = web_sys::window()
                .map(|w| {
                    w.navigator()
                        .languages()
                        .iter()
                        .filter_map(|v| v.as_string())
                        .collect()
                })
                .unwrap_or_default();
            Locale::negotiate(languages.iter().map(String::as_str))
        }
    }
}

/// Makes `locale` the language of the component tree being built (and of code outside it).
pub fn provide(locale: Locale) {
    LATEST.with(|l| *l.borrow_mut() = locale.clone());
    provide_context(locale);
}

/// The locale of the surrounding mount.
pub fn locale() -> Locale {
    use_context::<Locale>().unwrap_or_else(|| LATEST.with(|l| l.borrow().clone()))
}

/// The catalog text of `key`.
pub fn t(key: &str) -> &'static str {
    catalog::text(locale().lang, key)
}

/// The catalog text of `key` with its `{name}` placeholders filled.
pub fn t_args(key: &str, args: &[(&str, &str)]) -> String {
    let locale = locale();
    fill(&locale, catalog::text(locale.lang, key), args)
}

/// In a right-to-left language the values (names, e-mails, error texts, mostly Latin)
/// are isolated so the sentence around them keeps its order. Left-to-right text is left
/// as it is: there the values are mostly of the same direction, and the copy a person
/// selects stays free of invisible characters.
fn fill(locale: &Locale, template: &str, args: &[(&str, &str)]) -> String {
    if locale.lang.dir() == "rtl" {
        catalog::fill_isolated(template, args)
    } else {
        catalog::fill(template, args)
    }
}

/// The catalog text of count `key` in the plural form `Intl.PluralRules` picks for `n`,
/// `{count}` written with the locale's digits, other placeholders from `args`.
pub fn t_count(key: &str, n: usize, args: &[(&str, &str)]) -> String {
    let locale = locale();
    let category = plural_category(&locale.tag, n as f64);
    // The count first, with its digits, then the other values (isolated where needed).
    let text = catalog::fill(
        catalog::plural(locale.lang, key, &category),
        &[("count", &number(n))],
    );
    fill(&locale, &text, args)
}

/// `n` with the locale's digits and grouping ("150,000", "150 000", "١٥٠٬٠٠٠").
pub fn number(n: usize) -> String {
    let tag = locale().tag;
    NUMBER_FORMATS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let format = cache.entry(tag.clone()).or_insert_with(|| {
            js_sys::Intl::NumberFormat::new(&locales(&tag), &js_sys::Object::new())
        });
        format
            .format()
            .call1(&JsValue::NULL, &JsValue::from_f64(n as f64))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| n.to_string())
    })
}

/// A file's size in the locale's units and digits ("812 B", "12 KB", "3.4 MB"; "3,4 Mo"
/// in French), powers of 1024 as file managers show them.
pub fn file_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    let (value, fraction, template) = if b < 1024.0 {
        (b, 0, t("size.bytes"))
    } else if b < 1024.0 * 1024.0 {
        (b / 1024.0, 0, t("size.kb"))
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        (b / (1024.0 * 1024.0), 1, t("size.mb"))
    } else {
        (b / (1024.0 * 1024.0 * 1024.0), 1, t("size.gb"))
    };
    catalog::fill(template, &[("n", &decimal(value, fraction))])
}

/// `value` with the locale's digits and exactly `fraction` decimals.
fn decimal(value: f64, fraction: u8) -> String {
    let tag = locale().tag;
    DECIMAL_FORMATS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let format = cache.entry((tag.clone(), fraction)).or_insert_with(|| {
            let options = js_sys::Object::new();
            // As many decimals always ("41.0 MB"): sizes in a list line up.
            for digits in ["minimumFractionDigits", "maximumFractionDigits"] {
                let _ = js_sys::Reflect::set(&options, &digits.into(), &fraction.into());
            }
            js_sys::Intl::NumberFormat::new(&locales(&tag), &options)
        });
        format
            .format()
            .call1(&JsValue::NULL, &JsValue::from_f64(value))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| value.to_string())
    })
}

fn plural_category(tag: &str, n: f64) -> String {
    PLURAL_RULES.with(|cache| {
        let mut cache = cache.borrow_mut();
        let rules = cache.entry(tag.to_owned()).or_insert_with(|| {
            js_sys::Intl::PluralRules::new(&locales(tag), &js_sys::Object::new())
        });
        String::from(rules.select(n))
    })
}

/// `[tag]`, the `locales` argument of the `Intl` constructors.
pub fn locales(tag: &str) -> js_sys::Array {
    js_sys::Array::of1(&JsValue::from_str(tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::i18n::Lang;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn with(tag: &str, f: impl FnOnce()) {
        LATEST.with(|l| *l.borrow_mut() = Locale::negotiate([tag]));
        f();
        LATEST.with(|l| *l.borrow_mut() = Locale::english());
    }

    #[wasm_bindgen_test]
    fn arabic_counts_take_the_six_plural_forms() {
        with("ar", || {
            let forms: Vec<String> = [0, 1, 2, 3, 11, 100]
                .into_iter()
                .map(|n| t_count("log.new_messages", n, &[]))
                .collect();
            for (i, cat) in ["zero", "one", "two", "few", "many", "other"]
                .iter()
                .enumerate()
            {
                let expected = catalog::fill(
                    catalog::plural(Lang::Ar, "log.new_messages", cat),
                    &[("count", &number([0, 1, 2, 3, 11, 100][i]))],
                );
                assert_eq!(forms[i], expected, "{cat}");
            }
            // Six different texts: the rules were not collapsed to one/other.
            let mut distinct = forms.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 6, "{forms:?}");
        });
    }

    #[wasm_bindgen_test]
    fn english_and_french_counts() {
        with("en-US", || {
            assert_eq!(t_count("log.new_messages", 1, &[]), "1 new message");
            assert_eq!(t_count("log.new_messages", 1500, &[]), "1,500 new messages");
        });
        with("fr", || {
            assert_eq!(t_count("log.new_messages", 1, &[]), "1 nouveau message");
            assert_eq!(t("composer.send"), "Envoyer");
        });
    }

    #[wasm_bindgen_test]
    fn file_sizes_in_the_locale_s_units() {
        with("en-US", || {
            assert_eq!(file_size(812), "812 B");
            assert_eq!(file_size(12 * 1024 + 100), "12 KB");
            assert_eq!(file_size(3_565_158), "3.4 MB");
            assert_eq!(file_size(41 * 1024 * 1024), "41.0 MB");
            assert_eq!(file_size(-5), "0 B");
        });
        with("fr", || {
            assert_eq!(file_size(12 * 1024), "12\u{a0}Ko");
            assert_eq!(file_size(3_565_158), "3,4\u{a0}Mo");
        });
        with("ar", || {
            // The digits are Intl's choice for Arabic; the unit is the catalog's.
            let expected = format!("{} ميغابايت", decimal(3.4, 1));
            assert_eq!(file_size(3_565_158), expected);
        });
    }

    #[wasm_bindgen_test]
    fn an_unknown_configured_locale_is_english() {
        assert_eq!(resolve(Some("tlh")).lang, Lang::En);
        assert_eq!(resolve(Some("ar-EG")).lang, Lang::Ar);
    }
}
