//! Messages and attachments (CONTRACTS.md §3.1, §3.2).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lenient::{empty_object, object_or_null, opt_string_or_number};
use crate::sender::{Sender, UserPush};

/// `message_type`: an integer on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Incoming,
    Outgoing,
    Activity,
    Template,
    Other(i64),
}

impl MessageType {
    pub fn code(self) -> i64 {
        match self {
            MessageType::Incoming => 0,
            MessageType::Outgoing => 1,
            MessageType::Activity => 2,
            MessageType::Template => 3,
            MessageType::Other(n) => n,
        }
    }

    pub fn from_code(n: i64) -> Self {
        match n {
            0 => MessageType::Incoming,
            1 => MessageType::Outgoing,
            2 => MessageType::Activity,
            3 => MessageType::Template,
            n => MessageType::Other(n),
        }
    }

    /// The name Chatwoot's API accepts in `message_type` params and the DOM shows.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Incoming => "incoming",
            MessageType::Outgoing => "outgoing",
            MessageType::Activity => "activity",
            MessageType::Template => "template",
            MessageType::Other(_) => "other",
        }
    }
}

impl Serialize for MessageType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            I(i64),
            S(String),
        }
        // Some Chatwoot paths (webhooks) spell the type as a string; accept both.
        Ok(match Raw::deserialize(d)? {
            Raw::I(n) => MessageType::from_code(n),
            Raw::S(s) => match s.as_str() {
                "incoming" => MessageType::Incoming,
                "outgoing" => MessageType::Outgoing,
                "activity" => MessageType::Activity,
                "template" => MessageType::Template,
                _ => MessageType::Other(-1),
            },
        })
    }
}

/// Delivery status. `progress` exists only on clients; Parley keeps its own send state
/// separately and never puts it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Sent,
    Delivered,
    Read,
    Failed,
    Progress,
    #[serde(other)]
    Unknown,
}

impl MessageStatus {
    /// Rank in the forward order sent < delivered < read; statuses never move backwards
    /// (Chatwoot refuses read → delivered too). `failed` and unknown rank 0.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            _ => 0,
        }
    }
}

/// `file_type` of an attachment (an enum string on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Image,
    Audio,
    Video,
    File,
    Location,
    Fallback,
    Share,
    StoryMention,
    Contact,
    IgReel,
    IgPost,
    IgStory,
    Embed,
    #[serde(other)]
    Unknown,
}

impl FileType {
    /// Chatwoot's `FileTypeHelper`: decided by the upload's Content-Type.
    pub fn from_content_type(content_type: &str) -> FileType {
        let ct = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match ct.as_str() {
            "image/jpeg" | "image/png" | "image/gif" | "image/bmp" | "image/webp" => {
                FileType::Image
            }
            "video/ogg" | "video/mp4" | "video/webm" | "video/quicktime" => FileType::Video,
            _ if ct.starts_with("audio/") => FileType::Audio,
            _ => FileType::File,
        }
    }
}

/// `Attachment#push_event_data`, default branch plus the keys of the other branches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: i64,
    pub message_id: i64,
    pub file_type: FileType,
    pub account_id: i64,
    #[serde(default)]
    pub extension: Option<String>,
    #[serde(default)]
    pub data_url: Option<String>,
    #[serde(default)]
    pub thumb_url: Option<String>,
    #[serde(default)]
    pub file_size: Option<i64>,
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
    /// Audio only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcribed_text: Option<String>,
    /// Location and fallback attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates_lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates_long: Option<f64>,
}

/// A message as the REST views render it (`_message.json.jbuilder`), key order kept.
///
/// The client also decodes cable payloads (`MessagePush`) into this type: the push shape is
/// a superset, and unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub inbox_id: i64,
    /// Only in the create response (and the cable event of that create).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub echo_id: Option<String>,
    /// The conversation's display id.
    pub conversation_id: i64,
    pub message_type: MessageType,
    #[serde(default = "text_content_type")]
    pub content_type: String,
    #[serde(default = "sent_status")]
    pub status: MessageStatus,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub content_attributes: serde_json::Value,
    pub created_at: i64,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Sender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    /// Not in the REST view; present in push payloads (the client uses it to drop events
    /// of other accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
}

fn text_content_type() -> String {
    "text".to_owned()
}

fn sent_status() -> MessageStatus {
    MessageStatus::Sent
}

impl Message {
    /// `content_attributes.in_reply_to`, the id of the message this one quotes.
    pub fn in_reply_to(&self) -> Option<i64> {
        self.content_attributes.get("in_reply_to")?.as_i64()
    }

    /// Soft-deleted (`content_attributes.deleted`).
    pub fn is_deleted(&self) -> bool {
        self.content_attributes
            .get("deleted")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// Why a channel refused the message (`content_attributes.external_error`).
    pub fn external_error(&self) -> Option<&str> {
        self.content_attributes.get("external_error")?.as_str()
    }

    pub fn attachments(&self) -> &[Attachment] {
        self.attachments.as_deref().unwrap_or(&[])
    }
}

/// `message.conversation` in the push shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageConversation {
    #[serde(default)]
    pub assignee_id: Option<i64>,
    #[serde(default)]
    pub unread_count: i64,
    #[serde(default)]
    pub last_activity_at: i64,
    #[serde(default)]
    pub contact_inbox: Option<MessageContactInbox>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageContactInbox {
    #[serde(default)]
    pub source_id: Option<String>,
}

/// `Message#push_event_data`: every column of `messages` in schema order, then the extras,
/// plus what the ActionCable listener merges in (`performer`, `previous_changes`).
/// This is what `message.created` / `message.updated` carry and what a conversation's
/// `messages[]` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagePush {
    pub id: i64,
    #[serde(default)]
    pub content: Option<String>,
    pub account_id: i64,
    pub inbox_id: i64,
    pub conversation_id: i64,
    pub message_type: MessageType,
    pub created_at: i64,
    /// ISO 8601 with milliseconds.
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub private: bool,
    pub status: MessageStatus,
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default = "text_content_type")]
    pub content_type: String,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub content_attributes: serde_json::Value,
    #[serde(default)]
    pub sender_type: Option<String>,
    #[serde(default)]
    pub sender_id: Option<i64>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub external_source_ids: serde_json::Value,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default)]
    pub processed_message_content: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub sentiment: serde_json::Value,
    #[serde(default)]
    pub conversation: Option<MessageConversation>,
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub echo_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Sender>,
    /// Added by the listener when an authenticated agent caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performer: Option<UserPush>,
    /// `message.updated` only: `{attr: [old, new]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_changes: Option<serde_json::Value>,
}

impl From<MessagePush> for Message {
    fn from(p: MessagePush) -> Self {
        Message {
            id: p.id,
            content: p.content,
            inbox_id: p.inbox_id,
            echo_id: p.echo_id,
            conversation_id: p.conversation_id,
            message_type: p.message_type,
            content_type: p.content_type,
            status: p.status,
            content_attributes: p.content_attributes,
            created_at: p.created_at,
            private: p.private,
            source_id: p.source_id,
            sender: p.sender,
            attachments: p.attachments,
            account_id: Some(p.account_id),
        }
    }
}
