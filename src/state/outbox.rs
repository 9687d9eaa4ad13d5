//! The outbox driver: the I/O loop around `parley_core::outbox::Outbox`.
//!
//! One outbox per app session holds the unsent messages of every conversation. The open
//! chat screen attaches its [`ChatState`]: the rows of its conversation show the outbox's
//! statuses, and its live connection says (with `navigator.onLine`) whether requests can
//! get through. Everything the machine decides arrives here as commands; this module only
//! carries them out: IndexedDB for `Persist`/`Forget`, a POST for `Send` (abortable),
//! `messages?after=` for `Resync`, one timer for `WakeAt`, and the row's send state for
//! `Status`. Results go back in as events.
//!
//! A message with files is sent by `effects::upload` (XHR, for its progress) from Blobs
//! kept in the outbox's IndexedDB; its progress goes to the row directly, and reaches the
//! machine only as "still alive" (`UploadProgressed`, at most once a second).
//!
//! Events are queued and run one at a time: carrying out a command may feed another event
//! (a create response merged into the chat is also `Seen`), which then runs after it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use parley_core::outbox::{
    AttemptError, Command, Draft, Entry, EntryState, Event, Outbox, OutboxConfig, SeenMessage,
    SendError, SendStatus,
};
use parley_core::store::SendState;
use parley_wire::{Message, MessageType, Sender};

use crate::config::Config;
use crate::effects::api::{Api, ApiError, MessagePage};
use crate::effects::clock::{now_ms, Timer};
use crate::effects::outbox_store::{OutboxStore, StoreError, StoreWrite, Stored};
use crate::effects::page::{browser_online, WindowListener};
use crate::effects::storage::{adopt_unstored, forget_unstored, remember_unstored, UnstoredSend};
use crate::effects::tab_locks::TabLocks;
use crate::effects::telemetry::Telemetry;
use crate::effects::upload::{upload, UploadFile, UploadProgress, UploadRequest};
use crate::i18n::t;
use crate::state::attaching::UploadPhase;
use crate::state::connection::ConnectionState;
use crate::state::conversation::{ChatState, Toast};
use crate::state::sending::{classify, new_message_body};
use crate::state::session::Session;
use parley_core::attachment::{telemetry_file_type, AttachmentDraft};
use parley_core::telemetry::TelemetryEvent;

/// Said once when the outbox cannot be made durable (a catalog key, like the two below).
const NOT_DURABLE: &str = "outbox.not_durable";

/// Said when a tab of an older release keeps the outbox's storage from being upgraded.
const HELD_BY_OLDER_TAB: &str = "outbox.held_by_older_tab";

/// How often to look again for entries of tabs that have gone.
const ADOPT_AGAIN_MS: u64 = 5_000;

/// Said when the files of a message could not be stored (quota, storage turned off).
const FILES_NOT_DURABLE: &str = "outbox.files_not_durable";

/// Upload progress tells the outbox the request is alive at most this often.
const ALIVE_EVERY_MS: u64 = 1_000;

/// How long a resync (every page of it) may take before it counts as failed.
const RESYNC_TIMEOUT_MS: u64 = 30_000;

/// `messages?after=` pages hold at most this many (Chatwoot's limit).
const AFTER_PAGE: usize = 100;

thread_local! {
    static DRIVER: RefCell<Option<Rc<Driver>>> = const { RefCell::new(None) };
}

struct Driver {
    /// Read without borrowing `inner`, which may be busy when a message is seen.
    profile_id: i64,
    inner: RefCell<Inner>,
    queue: RefCell<VecDeque<Input>>,
}

enum Input {
    Event(Event),
    /// The store is open (or replaced by memory) and read.
    Opened {
        store: OutboxStore,
        entries: Vec<Entry>,
    },
    /// Entries of a tab that has gone since the restore, taken over.
    Adopted(Vec<Entry>),
    /// Messages a tab that has gone typed and never got to write down, taken over.
    Unstored(Vec<UnstoredSend>),
    /// The write of this entry committed: its typed-message note can go.
    Committed(String),
    /// The backend deduplicates by `echo_id`, for this long (ms; `None`: for good).
    Capabilities(bool, Option<u64>),
    /// The store could not be opened for this reason (said instead of `NOT_DURABLE`).
    NotDurableBecause(&'static str),
    /// A POST answered. `attempt` tells a current request from one aborted since.
    SendResult {
        echo_id: String,
        attempt: u64,
        result: Result<Message, SendError>,
    },
    /// Files of a message about to be enqueued: kept for this page, stored for a reload.
    Files(Vec<(String, web_sys::Blob)>),
    /// An upload moved on (attempt as in `SendResult`).
    Progress {
        echo_id: String,
        attempt: u64,
        progress: UploadProgress,
    },
    /// A resync fetched every page (or failed).
    Resynced {
        conversation_id: i64,
        result: Result<Vec<Message>, ApiError>,
    },

    /// The attached chat's connection or the browser's online state changed.
    Reachability,
    Attach(ChatState),
    Detach(i64),
}

struct Inner {
    machine: Outbox,
    api: Api,
    account_id: i64,
    profile_id: i64,
    store: Option<OutboxStore>,
    /// The outbox database, which also names this outbox's typed-message notes.
    db_name: String,
    /// This tab's id in the Web Locks (`None` where they are missing).
    tab_id: Option<String>,
    /// Messages noted as typed (see `storage::remember_unstored`) whose entry has not
    /// been written yet.
    unstored: HashSet<String>,
    /// Enqueues wait for the restore, so that new messages go after the restored ones.
    early: Vec<Event>,
    /// The open chat screens (one on Parley's page; one per chat a host page mounted).
    chats: Vec<ChatState>,
    /// The conversation of each entry, for telling its chat (and the host) once it has
    /// left the machine: `Delivered` comes after the entry is forgotten.
    conversation_of: HashMap<String, i64>,
    /// The request in the air per `echo_id`: its attempt number and its abort handle.
    in_flight: HashMap<String, (u64, web_sys::AbortController)>,
    attempts: u64,
    /// The latest write of each entry: its `Send` waits until it is committed.
    writes: HashMap<String, StoreWrite>,
    wake: Option<Timer>,
    /// Files of entries this page enqueued, by blob key (uploads use these directly).
    blobs: HashMap<String, web_sys::Blob>,
    /// Blob keys waiting for the store to open before they can be written.
    unstored_blobs: Vec<String>,
    /// The files of entries with files, for telemetry when they are delivered.
    files_of: HashMap<String, (i64, Vec<AttachmentDraft>)>,
    /// When each upload last told the machine it was alive.
    alive_at: HashMap<String, u64>,
    telemetry: Option<Telemetry>,
    reachable: bool,
    capabilities_known: bool,
    told_not_durable: bool,
    not_durable_notice: &'static str,
    _listeners: Vec<WindowListener>,
}

/// Start the signed-in agent's outbox for `account_id` (once; later calls keep the running
/// one), from the first screen that knows the account: messages left queued by an earlier
/// page go out while the agent is still on the list, and opening a conversation does not
/// wait for IndexedDB.
pub fn start_for(session: &Session, config: &Config, account_id: i64) {
    start(
        session.api.clone(),
        session.profile.id,
        account_id,
        format!(
            "parley-outbox.v1:{}:{}",
            config.api_origin(),
            session.profile.id
        ),
    );
}

fn start(api: Api, profile_id: i64, account_id: i64, db_name: String) {
    if DRIVER.with(|d| d.borrow().is_some()) {
        return;
    }
    let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
    // Taken at once: a message typed before the store is open is noted under this tab.
    let tabs = TabLocks::start(&format!("parley-outbox-tab:{db_name}:"));
    let listeners = [
        WindowListener::on_window("online", || feed(Input::Reachability)),
        WindowListener::on_window("offline", || feed(Input::Reachability)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let driver = Rc::new(Driver {
        profile_id,
        inner: RefCell::new(Inner {
            machine: Outbox::new(OutboxConfig::default(), seed),
            api: api.clone(),
            account_id,
            profile_id,
            store: None,
            db_name: db_name.clone(),
            tab_id: tabs.as_ref().map(|t| t.tab_id().to_owned()),
            unstored: HashSet::new(),
            early: Vec::new(),
            chats: Vec::new(),
            conversation_of: HashMap::new(),
            in_flight: HashMap::new(),
            attempts: 0,
            writes: HashMap::new(),
            wake: None,
            blobs: HashMap::new(),
            unstored_blobs: Vec::new(),
            files_of: HashMap::new(),
            alive_at: HashMap::new(),
            telemetry: None,
            reachable: false,
            capabilities_known: false,
            told_not_durable: false,
            not_durable_notice: NOT_DURABLE,
            _listeners: listeners,
        }),
        queue: RefCell::new(VecDeque::new()),
    });
    DRIVER.with(|d| *d.borrow_mut() = Some(driver));
    leptos::task::spawn_local(async move {
        let store = match OutboxStore::open(&db_name).await {
            Ok(store) => store,
            Err(e) => {
                leptos::logging::warn!("parley: outbox kept in memory only: {e}");
                if e == StoreError::HeldByOlderTab {
                    feed(Input::NotDurableBecause(HELD_BY_OLDER_TAB));
                }
                OutboxStore::memory()
            }
        };
        let store = store.with_owner(tabs.as_ref().map(|t| t.tab_id().to_owned()));
        let restore_lock = format!("parley-outbox-restore:{db_name}");
        let adopt = |tabs: &TabLocks, store: &OutboxStore| {
            let (t, s) = (tabs.clone(), store.clone());
            let tabs = tabs.clone();
            let name = restore_lock.clone();
            let db = db_name.clone();
            async move {
                tabs.exclusive(&name, move || adopt_orphans(t, s, db))
                    .await
                    .unwrap_or_default()
            }
        };
        match tabs {
            // One tab at a time: take over the entries of tabs that are gone (closed,
            // crashed, reloaded), never those of a live one, which sends them itself.
            Some(tabs) if store.is_durable() => {
                let (entries, unstored, mut held_elsewhere) = adopt(&tabs, &store).await;
                feed(Input::Opened {
                    store: store.clone(),
                    entries,
                });
                feed(Input::Unstored(unstored));
                // A page being replaced may still hold its lock for a moment, and a tab
                // may close later: look again while another tab holds entries.
                while held_elsewhere > 0 {
                    sleep(ADOPT_AGAIN_MS).await;
                    let (entries, unstored, held) = adopt(&tabs, &store).await;
                    held_elsewhere = held;
                    if !entries.is_empty() {
                        feed(Input::Adopted(entries));
                    }
                    feed(Input::Unstored(unstored));
                }
            }
            _ => {
                let entries = read_all(&store)
                    .await
                    .into_iter()
                    .map(|stored| stored.entry)
                    .collect();
                feed(Input::Opened { store, entries });
                // Without tab locks every tab takes everything, as with the entries.
                let (own, live) = match &tabs {
                    Some(t) => (Some(t.tab_id().to_owned()), t.live_tabs().await),
                    None => (None, HashSet::new()),
                };
                let (unstored, _) = adopt_unstored(&db_name, own.as_deref(), |t| live.contains(t));
                feed(Input::Unstored(unstored));
            }
        }
    });
    // Apart from the restore: a server that does not answer must not hold the outbox up
    // (until it is known, the outbox assumes a backend that does not deduplicate).
    leptos::task::spawn_local(async move {
        if let Ok((idempotent, window_ms)) = api.echo_id_idempotency().await {
            feed(Input::Capabilities(idempotent, window_ms));
        }
    });
}

/// The chat screen of `chat.conversation_id` is open: show its queued messages there.
/// Called from the screen's component, whose context holds the app's telemetry.
pub fn attach(chat: ChatState) {
    if let Some(t) = Telemetry::from_context() {
        if let Some(driver) = DRIVER.with(|d| d.borrow().clone()) {
            if let Ok(mut inner) = driver.inner.try_borrow_mut() {
                inner.telemetry = Some(t);
            }
        }
    }
    feed(Input::Attach(chat));
}

pub fn detach(conversation_id: i64) {
    feed(Input::Detach(conversation_id));
}

/// The attached chat's connection changed (or may have).
pub fn reachability_changed() {
    feed(Input::Reachability);
}

pub fn enqueue(echo_id: String, draft: Draft) {
    feed(Input::Event(Event::Enqueue { echo_id, draft }));
}

/// A message with files: its Blobs (by the keys its draft names), then the message.
pub fn enqueue_with_files(echo_id: String, draft: Draft, blobs: Vec<(String, web_sys::Blob)>) {
    feed(Input::Files(blobs));
    feed(Input::Event(Event::Enqueue { echo_id, draft }));
}

/// Cancel a message with files: aborts its upload if one is in the air.
pub fn cancel(echo_id: String) {
    feed(Input::Event(Event::Cancel { echo_id }));
}

pub fn retry(echo_id: String) {
    feed(Input::Event(Event::Retry { echo_id }));
}

/// A new text for a message that has not left yet (queued or failed); ignored by the
/// outbox once a request is in the air.
pub fn edit(echo_id: String, content: String) {
    feed(Input::Event(Event::Edit { echo_id, content }));
}

pub fn discard(echo_id: String) {
    feed(Input::Event(Event::Discard { echo_id }));
}

/// Messages the server holds (cable, history pages, resyncs, create responses).
pub fn seen(messages: &[Message]) {
    if messages.is_empty() {
        return;
    }
    let Some(profile_id) = DRIVER.with(|d| d.borrow().as_ref().map(|d| d.profile_id)) else {
        return;
    };
    for m in messages {
        feed(Input::Event(Event::Seen(seen_of(m, profile_id))));
    }
}

async fn read_all(store: &OutboxStore) -> Vec<Stored> {
    match store.get_all().await {
        Ok((entries, errors)) => {
            for e in errors {
                leptos::logging::warn!("parley: {e}");
            }
            entries
        }
        Err(e) => {
            leptos::logging::warn!("parley: could not read the outbox: {e}");
            Vec::new()
        }
    }
}

/// The entries whose tab is gone, written back as this tab's before the lock is let go,
/// the messages such tabs typed and never wrote down, and how many entries and notes a
/// live tab holds.
async fn adopt_orphans(
    tabs: TabLocks,
    store: OutboxStore,
    db_name: String,
) -> (Vec<Entry>, Vec<UnstoredSend>, usize) {
    let live = tabs.live_tabs().await;
    // Typed there, never written down: another tab's until that tab is gone, like entries.
    let (unstored, mut held_elsewhere) =
        adopt_unstored(&db_name, Some(tabs.tab_id()), |t| live.contains(t));
    let mut adopted = Vec::new();
    for stored in read_all(&store).await {
        match &stored.owner {
            Some(o) if o == tabs.tab_id() => continue,
            Some(o) if live.contains(o) => {
                held_elsewhere += 1;
                continue;
            }
            _ => {}
        }
        if let Err(e) = store.put(&stored.entry).done().await {
            leptos::logging::warn!("parley: outbox storage: {e}");
        }
        adopted.push(stored.entry);
    }
    (adopted, unstored, held_elsewhere)
}

fn seen_of(m: &Message, profile_id: i64) -> SeenMessage {
    let from_me = m.message_type == MessageType::Outgoing
        && matches!(&m.sender, Some(Sender::User(u)) if u.id == profile_id);
    SeenMessage {
        id: m.id,
        conversation_id: m.conversation_id,
        echo_id: m.echo_id.clone(),
        content: m.content.clone(),
        private: m.private,
        from_me,
        created_at_s: m.created_at,
        files: m
            .attachments
            .iter()
            .flatten()
            .map(|a| a.file_size.and_then(|n| u64::try_from(n).ok()))
            .collect(),
    }
}

/// Queue `input` and, unless an input is already running (this is a nested call), run
/// the queue dry.
fn feed(input: Input) {
    let Some(driver) = DRIVER.with(|d| d.borrow().clone()) else {
        return;
    };
    driver.queue.borrow_mut().push_back(input);
    let Ok(mut inner) = driver.inner.try_borrow_mut() else {
        return;
    };
    loop {
        let next = driver.queue.borrow_mut().pop_front();
        match next {
            Some(input) => inner.run(input),
            None => break,
        }
    }
}

/// Entries whose message left the outbox just before the page went (its IndexedDB delete
/// did not commit): finished, not to be shown or sent again.
fn drop_already_left(store: &OutboxStore, entries: &mut Vec<Entry>) {
    entries.retain(|e| {
        let left = crate::effects::storage::has_left_outbox(&e.echo_id);
        if left {
            report(store.delete(&e.echo_id));
        }
        !left
    });
}

impl Inner {
    fn run(&mut self, input: Input) {
        let now = now_ms();
        if let Input::Event(Event::Enqueue { echo_id, draft }) = &input {
            // Before anything else, synchronously: a reload from here on keeps it.
            self.unstored.insert(echo_id.clone());
            remember_unstored(
                &self.db_name,
                UnstoredSend {
                    tab: self.tab_id.clone(),
                    echo_id: echo_id.clone(),
                    draft: draft.clone(),
                },
            );
        }
        let commands = match input {
            Input::Event(event @ Event::Enqueue { .. }) if self.store.is_none() => {
                self.early.push(event);
                return;
            }
            Input::Event(event) => {
                let discarded = match &event {
                    Event::Discard { echo_id } | Event::Cancel { echo_id } => Some(echo_id.clone()),
                    _ => None,
                };
                let edited = match &event {
                    Event::Edit { echo_id, .. } => Some(echo_id.clone()),
                    _ => None,
                };
                let commands = self.machine.handle(now, event);
                // An edit the outbox took (the message had not left): the row shows it.
                if let Some(echo_id) = edited {
                    if let Some(e) = self.machine.entries().iter().find(|e| e.echo_id == echo_id) {
                        if let Some(chat) = self.chat_of(e.draft.conversation_id) {
                            chat.show_pending(
                                &e.echo_id,
                                &e.draft,
                                (e.enqueued_at_ms / 1000) as i64,
                            );
                        }
                    }
                }
                if let Some(echo_id) = discarded {
                    let forgotten = commands
                        .iter()
                        .any(|c| matches!(c, Command::Forget { echo_id: e } if *e == echo_id));
                    if forgotten {
                        self.files_of.remove(&echo_id);
                        for chat in &self.chats {
                            chat.messages.remove_pending(&echo_id);
                            chat.forget_upload(&echo_id);
                        }
                        self.conversation_of.remove(&echo_id);
                    }
                }
                commands
            }
            Input::Opened { store, mut entries } => {
                drop_already_left(&store, &mut entries);
                for key in std::mem::take(&mut self.unstored_blobs) {
                    if let Some(blob) = self.blobs.get(&key) {
                        self.store_blob(&store, &key, blob.clone());
                    }
                }
                self.note_files(&entries);
                self.note_conversations(&entries);
                self.store = Some(store);
                let mut commands = self.machine.handle(now, Event::Restored(entries));
                for event in std::mem::take(&mut self.early) {
                    commands.extend(self.machine.handle(now, event));
                }
                let reachable = self.compute_reachable();
                self.reachable = reachable;
                commands.extend(self.machine.handle(now, Event::Reachable(reachable)));
                self.show_entries();
                self.tell_if_not_durable();
                commands
            }
            Input::Unstored(sends) => {
                if sends.is_empty() {
                    return;
                }
                let mut commands = Vec::new();
                for s in sends {
                    if crate::effects::storage::has_left_outbox(&s.echo_id) {
                        forget_unstored(&self.db_name, &s.echo_id);
                        continue;
                    }
                    self.unstored.insert(s.echo_id.clone());
                    commands.extend(self.machine.handle(
                        now,
                        Event::Enqueue {
                            echo_id: s.echo_id,
                            draft: s.draft,
                        },
                    ));
                }
                self.show_entries();
                commands
            }
            Input::Committed(echo_id) => {
                if self.unstored.remove(&echo_id) {
                    forget_unstored(&self.db_name, &echo_id);
                }
                return;
            }
            Input::Adopted(mut entries) => {
                if let Some(store) = &self.store {
                    drop_already_left(store, &mut entries);
                }
                self.note_files(&entries);
                self.note_conversations(&entries);
                let commands = self.machine.handle(now, Event::Restored(entries));
                self.show_entries();
                commands
            }
            Input::Files(blobs) => {
                for (key, blob) in blobs {
                    match self.store.clone() {
                        Some(store) => self.store_blob(&store, &key, blob.clone()),
                        None => self.unstored_blobs.push(key.clone()),
                    }
                    self.blobs.insert(key, blob);
                }
                return;
            }
            Input::Progress {
                echo_id,
                attempt,
                progress,
            } => {
                let current = self
                    .in_flight
                    .get(&echo_id)
                    .is_some_and(|(a, _)| *a == attempt);
                if !current {
                    return;
                }
                let conversation_id = self.conversation_of.get(&echo_id).copied();
                if let Some(chat) = conversation_id.and_then(|c| self.chat_of(c)) {
                    chat.set_upload_phase(
                        &echo_id,
                        match progress {
                            UploadProgress::Sending { sent, total } => {
                                UploadPhase::Sending { sent, total }
                            }
                            UploadProgress::Processing => UploadPhase::Processing,
                        },
                    );
                }
                // The server's answer after the body is out gets the ordinary timeout
                // from here; while bytes move, the request is alive.
                let last = self.alive_at.get(&echo_id).copied().unwrap_or(0);
                if now < last + ALIVE_EVERY_MS && progress != UploadProgress::Processing {
                    return;
                }
                self.alive_at.insert(echo_id.clone(), now);
                self.machine
                    .handle(now, Event::UploadProgressed { echo_id })
            }
            Input::NotDurableBecause(notice) => {
                self.not_durable_notice = notice;
                return;
            }
            Input::Capabilities(idempotent, window_ms) => {
                self.machine.set_backend(idempotent, window_ms, now);
                self.capabilities_known = true;
                // A backend that deduplicates settles a message of unknown fate by
                // sending it again: its row says so from now, and it goes.
                self.show_entries();
                self.machine.handle(now, Event::Tick)
            }
            Input::SendResult {
                echo_id,
                attempt,
                result,
            } => {
                let current = self
                    .in_flight
                    .get(&echo_id)
                    .is_some_and(|(a, _)| *a == attempt);
                if current {
                    self.in_flight.remove(&echo_id);
                }
                match result {
                    // Whatever became of the attempt since, the server has the message.
                    Ok(mut message) => {
                        let message_id = message.id;
                        message.echo_id.get_or_insert_with(|| echo_id.clone());
                        if let Some(chat) = self.chat_of(message.conversation_id) {
                            chat.merge(message);
                        }
                        self.machine.handle(
                            now,
                            Event::SendOk {
                                echo_id,
                                message_id,
                            },
                        )
                    }
                    Err(error) if current => self
                        .machine
                        .handle(now, Event::SendFailed { echo_id, error }),
                    // An attempt aborted on timeout answers late: already counted.
                    Err(_) => return,
                }
            }
            Input::Resynced {
                conversation_id,
                result,
            } => match result {
                Ok(messages) => {
                    if let Some(chat) = self.chat_of(conversation_id) {
                        let before_last = chat.messages.last_key();
                        if chat.messages.upsert_all(messages.clone()) > 0
                            && chat.messages.last_key() != before_last
                        {
                            chat.appended.update(|n| *n += 1);
                        }
                    }
                    let mut commands = Vec::new();
                    for m in &messages {
                        commands.extend(
                            self.machine
                                .handle(now, Event::Seen(seen_of(m, self.profile_id))),
                        );
                    }
                    commands.extend(
                        self.machine
                            .handle(now, Event::ResyncDone { conversation_id }),
                    );
                    commands
                }
                Err(e) => {
                    leptos::logging::warn!("parley: outbox resync failed: {e}");
                    self.machine
                        .handle(now, Event::ResyncFailed { conversation_id })
                }
            },
            Input::Reachability => {
                let reachable = self.compute_reachable();
                if reachable == self.reachable || self.store.is_none() {
                    self.reachable = reachable;
                    return;
                }
                self.reachable = reachable;
                if reachable && !self.capabilities_known {
                    let api = self.api.clone();
                    leptos::task::spawn_local(async move {
                        if let Ok((idempotent, window_ms)) = api.echo_id_idempotency().await {
                            feed(Input::Capabilities(idempotent, window_ms));
                        }
                    });
                }
                self.machine.handle(now, Event::Reachable(reachable))
            }
            Input::Attach(chat) => {
                self.chats
                    .retain(|c| c.conversation_id != chat.conversation_id);
                self.chats.push(chat);
                self.show_entries();
                self.tell_if_not_durable();
                let reachable = self.compute_reachable();
                if reachable == self.reachable || self.store.is_none() {
                    self.reachable = reachable;
                    return;
                }
                self.reachable = reachable;
                self.machine.handle(now, Event::Reachable(reachable))
            }
            Input::Detach(conversation_id) => {
                self.chats.retain(|c| c.conversation_id != conversation_id);
                return;
            }
        };
        for command in commands {
            self.execute(command);
        }
    }

    /// Remember the files of restored entries (for telemetry when they are delivered).
    fn note_files(&mut self, entries: &[Entry]) {
        for e in entries.iter().filter(|e| e.draft.has_files()) {
            self.files_of.insert(
                e.echo_id.clone(),
                (e.draft.conversation_id, e.draft.attachments.clone()),
            );
        }
    }

    /// Write a file next to its entry; if the browser refuses, the agent hears that a
    /// reload would lose it (this page still sends it from memory).
    fn store_blob(&self, store: &OutboxStore, key: &str, blob: web_sys::Blob) {
        let write = store.put_blob(key, &blob);
        // Said on an open chat (the entry's own may not be known yet).
        let chat = self.chats.first().copied();
        let durable = store.is_durable();
        leptos::task::spawn_local(async move {
            if let Err(e) = write.done().await {
                leptos::logging::warn!("parley: could not store a file: {e}");
                if let (true, Some(chat)) = (durable, chat) {
                    chat.notice.set(Some(t(FILES_NOT_DURABLE).to_owned()));
                }
            }
        });
    }

    /// Requests can get through: the browser is online and, while a chat is open, its
    /// live connection is up (the cable is the best sign that the server is there).
    fn compute_reachable(&self) -> bool {
        browser_online()
            && (self.chats.is_empty()
                || self.chats.iter().any(|c| {
                    c.connection
                        .try_get_untracked()
                        .is_some_and(|s| s == ConnectionState::Connected)
                }))
    }

    fn note_conversations(&mut self, entries: &[Entry]) {
        for e in entries {
            self.conversation_of
                .insert(e.echo_id.clone(), e.draft.conversation_id);
        }
    }

    fn chat_of(&self, conversation_id: i64) -> Option<ChatState> {
        self.chats
            .iter()
            .copied()
            .find(|c| c.conversation_id == conversation_id)
    }

    /// The attached conversation's outbox entries as pending rows, in the order typed.
    fn show_entries(&self) {
        for e in self.machine.entries() {
            let Some(chat) = self.chat_of(e.draft.conversation_id) else {
                continue;
            };
            chat.show_pending(&e.echo_id, &e.draft, (e.enqueued_at_ms / 1000) as i64);
            chat.messages
                .set_send_state(&e.echo_id, Some(send_state_of(e, self.reachable)));
        }
    }

    fn tell_if_not_durable(&mut self) {
        let durable = self.store.as_ref().is_none_or(OutboxStore::is_durable);
        if durable || self.told_not_durable {
            return;
        }
        if let Some(chat) = self.chats.first() {
            chat.notice.set(Some(t(self.not_durable_notice).to_owned()));
            self.told_not_durable = true;
        }
    }

    fn execute(&mut self, command: Command) {
        match command {
            Command::Persist(entry) => {
                if entry.draft.has_files() {
                    self.files_of.insert(
                        entry.echo_id.clone(),
                        (entry.draft.conversation_id, entry.draft.attachments.clone()),
                    );
                }
                self.conversation_of
                    .insert(entry.echo_id.clone(), entry.draft.conversation_id);
                let Some(store) = &self.store else { return };
                let write = store.put(&entry);
                self.writes.insert(entry.echo_id.clone(), write.clone());
                if self.unstored.contains(&entry.echo_id) {
                    let echo_id = entry.echo_id.clone();
                    let committed = write.clone();
                    leptos::task::spawn_local(async move {
                        if committed.done().await.is_ok() {
                            feed(Input::Committed(echo_id));
                        }
                    });
                }
                report(write);
            }
            Command::Forget { echo_id } => {
                crate::effects::storage::remember_left_outbox(&echo_id);
                if self.unstored.remove(&echo_id) {
                    forget_unstored(&self.db_name, &echo_id);
                }
                self.writes.remove(&echo_id);
                self.alive_at.remove(&echo_id);
                let prefix = format!("{echo_id}/");
                self.blobs.retain(|k, _| !k.starts_with(&prefix));
                if let Some(store) = &self.store {
                    report(store.delete(&echo_id));
                    report(store.delete_blobs_of(&echo_id));
                }
            }
            Command::Send { echo_id, draft } => self.send(echo_id, draft),
            Command::Abort { echo_id } => {
                if let Some((_, controller)) = self.in_flight.remove(&echo_id) {
                    controller.abort();
                }
            }
            Command::Resync {
                conversation_id,
                after_id,
            } => {
                let api = self.api.clone();
                let account_id = self.account_id;
                leptos::task::spawn_local(async move {
                    // A resync that never answers would hold its conversation's messages
                    // for good: past the timeout it counts as failed (and is asked again).
                    let fetch = Box::pin(fetch_after(&api, account_id, conversation_id, after_id));
                    let result =
                        match futures::future::select(fetch, Box::pin(sleep(RESYNC_TIMEOUT_MS)))
                            .await
                        {
                            futures::future::Either::Left((result, _)) => result,
                            futures::future::Either::Right(_) => Err(ApiError::Network),
                        };
                    feed(Input::Resynced {
                        conversation_id,
                        result,
                    });
                });
            }
            // The create response or the cable message already replaced the row, unless
            // the match came from a resync page: then the row is confirmed here.
            Command::Delivered {
                echo_id,
                message_id,
            } => {
                let conversation_id = self.conversation_of.remove(&echo_id);
                if let Some(chat) = conversation_id.and_then(|c| self.chat_of(c)) {
                    chat.messages.confirm_pending(&echo_id, message_id);
                    chat.forget_upload(&echo_id);
                    if let Some(host) = chat.host_events.try_get_value().flatten() {
                        host.message_sent(chat.conversation_id, message_id, &echo_id);
                    }
                }
                // Once per delivered file: its kind and size, never its name or bytes.
                if let Some((conversation_id, files)) = self.files_of.remove(&echo_id) {
                    if let Some(t) = self.telemetry {
                        for f in files {
                            t.emit(&TelemetryEvent::AttachmentSent {
                                conversation_id,
                                file_type: telemetry_file_type(&f.mime).to_owned(),
                                size: f.size,
                            });
                        }
                    }
                }
            }
            Command::Status { echo_id, status } => {
                let conversation_id = self.conversation_of.get(&echo_id).copied();
                let Some(chat) = conversation_id.and_then(|c| self.chat_of(c)) else {
                    return;
                };
                if !chat.messages.is_pending(&echo_id) {
                    return;
                }
                if let SendStatus::Failed { reason } = &status {
                    if let Some(host) = chat.host_events.try_get_value().flatten() {
                        let words = crate::reasons::fail_reason_text(reason);
                        host.message_failed(chat.conversation_id, &echo_id, &words);
                    }
                    chat.toast.set(Some(Toast {
                        echo_id: echo_id.clone(),
                        reason: reason.clone(),
                    }));
                }
                if !matches!(status, SendStatus::Sending) {
                    chat.set_upload_phase(&echo_id, UploadPhase::Waiting);
                }
                // A retry cannot start before the server is reachable again: until then
                // the message is waiting for the connection, and says so.
                let state = match status {
                    SendStatus::Retrying { .. } if !self.reachable => SendState::Queued,
                    status => send_state_of_status(status),
                };
                chat.messages.set_send_state(&echo_id, Some(state));
            }
            Command::WakeAt(at) => {
                let delay = at.saturating_sub(now_ms());
                self.wake = Some(Timer::after(delay, || feed(Input::Event(Event::Tick))));
            }
        }
    }

    /// One attempt: after the entry's write is committed (a crash then finds it stored),
    /// POST it with its `echo_id`, abortable.
    fn send(&mut self, echo_id: String, draft: Draft) {
        let Ok(controller) = web_sys::AbortController::new() else {
            // Cannot happen in a browser; reported like a request that never left.
            leptos::task::spawn_local(async move {
                feed(Input::SendResult {
                    echo_id,
                    attempt: 0,
                    result: Err(SendError::NotSent),
                });
            });
            return;
        };
        self.attempts += 1;
        let attempt = self.attempts;
        let signal = controller.signal();
        if let Some((_, old)) = self
            .in_flight
            .insert(echo_id.clone(), (attempt, controller))
        {
            old.abort();
        }
        let written = self.writes.get(&echo_id).cloned();
        let api = self.api.clone();
        let account_id = self.account_id;
        if draft.has_files() {
            if let Some(chat) = self.chat_of(draft.conversation_id) {
                let total = draft.attachments.iter().map(|a| a.size as f64).sum();
                chat.set_upload_phase(&echo_id, UploadPhase::Sending { sent: 0.0, total });
            }
            let files: Vec<(AttachmentDraft, Option<web_sys::Blob>)> = draft
                .attachments
                .iter()
                .map(|a| (a.clone(), self.blobs.get(&a.blob_key).cloned()))
                .collect();
            let store = self.store.clone();
            leptos::task::spawn_local(async move {
                if let Some(written) = written {
                    if let Err(e) = written.done().await {
                        leptos::logging::warn!("parley: outbox write failed before sending: {e}");
                    }
                }
                let result = if !browser_online() {
                    Err(SendError::NotSent)
                } else {
                    match blobs_of(store.as_ref(), files).await {
                        None => Err(SendError::Rejected(AttemptError::FilesGone)),
                        Some(files) => {
                            let request = UploadRequest {
                                echo_id: echo_id.clone(),
                                content: draft.content.clone(),
                                private: draft.private,
                                in_reply_to: draft.in_reply_to,
                                files,
                            };
                            let progress_echo = echo_id.clone();
                            upload(
                                &api,
                                account_id,
                                draft.conversation_id,
                                request,
                                &signal,
                                move |progress| {
                                    feed(Input::Progress {
                                        echo_id: progress_echo.clone(),
                                        attempt,
                                        progress,
                                    })
                                },
                            )
                            .await
                            .map_err(|e| classify(&e))
                        }
                    }
                };
                feed(Input::SendResult {
                    echo_id,
                    attempt,
                    result,
                });
            });
            return;
        }
        leptos::task::spawn_local(async move {
            if let Some(written) = written {
                if let Err(e) = written.done().await {
                    leptos::logging::warn!("parley: outbox write failed before sending: {e}");
                }
            }
            let result = if !browser_online() {
                // Offline before it left: not an attempt that may have landed.
                Err(SendError::NotSent)
            } else {
                let body = new_message_body(&echo_id, &draft);
                api.send_message(account_id, draft.conversation_id, &body, Some(&signal))
                    .await
                    .map_err(|e| classify(&e))
            };
            feed(Input::SendResult {
                echo_id,
                attempt,
                result,
            });
        });
    }
}

/// The Blobs of a message's files: from this page when it enqueued them, else from the
/// store (after a reload). `None` when one of them is gone.
async fn blobs_of(
    store: Option<&OutboxStore>,
    files: Vec<(AttachmentDraft, Option<web_sys::Blob>)>,
) -> Option<Vec<UploadFile>> {
    let mut out = Vec::with_capacity(files.len());
    for (file, blob) in files {
        let blob = match blob {
            Some(b) => b,
            None => match store?.get_blob(&file.blob_key).await {
                Ok(Some(b)) => b,
                Ok(None) => return None,
                Err(e) => {
                    leptos::logging::warn!("parley: could not read a stored file: {e}");
                    return None;
                }
            },
        };
        out.push(UploadFile {
            blob,
            name: file.file_name,
        });
    }
    Some(out)
}

/// Every message after `after_id` (the newest page when `None`), all pages.
async fn fetch_after(
    api: &Api,
    account_id: i64,
    conversation_id: i64,
    after_id: Option<i64>,
) -> Result<Vec<Message>, ApiError> {
    let Some(mut after) = after_id else {
        return Ok(api
            .messages(account_id, conversation_id, MessagePage::Newest)
            .await?
            .payload);
    };
    let mut all = Vec::new();
    // A bound, so that a server that keeps answering full pages cannot loop us forever.
    for _ in 0..100 {
        let page = api
            .messages(account_id, conversation_id, MessagePage::After(after))
            .await?
            .payload;
        let count = page.len();
        let newest = page.iter().map(|m| m.id).max();
        all.extend(page);
        match newest {
            Some(n) if count >= AFTER_PAGE && n > after => after = n,
            _ => break,
        }
    }
    Ok(all)
}

async fn sleep(ms: u64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn report(write: StoreWrite) {
    leptos::task::spawn_local(async move {
        if let Err(e) = write.done().await {
            leptos::logging::warn!("parley: outbox storage: {e}");
        }
    });
}

/// What a row shows for an entry when it is (re)drawn.
fn send_state_of(e: &Entry, reachable: bool) -> SendState {
    match &e.state {
        EntryState::Failed { reason } => SendState::Failed {
            reason: reason.clone(),
        },
        EntryState::InFlight { .. } => SendState::Sending,
        EntryState::Unknown => SendState::Unknown,
        EntryState::Reconciling => SendState::Retrying {
            error: e.last_error.clone(),
        },
        // Waiting for its turn or its backoff: retrying after an error, else queued.
        EntryState::Queued => match &e.last_error {
            Some(error) if reachable => SendState::Retrying {
                error: Some(error.clone()),
            },
            _ => SendState::Queued,
        },
    }
}

fn send_state_of_status(status: SendStatus) -> SendState {
    match status {
        SendStatus::Queued => SendState::Queued,
        SendStatus::Sending => SendState::Sending,
        SendStatus::Retrying { error, .. } => SendState::Retrying { error: Some(error) },
        SendStatus::Failed { reason } => SendState::Failed { reason },
        SendStatus::Unknown => SendState::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn statuses_map_to_row_states() {
        assert_eq!(send_state_of_status(SendStatus::Queued), SendState::Queued);
        assert_eq!(
            send_state_of_status(SendStatus::Retrying {
                in_ms: 5,
                error: AttemptError::Network
            }),
            SendState::Retrying {
                error: Some(AttemptError::Network)
            }
        );
        let refused = parley_core::outbox::FailReason::Refused(AttemptError::Http { status: 422 });
        assert_eq!(
            send_state_of_status(SendStatus::Failed {
                reason: refused.clone()
            }),
            SendState::Failed { reason: refused }
        );
    }

    #[wasm_bindgen_test]
    fn only_this_agents_outgoing_messages_are_from_me() {
        let m: Message = serde_json::from_value(serde_json::json!({
            "id": 9, "content": "ok", "conversation_id": 3, "message_type": 1,
            "created_at": 100, "private": false,
            "sender": { "id": 4, "name": "Agent", "type": "user" },
        }))
        .unwrap();
        assert!(seen_of(&m, 4).from_me);
        assert!(!seen_of(&m, 5).from_me);
    }
}
