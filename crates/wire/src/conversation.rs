//! Conversations, REST and push shapes, and the messages index (CONTRACTS.md §2.2, §2.3, §3.4).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient::{self, empty_object, field, object_or_null, Salvage};
use crate::message::{Message, MessagePush};
use crate::sender::{Agent, Contact, UserPush};

/// `meta` of the REST conversation partial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationMeta {
    pub sender: Contact,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub channel: Option<String>,
    /// Absent when unassigned.
    #[serde(
        default,
        deserialize_with = "lenient::opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee: Option<Agent>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub team: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient::opt_flag")]
    pub hmac_verified: Option<bool>,
}

/// The REST conversation partial (`GET /conversations/{id}`, list items,
/// `update_last_seen`). Timestamps are unix ints except `updated_at` (a float).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub meta: ConversationMeta,
    /// The display id.
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::list")]
    pub messages: Vec<MessagePush>,
    #[serde(deserialize_with = "lenient::int")]
    pub account_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub uuid: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub agent_last_seen_at: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub assignee_last_seen_at: i64,
    // Missing (a partial conversation in an event, a backend that does not send it): the
    // reply window is taken as open, never closed on a guess.
    #[serde(default = "reply_window_open", deserialize_with = "lenient::flag")]
    pub can_reply: bool,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub contact_last_seen_at: i64,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub custom_attributes: serde_json::Value,
    #[serde(deserialize_with = "lenient::int")]
    pub inbox_id: i64,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub labels: Vec<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub muted: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub snoozed_until: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(deserialize_with = "lenient::timestamp")]
    pub created_at: i64,
    #[serde(default, deserialize_with = "lenient::float_or_zero")]
    pub updated_at: f64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub timestamp: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub first_reply_created_at: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub unread_count: i64,
    #[serde(default, deserialize_with = "lenient::opt_salvaged")]
    pub last_non_activity_message: Option<MessagePush>,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub last_activity_at: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub waiting_since: i64,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub sla_policy_id: Option<i64>,
}

impl Salvage for Conversation {
    /// A conversation whose required parts do not read keeps the rest, with those parts
    /// defaulted (an unnamed contact, status `open`); `None` without a readable id.
    fn salvage(v: &Value) -> Option<Conversation> {
        let id = field(v, "id").int()?;
        let mut o = v.as_object()?.clone();
        o.insert("id".into(), id.into());
        for key in ["account_id", "inbox_id"] {
            o.insert(key.into(), field(v, key).int().unwrap_or(0).into());
        }
        o.insert(
            "created_at".into(),
            field(v, "created_at").timestamp().unwrap_or(0).into(),
        );
        o.insert(
            "status".into(),
            field(v, "status")
                .text()
                .unwrap_or_else(|| "open".into())
                .into(),
        );
        let meta = v
            .get("meta")
            .filter(|m| lenient::read::<ConversationMeta>(m).is_ok());
        if meta.is_none() {
            let name = v
                .pointer("/meta/sender/name")
                .map_or(lenient::Scalar::Null, lenient::Scalar::of)
                .text();
            o.insert(
                "meta".into(),
                serde_json::json!({ "sender": { "id": 0, "name": name } }),
            );
        }
        lenient::read(&Value::Object(o)).ok()
    }
}

/// `meta` of `GET /conversations`: the four counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationsMeta {
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub mine_count: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub assigned_count: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub unassigned_count: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub all_count: i64,
}

/// `GET /conversations`: `{"data": {"meta": ..., "payload": [...]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationList {
    pub data: ConversationListData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationListData {
    #[serde(default, deserialize_with = "lenient::opt_lenient_or_default")]
    pub meta: ConversationsMeta,
    #[serde(deserialize_with = "lenient::list")]
    pub payload: Vec<Conversation>,
}

/// The full ContactInbox row carried by the push shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactInbox {
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub contact_id: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub inbox_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub source_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_flag")]
    pub hmac_verified: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub pubsub_token: Option<String>,
}

/// `meta` of the push shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPushMeta {
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub sender: Option<Contact>,
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub assignee: Option<UserPush>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub assignee_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_value")]
    pub team: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient::opt_flag")]
    pub hmac_verified: Option<bool>,
}

/// `Conversations::EventDataPresenter#push_data`: the conversation in cable events
/// (`conversation.read`, typing events, ...). Decoded leniently: events elsewhere in the
/// protocol carry partial conversations (`{id, inbox_id, status}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPush {
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    // Missing (a partial conversation in an event, a backend that does not send it): the
    // reply window is taken as open, never closed on a guess.
    #[serde(default = "reply_window_open", deserialize_with = "lenient::flag")]
    pub can_reply: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub channel: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub contact_inbox: Option<ContactInbox>,
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub inbox_id: i64,
    #[serde(default, deserialize_with = "lenient::list")]
    pub messages: Vec<MessagePush>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub labels: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub meta: Option<ConversationPushMeta>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub custom_attributes: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub snoozed_until: Option<String>,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub unread_count: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub first_reply_created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub waiting_since: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub agent_last_seen_at: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub contact_last_seen_at: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub last_activity_at: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub timestamp: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub created_at: i64,
    #[serde(default, deserialize_with = "lenient::float_or_zero")]
    pub updated_at: f64,
    /// Merged in by the listener.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<i64>,
}

/// `meta` of `GET /conversations/{id}/messages`. Here `*_last_seen_at` are ISO strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesIndexMeta {
    #[serde(default, deserialize_with = "lenient::strings")]
    pub labels: Vec<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub contact: Option<Contact>,
    /// Absent when unassigned.
    #[serde(
        default,
        deserialize_with = "lenient::opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee: Option<UserPush>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub agent_last_seen_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub assignee_last_seen_at: Option<String>,
}

/// `GET /conversations/{id}/messages`: ascending by `created_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesIndex {
    pub meta: MessagesIndexMeta,
    #[serde(deserialize_with = "lenient::list")]
    pub payload: Vec<Message>,
}

fn reply_window_open() -> bool {
    true
}
