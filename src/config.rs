//! Where the app talks to and as whom: read from the page (`#parley-config`) for the
//! standalone app, or passed to `mount()` by an embedding page.

use serde::Deserialize;
use wasm_bindgen::JsValue;

/// The id of the `<script type="application/json">` block parley-server injects.
pub const CONFIG_ELEMENT_ID: &str = "parley-config";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// API origin; "" means the page's own origin.
    #[serde(default)]
    pub base_url: String,
    #[serde(default = "default_account")]
    pub account_id: i64,
    /// An access token handed over by the page (demo mode, embedding): no sign-in step.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub demo: bool,
    /// Embedding only: the conversation to show (the standalone app takes it from the URL).
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// `"console"` logs telemetry events, `"none"` drops them (the default outside
    /// development); an embedder's `onTelemetry` callback receives them instead.
    #[serde(default)]
    pub telemetry: Option<String>,
    /// Optional capabilities, each off unless the config turns it on.
    #[serde(default)]
    pub features: Features,
    /// A BCP 47 tag (`"en"`, `"ar"`, `"fr-CA"`); the browser's languages when absent.
    #[serde(default)]
    pub locale: Option<String>,
    /// `"light"`, `"dark"`, or `"auto"` (follow `prefers-color-scheme`, the default).
    #[serde(default)]
    pub theme: Option<String>,
    /// The largest file an agent may attach, in bytes (Chatwoot's default: 40 MB).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// The longest voice note, in seconds: 15 minutes when absent, never more.
    #[serde(default)]
    pub voice_max_seconds: Option<u64>,
}

/// Feature flags, as the config spells them (`{"voiceMessages": true}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Features {
    /// The microphone button: record, preview and send voice notes.
    pub voice_messages: bool,
    /// The formatting toolbar and shortcuts (bold, italic, code, lists, quote, link).
    pub rich_text_editor: bool,
}

/// Chatwoot's own limit per attachment.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 40 * 1024 * 1024;

fn default_max_file_bytes() -> u64 {
    DEFAULT_MAX_FILE_BYTES
}

fn default_account() -> i64 {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the page has no #{CONFIG_ELEMENT_ID} block")]
    Missing,
    #[error("the Parley config is not valid: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads the config block of the page the app is served on.
    pub fn from_page() -> Result<Config, ConfigError> {
        let text = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(CONFIG_ELEMENT_ID))
            .and_then(|el| el.text_content())
            .ok_or(ConfigError::Missing)?;
        Config::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let mut config: Config =
            parley_wire::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.normalize();
        Ok(config)
    }

    /// The object an embedding page passes to `mount()`.
    pub fn from_js(value: &JsValue) -> Result<Config, ConfigError> {
        let text = js_sys::JSON::stringify(value)
            .map_err(|_| ConfigError::Invalid("the config is not a plain object".into()))?;
        Config::from_json(&String::from(text))
    }

    fn normalize(&mut self) {
        self.base_url = self.base_url.trim_end_matches('/').to_owned();
        if self.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            self.token = None;
        }
    }

    /// The HTTP origin API paths are appended to.
    pub fn api_origin(&self) -> String {
        if self.base_url.is_empty() {
            page_origin()
        } else {
            self.base_url.clone()
        }
    }

    /// Whether the API is on another origin than the page (an embedding host's page):
    /// then the browser lets Parley call it only if the server allows that origin (CORS).
    pub fn api_is_cross_origin(&self) -> bool {
        let api = web_sys::Url::new(&self.api_origin()).map(|u| u.origin());
        api.is_ok_and(|api| api != page_origin())
    }

    /// The longest voice note, in milliseconds (at least a second, at most the default).
    pub fn voice_max_ms(&self) -> u64 {
        let default = parley_core::voice::DEFAULT_MAX_MS;
        self.voice_max_seconds
            .map_or(default, |s| s.saturating_mul(1000).clamp(1000, default))
    }

    /// `ws(s)://<base>/cable`.
    pub fn cable_url(&self) -> String {
        let origin = self.api_origin();
        let ws = if let Some(rest) = origin.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = origin.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            origin
        };
        format!("{ws}/cable")
    }
}

pub fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn reads_the_server_injected_block() {
        let c =
            Config::from_json(r#"{"baseUrl":"","accountId":3,"token":"tok","demo":true}"#).unwrap();
        assert_eq!(c.account_id, 3);
        assert_eq!(c.token.as_deref(), Some("tok"));
        assert!(c.demo);
        assert_eq!(c.conversation_id, None);
        assert_eq!(c.features, Features::default());
        assert_eq!(c.max_file_bytes, DEFAULT_MAX_FILE_BYTES);
    }

    #[wasm_bindgen_test]
    fn flags_locale_theme_and_file_limit_are_read() {
        let c = Config::from_json(
            r#"{"features":{"voiceMessages":true},"locale":"ar","theme":"dark","maxFileBytes":1000}"#,
        )
        .unwrap();
        assert!(c.features.voice_messages);
        assert!(!c.features.rich_text_editor);
        assert_eq!(c.locale.as_deref(), Some("ar"));
        assert_eq!(c.theme.as_deref(), Some("dark"));
        assert_eq!(c.max_file_bytes, 1000);
        assert_eq!(c.voice_max_ms(), 15 * 60 * 1000);
    }

    #[wasm_bindgen_test]
    fn a_shorter_voice_limit_is_honoured_a_longer_one_is_not() {
        let short = Config::from_json(r#"{"voiceMaxSeconds":5}"#).unwrap();
        assert_eq!(short.voice_max_ms(), 5_000);
        let long = Config::from_json(r#"{"voiceMaxSeconds":3600}"#).unwrap();
        assert_eq!(long.voice_max_ms(), 15 * 60 * 1000);
        let zero = Config::from_json(r#"{"voiceMaxSeconds":0}"#).unwrap();
        assert_eq!(zero.voice_max_ms(), 1_000);
    }

    #[wasm_bindgen_test]
    fn blank_token_means_no_token_and_base_loses_its_slash() {
        let c = Config::from_json(
            r#"{"baseUrl":"https://chat.example.com/","token":"  ","conversationId":7}"#,
        )
        .unwrap();
        assert_eq!(c.token, None);
        assert_eq!(c.api_origin(), "https://chat.example.com");
        assert_eq!(c.cable_url(), "wss://chat.example.com/cable");
        assert_eq!(c.conversation_id, Some(7));
        assert_eq!(c.account_id, 1);
    }

    #[wasm_bindgen_test]
    fn plain_http_gets_plain_ws() {
        let c = Config::from_json(r#"{"baseUrl":"http://127.0.0.1:8080"}"#).unwrap();
        assert_eq!(c.cable_url(), "ws://127.0.0.1:8080/cable");
    }

    #[wasm_bindgen_test]
    fn garbage_is_an_error_not_a_default() {
        assert!(matches!(
            Config::from_json("{not json"),
            Err(ConfigError::Invalid(_))
        ));
        assert!(Config::from_json(r#"{"accountId":"one"}"#).is_err());
    }
}
