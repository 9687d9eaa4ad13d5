//! JSON views: rows turned into the shared wire types, one function per Chatwoot jbuilder
//! view or `push_event_data`. Encoding with `parley-wire` keeps the server and the client
//! on one definition of every shape.

use parley_wire::{
    Agent, Attachment, CannedResponse, Contact, ContactInbox, Conversation, ConversationMeta,
    ConversationPush, ConversationPushMeta, FileType, Message, MessageConversation, MessagePush,
    MessageStatus, MessageType, MessagesIndexMeta, Profile, ProfileAccount, Sender, UserPush,
};
use rusqlite::Connection;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::db::{
    self, AttachmentRow, CannedRow, ContactRow, ConversationRow, DbResult, MessageRow, UserRow,
};

/// ISO 8601 with milliseconds, UTC (`2024-11-28T10:13:20.532Z`), as Rails renders a Time.
pub fn iso_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

fn float_secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn empty() -> Value {
    Value::Object(Default::default())
}

pub fn user_push(u: &UserRow) -> UserPush {
    UserPush {
        id: u.id,
        name: Some(u.name.clone()),
        available_name: Some(u.name.clone()),
        avatar_url: Some(String::new()),
        kind: Some("user".into()),
        availability_status: Some("online".into()),
        thumbnail: Some(String::new()),
    }
}

/// `Contact#push_event_data`.
pub fn contact_push(ct: &ContactRow) -> Contact {
    Contact {
        additional_attributes: empty(),
        availability_status: None,
        custom_attributes: empty(),
        email: ct.email.clone(),
        id: ct.id,
        identifier: ct.identifier.clone(),
        name: ct.name.clone(),
        phone_number: ct.phone_number.clone(),
        thumbnail: Some(String::new()),
        blocked: false,
        kind: Some("contact".into()),
        last_activity_at: None,
        created_at: None,
    }
}

/// The `_contact` partial used in a conversation's `meta.sender`.
fn contact_rest(ct: &ContactRow, online: bool) -> Contact {
    Contact {
        availability_status: Some(if online { "online" } else { "offline" }.into()),
        kind: None,
        last_activity_at: ct.last_activity_at.map(secs),
        created_at: Some(secs(ct.created_at)),
        ..contact_push(ct)
    }
}

/// The `_agent` partial (`api/v1/models/_agent.json.jbuilder`): `meta.assignee`, the agents
/// list, an assignment's answer.
pub fn agent(u: &UserRow, account_id: i64, role: &str) -> Agent {
    Agent {
        id: u.id,
        account_id: Some(account_id),
        availability_status: Some("online".into()),
        auto_offline: Some(true),
        confirmed: Some(true),
        email: Some(u.email.clone()),
        provider: Some("email".into()),
        available_name: Some(u.name.clone()),
        name: Some(u.name.clone()),
        role: Some(role.into()),
        thumbnail: Some(String::new()),
        custom_role_id: None,
    }
}

/// Where a stored upload is served: the shape of Rails' `url_for(blob)`.
pub fn attachment_path(a: &AttachmentRow) -> String {
    format!(
        "/rails/active_storage/blobs/redirect/{}/{}",
        a.token,
        percent_encoding::utf8_percent_encode(&a.filename, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// `Attachment#push_event_data`; URLs absolute to `origin` (empty origin: relative).
pub fn attachment(a: &AttachmentRow, origin: &str) -> Attachment {
    let file_type = FileType::from_content_type(&a.content_type);
    let url = format!("{origin}{}", attachment_path(a));
    Attachment {
        id: a.id,
        message_id: a.message_id,
        file_type,
        account_id: a.account_id,
        extension: a.extension.clone(),
        thumb_url: Some(if file_type == FileType::Image {
            url.clone()
        } else {
            String::new()
        }),
        data_url: Some(url),
        file_size: Some(a.file_size),
        width: a.width,
        height: a.height,
        transcribed_text: (file_type == FileType::Audio).then(String::new),
        fallback_title: None,
        coordinates_lat: None,
        coordinates_long: None,
    }
}

fn sender(c: &Connection, m: &MessageRow) -> DbResult<Option<Sender>> {
    Ok(match (m.sender_type.as_deref(), m.sender_id) {
        (Some("User"), Some(id)) => db::user(c, id)?.map(|u| Sender::User(user_push(&u))),
        (Some("Contact"), Some(id)) => {
            db::contact(c, id)?.map(|ct| Sender::Contact(contact_push(&ct)))
        }
        _ => None,
    })
}

fn attachments(c: &Connection, m: &MessageRow, origin: &str) -> DbResult<Option<Vec<Attachment>>> {
    let rows = db::attachments_of(c, m.id)?;
    // Chatwoot omits the key when there are none.
    Ok((!rows.is_empty()).then(|| rows.iter().map(|a| attachment(a, origin)).collect()))
}

fn status(s: &str) -> MessageStatus {
    serde_json::from_value(Value::String(s.to_owned())).unwrap_or(MessageStatus::Sent)
}

/// A message's attributes as a contact may read them: an edited message says when, but
/// its previous versions (what the agent took back) stay with the agents.
pub fn contact_attributes(attributes: &Value) -> Value {
    let mut attributes = attributes.clone();
    if let Some(Value::Object(edited)) = attributes.get_mut("edited") {
        edited.remove("previous");
    }
    attributes
}

/// Scrubs an event for a contact's cable: every message in it (the event's own, a
/// conversation's last) loses its edit history, and `previous_changes` keeps no old
/// content.
pub fn hide_from_contact(data: &mut Value) {
    match data {
        Value::Object(map) => {
            if let Some(Value::Object(changes)) = map.get_mut("previous_changes") {
                changes.remove("content");
                changes.remove("content_attributes");
            }
            for (key, value) in map.iter_mut() {
                if key == "content_attributes" {
                    *value = contact_attributes(value);
                } else {
                    hide_from_contact(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(hide_from_contact),
        _ => {}
    }
}

/// `_message.json.jbuilder`. `echo_id` only in a create response.
pub fn message_rest(
    c: &Connection,
    display_id: i64,
    m: &MessageRow,
    origin: &str,
    echo_id: Option<&str>,
) -> DbResult<Message> {
    Ok(Message {
        id: m.id,
        content: m.content.clone(),
        inbox_id: m.inbox_id,
        echo_id: echo_id.map(str::to_owned),
        conversation_id: display_id,
        message_type: MessageType::from_code(m.message_type),
        content_type: m.content_type.clone(),
        status: status(&m.status),
        content_attributes: m.content_attributes.clone(),
        created_at: secs(m.created_at),
        private: m.private,
        source_id: m.source_id.clone(),
        sender: sender(c, m)?,
        attachments: attachments(c, m, origin)?,
        account_id: None,
    })
}

/// `Message#push_event_data` (+ `echo_id` when the creating request carried one).
pub fn message_push(
    c: &Connection,
    conv: &ConversationRow,
    m: &MessageRow,
    origin: &str,
    echo_id: Option<&str>,
) -> DbResult<MessagePush> {
    let ci = db::contact_inbox(c, conv.contact_inbox_id)?;
    let is_text = m.content_type == "text";
    Ok(MessagePush {
        id: m.id,
        content: m.content.clone(),
        account_id: m.account_id,
        inbox_id: m.inbox_id,
        conversation_id: conv.display_id,
        message_type: MessageType::from_code(m.message_type),
        created_at: secs(m.created_at),
        updated_at: Some(iso_ms(m.updated_at)),
        private: m.private,
        status: status(&m.status),
        source_id: m.source_id.clone(),
        content_type: m.content_type.clone(),
        content_attributes: m.content_attributes.clone(),
        sender_type: m.sender_type.clone(),
        sender_id: m.sender_id,
        external_source_ids: empty(),
        additional_attributes: empty(),
        processed_message_content: if is_text { m.content.clone() } else { None },
        sentiment: empty(),
        conversation: Some(MessageConversation {
            assignee_id: conv.assignee_id,
            unread_count: db::unread_incoming_count(c, conv)?,
            last_activity_at: secs(conv.last_activity_at),
            contact_inbox: Some(parley_wire::message::MessageContactInbox {
                source_id: ci.map(|ci| ci.source_id),
            }),
        }),
        echo_id: echo_id.map(str::to_owned),
        attachments: attachments(c, m, origin)?,
        sender: sender(c, m)?,
        performer: None,
        previous_changes: None,
    })
}

fn role_in(c: &Connection, user_id: i64, account_id: i64) -> DbResult<String> {
    Ok(db::memberships(c, user_id)?
        .into_iter()
        .find(|m| m.account.id == account_id)
        .map(|m| m.role)
        .unwrap_or_else(|| "agent".into()))
}

fn channel_name(c: &Connection, inbox_id: i64) -> DbResult<String> {
    Ok(db::inbox(c, inbox_id)?
        .map(|i| i.channel_type)
        .unwrap_or_else(|| "Channel::WebWidget".into()))
}

/// `_conversation.json.jbuilder` (GET show, list items, update_last_seen).
/// `contact_online` fills `meta.sender.availability_status`.
pub fn conversation_rest(
    c: &Connection,
    conv: &ConversationRow,
    origin: &str,
    contact_online: bool,
) -> DbResult<Conversation> {
    let contact = db::contact(c, conv.contact_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let assignee = match conv.assignee_id {
        Some(id) => db::user(c, id)?,
        None => None,
    };
    let assignee = match assignee {
        Some(u) => Some(agent(
            &u,
            conv.account_id,
            &role_in(c, u.id, conv.account_id)?,
        )),
        None => None,
    };
    let last = db::last_message(c, conv.id, false)?;
    let last_non_activity = db::last_non_activity_message(c, conv.id)?;
    Ok(Conversation {
        meta: ConversationMeta {
            sender: contact_rest(&contact, contact_online),
            channel: Some(channel_name(c, conv.inbox_id)?),
            assignee_type: assignee.as_ref().map(|_| "User".to_owned()),
            assignee,
            team: None,
            hmac_verified: Some(false),
        },
        id: conv.display_id,
        messages: match last {
            Some(m) => vec![message_push(c, conv, &m, origin, None)?],
            None => vec![],
        },
        account_id: conv.account_id,
        uuid: Some(conv.uuid.clone()),
        additional_attributes: conv.additional_attributes.clone(),
        agent_last_seen_at: conv.agent_last_seen_at.map(secs).unwrap_or(0),
        assignee_last_seen_at: conv.assignee_last_seen_at.map(secs).unwrap_or(0),
        can_reply: true,
        contact_last_seen_at: conv.contact_last_seen_at.map(secs).unwrap_or(0),
        custom_attributes: empty(),
        inbox_id: conv.inbox_id,
        labels: vec![],
        muted: false,
        snoozed_until: conv.snoozed_until.map(iso_ms),
        status: conv.status.clone(),
        created_at: secs(conv.created_at),
        updated_at: float_secs(conv.updated_at),
        timestamp: secs(conv.last_activity_at),
        first_reply_created_at: conv.first_reply_created_at.map(secs).unwrap_or(0),
        unread_count: db::unread_incoming_count(c, conv)?,
        last_non_activity_message: match last_non_activity {
            Some(m) => Some(message_push(c, conv, &m, origin, None)?),
            None => None,
        },
        last_activity_at: secs(conv.last_activity_at),
        priority: conv.priority.clone(),
        waiting_since: conv.waiting_since.map(secs).unwrap_or(0),
        sla_policy_id: None,
    })
}

/// `Conversations::EventDataPresenter#push_data` + `account_id`.
pub fn conversation_push(
    c: &Connection,
    conv: &ConversationRow,
    origin: &str,
) -> DbResult<ConversationPush> {
    let contact = db::contact(c, conv.contact_id)?;
    let ci = db::contact_inbox(c, conv.contact_inbox_id)?;
    let assignee = match conv.assignee_id {
        Some(id) => db::user(c, id)?.map(|u| user_push(&u)),
        None => None,
    };
    let last_chat = db::last_message(c, conv.id, true)?;
    Ok(ConversationPush {
        additional_attributes: conv.additional_attributes.clone(),
        can_reply: true,
        channel: Some(channel_name(c, conv.inbox_id)?),
        contact_inbox: ci.map(|ci| ContactInbox {
            id: ci.id,
            contact_id: ci.contact_id,
            inbox_id: ci.inbox_id,
            source_id: Some(ci.source_id),
            created_at: Some(iso_ms(ci.created_at)),
            updated_at: Some(iso_ms(ci.updated_at)),
            hmac_verified: Some(false),
            pubsub_token: Some(ci.pubsub_token),
        }),
        id: conv.display_id,
        inbox_id: conv.inbox_id,
        messages: match last_chat {
            Some(m) => vec![message_push(c, conv, &m, origin, None)?],
            None => vec![],
        },
        labels: vec![],
        meta: Some(ConversationPushMeta {
            sender: contact.as_ref().map(contact_push),
            assignee_type: assignee.as_ref().map(|_| "User".to_owned()),
            assignee,
            team: None,
            hmac_verified: Some(false),
        }),
        status: Some(conv.status.clone()),
        custom_attributes: empty(),
        snoozed_until: conv.snoozed_until.map(iso_ms),
        unread_count: db::unread_incoming_count(c, conv)?,
        first_reply_created_at: conv.first_reply_created_at.map(iso_ms),
        priority: conv.priority.clone(),
        waiting_since: conv.waiting_since.map(secs).unwrap_or(0),
        agent_last_seen_at: conv.agent_last_seen_at.map(secs).unwrap_or(0),
        contact_last_seen_at: conv.contact_last_seen_at.map(secs).unwrap_or(0),
        last_activity_at: secs(conv.last_activity_at),
        timestamp: secs(conv.last_activity_at),
        created_at: secs(conv.created_at),
        updated_at: float_secs(conv.updated_at),
        account_id: Some(conv.account_id),
    })
}

/// `meta` of `GET .../messages`; the last-seen values are ISO strings here.
pub fn messages_index_meta(c: &Connection, conv: &ConversationRow) -> DbResult<MessagesIndexMeta> {
    let contact = db::contact(c, conv.contact_id)?;
    let assignee = match conv.assignee_id {
        Some(id) => db::user(c, id)?.map(|u| user_push(&u)),
        None => None,
    };
    Ok(MessagesIndexMeta {
        labels: vec![],
        additional_attributes: conv.additional_attributes.clone(),
        contact: contact.as_ref().map(contact_push),
        assignee,
        agent_last_seen_at: conv.agent_last_seen_at.map(iso_ms),
        assignee_last_seen_at: conv.assignee_last_seen_at.map(iso_ms),
    })
}

pub fn canned(r: &CannedRow) -> CannedResponse {
    CannedResponse {
        id: r.id,
        account_id: r.account_id,
        short_code: r.short_code.clone(),
        content: r.content.clone(),
        created_at: Some(iso_ms(r.created_at)),
        updated_at: Some(iso_ms(r.updated_at)),
    }
}

/// `_user.json.jbuilder` (profile, and the `data` of sign_in).
pub fn profile(c: &Connection, u: &UserRow) -> DbResult<Profile> {
    let memberships = db::memberships(c, u.id)?;
    let active = memberships.first();
    Ok(Profile {
        access_token: u.access_token.clone(),
        account_id: active.map(|m| m.account.id),
        available_name: Some(u.name.clone()),
        avatar_url: Some(String::new()),
        confirmed: Some(true),
        display_name: None,
        message_signature: None,
        email: u.email.clone(),
        id: u.id,
        inviter_id: None,
        name: u.name.clone(),
        provider: Some("email".into()),
        pubsub_token: u.pubsub_token.clone(),
        role: active.map(|m| m.role.clone()),
        ui_settings: empty(),
        uid: Some(u.email.clone()),
        kind: None,
        accounts: memberships
            .iter()
            .map(|m| ProfileAccount {
                id: m.account.id,
                name: m.account.name.clone(),
                status: Some("active".into()),
                active_at: Some(iso_ms(m.created_at)),
                role: Some(m.role.clone()),
                permissions: vec![m.role.clone()],
                availability: Some("online".into()),
                availability_status: Some("online".into()),
                auto_offline: Some(true),
                custom_role_id: None,
                custom_role: None,
            })
            .collect(),
    })
}

/// The user JSON of devise's `_auth` view (sign_in): the profile as a JSON value.
pub fn profile_value(c: &Connection, u: &UserRow) -> DbResult<Value> {
    Ok(serde_json::to_value(profile(c, u)?).unwrap_or_else(|_| json!({})))
}
