//! Error bodies Chatwoot returns (CONTRACTS.md §1).

use serde::{Deserialize, Serialize};

/// Every error shape Chatwoot answers with, decoded leniently.
///
/// - `{"error": "Invalid Access Token"}` (most errors, 401/404/422)
/// - `{"errors": ["You need to sign in ..."]}` (devise, and a failed `/auth/sign_in`)
/// - `{"message": "...", "attributes": [...]}` (record invalid)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ErrorBody {
    /// The `{"error": msg}` shape, the one Chatwoot uses for almost everything.
    pub fn new(msg: impl Into<String>) -> Self {
        ErrorBody {
            error: Some(msg.into()),
            ..Default::default()
        }
    }

    /// The first human-readable text in the body, whichever shape it has.
    pub fn text(&self) -> Option<&str> {
        self.error
            .as_deref()
            .or_else(|| {
                self.errors
                    .as_ref()
                    .and_then(|e| e.first().map(String::as_str))
            })
            .or(self.message.as_deref())
    }
}
