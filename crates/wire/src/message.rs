//! Messages and attachments (CONTRACTS.md §3.1, §3.2).

use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lenient::{
    self, decode_or_salvage, empty_object, field, object_or_null, opt_string_or_number, Salvage,
    Scalar,
};
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
        let raw = Scalar::read(d)?;
        MessageType::of(&raw)
            .ok_or_else(|| serde::de::Error::custom("message_type is neither a number nor a name"))
    }
}

impl MessageType {
    /// Some Chatwoot paths (webhooks) spell the type as a name, some rows as a numeric string.
    fn of(raw: &Scalar) -> Option<MessageType> {
        Some(match raw {
            Scalar::Str(s) => match s.as_str() {
                "incoming" => MessageType::Incoming,
                "outgoing" => MessageType::Outgoing,
                "activity" => MessageType::Activity,
                "template" => MessageType::Template,
                _ => raw
                    .int()
                    .map_or(MessageType::Other(-1), MessageType::from_code),
            },
            _ => MessageType::from_code(raw.int()?),
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
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub message_id: i64,
    #[serde(default = "unknown_file_type", deserialize_with = "lenient_file_type")]
    pub file_type: FileType,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub account_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub extension: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub data_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub thumb_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub file_size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub width: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub height: Option<i64>,
    /// Audio only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub transcribed_text: Option<String>,
    /// Location and fallback attachments.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub fallback_title: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub coordinates_lat: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub coordinates_long: Option<f64>,
}

fn unknown_file_type() -> FileType {
    FileType::Unknown
}

/// A message as the REST views render it (`_message.json.jbuilder`), key order kept.
///
/// The client also decodes cable payloads (`MessagePush`) into this type: the push shape is
/// a superset, and unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::content")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub inbox_id: i64,
    /// Only in the create response (and the cable event of that create).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub echo_id: Option<String>,
    /// The conversation's display id.
    #[serde(deserialize_with = "lenient::int")]
    pub conversation_id: i64,
    pub message_type: MessageType,
    #[serde(
        default = "text_content_type",
        deserialize_with = "lenient::content_type"
    )]
    pub content_type: String,
    #[serde(default = "sent_status", deserialize_with = "lenient_status")]
    pub status: MessageStatus,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub content_attributes: serde_json::Value,
    #[serde(deserialize_with = "lenient::timestamp")]
    pub created_at: i64,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub private: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub source_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub sender: Option<Sender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    /// Not in the REST view; present in push payloads (the client uses it to drop events
    /// of other accounts).
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<i64>,
}

/// The `content_type` of a placeholder for a message that could not be read whole (not one
/// of Chatwoot's, so nothing else renders it): see [`Message::is_unreadable`].
pub const UNREADABLE_CONTENT_TYPE: &str = "parley_unreadable";

/// Chatwoot's content types (`Message#content_type`); the others are shown as text with a
/// "not supported here" label.
pub const KNOWN_CONTENT_TYPES: [&str; 13] = [
    "text",
    "input_text",
    "input_textarea",
    "input_email",
    "input_select",
    "cards",
    "form",
    "article",
    "incoming_email",
    "input_csat",
    "integrations",
    "sticker",
    "voice_call",
];

fn text_content_type() -> String {
    "text".to_owned()
}

fn sent_status() -> MessageStatus {
    MessageStatus::Sent
}

impl Message {
    /// `content_attributes.in_reply_to`, the id of the message this one quotes.
    pub fn in_reply_to(&self) -> Option<i64> {
        field(&self.content_attributes, "in_reply_to").int()
    }

    /// What the content type adds to the text ([`crate::content::block_of`]).
    pub fn block(&self) -> crate::content::Block {
        crate::content::block_of(&self.content_type, &self.content_attributes)
    }

    /// An emoji reaction to the message it replies to ([`crate::content::is_reaction`]):
    /// shown on that message, not as a row of its own.
    pub fn reaction_to(&self) -> Option<i64> {
        crate::content::is_reaction(&self.content_attributes)
            .then(|| self.in_reply_to())
            .flatten()
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

    /// A placeholder for a message that could not be read whole ([`Salvage`]).
    pub fn is_unreadable(&self) -> bool {
        self.content_type == UNREADABLE_CONTENT_TYPE
    }

    /// A content type Chatwoot does not have (or a newer one this client does not know).
    pub fn has_unknown_content_type(&self) -> bool {
        !self.is_unreadable() && !KNOWN_CONTENT_TYPES.contains(&self.content_type.as_str())
    }
}

impl Salvage for Message {
    /// What still reads of a message that does not read whole: its id (required), time,
    /// sender, text and the attachments that read, marked [`UNREADABLE_CONTENT_TYPE`].
    fn salvage(v: &serde_json::Value) -> Option<Message> {
        let id = field(v, "id").int()?;
        let sender: Option<Sender> = v.get("sender").and_then(|s| lenient::read(s).ok());
        let message_type = MessageType::of(&field(v, "message_type")).unwrap_or(
            // Without a readable type, who sent it says which side it belongs on.
            match (&sender, field(v, "sender_type").text().as_deref()) {
                (Some(Sender::Contact(_)), _) | (_, Some("Contact")) => MessageType::Incoming,
                _ => MessageType::Other(-1),
            },
        );
        let attachments: Vec<Attachment> = match v.get("attachments") {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|a| lenient::read(a).ok()).collect()
            }
            _ => Vec::new(),
        };
        Some(Message {
            id,
            content: field(v, "content").text(),
            inbox_id: field(v, "inbox_id").int().unwrap_or(0),
            echo_id: field(v, "echo_id").text(),
            conversation_id: field(v, "conversation_id").int().unwrap_or(0),
            message_type,
            content_type: UNREADABLE_CONTENT_TYPE.to_owned(),
            status: status_of(&field(v, "status")),
            // Replies, deletions and edits still apply to what is shown.
            content_attributes: v
                .get("content_attributes")
                .filter(|c| c.is_object())
                .cloned()
                .unwrap_or_else(empty_object),
            created_at: field(v, "created_at").timestamp().unwrap_or(0),
            private: field(v, "private").flag(),
            source_id: None,
            sender,
            attachments: (!attachments.is_empty()).then_some(attachments),
            account_id: field(v, "account_id").int(),
        })
    }
}

impl Salvage for MessagePush {
    fn salvage(v: &serde_json::Value) -> Option<MessagePush> {
        let m = Message::salvage(v)?;
        Some(MessagePush {
            id: m.id,
            content: m.content,
            account_id: m.account_id.unwrap_or(0),
            inbox_id: m.inbox_id,
            conversation_id: m.conversation_id,
            message_type: m.message_type,
            created_at: m.created_at,
            updated_at: None,
            private: m.private,
            status: m.status,
            source_id: None,
            content_type: m.content_type,
            content_attributes: m.content_attributes,
            sender_type: field(v, "sender_type").text(),
            sender_id: field(v, "sender_id").int(),
            external_source_ids: empty_object(),
            additional_attributes: empty_object(),
            processed_message_content: None,
            sentiment: empty_object(),
            conversation: None,
            echo_id: m.echo_id,
            attachments: m.attachments,
            sender: m.sender,
            performer: None,
            previous_changes: None,
        })
    }
}

/// A cable event's message: the push shape, else the REST shape, else a placeholder; `None`
/// when not even its id reads.
pub fn message_of_event(data: &serde_json::Value) -> Option<Message> {
    lenient::read::<MessagePush>(data)
        .map(Message::from)
        .or_else(|_| lenient::read(data))
        .ok()
        .or_else(|| decode_or_salvage::<Message>(data))
}

/// `message.conversation` in the push shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageConversation {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub assignee_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub unread_count: i64,
    #[serde(default, deserialize_with = "lenient::timestamp_or_zero")]
    pub last_activity_at: i64,
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub contact_inbox: Option<MessageContactInbox>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageContactInbox {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub source_id: Option<String>,
}

/// `Message#push_event_data`: every column of `messages` in schema order, then the extras,
/// plus what the ActionCable listener merges in (`performer`, `previous_changes`).
/// This is what `message.created` / `message.updated` carry and what a conversation's
/// `messages[]` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagePush {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(default, deserialize_with = "lenient::content")]
    pub content: Option<String>,
    #[serde(deserialize_with = "lenient::int")]
    pub account_id: i64,
    #[serde(default, deserialize_with = "lenient::int_or_zero")]
    pub inbox_id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub conversation_id: i64,
    pub message_type: MessageType,
    #[serde(deserialize_with = "lenient::timestamp")]
    pub created_at: i64,
    /// ISO 8601 with milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub private: bool,
    #[serde(default = "sent_status", deserialize_with = "lenient_status")]
    pub status: MessageStatus,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub source_id: Option<String>,
    #[serde(
        default = "text_content_type",
        deserialize_with = "lenient::content_type"
    )]
    pub content_type: String,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub content_attributes: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub sender_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub sender_id: Option<i64>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub external_source_ids: serde_json::Value,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub additional_attributes: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub processed_message_content: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "object_or_null")]
    pub sentiment: serde_json::Value,
    #[serde(default, deserialize_with = "lenient::opt_lenient")]
    pub conversation: Option<MessageConversation>,
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub echo_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub sender: Option<Sender>,
    /// Added by the listener when an authenticated agent caused the event.
    #[serde(
        default,
        deserialize_with = "lenient::opt_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub performer: Option<UserPush>,
    /// `message.updated` only: `{attr: [old, new]}`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_value",
        skip_serializing_if = "Option::is_none"
    )]
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

/// Lenient (see `lenient`): a message's `status`: names, Chatwoot's enum integers, `null` (sent) and anything else
/// (unknown).
pub fn lenient_status<'de, D: Deserializer<'de>>(d: D) -> Result<MessageStatus, D::Error> {
    Ok(status_of(&Scalar::read(d)?))
}

pub(crate) fn status_of(s: &Scalar) -> MessageStatus {
    match s {
        Scalar::Null => MessageStatus::Sent,
        Scalar::Str(name) => match name.as_str() {
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "failed" => MessageStatus::Failed,
            "progress" => MessageStatus::Progress,
            _ => s.int().map_or(MessageStatus::Unknown, status_code),
        },
        Scalar::Int(code) => status_code(*code),
        _ => MessageStatus::Unknown,
    }
}

/// Chatwoot's `enum status: { sent: 0, delivered: 1, read: 2, failed: 3 }`.
fn status_code(code: i64) -> MessageStatus {
    match code {
        0 => MessageStatus::Sent,
        1 => MessageStatus::Delivered,
        2 => MessageStatus::Read,
        3 => MessageStatus::Failed,
        _ => MessageStatus::Unknown,
    }
}

/// Lenient (see `lenient`): an attachment's `file_type`: unknown names and other types are `Unknown`.
pub fn lenient_file_type<'de, D: Deserializer<'de>>(d: D) -> Result<FileType, D::Error> {
    Ok(match Scalar::read(d)? {
        Scalar::Str(name) => {
            FileType::deserialize(de::value::StrDeserializer::<de::value::Error>::new(&name))
                .unwrap_or(FileType::Unknown)
        }
        _ => FileType::Unknown,
    })
}
