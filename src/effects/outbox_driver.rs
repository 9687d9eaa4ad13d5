//! The outbox driver: the I/O loop around `parley_core::outbox::Outbox`, one per session.
//!
//! A session is one server origin, account and agent ([`SessionKey`]). Its outbox holds
//! the unsent messages of every conversation of that session; any number of sessions live
//! on one page (a host dashboard may mount chats against several servers), each with its
//! own API, store entries, timers and listeners. Chats of the session attach to it with a
//! listener and get typed [`OutboxEvent`]s for their conversation (a pending row, a status,
//! delivered, failed, a message the server holds); the driver never holds a chat. Their
//! live connection says (with `navigator.onLine`) whether requests can get through.
//! Everything the machine decides arrives here as commands; this module only carries them
//! out: IndexedDB for `Persist`/`Forget`, a POST for `Send` (abortable), `messages?after=`
//! for `Resync`, one timer for `WakeAt`, and events to the chats for `Status`. Results go
//! back in as events.
//!
//! The session's handle ([`SessionOutbox`]) is shared by its chats; when the last one is
//! dropped the driver goes: its timer and listeners with it, and whatever it had started
//! finds it gone and stops (nothing is sent after that). Its entries stay stored, for the
//! next page (or the next chat) of the session.
//!
//! A message with files is sent by `effects::upload` (XHR, for its progress) from Blobs
//! kept in the outbox's IndexedDB; its progress goes to the row, and reaches the machine
//! only as "still alive" (`UploadProgressed`, at most once a second).
//!
//! Events are queued and run one at a time: carrying out a command may feed another event
//! (a create response merged into the chat is also `Seen`), which then runs after it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::{Rc, Weak};

use parley_core::outbox::{
    AttemptError, Command, Draft, Entry, EntryState, Event, Outbox, OutboxConfig, SeenMessage,
    SendError, SendStatus,
};
use parley_core::store::SendState;
use parley_wire::{Message, MessageType, NewMessage, Sender};

use crate::effects::api::{Api, ApiError};
use crate::effects::clock::{now_ms, Timer};
use crate::effects::outbox_store::{OutboxStore, StoreError, StoreWrite, Stored};
use crate::effects::page::{browser_online, WindowListener};
use crate::effects::storage::{adopt_unstored, forget_unstored, remember_unstored, UnstoredSend};
use crate::effects::tab_locks::TabLocks;
use crate::effects::telemetry::Telemetry;
use crate::effects::upload::{upload, UploadFile, UploadPhase, UploadProgress, UploadRequest};
use crate::i18n::t;
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

/// Who a session is: the server, the account and the agent. Two chats of one session
/// share its outbox; chats of different sessions never meet, even on the same
/// conversation id.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub origin: String,
    pub account_id: i64,
    pub profile_id: i64,
}

impl SessionKey {
    /// The outbox database: one per server and agent, holding the entries of each of the
    /// agent's accounts there (each entry names its account).
    fn db_name(&self) -> String {
        format!("parley-outbox.v1:{}:{}", self.origin, self.profile_id)
    }

    /// Where this session notes typed messages not yet written (see
    /// `storage::remember_unstored`).
    fn notes_name(&self) -> String {
        format!("{}#{}", self.db_name(), self.account_id)
    }
}

/// What the outbox tells the chats of a conversation.
#[derive(Clone)]
pub enum OutboxEvent {
    /// Show the entry as a pending row in this state (new, restored after a reload, edited).
    Pending {
        echo_id: String,
        draft: Draft,
        created_at_s: i64,
        state: SendState,
    },
    /// The pending row's state changed; `failed` carries the reason when it failed for good
    /// (the chat offers Retry and tells its host).
    Status {
        echo_id: String,
        state: SendState,
        failed: Option<parley_core::outbox::FailReason>,
    },
    /// How far the upload of a message with files has come.
    Upload { echo_id: String, phase: UploadPhase },
    /// The server holds these messages (a create response, a resync page): the chat merges
    /// them; the outbox already knows them.
    Messages(Vec<Message>),
    /// The server holds the message (also when the match came from a resync page).
    Delivered { echo_id: String, message_id: i64 },
    /// The entry left the outbox unsent (discarded, cancelled): its row goes.
    Removed { echo_id: String },
    /// A notice for the agent that is not about one message (storage not durable).
    Notice(String),
}

/// A chat's listener for its conversation's outbox events.
pub type OutboxListener = Rc<dyn Fn(OutboxEvent)>;

thread_local! {
    /// The running outbox of each session on the page, while some chat holds it.
    /// (A few per page at most: a list, no hash map's code in the bundle.)
    static SESSIONS: RefCell<Vec<(SessionKey, Weak<Driver>)>> = const { RefCell::new(Vec::new()) };
    /// This page's tab in the Web Locks, per outbox database: the page is one tab, whatever
    /// session opens the database (a session closed and opened again finds its entries
    /// still this tab's).
    static TABS: RefCell<Vec<(String, Option<TabLocks>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_CHAT: Cell<u64> = const { Cell::new(1) };
}

/// A session's outbox, shared by its chats (clone it freely): the driver lives while one
/// handle does.
#[derive(Clone)]
pub struct SessionOutbox(Rc<Driver>);

impl PartialEq for SessionOutbox {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for SessionOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionOutbox({})", self.0.key.db_name())
    }
}

pub struct Driver {
    key: SessionKey,
    inner: RefCell<Inner>,
    queue: RefCell<VecDeque<Input>>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // A new driver of the same session may already have replaced this one.
        let _ = SESSIONS.try_with(|s| {
            s.borrow_mut()
                .retain(|(k, w)| *k != self.key || w.strong_count() > 0);
        });
    }
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
        result: Result<Box<Message>, SendError>,
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

    /// An attached chat's connection or the browser's online state changed.
    Reachability,
    Attach(AttachedChat),
    Detach(u64),
    /// An attached chat's live connection went up or down.
    Connected {
        id: u64,
        connected: bool,
    },
}

/// A chat attached to the session's outbox.
struct AttachedChat {
    id: u64,
    conversation_id: i64,
    /// Its live connection is up.
    connected: bool,
    listener: OutboxListener,
    /// Set the moment its attachment is dropped: a chat being disposed hears nothing more,
    /// even from a loop that runs before its detach is taken.
    detached: Rc<Cell<bool>>,
}

struct Inner {
    /// This driver, for the work it starts: a result that finds it gone is dropped.
    me: Weak<Driver>,
    machine: Outbox,
    api: Api,
    account_id: i64,
    profile_id: i64,
    store: Option<OutboxStore>,
    /// Where this session's typed-message notes are kept.
    notes_name: String,
    /// This tab's id in the Web Locks (`None` where they are missing).
    tab_id: Option<String>,
    /// Messages noted as typed (see `storage::remember_unstored`) whose entry has not
    /// been written yet.
    unstored: HashSet<String>,
    /// Enqueues wait for the restore, so that new messages go after the restored ones.
    early: Vec<Event>,
    /// The chats attached (one on Parley's page; one per chat a host page mounted).
    chats: Vec<AttachedChat>,
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

impl SessionOutbox {
    /// The session's outbox: the running one if a chat of the session holds it, else a new
    /// one started from the session's stored entries. Started from the first screen that
    /// knows the account: messages left queued by an earlier page go out while the agent
    /// is still on the list, and opening a conversation does not wait for IndexedDB.
    pub fn of(api: &Api, key: SessionKey) -> SessionOutbox {
        let running = SESSIONS.with(|s| {
            s.borrow()
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, w)| w.upgrade())
        });
        if let Some(driver) = running {
            return SessionOutbox(driver);
        }
        let driver = start(api.clone(), key.clone());
        SESSIONS.with(|s| {
            let mut s = s.borrow_mut();
            s.retain(|(k, _)| *k != key);
            s.push((key, Rc::downgrade(&driver)));
        });
        SessionOutbox(driver)
    }

    pub fn key(&self) -> &SessionKey {
        &self.0.key
    }

    /// Attach a chat of `conversation_id`: its queued messages are shown through `listener`
    /// at once, and it hears of them until the returned attachment is dropped.
    pub fn attach(
        &self,
        conversation_id: i64,
        listener: OutboxListener,
        telemetry: Option<Telemetry>,
    ) -> ChatAttachment {
        if telemetry.is_some() {
            if let Ok(mut inner) = self.0.inner.try_borrow_mut() {
                inner.telemetry = telemetry;
            }
        }
        let id = NEXT_CHAT.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        let detached = Rc::new(Cell::new(false));
        self.0.feed(Input::Attach(AttachedChat {
            id,
            conversation_id,
            connected: false,
            listener,
            detached: detached.clone(),
        }));
        ChatAttachment {
            driver: self.clone(),
            id,
            detached,
        }
    }

    pub fn enqueue(&self, echo_id: String, draft: Draft) {
        self.0.feed(Input::Event(Event::Enqueue { echo_id, draft }));
    }

    /// A message with files: its Blobs (by the keys its draft names), then the message.
    pub fn enqueue_with_files(
        &self,
        echo_id: String,
        draft: Draft,
        blobs: Vec<(String, web_sys::Blob)>,
    ) {
        self.0.feed(Input::Files(blobs));
        self.0.feed(Input::Event(Event::Enqueue { echo_id, draft }));
    }

    /// Cancel a message with files: aborts its upload if one is in the air.
    pub fn cancel(&self, echo_id: String) {
        self.0.feed(Input::Event(Event::Cancel { echo_id }));
    }

    pub fn retry(&self, echo_id: String) {
        self.0.feed(Input::Event(Event::Retry { echo_id }));
    }

    /// A new text for a message that has not left yet (queued or failed); ignored by the
    /// outbox once a request is in the air.
    pub fn edit(&self, echo_id: String, content: String) {
        self.0.feed(Input::Event(Event::Edit { echo_id, content }));
    }

    pub fn discard(&self, echo_id: String) {
        self.0.feed(Input::Event(Event::Discard { echo_id }));
    }

    /// Messages the server holds (cable, history pages, resyncs, create responses).
    pub fn seen(&self, messages: &[Message]) {
        let profile_id = self.0.key.profile_id;
        for m in messages {
            self.0
                .feed(Input::Event(Event::Seen(seen_of(m, profile_id))));
        }
    }
}

/// A chat's place on its session's outbox; dropping it detaches the chat.
pub struct ChatAttachment {
    driver: SessionOutbox,
    id: u64,
    detached: Rc<Cell<bool>>,
}

impl ChatAttachment {
    /// The chat's live connection went up or down.
    pub fn set_connected(&self, connected: bool) {
        self.driver.0.feed(Input::Connected {
            id: self.id,
            connected,
        });
    }

    pub fn outbox(&self) -> &SessionOutbox {
        &self.driver
    }
}

impl Drop for ChatAttachment {
    fn drop(&mut self) {
        self.detached.set(true);
        self.driver.0.feed(Input::Detach(self.id));
    }
}

/// The page's tab for `db_name` (taken on first use, held for the page's life).
fn tab_of(db_name: &str) -> Option<TabLocks> {
    TABS.with(|t| {
        let mut t = t.borrow_mut();
        if let Some((_, tab)) = t.iter().find(|(name, _)| name == db_name) {
            return tab.clone();
        }
        let tab = TabLocks::start(&format!("parley-outbox-tab:{db_name}:"));
        t.push((db_name.to_owned(), tab.clone()));
        tab
    })
}

fn start(api: Api, key: SessionKey) -> Rc<Driver> {
    let db_name = key.db_name();
    let notes_name = key.notes_name();
    let account_id = key.account_id;
    let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
    // Taken at once: a message typed before the store is open is noted under this tab.
    let tabs = tab_of(&db_name);
    let driver = Rc::new_cyclic(|me: &Weak<Driver>| {
        let listeners = [
            WindowListener::on_window("online", {
                let me = me.clone();
                move || feed(&me, Input::Reachability)
            }),
            WindowListener::on_window("offline", {
                let me = me.clone();
                move || feed(&me, Input::Reachability)
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        Driver {
            key: key.clone(),
            inner: RefCell::new(Inner {
                me: me.clone(),
                machine: Outbox::new(OutboxConfig::default(), seed),
                api: api.clone(),
                account_id,
                profile_id: key.profile_id,
                store: None,
                notes_name: notes_name.clone(),
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
        }
    });
    let me = Rc::downgrade(&driver);
    let restoring = me.clone();
    leptos::task::spawn_local(async move {
        let me = restoring;
        let store = match OutboxStore::open(&db_name).await {
            Ok(store) => store,
            Err(e) => {
                leptos::logging::warn!("parley: outbox kept in memory only: {e}");
                if e == StoreError::HeldByOlderTab {
                    feed(&me, Input::NotDurableBecause(HELD_BY_OLDER_TAB));
                }
                OutboxStore::memory()
            }
        };
        let store = store
            .with_owner(tabs.as_ref().map(|t| t.tab_id().to_owned()))
            .with_account(account_id);
        let restore_lock = format!("parley-outbox-restore:{db_name}");
        let adopt = |tabs: &TabLocks, store: &OutboxStore, take_own: bool| {
            let (t, s) = (tabs.clone(), store.clone());
            let tabs = tabs.clone();
            let name = restore_lock.clone();
            let notes = notes_name.clone();
            let legacy_notes = db_name.clone();
            async move {
                tabs.exclusive(&name, move || {
                    adopt_orphans(t, s, notes, legacy_notes, take_own)
                })
                .await
                .unwrap_or_default()
            }
        };
        if me.strong_count() == 0 {
            return;
        }
        match tabs {
            // One tab at a time: take over the entries of tabs that are gone (closed,
            // crashed, reloaded), never those of a live one, which sends them itself.
            Some(tabs) if store.is_durable() => {
                let (entries, unstored, _) = adopt(&tabs, &store, true).await;
                feed(
                    &me,
                    Input::Opened {
                        store: store.clone(),
                        entries,
                    },
                );
                feed(&me, Input::Unstored(unstored));
                // A page being replaced may still hold its lock for a moment, and another
                // tab may close at any time with entries written after the last look (one
                // that held none when looked at may hold some later): look again for as
                // long as this session is open.
                while me.strong_count() > 0 {
                    sleep(ADOPT_AGAIN_MS).await;
                    if me.strong_count() == 0 {
                        break;
                    }
                    let (entries, unstored, _) = adopt(&tabs, &store, false).await;
                    if !entries.is_empty() {
                        feed(&me, Input::Adopted(entries));
                    }
                    feed(&me, Input::Unstored(unstored));
                }
            }
            _ => {
                let mut entries = Vec::new();
                for stored in read_all(&store).await {
                    // An entry stored before entries named their account is this session's
                    // from now on.
                    if stored.account.is_none() {
                        report(store.put(&stored.entry));
                    }
                    entries.push(stored.entry);
                }
                feed(&me, Input::Opened { store, entries });
                // Without tab locks every tab takes everything, as with the entries.
                let (own, live) = match &tabs {
                    Some(t) => (Some(t.tab_id().to_owned()), t.live_tabs().await),
                    None => (None, HashSet::new()),
                };
                let mut unstored = Vec::new();
                for notes in [&notes_name, &db_name] {
                    unstored.extend(adopt_unstored(notes, own.as_deref(), |t| live.contains(t)).0);
                }
                feed(&me, Input::Unstored(unstored));
            }
        }
    });
    // Apart from the restore: a server that does not answer must not hold the outbox up
    // (until it is known, the outbox assumes a backend that does not deduplicate).
    leptos::task::spawn_local(async move {
        if let Ok((idempotent, window_ms)) = api.echo_id_idempotency().await {
            feed(&me, Input::Capabilities(idempotent, window_ms));
        }
    });
    driver
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

/// The entries of this session whose tab is gone, written back as this tab's before the
/// lock is let go, the messages such tabs typed and never wrote down, and how many entries
/// and notes a live tab holds. Notes kept before sessions had their own (`legacy_notes`)
/// belong to the session that finds them, and move to its notes. `take_own`: this tab's
/// entries too (a session opened again in the same page finds what it left).
async fn adopt_orphans(
    tabs: TabLocks,
    store: OutboxStore,
    notes: String,
    legacy_notes: String,
    take_own: bool,
) -> (Vec<Entry>, Vec<UnstoredSend>, usize) {
    let live = tabs.live_tabs().await;
    // Typed there, never written down: another tab's until that tab is gone, like entries.
    let (mut unstored, mut held_elsewhere) =
        adopt_unstored(&notes, Some(tabs.tab_id()), |t| live.contains(t));
    let (legacy, legacy_held) =
        adopt_unstored(&legacy_notes, Some(tabs.tab_id()), |t| live.contains(t));
    held_elsewhere += legacy_held;
    for s in legacy {
        forget_unstored(&legacy_notes, &s.echo_id);
        remember_unstored(&notes, s.clone());
        unstored.push(s);
    }
    let mut adopted = Vec::new();
    for stored in read_all(&store).await {
        match &stored.owner {
            Some(o) if o == tabs.tab_id() && !take_own => continue,
            Some(o) if o == tabs.tab_id() => {}
            Some(o) if live.contains(o) => {
                held_elsewhere += 1;
                continue;
            }
            _ => {}
        }
        // Written back with this session's account (an entry stored before entries named
        // theirs belongs to the session that finds it).
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
fn feed(driver: &Weak<Driver>, input: Input) {
    if let Some(driver) = driver.upgrade() {
        driver.feed(input);
    }
}

impl Driver {
    fn feed(&self, input: Input) {
        self.queue.borrow_mut().push_back(input);
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            return;
        };
        loop {
            let next = self.queue.borrow_mut().pop_front();
            match next {
                Some(input) => inner.run(input),
                None => break,
            }
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
                &self.notes_name,
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
                        self.tell(e.draft.conversation_id, self.pending_of(e));
                    }
                }
                if let Some(echo_id) = discarded {
                    let forgotten = commands
                        .iter()
                        .any(|c| matches!(c, Command::Forget { echo_id: e } if *e == echo_id));
                    if forgotten {
                        self.files_of.remove(&echo_id);
                        if let Some(c) = self.conversation_of.remove(&echo_id) {
                            self.tell(c, OutboxEvent::Removed { echo_id });
                        }
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
                        forget_unstored(&self.notes_name, &s.echo_id);
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
                    forget_unstored(&self.notes_name, &echo_id);
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
                if let Some(c) = self.conversation_of.get(&echo_id).copied() {
                    let phase = match progress {
                        UploadProgress::Sending { sent, total } => {
                            UploadPhase::Sending { sent, total }
                        }
                        UploadProgress::Processing => UploadPhase::Processing,
                    };
                    self.tell(
                        c,
                        OutboxEvent::Upload {
                            echo_id: echo_id.clone(),
                            phase,
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
                    Ok(message) => {
                        let mut message = *message;
                        let message_id = message.id;
                        message.echo_id.get_or_insert_with(|| echo_id.clone());
                        self.tell(
                            message.conversation_id,
                            OutboxEvent::Messages(vec![message]),
                        );
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
                    self.tell(conversation_id, OutboxEvent::Messages(messages.clone()));
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
                    let me = self.me.clone();
                    leptos::task::spawn_local(async move {
                        if let Ok((idempotent, window_ms)) = api.echo_id_idempotency().await {
                            feed(&me, Input::Capabilities(idempotent, window_ms));
                        }
                    });
                }
                self.machine.handle(now, Event::Reachable(reachable))
            }
            Input::Attach(chat) => {
                let conversation_id = chat.conversation_id;
                self.chats.push(chat);
                self.show_entries_of(Some(conversation_id));
                self.tell_if_not_durable();
                let reachable = self.compute_reachable();
                if reachable == self.reachable || self.store.is_none() {
                    self.reachable = reachable;
                    return;
                }
                self.reachable = reachable;
                self.machine.handle(now, Event::Reachable(reachable))
            }
            Input::Detach(id) => {
                self.chats.retain(|c| c.id != id);
                return self.run(Input::Reachability);
            }
            Input::Connected { id, connected } => {
                if let Some(c) = self.chats.iter_mut().find(|c| c.id == id) {
                    c.connected = connected;
                }
                return self.run(Input::Reachability);
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
        let chat = self
            .chats
            .iter()
            .find(|c| !c.detached.get())
            .map(|c| (c.listener.clone(), c.detached.clone()));
        let durable = store.is_durable();
        leptos::task::spawn_local(async move {
            if let Err(e) = write.done().await {
                leptos::logging::warn!("parley: could not store a file: {e}");
                if let (true, Some((chat, detached))) = (durable, chat) {
                    if !detached.get() {
                        chat(OutboxEvent::Notice(t(FILES_NOT_DURABLE).to_owned()));
                    }
                }
            }
        });
    }

    /// Requests can get through: the browser is online and, while a chat is open, its
    /// live connection is up (the cable is the best sign that the server is there).
    fn compute_reachable(&self) -> bool {
        browser_online() && (self.chats.is_empty() || self.chats.iter().any(|c| c.connected))
    }

    fn note_conversations(&mut self, entries: &[Entry]) {
        for e in entries {
            self.conversation_of
                .insert(e.echo_id.clone(), e.draft.conversation_id);
        }
    }

    /// Tell the chats of `conversation_id` (every chat of this session showing it).
    fn tell(&self, conversation_id: i64, event: OutboxEvent) {
        let listeners: Vec<OutboxListener> = self
            .chats
            .iter()
            .filter(|c| c.conversation_id == conversation_id && !c.detached.get())
            .map(|c| c.listener.clone())
            .collect();
        for listener in listeners {
            listener(event.clone());
        }
    }

    fn pending_of(&self, e: &Entry) -> OutboxEvent {
        OutboxEvent::Pending {
            echo_id: e.echo_id.clone(),
            draft: e.draft.clone(),
            created_at_s: (e.enqueued_at_ms / 1000) as i64,
            state: send_state_of(e, self.reachable),
        }
    }

    /// The attached conversations' outbox entries as pending rows, in the order typed.
    fn show_entries(&self) {
        self.show_entries_of(None);
    }

    /// Those of one conversation (a chat just attached), or of all.
    fn show_entries_of(&self, only: Option<i64>) {
        for e in self.machine.entries() {
            let c = e.draft.conversation_id;
            if only.is_none_or(|o| o == c) {
                self.tell(c, self.pending_of(e));
            }
        }
    }

    fn tell_if_not_durable(&mut self) {
        let durable = self.store.as_ref().is_none_or(OutboxStore::is_durable);
        if durable || self.told_not_durable {
            return;
        }
        if let Some(chat) = self.chats.iter().find(|c| !c.detached.get()) {
            (chat.listener)(OutboxEvent::Notice(t(self.not_durable_notice).to_owned()));
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
                    let me = self.me.clone();
                    leptos::task::spawn_local(async move {
                        if committed.done().await.is_ok() {
                            feed(&me, Input::Committed(echo_id));
                        }
                    });
                }
                report(write);
            }
            Command::Forget { echo_id } => {
                crate::effects::storage::remember_left_outbox(&echo_id);
                if self.unstored.remove(&echo_id) {
                    forget_unstored(&self.notes_name, &echo_id);
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
                let me = self.me.clone();
                leptos::task::spawn_local(async move {
                    // A resync that never answers would hold its conversation's messages
                    // for good: past the timeout it counts as failed (and is asked again).
                    let fetch = Box::pin(api.messages_after(account_id, conversation_id, after_id));
                    let result =
                        match futures::future::select(fetch, Box::pin(sleep(RESYNC_TIMEOUT_MS)))
                            .await
                        {
                            futures::future::Either::Left((result, _)) => result,
                            futures::future::Either::Right(_) => Err(ApiError::Network),
                        };
                    feed(
                        &me,
                        Input::Resynced {
                            conversation_id,
                            result,
                        },
                    );
                });
            }
            // The create response or the cable message already replaced the row, unless
            // the match came from a resync page: then the row is confirmed here.
            Command::Delivered {
                echo_id,
                message_id,
            } => {
                if let Some(c) = self.conversation_of.remove(&echo_id) {
                    self.tell(
                        c,
                        OutboxEvent::Delivered {
                            echo_id: echo_id.clone(),
                            message_id,
                        },
                    );
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
                let Some(c) = self.conversation_of.get(&echo_id).copied() else {
                    return;
                };
                let failed = match &status {
                    SendStatus::Failed { reason } => Some(reason.clone()),
                    _ => None,
                };
                // A retry cannot start before the server is reachable again: until then
                // the message is waiting for the connection, and says so.
                let state = match status {
                    SendStatus::Retrying { .. } if !self.reachable => SendState::Queued,
                    status => send_state_of_status(status),
                };
                self.tell(
                    c,
                    OutboxEvent::Status {
                        echo_id,
                        state,
                        failed,
                    },
                );
            }
            Command::WakeAt(at) => {
                let delay = at.saturating_sub(now_ms());
                let me = self.me.clone();
                self.wake = Some(Timer::after(delay, move || {
                    feed(&me, Input::Event(Event::Tick))
                }));
            }
        }
    }

    /// One attempt: after the entry's write is committed (a crash then finds it stored),
    /// POST it with its `echo_id`, abortable.
    fn send(&mut self, echo_id: String, draft: Draft) {
        let Ok(controller) = web_sys::AbortController::new() else {
            // Cannot happen in a browser; reported like a request that never left.
            let me = self.me.clone();
            leptos::task::spawn_local(async move {
                feed(
                    &me,
                    Input::SendResult {
                        echo_id,
                        attempt: 0,
                        result: Err(SendError::NotSent),
                    },
                );
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
        let me = self.me.clone();
        if draft.has_files() {
            let total = draft.attachments.iter().map(|a| a.size as f64).sum();
            self.tell(
                draft.conversation_id,
                OutboxEvent::Upload {
                    echo_id: echo_id.clone(),
                    phase: UploadPhase::Sending { sent: 0.0, total },
                },
            );
            let files: Vec<(AttachmentDraft, Option<web_sys::Blob>)> = draft
                .attachments
                .iter()
                .map(|a| (a.clone(), self.blobs.get(&a.blob_key).cloned()))
                .collect();
            let store = self.store.clone();
            leptos::task::spawn_local(async move {
                if !written_and_open(written, &me).await {
                    return;
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
                            upload(&api, account_id, draft.conversation_id, request, &signal, {
                                let me = me.clone();
                                move |progress| {
                                    feed(
                                        &me,
                                        Input::Progress {
                                            echo_id: progress_echo.clone(),
                                            attempt,
                                            progress,
                                        },
                                    )
                                }
                            })
                            .await
                            .map(Box::new)
                            .map_err(|e| classify(&e))
                        }
                    }
                };
                feed(
                    &me,
                    Input::SendResult {
                        echo_id,
                        attempt,
                        result,
                    },
                );
            });
            return;
        }
        leptos::task::spawn_local(async move {
            if !written_and_open(written, &me).await {
                return;
            }
            let result = if !browser_online() {
                // Offline before it left: not an attempt that may have landed.
                Err(SendError::NotSent)
            } else {
                let body = new_message_body(&echo_id, &draft);
                api.send_message(account_id, draft.conversation_id, &body, Some(&signal))
                    .await
                    .map(Box::new)
                    .map_err(|e| classify(&e))
            };
            feed(
                &me,
                Input::SendResult {
                    echo_id,
                    attempt,
                    result,
                },
            );
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

/// Before a request leaves: waits for the entry's write to commit (a message is on disk
/// before it is on the wire), then says whether the session is still open (closed meanwhile,
/// its next page sends it).
async fn written_and_open(written: Option<StoreWrite>, me: &Weak<Driver>) -> bool {
    if let Some(written) = written {
        if let Err(e) = written.done().await {
            leptos::logging::warn!("parley: outbox write failed before sending: {e}");
        }
    }
    me.strong_count() > 0
}

/// How the outbox will see a failed attempt.
pub fn classify(e: &ApiError) -> SendError {
    match e {
        ApiError::Network => SendError::Ambiguous(AttemptError::Network),
        ApiError::Http { status: 429, .. } => {
            SendError::Throttled(AttemptError::Http { status: 429 })
        }
        ApiError::Http { status, .. } if *status >= 500 => {
            SendError::ErrorAnswer { status: *status }
        }
        ApiError::Http { status, .. } => {
            SendError::Rejected(AttemptError::Http { status: *status })
        }
        ApiError::Unauthorized(_) => SendError::Rejected(AttemptError::Http { status: 401 }),
        ApiError::Decode(_) => SendError::Rejected(AttemptError::Unreadable),
    }
}

/// The request body of one attempt: the same `echo_id` on every attempt.
pub fn new_message_body(echo_id: &str, draft: &Draft) -> NewMessage {
    NewMessage {
        content: Some(draft.content.clone()),
        private: draft.private,
        echo_id: Some(echo_id.to_owned()),
        content_attributes: draft
            .in_reply_to
            .map(|id| serde_json::json!({ "in_reply_to": id })),
        ..Default::default()
    }
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

    #[wasm_bindgen_test]
    fn failures_are_classified_for_the_outbox() {
        assert!(matches!(
            classify(&ApiError::Network),
            SendError::Ambiguous(_)
        ));
        let e500 = ApiError::Http {
            status: 500,
            message: "boom".into(),
        };
        assert!(matches!(
            classify(&e500),
            SendError::ErrorAnswer { status: 500, .. }
        ));
        let e422 = ApiError::Http {
            status: 422,
            message: "Validation failed".into(),
        };
        assert_eq!(
            classify(&e422),
            SendError::Rejected(AttemptError::Http { status: 422 })
        );
        let e429 = ApiError::Http {
            status: 429,
            message: "slow down".into(),
        };
        assert!(matches!(classify(&e429), SendError::Throttled(_)));
    }
}
