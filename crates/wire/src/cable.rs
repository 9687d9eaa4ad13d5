//! ActionCable frames as Chatwoot speaks them (CONTRACTS.md §4), `actioncable-v1-json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::conversation::ConversationPush;
use crate::lenient::{Bounded, MAX_BROADCAST_DEPTH};
use crate::message::{message_of_event, Message};
use crate::sender::Sender;

/// The WebSocket subprotocol the server selects.
pub const SUBPROTOCOL: &str = "actioncable-v1-json";
/// What `@rails/actioncable` offers; the server must pick the first.
pub const CLIENT_SUBPROTOCOLS: [&str; 2] = ["actioncable-v1-json", "actioncable-unsupported"];
pub const ROOM_CHANNEL: &str = "RoomChannel";

/// A frame from server to client.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    Welcome,
    /// Every 3 s, carrying the server's unix time.
    Ping(i64),
    Confirm {
        identifier: String,
    },
    Reject {
        identifier: String,
    },
    Disconnect {
        reason: Option<String>,
        reconnect: bool,
    },
    /// A broadcast on a subscription: `{identifier, message: {event, data}}`.
    Broadcast {
        identifier: String,
        message: serde_json::Value,
    },
}

/// The flat JSON shape every server frame shares.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RawServerFrame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identifier: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    /// Depth-bounded: a message nested past serde_json's limit must not make the whole
    /// frame unreadable (its event then carries a placeholder).
    #[serde(
        default,
        deserialize_with = "bounded_message",
        skip_serializing_if = "Option::is_none"
    )]
    message: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reconnect: Option<bool>,
}

fn bounded_message<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    use serde::de::DeserializeSeed;
    Ok(Some(
        Bounded {
            levels: MAX_BROADCAST_DEPTH,
        }
        .deserialize(d)?,
    ))
}

/// Why a server frame could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameError {
    Json(String),
    UnknownType(String),
    Missing(&'static str),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Json(e) => write!(f, "frame is not JSON: {e}"),
            FrameError::UnknownType(t) => write!(f, "frame has an unknown type {t:?}"),
            FrameError::Missing(what) => write!(f, "frame is missing {what}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl ServerFrame {
    pub fn parse(text: &str) -> Result<ServerFrame, FrameError> {
        let raw: RawServerFrame =
            crate::from_str(text).map_err(|e| FrameError::Json(e.to_string()))?;
        match raw.kind.as_deref() {
            Some("welcome") => Ok(ServerFrame::Welcome),
            Some("ping") => Ok(ServerFrame::Ping(
                raw.message.as_ref().and_then(|m| m.as_i64()).unwrap_or(0),
            )),
            Some("confirm_subscription") => Ok(ServerFrame::Confirm {
                identifier: raw.identifier.ok_or(FrameError::Missing("identifier"))?,
            }),
            Some("reject_subscription") => Ok(ServerFrame::Reject {
                identifier: raw.identifier.ok_or(FrameError::Missing("identifier"))?,
            }),
            Some("disconnect") => Ok(ServerFrame::Disconnect {
                reason: raw.reason,
                reconnect: raw.reconnect.unwrap_or(true),
            }),
            Some(other) => Err(FrameError::UnknownType(other.to_owned())),
            None => Ok(ServerFrame::Broadcast {
                identifier: raw.identifier.ok_or(FrameError::Missing("identifier"))?,
                message: raw.message.ok_or(FrameError::Missing("message"))?,
            }),
        }
    }

    pub fn to_json(&self) -> String {
        let raw = match self {
            ServerFrame::Welcome => RawServerFrame {
                kind: Some("welcome".into()),
                ..Default::default()
            },
            ServerFrame::Ping(t) => RawServerFrame {
                kind: Some("ping".into()),
                message: Some((*t).into()),
                ..Default::default()
            },
            ServerFrame::Confirm { identifier } => RawServerFrame {
                identifier: Some(identifier.clone()),
                kind: Some("confirm_subscription".into()),
                ..Default::default()
            },
            ServerFrame::Reject { identifier } => RawServerFrame {
                identifier: Some(identifier.clone()),
                kind: Some("reject_subscription".into()),
                ..Default::default()
            },
            ServerFrame::Disconnect { reason, reconnect } => RawServerFrame {
                kind: Some("disconnect".into()),
                reason: reason.clone(),
                reconnect: Some(*reconnect),
                ..Default::default()
            },
            ServerFrame::Broadcast {
                identifier,
                message,
            } => RawServerFrame {
                identifier: Some(identifier.clone()),
                message: Some(message.clone()),
                ..Default::default()
            },
        };
        serde_json::to_string(&raw).expect("frames serialize")
    }
}

/// A frame from client to server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientCommand {
    /// `subscribe`, `unsubscribe` or `message`.
    pub command: String,
    pub identifier: String,
    /// For `message`: a JSON-encoded string such as `{"action":"update_presence"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl ClientCommand {
    pub fn subscribe(identifier: &str) -> Self {
        ClientCommand {
            command: "subscribe".into(),
            identifier: identifier.into(),
            data: None,
        }
    }

    pub fn unsubscribe(identifier: &str) -> Self {
        ClientCommand {
            command: "unsubscribe".into(),
            identifier: identifier.into(),
            data: None,
        }
    }

    /// `perform(action)`: `data` is itself JSON, encoded as a string.
    pub fn perform(identifier: &str, action: &str) -> Self {
        ClientCommand {
            command: "message".into(),
            identifier: identifier.into(),
            data: Some(serde_json::json!({ "action": action }).to_string()),
        }
    }

    /// The `action` of a `message` command, if its data parses.
    pub fn action(&self) -> Option<String> {
        let data: serde_json::Value = crate::from_str(self.data.as_deref()?).ok()?;
        data.get("action")?.as_str().map(str::to_owned)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("commands serialize")
    }
}

/// The `RoomChannel` subscription params, in the key order the dashboard's
/// `JSON.stringify` produces: channel, pubsub_token, account_id, user_id.
/// A contact (widget) subscribes with its contact-inbox `pubsub_token` and no `user_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomIdentifier {
    pub channel: String,
    pub pubsub_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}

impl RoomIdentifier {
    pub fn agent(pubsub_token: &str, account_id: i64, user_id: i64) -> Self {
        RoomIdentifier {
            channel: ROOM_CHANNEL.into(),
            pubsub_token: pubsub_token.into(),
            account_id: Some(account_id),
            user_id: Some(user_id),
        }
    }

    /// The exact string to put in `identifier` (the server echoes it back unchanged).
    pub fn to_identifier(&self) -> String {
        serde_json::to_string(self).expect("identifier serializes")
    }

    /// Identifier strings from other clients may order keys differently or carry numbers
    /// as strings; parse rather than compare text when reading one.
    pub fn parse(identifier: &str) -> Option<Self> {
        let v: serde_json::Value = crate::from_str(identifier).ok()?;
        let as_id = |k: &str| -> Option<i64> {
            match v.get(k)? {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            }
        };
        Some(RoomIdentifier {
            channel: v.get("channel")?.as_str()?.to_owned(),
            pubsub_token: v.get("pubsub_token")?.as_str()?.to_owned(),
            account_id: as_id("account_id"),
            user_id: as_id("user_id"),
        })
    }
}

/// `presence.update` data: user and contact ids as *string* keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    #[serde(default)]
    pub contacts: BTreeMap<String, String>,
}

/// `conversation.typing_on` / `_off` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypingEvent {
    pub conversation: ConversationPush,
    /// Who is typing: an agent (`type: "user"`) or the contact.
    pub user: Sender,
    #[serde(default)]
    pub is_private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
}

/// A broadcast's `{event, data}`, decoded into what the client acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum CableEvent {
    MessageCreated(Message),
    MessageUpdated(Message),
    TypingOn(TypingEvent),
    TypingOff(TypingEvent),
    /// The contact read the conversation.
    ConversationRead(ConversationPush),
    ConversationUpdated(ConversationPush),
    PresenceUpdate(Presence),
    /// Any event this client does not act on, kept whole.
    Other {
        event: String,
        data: serde_json::Value,
    },
}

/// The `{event, data}` envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

impl CableEvent {
    /// Decode a broadcast's `message`. An event we know with data we cannot decode is an
    /// error (so a contract drift shows up), not a silent `Other`; a message that does not
    /// read whole is a placeholder (see [`crate::lenient`]), an error only without an id.
    pub fn from_message(message: &serde_json::Value) -> Result<CableEvent, serde_json::Error> {
        let Envelope { event, data } = crate::lenient::read(message)?;
        let message_of = |data: &serde_json::Value| {
            message_of_event(data).ok_or_else(|| {
                <serde_json::Error as serde::de::Error>::custom("a message without a readable id")
            })
        };
        let ev = match event.as_str() {
            "message.created" => CableEvent::MessageCreated(message_of(&data)?),
            "message.updated" => CableEvent::MessageUpdated(message_of(&data)?),
            "conversation.typing_on" => CableEvent::TypingOn(crate::lenient::read(&data)?),
            "conversation.typing_off" => CableEvent::TypingOff(crate::lenient::read(&data)?),
            "conversation.read" => CableEvent::ConversationRead(crate::lenient::read(&data)?),
            "conversation.updated" => CableEvent::ConversationUpdated(crate::lenient::read(&data)?),
            "presence.update" => CableEvent::PresenceUpdate(crate::lenient::read(&data)?),
            _ => CableEvent::Other { event, data },
        };
        Ok(ev)
    }

    /// The `account_id` the event belongs to; the dashboard drops events of other accounts.
    pub fn account_id(&self) -> Option<i64> {
        match self {
            CableEvent::MessageCreated(m) | CableEvent::MessageUpdated(m) => m.account_id,
            CableEvent::TypingOn(t) | CableEvent::TypingOff(t) => t.account_id,
            CableEvent::ConversationRead(c) | CableEvent::ConversationUpdated(c) => c.account_id,
            CableEvent::PresenceUpdate(p) => p.account_id,
            CableEvent::Other { data, .. } => data.get("account_id").and_then(|v| v.as_i64()),
        }
    }
}
