//! The open conversation: its header data, its messages, and the intents the screen sends
//! (load, load older, resync after a reconnect, mark read). Whatever the server says about
//! the conversation (the first load, history pages, a resync, the cable, the outbox's news)
//! comes in through one door, [`ChatState::apply`]; components only read the signals.

use std::rc::Rc;

use leptos::prelude::*;
use parley_core::store::SendState;
use parley_wire::{CableEvent, Conversation, Message, MessageType};

use crate::effects::api::{ApiError, MessagePage};
use crate::effects::outbox_driver::{OutboxEvent, SessionOutbox};
use crate::effects::telemetry::Telemetry;
use crate::effects::upload::UploadPhase;
use crate::i18n::{t, t_args};
pub use crate::state::chat::{ChatState, LoadState, OlderState, Toast};

/// What the server said about a chat's conversation, by the way it came.
pub enum ServerEvent {
    /// The conversation and its newest page, on opening.
    Opened {
        conversation: Box<Conversation>,
        page: Vec<Message>,
    },
    /// A page of history above what is shown.
    Older(Vec<Message>),
    /// What arrived while the live connection was down.
    Missed(Vec<Message>),
    /// The live connection's news.
    Cable(Box<CableEvent>),
    /// The server's answer to this chat's own request (an edit, a delete).
    Answer(Box<Message>),
    /// The outbox's news about this conversation's unsent messages.
    Outbox(OutboxEvent),
}

/// Chatwoot's page size for `before=` (CONTRACTS.md §2.3): a shorter page means the start.
const PAGE_SIZE: usize = 20;

impl ChatState {
    /// Attach the chat to its session's outbox: its unsent messages show here, its news
    /// comes in through [`ChatState::apply`], until the chat goes.
    pub fn attach_outbox(self, outbox: &SessionOutbox) {
        let listener = Rc::new(move |event| {
            self.apply(ServerEvent::Outbox(event));
        });
        let attachment = outbox.attach(self.conversation_id, listener, Telemetry::from_context());
        self.set_outbox(attachment);
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
                self.apply(ServerEvent::Opened {
                    conversation: Box::new(conversation),
                    page: page.payload,
                });
                // Edit is an extension: offered only where the backend has it.
                self.spawn(async move {
                    if let Ok(c) = api.capabilities().await {
                        self.can_edit.set(c.message_edit);
                    }
                });
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
            Ok(page) => self.apply(ServerEvent::Older(page.payload)),
            Err(e) => {
                self.older.set(OlderState::Failed(t_args(
                    "log.older_failed",
                    &[("error", &e.to_string())],
                )));
                0
            }
        }
    }

    /// After a (re)subscribe: fetch what arrived while the socket was down (every page).
    pub async fn resync(self) {
        let Some(after) = self.messages.newest_id() else {
            return;
        };
        match self
            .api()
            .messages_after(self.account_id, self.conversation_id, Some(after))
            .await
        {
            Ok(missed) => {
                self.notice.set(None);
                self.apply(ServerEvent::Missed(missed));
            }
            Err(e) => self.notice.set(Some(t_args(
                "notice.missed_failed",
                &[("error", &e.to_string())],
            ))),
        }
    }

    /// The one door: what the server said, applied to this chat. Every message goes to the
    /// outbox too (it matches what it sent), except the outbox's own. Returns the rows added.
    pub fn apply(self, event: ServerEvent) -> usize {
        match event {
            ServerEvent::Opened { conversation, page } => {
                self.with_outbox(|o| o.seen(&page));
                if page.len() < PAGE_SIZE {
                    self.older.set(OlderState::Exhausted);
                }
                self.conversation.set(Some(*conversation));
                let added = self.messages.upsert_all(page);
                self.load.set(LoadState::Ready);
                self.mark_read_if_watching(true);
                added
            }
            ServerEvent::Older(page) => {
                self.with_outbox(|o| o.seen(&page));
                let exhausted = page.len() < PAGE_SIZE;
                let added = self.messages.upsert_all(page);
                self.older.set(if exhausted || added == 0 {
                    OlderState::Exhausted
                } else {
                    OlderState::Idle
                });
                added
            }
            ServerEvent::Missed(messages) => {
                self.with_outbox(|o| o.seen(&messages));
                self.arrived(messages)
            }
            ServerEvent::Answer(message) => {
                self.with_outbox(|o| o.seen(std::slice::from_ref(&*message)));
                self.arrived(vec![*message])
            }
            ServerEvent::Cable(event) => self.on_cable_event(*event),
            ServerEvent::Outbox(event) => self.on_outbox_event(event),
        }
    }

    /// Messages that arrived (live, missed, or answers): merged in place; the one unread
    /// rule; a message from the person typing ends their typing burst.
    fn arrived(self, messages: Vec<Message>) -> usize {
        let mine = |m: &Message| m.conversation_id == self.conversation_id;
        let messages: Vec<Message> = messages.into_iter().filter(mine).collect();
        // Unread: a customer's message not shown before, while the agent is not looking.
        let unread = messages
            .iter()
            .filter(|m| {
                m.message_type == MessageType::Incoming
                    && !m.is_deleted()
                    && self.messages.key_of_id(m.id).is_none()
            })
            .count() as u32;
        if unread > 0 && !self.agent_sees_latest() {
            self.unread.update(|n| *n += unread);
        }
        let incoming = messages
            .iter()
            .any(|m| m.message_type == MessageType::Incoming);
        if let Some(last) = messages
            .iter()
            .rfind(|m| m.message_type == MessageType::Incoming && !m.is_deleted())
        {
            self.announcement.set(announcement_of(last));
        }
        for m in &messages {
            if let Some(sender) = &m.sender {
                self.typing.remote_off(sender);
            }
        }
        let before_last = self.messages.last_key();
        let added = self.messages.upsert_all(messages);
        if self.messages.last_key() != before_last {
            self.appended.update(|n| *n += 1);
        }
        if incoming {
            self.mark_read_if_watching(false);
        }
        added
    }

    /// The outbox's news about one of this conversation's unsent messages.
    fn on_outbox_event(self, event: OutboxEvent) -> usize {
        match event {
            OutboxEvent::Pending {
                echo_id,
                draft,
                created_at_s,
                state,
            } => {
                self.show_pending(&echo_id, &draft, created_at_s);
                self.messages.set_send_state(&echo_id, Some(state));
            }
            OutboxEvent::Status {
                echo_id,
                state,
                failed,
            } => {
                if !self.messages.is_pending(&echo_id) {
                    return 0;
                }
                if let Some(reason) = failed {
                    if let Some(host) = self.host_events.get_value() {
                        let words = crate::reasons::fail_reason_text(&reason);
                        host.message_failed(self.conversation_id, &echo_id, &words);
                    }
                    self.toast.set(Some(Toast {
                        echo_id: echo_id.clone(),
                        reason,
                    }));
                }
                if state != SendState::Sending {
                    self.set_upload_phase(&echo_id, UploadPhase::Waiting);
                }
                self.messages.set_send_state(&echo_id, Some(state));
            }
            OutboxEvent::Upload { echo_id, phase } => self.set_upload_phase(&echo_id, phase),
            // The outbox has these already: not told again.
            OutboxEvent::Messages(messages) => return self.arrived(messages),
            OutboxEvent::Delivered {
                echo_id,
                message_id,
            } => {
                self.messages.confirm_pending(&echo_id, message_id);
                self.forget_upload(&echo_id);
                if let Some(host) = self.host_events.get_value() {
                    host.message_sent(self.conversation_id, message_id, &echo_id);
                }
            }
            OutboxEvent::Removed { echo_id } => {
                self.messages.remove_pending(&echo_id);
                self.forget_upload(&echo_id);
            }
            OutboxEvent::Notice(notice) => self.notice.set(Some(notice)),
        }
        0
    }

    /// A cable event for this agent: act only on this account's, this conversation's.
    fn on_cable_event(self, event: CableEvent) -> usize {
        if event.account_id().is_some_and(|a| a != self.account_id) {
            return 0;
        }
        match event {
            CableEvent::MessageCreated(m) | CableEvent::MessageUpdated(m) => {
                // The outbox hears of every conversation's messages (it sends for all).
                self.with_outbox(|o| o.seen(std::slice::from_ref(&m)));
                return self.arrived(vec![m]);
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
            // The reply window opens and closes with the customer's messages.
            CableEvent::ConversationUpdated(c)
                if c.id == self.conversation_id
                    && self.conversation.with_untracked(|o| {
                        o.as_ref().is_some_and(|o| o.can_reply != c.can_reply)
                    }) =>
            {
                self.conversation.update(|o| {
                    if let Some(o) = o {
                        o.can_reply = c.can_reply;
                    }
                });
            }
            _ => {}
        }
        0
    }

    /// Replaces the text of a message still in the outbox: always possible until it leaves.
    pub fn edit_queued(self, echo_id: String, content: String) -> Result<(), String> {
        crate::state::sending::validate(&content).map_err(|e| e.to_string())?;
        self.with_outbox(|o| o.edit(echo_id, content));
        Ok(())
    }

    /// Replaces the text of one of the agent's sent messages (`parley-server`'s extension).
    pub async fn edit_message(self, message_id: i64, content: String) -> Result<(), String> {
        if let Err(e) = crate::state::sending::validate(&content) {
            return Err(e.to_string());
        }
        // A chat closed meanwhile (its screen went) has no API to ask.
        let Some(api) = self.try_api() else {
            return Err(t("chat.closed").into());
        };
        match api
            .edit_message(self.account_id, self.conversation_id, message_id, &content)
            .await
        {
            Ok(message) => {
                self.apply(ServerEvent::Answer(Box::new(message)));
                Ok(())
            }
            Err(e) => Err(t_args("edit.failed", &[("error", &e.to_string())])),
        }
    }

    /// Deletes one of the agent's sent messages, as Chatwoot does (soft: everyone watching
    /// sees it deleted). The error is in words for the row.
    pub async fn delete_message(self, message_id: i64) -> Result<(), String> {
        // A chat closed meanwhile (its screen went) has no API to ask.
        let Some(api) = self.try_api() else {
            return Err(t("chat.closed").into());
        };
        match api
            .delete_message(self.account_id, self.conversation_id, message_id)
            .await
        {
            Ok(message) => {
                self.apply(ServerEvent::Answer(Box::new(message)));
                Ok(())
            }
            Err(e) => Err(t_args("delete.failed", &[("error", &e.to_string())])),
        }
    }

    /// Asks the channel to deliver a message it failed to deliver again. As Chatwoot does on
    /// its side, the row is `sent` again and its channel error gone; what the channel does
    /// next comes as `message.updated`. The error is in words for the row.
    pub async fn retry_channel(self, mut message: Message) -> Result<(), String> {
        let Some(api) = self.try_api() else {
            return Err(t("chat.closed").into());
        };
        match api
            .retry_message(self.account_id, self.conversation_id, message.id)
            .await
        {
            Ok(()) => {
                message.status = parley_wire::MessageStatus::Sent;
                message.content_attributes = serde_json::Value::Object(Default::default());
                self.messages.upsert(message);
                Ok(())
            }
            Err(e) => Err(t_args("message.retry_failed", &[("error", &e.to_string())])),
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
        self.spawn(async move {
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
