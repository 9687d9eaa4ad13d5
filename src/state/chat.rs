//! A chat's state: one conversation on one screen, its signals (each read by the
//! components), its place on its session's outbox and the owner of its async work. The
//! intents and the door for server messages are in `conversation`, sending in `sending` and
//! `attaching`, the agent's typing in `agent_typing`; this file imports none of them.

use std::collections::HashMap;

use leptos::prelude::*;
use parley_core::attachment::AttachmentDraft;
use parley_core::outbox::Draft;
use parley_wire::{Conversation, Profile};

use crate::effects::api::Api;
use crate::effects::host_events::HostEvents;
use crate::effects::outbox_driver::{ChatAttachment, SessionOutbox};
use crate::effects::upload::UploadPhase;
use crate::state::connection::ConnectionState;
use crate::state::messages::MessagesState;
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
    pub uploads: RwSignal<Uploads>,
    /// Files picked for the next message (Blobs: local to this thread).
    pub tray: RwSignal<Vec<PickedFile>, LocalStorage>,
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
    /// This chat's place on its session's outbox (none until attached); dropped with the
    /// chat, which detaches it.
    outbox: StoredValue<Option<ChatAttachment>, LocalStorage>,
    /// The owner of the chat's async work: it is cancelled when the chat goes.
    owner: StoredValue<Owner, LocalStorage>,
}

/// "Message not sent: <reason>", with Retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub echo_id: String,
    pub reason: parley_core::outbox::FailReason,
}

/// The files of a pending message and how far their upload has come.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpload {
    pub files: Vec<AttachmentDraft>,
    pub phase: UploadPhase,
}

/// A file the agent picked for the next message (in the tray above the composer).
#[derive(Debug, Clone)]
pub struct PickedFile {
    pub id: u64,
    pub blob: web_sys::Blob,
    pub name: String,
    /// The type it will be sent as (already accepted).
    pub mime: String,
    pub size: u64,
    /// An object URL for the thumbnail or the video's first frame; revoked when the file
    /// leaves the tray.
    pub preview: Option<String>,
}

/// The uploads of a conversation's pending messages, by `echo_id`.
pub type Uploads = HashMap<String, PendingUpload>;

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
            outbox: StoredValue::new_local(None),
            owner: StoredValue::new_local(Owner::current().unwrap_or_default()),
        }
    }

    /// Runs `work` as the chat's own: it stops where it is when the chat goes (switching
    /// conversation, unmounting, signing out), so it never touches a chat that is gone.
    pub fn spawn(self, work: impl std::future::Future<Output = ()> + 'static) {
        // A chat already gone starts nothing.
        if let Some(owner) = self.owner.try_get_value() {
            // Boxed: one copy of the cancellation wrapper for every kind of work (bundle size).
            let work: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> = Box::pin(work);
            owner.with(|| leptos::task::spawn_local_scoped_with_cancellation(work));
        }
    }

    /// The session's outbox, once attached.
    /// Keep the chat's place on its session's outbox (for as long as the chat lives).
    pub(crate) fn set_outbox(self, attachment: ChatAttachment) {
        self.outbox.set_value(Some(attachment));
    }

    pub(crate) fn outbox(self) -> Option<SessionOutbox> {
        self.outbox
            .with_value(|a| a.as_ref().map(|a| a.outbox().clone()))
    }

    /// Tell the outbox whether this chat's live connection is up.
    pub fn connection_changed(self, state: ConnectionState) {
        self.outbox.with_value(|a| {
            if let Some(a) = a {
                a.set_connected(state == ConnectionState::Connected);
            }
        });
    }

    pub(crate) fn with_outbox(self, f: impl FnOnce(&SessionOutbox)) {
        if let Some(outbox) = self.outbox() {
            f(&outbox);
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

    /// The API while the chat lives (typing is also posted while the screen is torn down).
    pub fn try_api(&self) -> Option<Api> {
        self.api.try_get_value()
    }

    /// The pending row's files (none for a text message).
    pub(crate) fn note_pending_files(&self, echo_id: &str, draft: &Draft) {
        if !draft.has_files() {
            return;
        }
        self.uploads.update(|m| {
            m.entry(echo_id.to_owned())
                .or_insert_with(|| PendingUpload {
                    files: draft.attachments.clone(),
                    phase: UploadPhase::Waiting,
                });
        });
    }

    pub(crate) fn set_upload_phase(&self, echo_id: &str, phase: UploadPhase) {
        if self
            .uploads
            .with_untracked(|m| m.get(echo_id).is_some_and(|u| u.phase != phase))
        {
            self.uploads.update(|m| {
                if let Some(u) = m.get_mut(echo_id) {
                    u.phase = phase;
                }
            });
        }
    }

    pub(crate) fn forget_upload(&self, echo_id: &str) {
        if self.uploads.with_untracked(|m| m.contains_key(echo_id)) {
            self.uploads.update(|m| {
                m.remove(echo_id);
            });
        }
    }
}
