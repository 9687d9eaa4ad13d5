//! Who sent a message: agents, contacts and bots (CONTRACTS.md §3.3).

use serde::{Deserialize, Serialize};

use crate::lenient::{self, empty_object, object_or_null};

/// `sender` of a message (and the typer of a typing event), told apart by its `type`.
///
/// Each variant's struct keeps its own `type` key, because the same structs also stand
/// alone (`performer`, `meta.assignee`) where Chatwoot still sends the `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Sender {
    User(UserPush),
    Contact(Contact),
    AgentBot(BotPush),
    CaptainAssistant(BotPush),
    /// A sender type this client does not know; shown without a name.
    Unknown,
}

impl<'de> Deserialize<'de> for Sender {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = lenient::value(d)?;
        // Read from `&v`, not `v`: the variants' structs are read from a borrowed `Value`
        // everywhere else, and an owned one would put a second copy of each decoder in
        // the wasm.
        if v.is_null() {
            // `sender: null` (automation, system messages) is no sender, not an unknown one.
            return Err(D::Error::custom("no sender"));
        }
        let kind = v.get("type").and_then(|t| t.as_str()).unwrap_or("");
        Ok(match kind {
            "user" => Sender::User(lenient::read(&v).map_err(D::Error::custom)?),
            "contact" => Sender::Contact(lenient::read(&v).map_err(D::Error::custom)?),
            "agent_bot" => Sender::AgentBot(lenient::read(&v).map_err(D::Error::custom)?),
            "captain_assistant" => {
                Sender::CaptainAssistant(lenient::read(&v).map_err(D::Error::custom)?)
            }
            _ => Sender::Unknown,
        })
    }
}

impl Sender {
    pub fn id(&self) -> Option<i64> {
        match self {
            Sender::User(u) => Some(u.id),
            Sender::Contact(c) => Some(c.id),
            Sender::AgentBot(b) | Sender::CaptainAssistant(b) => Some(b.id),
            Sender::Unknown => None,
        }
    }

    /// The name to show: `available_name` for agents (their display name), else `name`.
    pub fn display_name(&self) -> Option<&str> {
        match self {
            Sender::User(u) => u.available_name.as_deref().or(u.name.as_deref()),
            Sender::Contact(c) => c.name.as_deref(),
            Sender::AgentBot(b) | Sender::CaptainAssistant(b) => b.name.as_deref(),
            Sender::Unknown => None,
        }
    }

    /// Avatar URL, `None` when Chatwoot sends `""` (no avatar).
    pub fn avatar(&self) -> Option<&str> {
        let url = match self {
            Sender::User(u) => u.thumbnail.as_deref().or(u.avatar_url.as_deref()),
            Sender::Contact(c) => c.thumbnail.as_deref(),
            Sender::AgentBot(b) | Sender::CaptainAssistant(b) => b.avatar_url.as_deref(),
            Sender::Unknown => None,
        };
        url.filter(|u| !u.is_empty())
    }
}

/// `User#push_event_data`: an agent as seen in messages and cable events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserPush {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub available_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub avatar_url: Option<String>,
    /// `"user"`.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub availability_status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub thumbnail: Option<String>,
}

/// A contact (customer). One struct for the REST partial and `Contact#push_event_data`;
/// the keys only one of them has are skipped when `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub availability_status: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub custom_attributes: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub identifier: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub thumbnail: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub blocked: bool,
    /// `"contact"` in push shapes; absent in the REST partial.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_activity_at: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<i64>,
}

/// `AgentBot` / `Captain::Assistant` push data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotPush {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub avatar_url: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The `_agent` partial: a conversation's `meta.assignee` in REST.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    pub availability_status: Option<String>,
    #[serde(default)]
    pub auto_offline: Option<bool>,
    #[serde(default)]
    pub confirmed: Option<bool>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub available_name: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub thumbnail: Option<String>,
    #[serde(default)]
    pub custom_role_id: Option<i64>,
}
