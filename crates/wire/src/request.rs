//! Request bodies the agent client sends.

use serde::{Deserialize, Serialize};

use crate::lenient::opt_string_or_number;

/// `POST /conversations/{id}/messages`, JSON branch, as the dashboard sends it.
/// The multipart branch carries the same fields as form parts (`content_attributes` as a
/// JSON string).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub private: bool,
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub echo_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_attributes: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc_emails: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bcc_emails: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_emails: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_params: Option<serde_json::Value>,
    /// `outgoing` by default; `incoming` only for API inboxes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// ActiveRecord casts `"true"`/`"false"` strings (multipart) as well as booleans.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        S(String),
        I(i64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => false,
        Some(Raw::B(b)) => b,
        Some(Raw::S(s)) => matches!(s.as_str(), "true" | "1" | "t" | "on"),
        Some(Raw::I(i)) => i != 0,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypingStatus {
    On,
    Off,
}

/// `POST /conversations/{id}/toggle_typing_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypingStatusRequest {
    pub typing_status: TypingStatus,
    #[serde(default)]
    pub is_private: bool,
}

/// `POST /auth/sign_in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}
