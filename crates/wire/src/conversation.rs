//! Conversations, REST and push shapes, and the messages index (CONTRACTS.md §2.2, §2.3, §3.4).

use serde::{Deserialize, Serialize};

use crate::lenient::{empty_object, object_or_null};
use crate::message::{Message, MessagePush};
use crate::sender::{Agent, Contact, UserPush};

/// `meta` of the REST conversation partial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationMeta {
    pub sender: Contact,
    #[serde(default)]
    pub channel: Option<String>,
    /// Absent when unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Agent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<serde_json::Value>,
    #[serde(default)]
    pub hmac_verified: Option<bool>,
}

/// The REST conversation partial (`GET /conversations/{id}`, list items,
/// `update_last_seen`). Timestamps are unix ints except `updated_at` (a float).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub meta: ConversationMeta,
    /// The display id.
    pub id: i64,
    #[serde(default)]
    pub messages: Vec<MessagePush>,
    pub account_id: i64,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default)]
    pub agent_last_seen_at: i64,
    #[serde(default)]
    pub assignee_last_seen_at: i64,
    #[serde(default)]
    pub can_reply: bool,
    #[serde(default)]
    pub contact_last_seen_at: i64,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub custom_attributes: serde_json::Value,
    pub inbox_id: i64,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub muted: bool,
    #[serde(default)]
    pub snoozed_until: Option<String>,
    pub status: String,
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: f64,
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub first_reply_created_at: i64,
    #[serde(default)]
    pub unread_count: i64,
    #[serde(default)]
    pub last_non_activity_message: Option<MessagePush>,
    #[serde(default)]
    pub last_activity_at: i64,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub waiting_since: i64,
    #[serde(default)]
    pub sla_policy_id: Option<i64>,
}

/// `meta` of `GET /conversations`: the four counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationsMeta {
    #[serde(default)]
    pub mine_count: i64,
    #[serde(default)]
    pub assigned_count: i64,
    #[serde(default)]
    pub unassigned_count: i64,
    #[serde(default)]
    pub all_count: i64,
}

/// `GET /conversations`: `{"data": {"meta": ..., "payload": [...]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationList {
    pub data: ConversationListData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationListData {
    pub meta: ConversationsMeta,
    pub payload: Vec<Conversation>,
}

/// The full ContactInbox row carried by the push shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactInbox {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub contact_id: i64,
    #[serde(default)]
    pub inbox_id: i64,
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub hmac_verified: Option<bool>,
    #[serde(default)]
    pub pubsub_token: Option<String>,
}

/// `meta` of the push shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPushMeta {
    #[serde(default)]
    pub sender: Option<Contact>,
    #[serde(default)]
    pub assignee: Option<UserPush>,
    #[serde(default)]
    pub assignee_type: Option<String>,
    #[serde(default)]
    pub team: Option<serde_json::Value>,
    #[serde(default)]
    pub hmac_verified: Option<bool>,
}

/// `Conversations::EventDataPresenter#push_data`: the conversation in cable events
/// (`conversation.read`, typing events, ...). Decoded leniently: events elsewhere in the
/// protocol carry partial conversations (`{id, inbox_id, status}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPush {
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default)]
    pub can_reply: bool,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub contact_inbox: Option<ContactInbox>,
    pub id: i64,
    #[serde(default)]
    pub inbox_id: i64,
    #[serde(default)]
    pub messages: Vec<MessagePush>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub meta: Option<ConversationPushMeta>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub custom_attributes: serde_json::Value,
    #[serde(default)]
    pub snoozed_until: Option<String>,
    #[serde(default)]
    pub unread_count: i64,
    #[serde(default)]
    pub first_reply_created_at: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub waiting_since: i64,
    #[serde(default)]
    pub agent_last_seen_at: i64,
    #[serde(default)]
    pub contact_last_seen_at: i64,
    #[serde(default)]
    pub last_activity_at: i64,
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: f64,
    /// Merged in by the listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
}

/// `meta` of `GET /conversations/{id}/messages`. Here `*_last_seen_at` are ISO strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesIndexMeta {
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Absent when unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<UserPush>,
    #[serde(default)]
    pub agent_last_seen_at: Option<String>,
    #[serde(default)]
    pub assignee_last_seen_at: Option<String>,
}

/// `GET /conversations/{id}/messages`: ascending by `created_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesIndex {
    pub meta: MessagesIndexMeta,
    pub payload: Vec<Message>,
}
