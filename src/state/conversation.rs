//! The open conversation: its header data, its messages, and the intents the screen sends
//! (load, load older, resync after a reconnect, mark read). Effects report back into the
//! signals here; components only read them.

use leptos::prelude::*;
use parley_wire::{CableEvent, Conversation, Message, MessageType, Profile};

use crate::effects::api::{Api, ApiError, MessagePage};
use crate::effects::host_events::HostEvents;
use crate::i18n::{t, t_args};
use crate::state::connection::ConnectionState;
use crate::state::messages::MessagesState;
use crate::state::outbox;
use crate::state::typing::TypingState;

/// Loading the conversation itself.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading,
    Ready,
    Failed(String),
}

/// Loading history above what is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum OlderState {
    Idle,
    Loading,
    /// The first message of the conversation is shown.
    Exhausted,
    Failed(String),
}

/// Chatwoot's page size for `before=` (CONTRACTS.md §2.3): a shorter page means the start.
const PAGE_SIZE: usize = 20;

#[derive(Debug, Clone, Copy)]
pub struct ChatState {
    pub account_id: i64,
    pub conversation_id: i64,
    api: StoredValue<Api>,
    pub profile: StoredValue<Profile>,
    pub conversation: RwSignal<Option<Conversation>>,
    pub messages: MessagesState,
    pub load: RwSignal<LoadState>,
    pub older: RwSignal<OlderState>,
    pub connection: RwSignal<ConnectionState>,
    pub typing: TypingState,
    /// A failure that is not tied to one message (resync, mark read), shown in the banner.
    pub notice: RwSignal<Option<String>>,
    /// Bumped when a message is appended at the end (the list decides whether to follow).
    pub appended: RwSignal<u64>,
    /// The last incoming message in words, for the screen-reader live region.
    pub announcement: RwSignal<String>,
    /// The composer writes a private note (agents only) rather than a reply.
    pub private_mode: RwSignal<bool>,
    /// A message that failed, offered for Retry in a toast.
    pub toast: RwSignal<Option<Toast>>,
    /// The message the composer replies to (`content_attributes.in_reply_to`).
    pub replying_to: RwSignal<Option<i64>>,
    /// A message the log should bring into view (a quote was clicked).
    pub jump_to: RwSignal<Option<i64>>,
    /// The backend can edit sent messages (`parley-server`; a real Chatwoot cannot).
    pub can_edit: RwSignal<bool>,
    /// The files of pending messages and their upload progress, by `echo_id`.
    pub uploads: RwSignal<crate::state::attaching::Uploads>,
    /// Files picked for the next message (Blobs: local to this thread).
    pub tray: RwSignal<Vec<crate::state::attaching::PickedFile>, LocalStorage>,
    /// Why files were not added to the tray, one line per file.
    pub tray_notes: RwSignal<Vec<String>>,
    /// The largest file that may be attached (the config's `maxFileBytes`).
    pub max_file_bytes: u64,
    /// The log shows its newest message (the agent has not scrolled up).
    pub at_latest: RwSignal<bool>,
    /// Customer messages that arrived while the agent was not looking (page hidden or
    /// unfocused, or the log scrolled up), back to 0 once they look: the host's unread count.
    pub unread: RwSignal<u32>,
    /// The embedding page's events (sent, failed, unread), when embedded.
    pub host_events: StoredValue<Option<HostEvents>, LocalStorage>,
}

/// "Message not sent: <reason>", with Retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub echo_id: String,
    pub reason: parley_core::outbox::FailReason,
}

impl ChatState {
    pub fn new(api: Api, profile: Profile, account_id: i64, conversation_id: i64) -> Self {
        ChatState {
            account_id,
            conversation_id,
            api: StoredValue::new(api),
            profile: StoredValue::new(profile),
            conversation: RwSignal::new(None),
            messages: MessagesState::new(),
            load: RwSignal::new(LoadState::Loading),
            older: RwSignal::new(OlderState::Idle),
            connection: RwSignal::new(ConnectionState::Connecting),
            typing: TypingState::new(),
            notice: RwSignal::new(None),
            appended: RwSignal::new(0),
            announcement: RwSignal::new(String::new()),
            private_mode: RwSignal::new(false),
            toast: RwSignal::new(None),
            replying_to: RwSignal::new(None),
            jump_to: RwSignal::new(None),
            can_edit: RwSignal::new(false),
            uploads: RwSignal::new(Default::default()),
            tray: RwSignal::new_local(Vec::new()),
            tray_notes: RwSignal::new(Vec::new()),
            max_file_bytes: crate::config::DEFAULT_MAX_FILE_BYTES,
            at_latest: RwSignal::new(true),
            unread: RwSignal::new(0),
            host_events: StoredValue::new_local(HostEvents::from_context()),
        }
    }

    /// The same chat with the config's size limit per file.
    pub fn with_max_file_bytes(mut self, max_file_bytes: u64) -> Self {
        self.max_file_bytes = max_file_bytes;
        self
    }

    pub fn api(&self) -> Api {
        self.api.get_value()
    }

    pub fn try_api(&self) -> Option<Api> {
        self.api.try_get_value()
    }

    /// The conversation and its newest page, together: the screen shows both or an error.
    pub async fn load(self) {
        self.load.set(LoadState::Loading);
        let api = self.api();
        let (conversation, page) = futures::future::join(
            api.conversation(self.account_id, self.conversation_id),
            api.messages(self.account_id, self.conversation_id, MessagePage::Newest),
        )
        .await;
        match (conversation, page) {
            (Ok(conversation), Ok(page)) => {
                outbox::seen(&page.payload);
                if page.payload.len() < PAGE_SIZE {
                    self.older.set(OlderState::Exhausted);
                }
                self.conversation.set(Some(conversation));
                self.messages.upsert_all(page.payload);
                self.load.set(LoadState::Ready);
                // Edit is an extension: offered only where the backend has it.
                leptos::task::spawn_local(async move {
                    let Some(api) = self.try_api() else {
                        return;
                    };
                    if let Ok(c) = api.capabilities().await {
                        self.can_edit.set(c.message_edit);
                    }
                });
                self.mark_read_if_watching(true);
            }
            (Err(e), _) | (_, Err(e)) => self.load.set(LoadState::Failed(describe_load(&e))),
        }
    }

    /// `before=<oldest id>`; returns how many rows were added above.
    pub async fn load_older(self) -> usize {
        if matches!(
            self.older.get_untracked(),
            OlderState::Loading | OlderState::Exhausted
        ) {
            return 0;
        }
        let Some(oldest) = self.messages.oldest_id() else {
            self.older.set(OlderState::Exhausted);
            return 0;
        };
        self.older.set(OlderState::Loading);
        match self
            .api()
            .messages(
                self.account_id,
                self.conversation_id,
                MessagePage::Before(oldest),
            )
            .await
        {
            Ok(page) => {
                outbox::seen(&page.payload);
                let exhausted = page.payload.len() < PAGE_SIZE;
                let added = self.messages.upsert_all(page.payload);
                self.older.set(if exhausted || added == 0 {
                    OlderState::Exhausted
                } else {
                    OlderState::Idle
                });
                added
            }
            Err(e) => {
                self.older.set(OlderState::Failed(t_args(
                    "log.older_failed",
                    &[("error", &e.to_string())],
                )));
                0
            }
        }
    }

    /// After a (re)subscribe: fetch what arrived while the socket was down, page by page.
    pub async fn resync(self) {
        let Some(mut after) = self.messages.newest_id() else {
            return;
        };
        // Chatwoot pages `after=` at 100; a long outage may need several pages.
        for _ in 0..50 {
            match self
                .api()
                .messages(
                    self.account_id,
                    self.conversation_id,
                    MessagePage::After(after),
                )
                .await
            {
                Ok(page) => {
                    outbox::seen(&page.payload);
                    let count = page.payload.len();
                    let newest = page.payload.iter().map(|m| m.id).max();
                    // Missed while disconnected: unread too, unless the agent is looking.
                    let missed = page
                        .payload
                        .iter()
                        .filter(|m| {
                            m.message_type == MessageType::Incoming
                                && !m.is_deleted()
                                && self.messages.key_of_id(m.id).is_none()
                        })
                        .count() as u32;
                    if missed > 0 && !self.agent_sees_latest() {
                        self.unread.update(|n| *n += missed);
                    }
                    let before_last = self.messages.last_key();
                    let added = self.messages.upsert_all(page.payload);
                    if added > 0 && self.messages.last_key() != before_last {
                        self.appended.update(|n| *n += 1);
                        self.mark_read_if_watching(false);
                    }
                    self.notice.set(None);
                    match newest {
                        Some(n) if count >= 100 && n > after => after = n,
                        _ => break,
                    }
                }
                Err(e) => {
                    self.notice.set(Some(t_args(
                        "notice.missed_failed",
                        &[("error", &e.to_string())],
                    )));
                    break;
                }
            }
        }
    }

    /// A cable event for this agent: act only on this account's, this conversation's.
    pub fn on_cable_event(self, event: CableEvent) {
        if event.account_id().is_some_and(|a| a != self.account_id) {
            return;
        }
        match event {
            CableEvent::MessageCreated(m) | CableEvent::MessageUpdated(m) => {
                // The outbox hears of every conversation's messages (it sends for all).
                outbox::seen(std::slice::from_ref(&m));
                if m.conversation_id != self.conversation_id {
                    return;
                }
                let incoming = m.message_type == MessageType::Incoming;
                if incoming && !m.is_deleted() {
                    self.announcement.set(announcement_of(&m));
                }
                let new = self.messages.key_of_id(m.id).is_none();
                if incoming && new && !m.is_deleted() && !self.agent_sees_latest() {
                    self.unread.update(|n| *n += 1);
                }
                self.merge(m);
                if incoming {
                    self.mark_read_if_watching(false);
                }
            }
            CableEvent::TypingOn(t) if t.conversation.id == self.conversation_id => {
                self.typing.remote_on(&t.user, t.is_private);
            }
            CableEvent::TypingOff(t) if t.conversation.id == self.conversation_id => {
                self.typing.remote_off(&t.user);
            }
            CableEvent::ConversationRead(c) if c.id == self.conversation_id => {
                self.messages.mark_read(c.contact_last_seen_at);
            }
            _ => {}
        }
    }

    /// Replaces the text of a message still in the outbox: always possible until it leaves.
    pub fn edit_queued(self, echo_id: String, content: String) -> Result<(), String> {
        crate::state::sending::validate(&content).map_err(|e| e.to_string())?;
        crate::state::outbox::edit(echo_id, content);
        Ok(())
    }

    /// Replaces the text of one of the agent's sent messages (`parley-server`'s extension).
    pub async fn edit_message(self, message_id: i64, content: String) -> Result<(), String> {
        if let Err(e) = crate::state::sending::validate(&content) {
            return Err(e.to_string());
        }
        let Some(api) = self.try_api() else {
            return Err(t("chat.closed").into());
        };
        match api
            .edit_message(self.account_id, self.conversation_id, message_id, &content)
            .await
        {
            Ok(message) => {
                self.receive(message);
                Ok(())
            }
            Err(e) => Err(t_args("edit.failed", &[("error", &e.to_string())])),
        }
    }

    /// Deletes one of the agent's sent messages, as Chatwoot does (soft: everyone watching
    /// sees it deleted). The error is in words for the row.
    pub async fn delete_message(self, message_id: i64) -> Result<(), String> {
        let Some(api) = self.try_api() else {
            return Err(t("chat.closed").into());
        };
        match api
            .delete_message(self.account_id, self.conversation_id, message_id)
            .await
        {
            Ok(message) => {
                self.receive(message);
                Ok(())
            }
            Err(e) => Err(t_args("delete.failed", &[("error", &e.to_string())])),
        }
    }

    /// A message from the server (create response or cable): merge it in place, and tell
    /// the outbox.
    pub fn receive(self, message: Message) {
        outbox::seen(std::slice::from_ref(&message));
        self.merge(message);
    }

    /// Merge a message the outbox has already heard of.
    pub(crate) fn merge(self, message: Message) {
        let before_last = self.messages.last_key();
        // A message from the person typing ends their typing burst.
        if let Some(sender) = &message.sender {
            self.typing.remote_off(sender);
        }
        self.messages.upsert(message);
        if self.messages.last_key() != before_last {
            self.appended.update(|n| *n += 1);
        }
    }

    /// `update_last_seen` when the agent can actually see the conversation (visible and
    /// focused); `force` on open, as Chatwoot's dashboard does.
    pub fn mark_read_if_watching(self, force: bool) {
        if self.agent_sees_latest() && self.unread.get_untracked() != 0 {
            self.unread.set(0);
        }
        if !force && !crate::effects::page::is_watching() {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Err(e) = self
                .api()
                .update_last_seen(self.account_id, self.conversation_id)
                .await
            {
                // Not worth a banner when offline: the connection state already says so.
                if !matches!(e, ApiError::Network) {
                    self.notice.set(Some(t_args(
                        "notice.mark_read_failed",
                        &[("error", &e.to_string())],
                    )));
                }
            }
        });
    }
}

impl ChatState {
    /// The page is visible and focused and the log shows its newest message.
    fn agent_sees_latest(self) -> bool {
        self.at_latest.get_untracked() && crate::effects::page::is_watching()
    }

    /// The log's scroll position, from the message list: scrolling back down to the newest
    /// message reads what arrived meanwhile.
    pub fn set_at_latest(self, at_latest: bool) {
        if self.at_latest.get_untracked() == at_latest {
            return;
        }
        self.at_latest.set(at_latest);
        if at_latest {
            self.mark_read_if_watching(false);
        }
    }
}

fn describe_load(e: &ApiError) -> String {
    match e {
        ApiError::Http { status: 404, .. } => t("load.not_found").into(),
        ApiError::Unauthorized(msg) => t_args("load.unauthorized", &[("error", msg)]),
        other => t_args("load.failed", &[("error", &other.to_string())]),
    }
}

/// "Jane Doe: where is my order?", short enough to be heard, for the live region.
fn announcement_of(m: &Message) -> String {
    const MAX_CHARS: usize = 200;
    let who = m
        .sender
        .as_ref()
        .and_then(|s| s.display_name())
        .unwrap_or_else(|| t("message.customer"));
    let text = m.content.as_deref().unwrap_or("").trim();
    let text = if text.is_empty() && !m.attachments().is_empty() {
        t("announce.attachment").to_owned()
    } else if text.chars().count() > MAX_CHARS {
        format!("{}…", text.chars().take(MAX_CHARS).collect::<String>())
    } else {
        text.to_owned()
    };
    t_args("announce.new_message", &[("name", who), ("text", &text)])
}
