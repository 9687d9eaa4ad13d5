//! One conversation's messages in display order, with deduplication.
//!
//! Everything that may tell the client about a message goes through [`MessageStore::upsert`]:
//! REST history pages, the REST create response, cable `message.created` and
//! `message.updated`, resync pages. They arrive in any order, some twice, some never; the
//! store converges to the same list whatever the order:
//!
//! - Confirmed messages (with a server id) are ordered by `(created_at, id)`, never by
//!   arrival. A late or replayed frame lands in its place.
//! - Pending local sends (no server id yet) sit after the last confirmed message, in the
//!   order they were typed.
//! - A frame matches an existing row by `id`, or by `echo_id` (the create response and the
//!   cable event of our own send carry it). The pending row is confirmed in place and keeps
//!   its [`RowKey`], so the UI does not re-create it.
//! - Statuses never move backwards (sent < delivered < read); a server `failed` applies.
//! - Content never moves backwards either: a deletion is final, and a message edited more
//!   times (`content_attributes.edited.previous`) wins over an older copy (a stale REST page
//!   must not undo a `message.updated`).
//!
//! Rows are a `Vec` (confirmed part sorted, pending part after it) plus maps from id, echo
//! id and key; finding an insert position or a row is a binary search, so a 10,000-message
//! conversation does not make each event linear in the history.

use std::collections::{BTreeMap, HashMap};

use parley_wire::{Message, MessageStatus, MessageType};

use crate::outbox::{AttemptError, FailReason};

/// Stable UI key: stays the same when a pending message is confirmed.
/// `"e:<echo_id>"` for local sends, `"m:<id>"` otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey(pub String);

impl RowKey {
    pub fn for_echo(echo_id: &str) -> Self {
        RowKey(format!("e:{echo_id}"))
    }

    pub fn for_id(id: i64) -> Self {
        RowKey(format!("m:{id}"))
    }
}

/// Where a local send stands, for rows that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendState {
    Queued,
    Sending,
    /// Waiting to try again; `error` is how the last attempt failed (none while checking
    /// whether an attempt arrived).
    Retrying {
        error: Option<AttemptError>,
    },
    Failed {
        reason: FailReason,
    },
    /// No answer came and the backend cannot say whether it has the message: it may not
    /// have been sent (the agent can retry or discard it).
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: RowKey,
    pub message: Message,
    /// `Some` only while the row is a pending local send.
    pub send: Option<SendState>,
}

/// What an operation did, for the UI to mirror it without re-reading the list.
///
/// `Updated.index` is the row's index *after* the change. It can differ from the index
/// before: a confirmed send moves from the pending tail to its `(created_at, id)` place,
/// and a confirmation can merge away a duplicate row that a REST page had inserted without
/// `echo_id` (then [`MessageStore::len`] dropped by one). Check both and rebuild the order
/// when either happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Inserted { key: RowKey, index: usize },
    Updated { key: RowKey, index: usize },
    Unchanged,
}

type SortKey = (i64, i64);

fn sort_key(m: &Message) -> SortKey {
    (m.created_at, m.id)
}

/// How far a copy of a message has come: deleted beats anything, then more edits win.
fn revision(m: &Message) -> (bool, usize) {
    let edits = m
        .content_attributes
        .get("edited")
        .and_then(|e| e.get("previous"))
        .and_then(|p| p.as_array())
        .map_or(0, Vec::len);
    (m.is_deleted(), edits)
}

/// Statuses only move forward; a server `failed` always applies (the channel refused it),
/// and a retry that succeeds moves `failed` forward to `sent` again.
fn merge_status(old: MessageStatus, new: MessageStatus) -> MessageStatus {
    let forward =
        new.rank() > old.rank() || (new.rank() == old.rank() && old != MessageStatus::Failed);
    if new == MessageStatus::Failed || forward {
        new
    } else {
        old
    }
}

/// `old` updated by a newer copy `new` of the same message.
fn merge(old: &Message, new: Message) -> Message {
    let status = merge_status(old.status, new.status);
    let mut m = if revision(&new) >= revision(old) {
        new
    } else {
        // A stale copy: keep the content we have, take only what can only grow.
        let mut kept = old.clone();
        kept.echo_id = kept.echo_id.or(new.echo_id);
        kept.account_id = kept.account_id.or(new.account_id);
        kept
    };
    m.status = status;
    m.echo_id = m.echo_id.or_else(|| old.echo_id.clone());
    m.account_id = m.account_id.or(old.account_id);
    m.sender = m.sender.or_else(|| old.sender.clone());
    m
}

#[derive(Debug, Clone, Default)]
pub struct MessageStore {
    /// `rows[..confirmed]` sorted by `(created_at, id)`, then the pending sends.
    rows: Vec<Row>,
    confirmed: usize,
    /// Sort key of each confirmed row; pending rows are absent.
    sort: HashMap<RowKey, SortKey>,
    /// Ordered, so the newest and oldest ids are at the ends.
    by_id: BTreeMap<i64, RowKey>,
    by_echo: HashMap<String, RowKey>,
}

impl MessageStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A local send: inserted after the last confirmed message, `send = Some(Sending)`.
    ///
    /// Adding an `echo_id` that is already pending replaces the message (an edit before it
    /// left, or the outbox restored after a reload) and keeps the row and its send state;
    /// one the server already confirmed is `Unchanged`.
    pub fn add_pending(&mut self, echo_id: &str, mut message: Message) -> Change {
        message.echo_id = Some(echo_id.to_owned());
        if let Some(key) = self.by_echo.get(echo_id).cloned() {
            let Some(index) = self.index_of(&key) else {
                return Change::Unchanged;
            };
            if self.sort.contains_key(&key) || self.rows[index].message == message {
                return Change::Unchanged;
            }
            self.rows[index].message = message;
            return Change::Updated { key, index };
        }
        let key = RowKey::for_echo(echo_id);
        self.by_echo.insert(echo_id.to_owned(), key.clone());
        self.rows.push(Row {
            key: key.clone(),
            message,
            send: Some(SendState::Sending),
        });
        Change::Inserted {
            key,
            index: self.rows.len() - 1,
        }
    }

    /// REST page, REST create response, cable message.created/updated: match by id or
    /// echo_id, insert in `(created_at, id)` order or replace fields; never a duplicate;
    /// statuses never go backwards.
    pub fn upsert(&mut self, message: Message) -> Change {
        let by_id = self.by_id.get(&message.id).cloned();
        // An echo_id names the send of a pending row. A confirmed row with another id that
        // carries the same echo_id is a second server message (a backend without echo_id
        // idempotency stored a retry twice): it is shown, not hidden.
        let by_echo = message
            .echo_id
            .as_ref()
            .and_then(|e| self.by_echo.get(e))
            .filter(|k| !self.sort.contains_key(*k))
            .cloned();
        match (by_id, by_echo) {
            (None, None) => self.insert_new(message),
            (Some(key), None) => self.update_confirmed(key, message),
            (None, Some(pending)) => self.confirm(pending, None, message),
            (Some(existing), Some(pending)) => self.confirm(pending, Some(existing), message),
        }
    }

    /// The send state of a pending row. Confirmed rows have none: `Unchanged`.
    pub fn set_send_state(&mut self, echo_id: &str, send: Option<SendState>) -> Change {
        let Some(key) = self.by_echo.get(echo_id).cloned() else {
            return Change::Unchanged;
        };
        if self.sort.contains_key(&key) {
            return Change::Unchanged;
        }
        let Some(index) = self.index_of(&key) else {
            return Change::Unchanged;
        };
        if self.rows[index].send == send {
            return Change::Unchanged;
        }
        self.rows[index].send = send;
        Change::Updated { key, index }
    }

    pub fn remove(&mut self, key: &RowKey) -> bool {
        let Some(index) = self.index_of(key) else {
            return false;
        };
        let row = self.take(index);
        self.forget(&row);
        true
    }

    /// Display order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter()
    }

    pub fn get(&self, key: &RowKey) -> Option<&Row> {
        self.index_of(key).map(|i| &self.rows[i])
    }

    /// The display index of a row: a binary search for confirmed rows.
    pub fn index_of(&self, key: &RowKey) -> Option<usize> {
        match self.sort.get(key) {
            Some(sk) => self.rows[..self.confirmed]
                .binary_search_by(|r| sort_key(&r.message).cmp(sk))
                .ok(),
            None => self.rows[self.confirmed..]
                .iter()
                .position(|r| &r.key == key)
                .map(|i| i + self.confirmed),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// For `messages?after=`.
    pub fn newest_id(&self) -> Option<i64> {
        self.by_id.keys().next_back().copied()
    }

    /// For `messages?before=`.
    pub fn oldest_id(&self) -> Option<i64> {
        self.by_id.keys().next().copied()
    }

    /// The contact read up to `up_to_created_at` (`conversation.read`'s
    /// `contact_last_seen_at`): our outgoing (and template) messages that are not private
    /// and were sent or delivered by then become read. Returns the keys that changed.
    pub fn mark_read(&mut self, up_to_created_at: i64) -> Vec<RowKey> {
        let end = self.rows[..self.confirmed]
            .partition_point(|r| r.message.created_at <= up_to_created_at);
        let mut changed = Vec::new();
        for row in &mut self.rows[..end] {
            let m = &mut row.message;
            if matches!(
                m.message_type,
                MessageType::Outgoing | MessageType::Template
            ) && !m.private
                && matches!(m.status, MessageStatus::Sent | MessageStatus::Delivered)
            {
                m.status = MessageStatus::Read;
                changed.push(row.key.clone());
            }
        }
        changed
    }

    fn insert_new(&mut self, message: Message) -> Change {
        let key = RowKey::for_id(message.id);
        if let Some(echo) = &message.echo_id {
            // Another tab's send, or ours after its pending row was removed: a later
            // add_pending with this echo_id must not duplicate it.
            self.by_echo
                .entry(echo.clone())
                .or_insert_with(|| key.clone());
        }
        let index = self.insert_confirmed(Row {
            key: key.clone(),
            message,
            send: None,
        });
        Change::Inserted { key, index }
    }

    fn update_confirmed(&mut self, key: RowKey, message: Message) -> Change {
        let Some(index) = self.index_of(&key) else {
            return Change::Unchanged;
        };
        let merged = merge(&self.rows[index].message, message);
        if merged == self.rows[index].message {
            return Change::Unchanged;
        }
        if sort_key(&merged) == sort_key(&self.rows[index].message) {
            self.rows[index].message = merged;
            return Change::Updated { key, index };
        }
        // created_at changed (it should not, but a server may correct it): move the row.
        let mut row = self.take(index);
        self.sort.remove(&key);
        row.message = merged;
        let index = self.insert_confirmed(row);
        Change::Updated { key, index }
    }

    /// The server has the pending send `pending`. If a frame without echo_id had already
    /// inserted the same message as `duplicate`, that row is merged into the pending one.
    fn confirm(&mut self, pending: RowKey, duplicate: Option<RowKey>, message: Message) -> Change {
        let Some(index) = self.index_of(&pending) else {
            return Change::Unchanged;
        };
        let mut row = self.take(index);
        // The local copy only lends what the server copy lacks (echo_id, sender).
        let mut server = message;
        if let Some(dup) = duplicate {
            if let Some(i) = self.index_of(&dup) {
                let dup_row = self.take(i);
                self.forget(&dup_row);
                server = merge(&dup_row.message, server);
            }
        }
        let local = &row.message;
        server.echo_id = server.echo_id.or_else(|| local.echo_id.clone());
        server.sender = server.sender.or_else(|| local.sender.clone());
        server.account_id = server.account_id.or(local.account_id);
        row.message = server;
        row.send = None;
        if let Some(echo) = &row.message.echo_id {
            self.by_echo.insert(echo.clone(), pending.clone());
        }
        let index = self.insert_confirmed(row);
        Change::Updated {
            key: pending,
            index,
        }
    }

    fn insert_confirmed(&mut self, row: Row) -> usize {
        let sk = sort_key(&row.message);
        let index = self.rows[..self.confirmed].partition_point(|r| sort_key(&r.message) < sk);
        self.sort.insert(row.key.clone(), sk);
        self.by_id.insert(row.message.id, row.key.clone());
        self.rows.insert(index, row);
        self.confirmed += 1;
        index
    }

    /// Removes the row at `index` from the list (the maps are the caller's business).
    fn take(&mut self, index: usize) -> Row {
        if index < self.confirmed {
            self.confirmed -= 1;
        }
        self.rows.remove(index)
    }

    fn forget(&mut self, row: &Row) {
        if self.sort.remove(&row.key).is_some() && self.by_id.get(&row.message.id) == Some(&row.key)
        {
            self.by_id.remove(&row.message.id);
        }
        if let Some(echo) = &row.message.echo_id {
            if self.by_echo.get(echo) == Some(&row.key) {
                self.by_echo.remove(echo);
            }
        }
    }
}
