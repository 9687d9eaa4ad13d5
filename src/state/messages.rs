//! One conversation's messages, as the UI sees them: the core `MessageStore` decides order
//! and deduplication; this wrapper mirrors its rows into one signal per row plus one signal
//! for the order of keys. A status change touches one row's signal (one row re-renders);
//! an insert touches the key list (the keyed `<For>` adds one row and moves none).

use std::collections::HashMap;

use leptos::prelude::*;
use parley_core::store::{Change, MessageStore, Row, RowKey, SendState};
use parley_core::timeline::Item;
use parley_wire::Message;

#[derive(Debug, Clone, Copy)]
pub struct MessagesState {
    store: StoredValue<MessageStore>,
    rows: StoredValue<HashMap<RowKey, RwSignal<Row>>>,
    /// Row keys in display order.
    pub order: RwSignal<Vec<RowKey>>,
    /// The owner the state was made under: every row's signal is made under it, so a row
    /// lives as long as the conversation, whichever component (a recorder's button, a
    /// dialog) happened to add it.
    owner: StoredValue<Option<Owner>>,
}

impl Default for MessagesState {
    fn default() -> Self {
        Self::new()
    }
}

impl MessagesState {
    pub fn new() -> Self {
        MessagesState {
            store: StoredValue::new(MessageStore::new()),
            rows: StoredValue::new(HashMap::new()),
            order: RwSignal::new(Vec::new()),
            owner: StoredValue::new(Owner::current()),
        }
    }

    pub fn row(&self, key: &RowKey) -> Option<RwSignal<Row>> {
        self.rows.with_value(|rows| rows.get(key).copied())
    }

    pub fn newest_id(&self) -> Option<i64> {
        self.store.with_value(MessageStore::newest_id)
    }

    pub fn oldest_id(&self) -> Option<i64> {
        self.store.with_value(MessageStore::oldest_id)
    }

    pub fn len(&self) -> usize {
        self.store.with_value(MessageStore::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row of the message with server id `id` (its key is `e:…` if it was sent here).
    pub fn key_of_id(&self, id: i64) -> Option<RowKey> {
        self.store
            .with_value(|s| s.rows().find(|r| r.message.id == id).map(|r| r.key.clone()))
    }

    /// The rows as displayed: day separators, the unread divider, sender groups.
    pub fn timeline(&self, day_of: impl Fn(i64) -> i64, unread_after: Option<i64>) -> Vec<Item> {
        self.store
            .with_value(|s| parley_core::timeline::build(s.rows(), day_of, unread_after))
    }

    /// The reactions to the message with server id `id`, grouped by emoji.
    pub fn reactions_to(&self, id: i64) -> Vec<parley_core::timeline::Reaction> {
        self.store
            .with_value(|s| parley_core::timeline::reactions(s.rows(), id))
    }

    /// The images of the loaded messages in display order, for the lightbox.
    pub fn images(&self) -> Vec<parley_core::gallery::GalleryImage> {
        self.store
            .with_value(|s| parley_core::gallery::images(s.rows()))
    }

    /// The last row's key, to tell "a message was appended" from "history was prepended".
    pub fn last_key(&self) -> Option<RowKey> {
        self.order.with_untracked(|o| o.last().cloned())
    }

    pub fn upsert(&self, message: Message) -> Change {
        let change = self.store.try_update_value(|s| s.upsert(message));
        let change = change.unwrap_or(Change::Unchanged);
        self.apply(&change);
        change
    }

    /// A page of history or a resync: many upserts, one update of the key list.
    pub fn upsert_all(&self, messages: Vec<Message>) -> usize {
        let changes: Vec<Change> = self
            .store
            .try_update_value(|s| messages.into_iter().map(|m| s.upsert(m)).collect())
            .unwrap_or_default();
        let mut inserted = 0;
        let mut updated = false;
        for change in &changes {
            match change {
                Change::Inserted { key, .. } => {
                    inserted += 1;
                    self.ensure_row(key);
                }
                Change::Updated { key, .. } => {
                    updated = true;
                    self.refresh_row(key);
                }
                Change::Unchanged => {}
            }
        }
        // Indexes in a batch refer to intermediate states: compare the result instead.
        if inserted > 0 || (updated && !self.order_matches_store()) {
            self.rebuild_order();
        }
        inserted
    }

    pub fn add_pending(&self, echo_id: &str, message: Message) -> Change {
        let change = self
            .store
            .try_update_value(|s| s.add_pending(echo_id, message))
            .unwrap_or(Change::Unchanged);
        self.apply(&change);
        change
    }

    pub fn set_send_state(&self, echo_id: &str, send: Option<SendState>) -> Change {
        let change = self
            .store
            .try_update_value(|s| s.set_send_state(echo_id, send))
            .unwrap_or(Change::Unchanged);
        self.apply(&change);
        change
    }

    /// Whether `echo_id` is a row still waiting for the server.
    pub fn is_pending(&self, echo_id: &str) -> bool {
        self.store.with_value(|s| {
            s.get(&RowKey::for_echo(echo_id))
                .is_some_and(|r| r.send.is_some())
        })
    }

    /// Remove a pending row (a message deleted before it was sent, or one the server
    /// already holds as another row).
    pub fn remove_pending(&self, echo_id: &str) -> bool {
        if !self.is_pending(echo_id) {
            return false;
        }
        let removed = self
            .store
            .try_update_value(|s| s.remove(&RowKey::for_echo(echo_id)))
            .unwrap_or(false);
        if removed {
            self.rebuild_order();
        }
        removed
    }

    /// The outbox matched a pending row to server message `id` (by a resync, without the
    /// message itself in hand): if that message is already a row, the pending one goes;
    /// else the pending row becomes it.
    pub fn confirm_pending(&self, echo_id: &str, id: i64) {
        if !self.is_pending(echo_id) {
            return;
        }
        if self.row(&RowKey::for_id(id)).is_some() {
            self.remove_pending(echo_id);
            return;
        }
        let Some(mut message) = self.message_of(&RowKey::for_echo(echo_id)) else {
            return;
        };
        message.id = id;
        message.echo_id = Some(echo_id.to_owned());
        message.status = parley_wire::MessageStatus::Sent;
        self.upsert(message);
    }

    /// `conversation.read`: outgoing messages up to that time become read.
    pub fn mark_read(&self, up_to_created_at: i64) {
        let keys = self
            .store
            .try_update_value(|s| s.mark_read(up_to_created_at))
            .unwrap_or_default();
        for key in &keys {
            self.refresh_row(key);
        }
    }

    /// The message a pending row was built from, to send it again.
    pub fn message_of(&self, key: &RowKey) -> Option<Message> {
        self.store
            .with_value(|s| s.get(key).map(|r| r.message.clone()))
    }

    fn apply(&self, change: &Change) {
        match change {
            Change::Inserted { key, index } => {
                self.ensure_row(key);
                let consistent = self.order.try_update(|order| {
                    if *index <= order.len() {
                        order.insert(*index, key.clone());
                        true
                    } else {
                        false
                    }
                });
                if consistent != Some(true) || self.order.with_untracked(Vec::len) != self.len() {
                    self.rebuild_order();
                }
            }
            Change::Updated { key, index } => {
                self.refresh_row(key);
                // A confirmed send moves from the pending tail to its (created_at, id)
                // place, and may absorb a duplicate row: then the key list is redone.
                let in_place = self
                    .order
                    .with_untracked(|o| o.len() == self.len() && o.get(*index) == Some(key));
                if !in_place {
                    self.rebuild_order();
                }
            }
            Change::Unchanged => {}
        }
    }

    fn order_matches_store(&self) -> bool {
        self.order.with_untracked(|order| {
            self.store.with_value(|s| {
                order.len() == s.len() && s.rows().zip(order).all(|(r, k)| &r.key == k)
            })
        })
    }

    fn ensure_row(&self, key: &RowKey) {
        let Some(row) = self.store.with_value(|s| s.get(key).cloned()) else {
            return;
        };
        let existing = self.row(key);
        match existing {
            Some(signal) => signal.set(row),
            None => {
                let signal = match self.owner.get_value() {
                    Some(owner) => owner.with(|| RwSignal::new(row)),
                    None => RwSignal::new(row),
                };
                self.rows.update_value(|rows| {
                    rows.insert(key.clone(), signal);
                });
            }
        }
    }

    fn refresh_row(&self, key: &RowKey) {
        let Some(row) = self.store.with_value(|s| s.get(key).cloned()) else {
            return;
        };
        match self.row(key) {
            Some(signal) => signal.set(row),
            None => self.ensure_row(key),
        }
    }

    fn rebuild_order(&self) {
        let keys: Vec<RowKey> = self
            .store
            .with_value(|s| s.rows().map(|r| r.key.clone()).collect());
        // Rows merged away (a duplicate absorbed by a confirmation) lose their signal.
        if self.rows.with_value(|rows| rows.len() > keys.len()) {
            let live: std::collections::HashSet<&RowKey> = keys.iter().collect();
            self.rows
                .update_value(|rows| rows.retain(|k, _| live.contains(k)));
        }
        self.order.set(keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_wire::{MessageStatus, MessageType};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn message(id: i64, created_at: i64, echo_id: Option<&str>) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": id, "content": format!("m{id}"), "conversation_id": 1,
            "message_type": 1, "created_at": created_at, "echo_id": echo_id,
        }))
        .unwrap()
    }

    fn in_owner(f: impl FnOnce()) {
        let owner = Owner::new();
        owner.with(f);
    }

    #[wasm_bindgen_test]
    fn a_row_added_by_a_short_lived_component_outlives_it() {
        in_owner(|| {
            let state = MessagesState::new();
            let component = Owner::new();
            component.with(|| {
                state.upsert(message(1, 100, None));
            });
            component.cleanup();
            let row = state.row(&state.last_key().unwrap()).unwrap();
            assert_eq!(row.try_get_untracked().map(|r| r.message.id), Some(1));
        });
    }

    #[wasm_bindgen_test]
    fn a_confirmed_send_keeps_its_row_and_its_signal() {
        in_owner(|| {
            let state = MessagesState::new();
            state.upsert(message(1, 100, None));
            let mut pending = message(0, 200, Some("echo-1"));
            pending.status = MessageStatus::Progress;
            state.add_pending("echo-1", pending);
            let key = state.last_key().unwrap();
            let row = state.row(&key).unwrap();
            assert!(row.get_untracked().send.is_some());

            state.upsert(message(2, 201, Some("echo-1")));
            assert_eq!(state.order.get_untracked().len(), 2);
            assert_eq!(state.last_key(), Some(key.clone()));
            // The same signal now holds the confirmed message: the row updates in place.
            let confirmed = row.get_untracked();
            assert_eq!(confirmed.message.id, 2);
            assert_eq!(confirmed.send, None);
            assert_eq!(confirmed.message.message_type, MessageType::Outgoing);
        });
    }

    #[wasm_bindgen_test]
    fn a_confirmation_that_moves_the_row_reorders_the_keys() {
        in_owner(|| {
            let state = MessagesState::new();
            state.upsert(message(1, 100, None));
            state.add_pending("echo-2", message(0, 250, Some("echo-2")));
            // A customer message stamped later than ours arrives first: the pending row
            // stays at the tail until confirmed.
            state.upsert(message(3, 300, None));
            state.upsert(message(2, 200, Some("echo-2")));
            let ids: Vec<i64> = state
                .order
                .get_untracked()
                .iter()
                .map(|k| state.row(k).unwrap().get_untracked().message.id)
                .collect();
            assert_eq!(ids, vec![1, 2, 3]);
        });
    }

    #[wasm_bindgen_test]
    fn a_page_lands_in_order_whatever_the_arrival_order() {
        in_owner(|| {
            let state = MessagesState::new();
            state.upsert(message(5, 500, None));
            let added = state.upsert_all(vec![
                message(3, 300, None),
                message(1, 100, None),
                message(5, 500, None),
                message(2, 200, None),
            ]);
            assert_eq!(added, 3);
            let ids: Vec<i64> = state
                .order
                .get_untracked()
                .iter()
                .map(|k| state.row(k).unwrap().get_untracked().message.id)
                .collect();
            assert_eq!(ids, vec![1, 2, 3, 5]);
            assert_eq!(state.oldest_id(), Some(1));
            assert_eq!(state.newest_id(), Some(5));
        });
    }
}
