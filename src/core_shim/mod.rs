//! TEMPORARY stand-in for `parley_core::{store, markdown}` (being written in crates/core),
//! to the API in PLAN.md, so the app compiles and runs meanwhile. Deleted when they land.

pub mod store {
    use parley_wire::Message;

    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct RowKey(pub String);

    #[derive(Debug, Clone, PartialEq)]
    pub enum SendState {
        Queued,
        Sending,
        Retrying { error: String },
        Failed { reason: String },
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Row {
        pub key: RowKey,
        pub message: Message,
        pub send: Option<SendState>,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub enum Change {
        Inserted { key: RowKey, index: usize },
        Updated { key: RowKey, index: usize },
        Unchanged,
    }

    #[derive(Debug, Default, Clone)]
    pub struct MessageStore {
        rows: Vec<Row>,
    }

    impl MessageStore {
        pub fn new() -> Self {
            Self::default()
        }

        fn position(&self, m: &Message) -> usize {
            self.rows
                .iter()
                .position(|r| {
                    r.send.is_some() || (r.message.created_at, r.message.id) > (m.created_at, m.id)
                })
                .unwrap_or(self.rows.len())
        }

        pub fn add_pending(&mut self, echo_id: &str, message: Message) -> Change {
            let key = RowKey(format!("e:{echo_id}"));
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

        pub fn upsert(&mut self, message: Message) -> Change {
            let found = self.rows.iter().position(|r| {
                (message.id > 0 && r.message.id == message.id)
                    || (message.echo_id.is_some() && r.message.echo_id == message.echo_id)
            });
            match found {
                Some(i) => {
                    let row = &mut self.rows[i];
                    let mut m = message;
                    if m.status.rank() < row.message.status.rank() {
                        m.status = row.message.status;
                    }
                    if m.echo_id.is_none() {
                        m.echo_id = row.message.echo_id.clone();
                    }
                    row.message = m;
                    row.send = None;
                    Change::Updated {
                        key: row.key.clone(),
                        index: i,
                    }
                }
                None => {
                    let key = RowKey(format!("m:{}", message.id));
                    let index = self.position(&message);
                    self.rows.insert(
                        index,
                        Row {
                            key: key.clone(),
                            message,
                            send: None,
                        },
                    );
                    Change::Inserted { key, index }
                }
            }
        }

        pub fn set_send_state(&mut self, echo_id: &str, send: Option<SendState>) -> Change {
            match self
                .rows
                .iter()
                .position(|r| r.message.echo_id.as_deref() == Some(echo_id))
            {
                Some(i) if self.rows[i].send != send && self.rows[i].message.id <= 0 => {
                    self.rows[i].send = send;
                    Change::Updated {
                        key: self.rows[i].key.clone(),
                        index: i,
                    }
                }
                _ => Change::Unchanged,
            }
        }

        pub fn remove(&mut self, key: &RowKey) -> bool {
            let before = self.rows.len();
            self.rows.retain(|r| &r.key != key);
            before != self.rows.len()
        }

        pub fn rows(&self) -> impl Iterator<Item = &Row> {
            self.rows.iter()
        }

        pub fn get(&self, key: &RowKey) -> Option<&Row> {
            self.rows.iter().find(|r| &r.key == key)
        }

        pub fn len(&self) -> usize {
            self.rows.len()
        }

        pub fn is_empty(&self) -> bool {
            self.rows.is_empty()
        }

        pub fn newest_id(&self) -> Option<i64> {
            self.rows
                .iter()
                .map(|r| r.message.id)
                .filter(|i| *i > 0)
                .max()
        }

        pub fn oldest_id(&self) -> Option<i64> {
            self.rows
                .iter()
                .map(|r| r.message.id)
                .filter(|i| *i > 0)
                .min()
        }

        pub fn mark_read(&mut self, up_to: i64) -> Vec<RowKey> {
            let mut keys = Vec::new();
            for r in &mut self.rows {
                if r.message.message_type == parley_wire::MessageType::Outgoing
                    && r.message.created_at <= up_to
                    && r.message.status.rank() >= 1
                    && r.message.status.rank() < 3
                {
                    r.message.status = parley_wire::MessageStatus::Read;
                    keys.push(r.key.clone());
                }
            }
            keys
        }
    }
}

pub mod markdown {
    /// Escaped plain text with line breaks (the real renderer is pulldown-cmark in core).
    pub fn render(text: &str) -> String {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        format!("<p>{}</p>", escaped.replace('\n', "<br>"))
    }
}
