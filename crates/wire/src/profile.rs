//! The signed-in agent (CONTRACTS.md §2.1) and the sign-in response.

use serde::{Deserialize, Serialize};

use crate::lenient::{empty_object, object_or_null};

/// `GET /api/v1/profile`: the user object itself, not wrapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The token for `api_access_token`.
    pub access_token: String,
    /// The active account.
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    pub available_name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub confirmed: Option<bool>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub message_signature: Option<String>,
    pub email: String,
    pub id: i64,
    #[serde(default)]
    pub inviter_id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub provider: Option<String>,
    /// Subscribes the agent's cable `RoomChannel`.
    pub pubsub_token: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub ui_settings: serde_json::Value,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub accounts: Vec<ProfileAccount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileAccount {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub active_at: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default)]
    pub availability_status: Option<String>,
    #[serde(default)]
    pub auto_offline: Option<bool>,
    #[serde(default)]
    pub custom_role_id: Option<i64>,
    #[serde(default)]
    pub custom_role: Option<serde_json::Value>,
}

/// `POST /auth/sign_in`: `{"data": <user JSON>}` (devise_token_auth `_auth` view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInResponse {
    pub data: Profile,
}
