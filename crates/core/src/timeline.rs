//! The conversation log as the agent reads it: messages interleaved with a date separator
//! at each new day and an unread divider before the first unread message, and each message
//! marked as the start of a group or a continuation of the one above.
//!
//! Separators and the divider are rows of their own (not decorations of a message), so a
//! virtualized list can measure, window and key them like any message.

use parley_wire::{Message, MessageType, Sender};

use crate::store::Row;

/// Messages of one sender closer together than this read as one group (one name, one
/// avatar). Chatwoot groups within the same minute; a few minutes reads better in a chat
/// where people type in bursts.
pub const GROUP_WINDOW_S: i64 = 5 * 60;

/// One row of the displayed log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The first row of a calendar day (in the agent's time zone); `day` is what the
    /// caller's `day_of` returned for it, `at` the first message's time, to label it.
    Day { day: i64, at: i64 },
    /// Above the first message the agent has not read.
    Unread { count: usize },
    /// A message; `continued` when it belongs to the group of the one above it (same
    /// sender and kind, close in time), so the UI hides its name and avatar.
    Message { key: String, continued: bool },
}

impl Item {
    /// A key that stays the same while the row is the same row, for keyed rendering and
    /// for remembering measured heights.
    pub fn key(&self) -> String {
        match self {
            Item::Day { day, .. } => format!("d:{day}"),
            Item::Unread { .. } => "unread".to_owned(),
            Item::Message { key, .. } => key.clone(),
        }
    }
}

/// Who sent a message, for grouping: the same person in the same role.
fn author(m: &Message) -> (MessageType, bool, Option<(u8, i64)>) {
    let who = m.sender.as_ref().and_then(|s| {
        let kind = match s {
            Sender::User(_) => 0,
            Sender::Contact(_) => 1,
            Sender::AgentBot(_) | Sender::CaptainAssistant(_) => 2,
            Sender::Unknown => return None,
        };
        s.id().map(|id| (kind, id))
    });
    (m.message_type, m.private, who)
}

fn groupable(m: &Message) -> bool {
    m.message_type != MessageType::Activity
}

/// Builds the displayed rows from the store's rows, in their order.
///
/// `day_of(created_at)` gives the calendar day in the agent's time zone (the browser
/// knows it; the core does not). `unread_after` is the conversation's
/// `agent_last_seen_at` as it was when the agent opened it: the divider stays where the
/// unread part started while the agent reads on.
pub fn build<'a>(
    rows: impl IntoIterator<Item = &'a Row>,
    day_of: impl Fn(i64) -> i64,
    unread_after: Option<i64>,
) -> Vec<Item> {
    let all: Vec<&Row> = rows.into_iter().collect();
    // A reaction is shown on the message it answers, when that one is loaded; else it
    // stays a row of its own (its emoji), so nothing the customer sent is hidden.
    // Reactions are few: each looks for its message among the rows (no set, no sort in
    // the wasm).
    let loaded = |id: i64| all.iter().any(|r| r.message.id == id);
    let rows: Vec<&Row> = all
        .iter()
        .copied()
        .filter(|r| !r.message.reaction_to().is_some_and(loaded))
        .collect();
    let first_unread = unread_after.and_then(|seen| {
        rows.iter().position(|r| {
            r.send.is_none()
                && r.message.id > 0
                && r.message.message_type == MessageType::Incoming
                && r.message.created_at > seen
        })
    });
    let unread_count = first_unread.map_or(0, |i| {
        rows[i..]
            .iter()
            .filter(|r| r.message.message_type == MessageType::Incoming)
            .count()
    });

    let mut items = Vec::with_capacity(rows.len() + 8);
    let mut previous: Option<&Message> = None;
    let mut current_day = None;
    for (i, row) in rows.iter().enumerate() {
        let m = &row.message;
        let day = day_of(m.created_at);
        let mut broke = false;
        if current_day != Some(day) {
            current_day = Some(day);
            items.push(Item::Day {
                day,
                at: m.created_at,
            });
            broke = true;
        }
        if first_unread == Some(i) {
            items.push(Item::Unread {
                count: unread_count,
            });
            broke = true;
        }
        let continued = !broke
            && previous.is_some_and(|p| {
                groupable(p)
                    && groupable(m)
                    && author(p) == author(m)
                    && author(m).2.is_some()
                    && (m.created_at - p.created_at).abs() <= GROUP_WINDOW_S
            });
        items.push(Item::Message {
            key: row.key.0.clone(),
            continued,
        });
        previous = Some(m);
    }
    items
}

/// The reactions shown on one message: one chip per emoji, in the order each emoji first
/// came, with how many and who.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub names: Vec<String>,
}

/// The reactions to the message with id `id` among `rows`, grouped by emoji. A reaction
/// deleted since (`content_attributes.deleted`) or without an emoji does not count.
pub fn reactions<'a>(rows: impl IntoIterator<Item = &'a Row>, id: i64) -> Vec<Reaction> {
    let mut out: Vec<Reaction> = Vec::new();
    for m in rows.into_iter().map(|r| &r.message) {
        if m.reaction_to() != Some(id) || m.is_deleted() {
            continue;
        }
        let Some(emoji) = m
            .content
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            continue;
        };
        let name = m
            .sender
            .as_ref()
            .and_then(Sender::display_name)
            .unwrap_or_default()
            .to_owned();
        match out.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.names.push(name),
            None => out.push(Reaction {
                emoji: emoji.to_owned(),
                names: vec![name],
            }),
        }
    }
    out
}
