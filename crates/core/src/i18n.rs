//! Message catalogs: every string the agent reads, in English, Arabic and French.
//!
//! The catalogs are JSON files in the repository's `locales/` folder, compiled into the
//! binary (a few kilobytes each, gzipped). A key maps to a text with `{name}`
//! placeholders, or, for a count, to an object of CLDR plural categories (`zero`, `one`,
//! `two`, `few`, `many`, `other`); which category a number takes is the browser's
//! `Intl.PluralRules` decision, made at the edge and passed in here. A key missing from a
//! catalog falls back to English, so a late string is never blank.
//!
//! Everything here is pure and tested natively: that every catalog has every key with the
//! same placeholders, that plurals have the categories their language needs, that the
//! app's source names only keys that exist.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

/// A language Parley has a catalog for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ar,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ar, Lang::Fr];

    /// The primary language subtag.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Fr => "fr",
        }
    }

    /// The writing direction, for `dir` on Parley's root.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::En | Lang::Fr => "ltr",
        }
    }

    fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    /// The plural categories a count text must have in this language (CLDR).
    pub fn plural_categories(self) -> &'static [&'static str] {
        match self {
            Lang::En => &["one", "other"],
            Lang::Fr => &["one", "many", "other"],
            Lang::Ar => &["zero", "one", "two", "few", "many", "other"],
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../../locales/en.json"),
            Lang::Ar => include_str!("../../../locales/ar.json"),
            Lang::Fr => include_str!("../../../locales/fr.json"),
        }
    }

    /// The parsed catalog, parsed once on first use.
    pub fn catalog(self) -> &'static Catalog {
        static EN: OnceLock<Catalog> = OnceLock::new();
        static AR: OnceLock<Catalog> = OnceLock::new();
        static FR: OnceLock<Catalog> = OnceLock::new();
        let cell = match self {
            Lang::En => &EN,
            Lang::Ar => &AR,
            Lang::Fr => &FR,
        };
        // The catalogs are checked by the tests: a parse failure cannot ship.
        cell.get_or_init(|| Catalog::parse(self.source()).unwrap_or_default())
    }
}

/// The locale a mount uses: the catalog's language, and the BCP 47 tag given to `Intl`
/// (the agent's own region, `fr-CA` or `en-GB`, for dates and numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    pub lang: Lang,
    pub tag: String,
}

impl Locale {
    pub fn english() -> Locale {
        Locale {
            lang: Lang::En,
            tag: "en".into(),
        }
    }

    /// The first of `wanted` (the config's locale, else the browser's languages, most
    /// preferred first) whose language has a catalog; English when none has.
    pub fn negotiate<'a>(wanted: impl IntoIterator<Item = &'a str>) -> Locale {
        wanted
            .into_iter()
            .find_map(|tag| {
                let tag = tag.trim();
                let primary = tag.split(['-', '_']).next()?;
                let lang = Lang::from_code(primary)?;
                // `fr_CA` (POSIX style) is not a tag Intl accepts.
                Some(Locale {
                    lang,
                    tag: tag.replace('_', "-"),
                })
            })
            .unwrap_or_else(Locale::english)
    }
}

/// One entry of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Text(String),
    /// CLDR plural category → text.
    Plural(HashMap<String, String>),
}

#[derive(Debug, Clone, Default)]
pub struct Catalog(HashMap<String, Entry>);

impl Catalog {
    /// Read through `serde_json::Value`, which the app links anyway: a derived untagged
    /// enum would add its own deserializer to the bundle.
    pub fn parse(json: &str) -> Result<Catalog, String> {
        let Value::Object(map) = parley_wire::from_str(json).map_err(|e| e.to_string())? else {
            return Err("a catalog is a JSON object".into());
        };
        map.into_iter()
            .map(|(key, value)| {
                let entry = match value {
                    Value::String(t) => Entry::Text(t),
                    Value::Object(forms) => Entry::Plural(
                        forms
                            .into_iter()
                            .map(|(category, text)| match text {
                                Value::String(t) => Ok((category, t)),
                                _ => Err(format!("{key}.{category} is not a string")),
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(format!("{key} is neither a string nor plural forms")),
                };
                Ok((key, entry))
            })
            .collect::<Result<_, _>>()
            .map(Catalog)
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.0.get(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// The text of `key` in `lang`, else in English, else the key itself (visible, and caught
/// by the tests long before).
pub fn text(lang: Lang, key: &str) -> &'static str {
    match entry(lang, key) {
        Some(Entry::Text(t)) => t,
        Some(Entry::Plural(p)) => p.get("other").map_or(key_str(key), String::as_str),
        None => key_str(key),
    }
}

/// The text of count `key` for plural `category` (from `Intl.PluralRules`), falling back
/// to the language's `other`, then to English.
pub fn plural(lang: Lang, key: &str, category: &str) -> &'static str {
    match entry(lang, key) {
        Some(Entry::Plural(p)) => p
            .get(category)
            .or_else(|| p.get("other"))
            .map_or(key_str(key), String::as_str),
        Some(Entry::Text(t)) => t,
        None => key_str(key),
    }
}

fn entry(lang: Lang, key: &str) -> Option<&'static Entry> {
    lang.catalog()
        .get(key)
        .or_else(|| Lang::En.catalog().get(key))
}

fn key_str(key: &str) -> &'static str {
    // A missing key is a bug the tests catch; at run time it shows as itself. Leaking
    // it once per distinct key is bounded by the number of keys in the source.
    Box::leak(key.to_owned().into_boxed_str())
}

/// Replaces each `{name}` in `template` by its value; unknown placeholders stay as they
/// are (a visible mistake rather than a silent one).
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Like [`fill`], each value with letters wrapped in Unicode isolates (FSI … PDI): a Latin
/// name, an e-mail or an error text inside a right-to-left sentence keeps its own order,
/// and the punctuation around it stays where the sentence put it. A bare number is left
/// alone: it already keeps its order, and isolated it would part from a `#` before it.
pub fn fill_isolated(template: &str, args: &[(&str, &str)]) -> String {
    let isolated: Vec<(&str, String)> = args
        .iter()
        .map(|(name, value)| {
            if value.chars().any(char::is_alphabetic) {
                (*name, format!("\u{2068}{value}\u{2069}"))
            } else {
                (*name, (*value).to_owned())
            }
        })
        .collect();
    let refs: Vec<(&str, &str)> = isolated.iter().map(|(n, v)| (*n, v.as_str())).collect();
    fill(template, &refs)
}

/// The `{name}` placeholders of a text, sorted.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders_of(e: &Entry) -> Vec<String> {
        match e {
            Entry::Text(t) => placeholders(t),
            Entry::Plural(p) => {
                let mut all: Vec<String> = p.values().flat_map(|t| placeholders(t)).collect();
                all.sort();
                all.dedup();
                all
            }
        }
    }

    #[test]
    fn every_catalog_parses() {
        for lang in Lang::ALL {
            let c = Catalog::parse(lang.source())
                .unwrap_or_else(|e| panic!("locales/{}.json: {e}", lang.code()));
            assert!(c.keys().count() > 50, "{} looks empty", lang.code());
        }
    }

    #[test]
    fn every_catalog_has_every_key_of_every_other() {
        for a in Lang::ALL {
            for b in Lang::ALL {
                let missing: Vec<&str> = a
                    .catalog()
                    .keys()
                    .filter(|k| b.catalog().get(k).is_none())
                    .collect();
                assert!(
                    missing.is_empty(),
                    "locales/{}.json lacks keys of {}: {missing:?}",
                    b.code(),
                    a.code()
                );
            }
        }
    }

    #[test]
    fn translations_have_the_same_placeholders_and_kind_as_english() {
        let en = Lang::En.catalog();
        // Every language, not a list written here: a language added later is checked too.
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            for key in en.keys() {
                let (e, t) = (en.get(key).unwrap(), lang.catalog().get(key).unwrap());
                assert_eq!(
                    matches!(e, Entry::Plural(_)),
                    matches!(t, Entry::Plural(_)),
                    "{key}: plural in one catalog, plain text in {}",
                    lang.code()
                );
                assert_eq!(
                    placeholders_of(e),
                    placeholders_of(t),
                    "{key}: placeholders differ in {}",
                    lang.code()
                );
                if let Entry::Text(t) = t {
                    assert!(!t.trim().is_empty(), "{key} is empty in {}", lang.code());
                }
            }
        }
    }

    #[test]
    fn plurals_have_each_category_their_language_needs_and_no_other() {
        for lang in Lang::ALL {
            let mut plurals = 0;
            for key in lang.catalog().keys() {
                if let Some(Entry::Plural(p)) = lang.catalog().get(key) {
                    plurals += 1;
                    let mut have: Vec<&str> = p.keys().map(String::as_str).collect();
                    have.sort();
                    let mut need = lang.plural_categories().to_vec();
                    need.sort();
                    assert_eq!(have, need, "{key} in {}", lang.code());
                }
            }
            // Otherwise the check above looked at nothing (a catalog whose plurals were all
            // flattened to text would pass it).
            assert!(plurals > 0, "{} has no plural entry", lang.code());
        }
    }

    /// Every `t("…")`, `t_args("…"` and `t_count("…"` in the app's source names a key of
    /// the English catalog (and so, by the test above, of every catalog).
    #[test]
    fn the_app_uses_only_keys_that_exist() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../src");
        // The message blocks are written in the core (one HTML string per message).
        let blocks = concat!(env!("CARGO_MANIFEST_DIR"), "/src/blocks.rs");
        let mut files = vec![
            std::path::PathBuf::from(src),
            std::path::PathBuf::from(blocks),
        ];
        let mut used = Vec::new();
        let mut sources = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let code = std::fs::read_to_string(&path).unwrap();
                sources.push(code.clone());
                for call in ["t(", "t_args(", "t_count("] {
                    for (i, _) in code.match_indices(call) {
                        // Only these functions, not `format!(` or `let_it(`.
                        let before = code[..i].chars().last();
                        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            continue;
                        }
                        // The key may be on the next line (rustfmt).
                        let Some(rest) = code[i + call.len()..].trim_start().strip_prefix('"')
                        else {
                            continue;
                        };
                        let key = &rest[..rest.find('"').unwrap()];
                        used.push((path.display().to_string(), key.to_owned()));
                    }
                }
            }
        }
        assert!(used.len() > 50, "found only {} uses", used.len());
        let missing: Vec<_> = used
            .iter()
            .filter(|(_, k)| Lang::En.catalog().get(k).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "keys not in locales/en.json: {missing:?}"
        );
        // And nothing is translated for nothing: every key is used somewhere, by a call or
        // as a literal handed to one later (a constant, a stored reason).
        let mut unused: Vec<&str> = Lang::En
            .catalog()
            .keys()
            .filter(|k| !used.iter().any(|(_, u)| u == k))
            .filter(|k| {
                !sources
                    .iter()
                    .any(|code| code.contains(&format!("\"{k}\"")))
            })
            .collect();
        unused.sort();
        assert!(unused.is_empty(), "keys no code uses: {unused:?}");
    }

    /// The string literals of a Rust file's code before its tests (`#[cfg(test)]`), each
    /// with the code just before it; comments skipped, char literals and lifetimes told
    /// apart from strings.
    fn literals(src: &str) -> Vec<(String, String)> {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        let b = code.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let rest = &code[i..];
            if rest.starts_with("//") {
                i += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                i += rest.find("*/").map_or(rest.len(), |e| e + 2);
            } else if b[i] == b'\'' {
                // 'x', '\n', '\u{..}' or a lifetime ('a): skip the char literal whole.
                let close = rest[1..].find('\'').map(|e| e + 1);
                match close {
                    Some(e)
                        if e <= 10 && !rest[1..e].contains(' ') || rest[1..].starts_with("\\'") =>
                    {
                        i += if rest[1..].starts_with("\\'") {
                            4
                        } else {
                            e + 1
                        };
                    }
                    _ => i += 1,
                }
            } else if b[i] == b'"'
                || ((rest.starts_with("r#") || rest.starts_with("r\""))
                    && !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            {
                let raw = b[i] == b'r';
                let hashes = if raw {
                    rest[1..].len() - rest[1..].trim_start_matches('#').len()
                } else {
                    0
                };
                let start = i + if raw { 2 + hashes } else { 1 };
                let mut j = start;
                let close = format!("\"{}", "#".repeat(hashes));
                while j < b.len() && !b[j..].starts_with(close.as_bytes()) {
                    j += if !raw && b[j] == b'\\' { 2 } else { 1 };
                }
                let mut from = i.saturating_sub(100);
                while !code.is_char_boundary(from) {
                    from -= 1;
                }
                let before = &code[from..i];
                let text = String::from_utf8_lossy(&b[start..j.min(b.len())]).into_owned();
                found.push((text, before.to_owned()));
                i = j + close.len();
            } else {
                i += code[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        found
    }

    /// Every text a person can read comes from the catalogs: no literal of the app's or the
    /// core's code (their tests apart) reads like a phrase, except those reviewed below as
    /// never shown (console lines, CSS classes, HTML attributes, development errors). A
    /// phrase added to the code fails here until its words move to the catalogs (or it is
    /// reviewed and listed, with why no one reads it).
    #[test]
    fn no_phrase_the_agent_reads_is_outside_the_catalogs() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        // Reviewed: read by no agent. (file, literal, why)
        let reviewed: &[(&str, &str, &str)] = &[
            (
                "crates/core/src/connection.rs",
                "unreadable cable frame: {e}",
                "console",
            ),
            (
                "crates/core/src/connection.rs",
                "unreadable cable event: {e}",
                "console",
            ),
            (
                "crates/core/src/connection.rs",
                "the server closed the live connection ({})",
                "console",
            ),
            (
                "crates/core/src/connection.rs",
                "no reason given",
                "console",
            ),
            (
                "crates/core/src/i18n.rs",
                "a catalog is a JSON object",
                "catalog parse error, caught by these tests",
            ),
            (
                "crates/core/src/i18n.rs",
                "{key}.{category} is not a string",
                "catalog parse error",
            ),
            (
                "crates/core/src/i18n.rs",
                "{key} is neither a string nor plural forms",
                "catalog parse error",
            ),
            (
                "crates/core/src/markdown.rs",
                "noopener noreferrer",
                "HTML attribute",
            ),
            (
                "src/config.rs",
                "the page has no #{CONFIG_ELEMENT_ID} block",
                "an embedder's mistake, thrown to its console",
            ),
            (
                "src/config.rs",
                "the Parley config is not valid: {0}",
                "an embedder's mistake, thrown to its console",
            ),
            (
                "src/config.rs",
                "the config is not a plain object",
                "an embedder's mistake, thrown to its console",
            ),
            (
                "src/effects/outbox_store.rs",
                "no window",
                "the storage error, logged",
            ),
            (
                "src/effects/outbox_store.rs",
                "indexedDB is missing",
                "the storage error, logged",
            ),
            (
                "src/effects/outbox_store.rs",
                "the write was aborted",
                "the storage error, logged",
            ),
            (
                "src/effects/outbox_store.rs",
                "the request failed",
                "the storage error, logged",
            ),
            (
                "src/effects/telemetry.rs",
                "parley telemetry",
                "console group",
            ),
            (
                "src/ui/attachment_list.rs",
                "noopener noreferrer",
                "HTML attribute",
            ),
            (
                "src/ui/lightbox.rs",
                "noopener noreferrer",
                "HTML attribute",
            ),
            (
                "src/ui/format_toolbar.rs",
                "Bulleted list",
                "a CSS class slug; the words are the catalog's",
            ),
            (
                "src/ui/format_toolbar.rs",
                "Numbered list",
                "a CSS class slug; the words are the catalog's",
            ),
            (
                "src/ui/lightbox.rs",
                "a[href]:not([hidden]), button:not([hidden])",
                "CSS selector",
            ),
            (
                "crates/core/src/attachment.rs",
                "{essence}; codecs={c}",
                "a MIME type",
            ),
            (
                "crates/core/src/markdown.rs",
                "<a href=\\\"{}\\\" target=\\\"_blank\\\" rel=\\\"noopener noreferrer\\\"",
                "HTML",
            ),
            // FileRefusal's Display, for logs and tests: the app words each refusal from
            // the catalogs (`refusal_text`).
            (
                "crates/core/src/attachment.rs",
                "“{name}” can't be sent: this type of file is not accepted.",
                "Display for logs",
            ),
            (
                "crates/core/src/attachment.rs",
                "“{name}” is empty.",
                "Display for logs",
            ),
            (
                "crates/core/src/attachment.rs",
                "“{name}” is {}, over the {} limit per file.",
                "Display for logs",
            ),
            (
                "crates/core/src/attachment.rs",
                "“{name}” was not added: a message can carry at most {max} files.",
                "Display for logs",
            ),
        ];
        let is_phrase = |s: &str| {
            let words: Vec<&str> = s
                .split(|c: char| !c.is_alphabetic())
                .filter(|w| w.chars().count() >= 2)
                .collect();
            words.len() >= 2 && s.contains(' ')
        };
        // CSS class lists: every word is one of Parley's classes.
        let is_classes = |s: &str| {
            s.split_whitespace()
                .all(|w| w.starts_with("parley") || w.starts_with('{'))
        };
        // Console lines: logged, thrown, or panics that cannot happen; and the "parley: …"
        // prefix every console line of the app starts with.
        let is_console = |text: &str, before: &str| {
            text.starts_with("parley: ")
                || [
                    "warn!(",
                    "log!(",
                    "error!(",
                    "Output::Warn(",
                    "from_str(",
                    "unreachable!(",
                    "expect(",
                ]
                .iter()
                .any(|m| before.rsplit(';').next().unwrap_or("").contains(m))
        };
        // HTML that the core's renderers write (markdown, content blocks): only the text
        // between the tags is read by anyone. A literal may start inside a tag (its
        // attributes, then `>`) or end inside one.
        let text_between_tags = |s: &str| -> String {
            let start = match (s.find('>'), s.find('<')) {
                (Some(g), Some(l)) if g < l => g + 1,
                (Some(g), None) => g + 1,
                _ => 0,
            };
            let mut text = String::new();
            let mut in_tag = false;
            for c in s[start..].chars() {
                match c {
                    '<' => in_tag = true,
                    '>' if in_tag => in_tag = false,
                    _ if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        };
        let mut files = vec![
            std::path::PathBuf::from(format!("{root}/src")),
            std::path::PathBuf::from(format!("{root}/crates/core/src")),
        ];
        let mut unreviewed = Vec::new();
        let mut seen = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let name = path.display().to_string();
            let name = name.split("/../../").nth(1).unwrap_or(&name).to_owned();
            for (text, before) in literals(&std::fs::read_to_string(&path).unwrap()) {
                seen += 1;
                if !is_phrase(&text_between_tags(&text))
                    || is_classes(&text)
                    || is_console(&text, &before)
                {
                    continue;
                }
                if !reviewed.iter().any(|(f, l, _)| *f == name && *l == text) {
                    unreviewed.push(format!("{name}: {text:?}"));
                }
            }
        }
        // Otherwise the reader found nothing to judge (a path or parsing mistake).
        assert!(seen > 500, "only {seen} literals read");
        unreviewed.sort();
        assert!(
            unreviewed.is_empty(),
            "phrases outside the catalogs (move the words to locales/*.json, or review \
             and list them here if no one reads them): {unreviewed:#?}"
        );
    }

    #[test]
    fn negotiation_takes_the_first_language_with_a_catalog() {
        assert_eq!(Locale::negotiate(["ar"]).lang, Lang::Ar);
        let fr = Locale::negotiate(["de-DE", "fr-CA", "en"]);
        assert_eq!((fr.lang, fr.tag.as_str()), (Lang::Fr, "fr-CA"));
        assert_eq!(Locale::negotiate(["fr_BE"]).tag, "fr-BE");
        assert_eq!(Locale::negotiate(["AR-eg"]).lang, Lang::Ar);
        assert_eq!(Locale::negotiate(["xx", "zz-ZZ"]), Locale::english());
        assert_eq!(Locale::negotiate([]), Locale::english());
        assert_eq!(Lang::Ar.dir(), "rtl");
        assert_eq!(Lang::Fr.dir(), "ltr");
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        assert_eq!(
            fill("{a} and {b} are typing…", &[("a", "Jane"), ("b", "Joe")]),
            "Jane and Joe are typing…"
        );
        assert_eq!(fill("{x} {missing}", &[("x", "1")]), "1 {missing}");
        assert_eq!(fill("no brace {", &[]), "no brace {");
        // A value that looks like a placeholder is not filled again.
        assert_eq!(fill("{a}{b}", &[("a", "{b}"), ("b", "2")]), "{b}2");
    }

    #[test]
    fn isolated_values_keep_their_own_direction() {
        assert_eq!(
            fill_isolated(
                "رسالة جديدة من {name}: {text}",
                &[("name", "Maya"), ("text", "Hi!")]
            ),
            "رسالة جديدة من \u{2068}Maya\u{2069}: \u{2068}Hi!\u{2069}"
        );
        assert_eq!(
            fill_isolated("#{id} · {status}", &[("id", "12"), ("status", "open")]),
            "#12 · \u{2068}open\u{2069}"
        );
    }

    #[test]
    fn lookups_fall_back_to_other_then_english() {
        // Arabic has all six categories for counts; an unknown category falls to `other`.
        let key = "log.new_messages";
        assert_ne!(plural(Lang::Ar, key, "two"), plural(Lang::Ar, key, "other"));
        assert_eq!(plural(Lang::En, key, "few"), plural(Lang::En, key, "other"));
        assert_eq!(text(Lang::Fr, "no.such.key"), "no.such.key");
        assert_eq!(text(Lang::En, "composer.send"), "Send");
        assert_eq!(text(Lang::Fr, "composer.send"), "Envoyer");
    }
}
