//! The outbox: every message an agent sends goes here first, and leaves only when the
//! server has it exactly once, or when the agent has been told plainly that it failed.
//!
//! A sans-IO state machine: the effects layer feeds it [`Event`]s (a send was queued, the
//! network came back, a request answered, a message was seen on the cable, time passed)
//! and carries out the [`Command`]s it returns (send this, persist that, resync, wake me
//! at). It never touches a clock, a socket or IndexedDB itself, so every interleaving of
//! failures can be tested natively (`tests` below, and the property test that drives it
//! against a simulated flaky network and server).
//!
//! Exactly once, two ways:
//! - Against `parley-server`, `echo_id` is an idempotency key: after an ambiguous failure
//!   (request sent, no answer) the same request is simply sent again.
//! - Against a real Chatwoot, which does not store `echo_id`, a resend after an ambiguous
//!   failure could double the message. So the outbox first asks for a resync
//!   (`messages?after=`), matches what the server already has (by `echo_id` when the cable
//!   delivered it, else by content from this agent), and resends only what is missing.
//!   When no answer came at all (the request timed out, or the page went away while it
//!   was out), a resync that finds nothing proves nothing while the request may still be
//!   on its way: the outbox looks again once `unknown_settle_ms` have passed since it left.
//!   If that finds nothing either, it says so ([`EntryState::Unknown`]) and leaves the
//!   choice to the agent rather than guess: a copy seen later settles it, Retry sends it
//!   (after one more look), Discard drops it. Only a server that stores a request later
//!   than that can still get a second copy, after the agent's Retry.
//! - A backend that deduplicates only for a while (the proxy's `echo_id_window_seconds`)
//!   is trusted with a resend only within that window of the entry's first attempt; past
//!   it, an entry that may have landed is reconciled as without idempotency.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::attachment::AttachmentDraft;

/// What the agent wrote: the part of a send that must survive a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub conversation_id: i64,
    /// The text, or the caption of the files (may then be empty).
    pub content: String,
    pub private: bool,
    pub in_reply_to: Option<i64>,
    /// Files sent with it (a multipart upload); absent in entries persisted before files
    /// could be attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentDraft>,
}

impl Draft {
    /// A text message (no files).
    pub fn text(conversation_id: i64, content: impl Into<String>) -> Draft {
        Draft {
            conversation_id,
            content: content.into(),
            private: false,
            in_reply_to: None,
            attachments: Vec::new(),
        }
    }

    pub fn has_files(&self) -> bool {
        !self.attachments.is_empty()
    }
}

/// Where an entry stands. `Sent` entries leave the outbox, so there is no such state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryState {
    /// Waiting for its turn, the network, or its backoff to run out.
    Queued,
    /// A request is out and has not answered.
    InFlight { since_ms: u64 },
    /// An attempt may or may not have reached a server that does not deduplicate; waiting
    /// for a resync to say whether it did.
    Reconciling,
    /// Retrying stopped making sense; the agent sees why and can retry or delete.
    Failed {
        #[serde(deserialize_with = "fail_reason_or_earlier_text")]
        reason: FailReason,
    },
    /// An attempt got no answer (timed out, or the page went away while it was out), the
    /// backend cannot be asked by `echo_id`, and no copy of it has been seen: it may or
    /// may not be on the server. Nothing is sent on its own; a copy seen later (cable,
    /// resync, history) delivers it; the agent can retry or discard it.
    Unknown,
}

/// One message in the outbox, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub echo_id: String,
    /// Order of enqueueing; the outbox flushes each conversation in this order.
    pub seq: u64,
    pub draft: Draft,
    pub enqueued_at_ms: u64,
    /// Attempts since the last enqueue or manual retry.
    pub attempts: u32,
    pub next_attempt_at_ms: u64,
    pub state: EntryState,
    /// The last error, shown while retrying.
    #[serde(default, deserialize_with = "attempt_error_or_earlier_text")]
    pub last_error: Option<AttemptError>,
    /// The newest server id of this conversation known when the entry first left (raised
    /// while it has not left by the deliveries of the entries before it). Server ids grow,
    /// so no message with an id at or below it can be this entry: an earlier identical
    /// text ("ok") is never mistaken for it when reconciling.
    #[serde(default)]
    pub after_id: Option<i64>,
    /// Server ids above `after_id` that other entries of this conversation were delivered
    /// as while this one was pending. Persisted (unlike the outbox's in-memory claims), so
    /// that after a reload a second identical text ("ok", "ok") is never matched to the
    /// message the first one already owns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owned_by_others: Vec<i64>,
    /// The last attempt ended without an answer (timed out, or the page went away while it
    /// was out): a resync that finds nothing does not prove the server will not store it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unanswered: bool,
    /// When the latest attempt left (browser clock). A request that got no answer may
    /// still be stored up to [`OutboxConfig::unknown_settle_ms`] after it left: before
    /// that, a look that finds nothing proves nothing yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at_ms: Option<u64>,
    /// When the first attempt left (kept through the agent's Retry). A backend that
    /// remembers an `echo_id` only for a while (the proxy: `echo_id_window_seconds`) no
    /// longer deduplicates a resend once that is past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_left_at_ms: Option<u64>,
    /// An attempt may have been stored and no look since has said otherwise. Queued like
    /// this on a backend that deduplicates (a resend gets the first copy), it is looked
    /// for first once the backend's window for it has passed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_have_landed: bool,
}

/// How a request failed, as the effects layer classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// It never left (offline before sending): safe to send again.
    NotSent,
    /// It may have reached the server, and the server is done with it (a connection it
    /// closed without an answer).
    Ambiguous(AttemptError),
    /// The server answered with an error (5xx): it may have stored the message before it
    /// failed, or (a gateway's 504: its upstream did not answer in time) may still store
    /// it. A backend whose idempotency is a memory of answers (the proxy, which keeps only
    /// answers that succeeded) does not deduplicate a resend after one.
    ErrorAnswer { status: u16 },
    /// It may have reached the server and no answer came (timed out): the server may
    /// still be working on it and store it later.
    NoAnswer(AttemptError),
    /// The server answered and refused it (4xx). Sending it again will not help.
    Rejected(AttemptError),
    /// Too many requests (429) or the server asked us to wait: not stored, retry later.
    Throttled(AttemptError),
}

/// What went wrong with one attempt, as data: the app says it in the agent's language
/// (persisted with the entry, so a reload in another language words it anew).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptError {
    /// The browser was offline: the request never left.
    Offline,
    /// No HTTP answer: the connection could not be made, or closed before an answer.
    Network,
    /// No answer within the outbox's request timeout; the request was aborted.
    TimedOut,
    /// The server answered with this non-2xx HTTP status.
    Http { status: u16 },
    /// The server answered 2xx with a body that could not be read.
    Unreadable,
    /// The files of the message are no longer stored in this browser.
    FilesGone,
    /// Text persisted by a version from before reasons were typed, shown as it was.
    Earlier(String),
}

/// Why a message stopped being retried, as data (see [`AttemptError`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailReason {
    /// The server refused it, or it cannot be sent as it is: retrying will not help.
    Refused(AttemptError),
    /// Still not sent after `attempts` attempts; `last` is how the last one failed (none
    /// when no attempt got as far as an error).
    GaveUp {
        attempts: u32,
        last: Option<AttemptError>,
    },
    /// Text persisted by a version from before reasons were typed, shown as it was.
    Earlier(String),
}

/// A persisted reason: typed, or the plain text an earlier version stored.
#[derive(Deserialize)]
#[serde(untagged)]
enum TypedOrText<T> {
    Typed(T),
    Text(String),
}

fn fail_reason_or_earlier_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<FailReason, D::Error> {
    Ok(match TypedOrText::deserialize(d)? {
        TypedOrText::Typed(reason) => reason,
        TypedOrText::Text(text) => FailReason::Earlier(text),
    })
}

fn attempt_error_or_earlier_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<AttemptError>, D::Error> {
    Ok(match Option::<TypedOrText<AttemptError>>::deserialize(d)? {
        None => None,
        Some(TypedOrText::Typed(error)) => Some(error),
        Some(TypedOrText::Text(text)) => Some(AttemptError::Earlier(text)),
    })
}

/// A message the server has, seen on the cable or in a resync page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenMessage {
    pub id: i64,
    pub conversation_id: i64,
    pub echo_id: Option<String>,
    pub content: Option<String>,
    pub private: bool,
    /// Sent by this agent (outgoing, sender id = the profile's id).
    pub from_me: bool,
    pub created_at_s: i64,
    /// The byte size of each of its files (`None` where the server does not say).
    pub files: Vec<Option<u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The agent sent a message.
    Enqueue {
        echo_id: String,
        draft: Draft,
    },
    /// The outbox as it was persisted, after a reload. Feed it at every start, even empty:
    /// it tells the outbox that earlier pages may have delivered messages it never saw, so
    /// (against a backend that forgets `echo_id`) each conversation is resynced once before
    /// its first new send.
    Restored(Vec<Entry>),
    /// `navigator.onLine` and the cable together: can requests get through?
    Reachable(bool),
    Tick,
    SendOk {
        echo_id: String,
        message_id: i64,
    },
    SendFailed {
        echo_id: String,
        error: SendError,
    },
    /// A message the server holds: every cable `message.created`, every message of a
    /// REST page (history, resync). Besides matching sends, this tells the outbox the
    /// newest id of each conversation.
    Seen(SeenMessage),
    /// A resync of this conversation finished; everything it found was fed as `Seen`.
    ResyncDone {
        conversation_id: i64,
    },
    /// A resync request failed; the outbox asks again after a backoff.
    ResyncFailed {
        conversation_id: i64,
    },
    /// The agent pressed Retry on a failed message.
    Retry {
        echo_id: String,
    },
    /// The agent deleted a message that was never sent.
    Discard {
        echo_id: String,
    },
    /// The agent changed the text of a message that has not left yet.
    Edit {
        echo_id: String,
        content: String,
    },
    /// The agent cancelled a message with files while its body is still going up (or
    /// before it left). Unlike [`Event::Discard`] this also stops a request in the air:
    /// a multipart body cut short never becomes a message. Its late answer is ignored.
    Cancel {
        echo_id: String,
    },
    /// Bytes of this entry's upload reached the network: the request is alive, whatever
    /// its length. An upload times out only after `request_timeout_ms` without progress.
    UploadProgressed {
        echo_id: String,
    },
}

/// What the UI shows for a message still in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendStatus {
    /// Waiting for the network (shown as queued).
    Queued,
    Sending,
    /// Failed an attempt, will retry in `in_ms`.
    Retrying {
        in_ms: u64,
        error: AttemptError,
    },
    Failed {
        reason: FailReason,
    },
    /// No answer came and no copy was seen: it may not have been sent (Retry, Discard).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// POST the message (same `echo_id` on every attempt).
    Send {
        echo_id: String,
        draft: Draft,
    },
    /// Abort an in-flight request that has run past its timeout.
    Abort {
        echo_id: String,
    },
    /// Write the entry to durable storage (before any `Send` of it).
    Persist(Entry),
    /// Remove the entry from durable storage.
    Forget {
        echo_id: String,
    },
    /// Fetch `messages?after=<after_id>` for this conversation (all pages; the newest
    /// 20 when `None`), feed each as [`Event::Seen`], then [`Event::ResyncDone`].
    Resync {
        conversation_id: i64,
        after_id: Option<i64>,
    },
    /// The server has it: replace the pending row `echo_id` by message `message_id`.
    Delivered {
        echo_id: String,
        message_id: i64,
    },
    Status {
        echo_id: String,
        status: SendStatus,
    },
    /// Feed [`Event::Tick`] at this time (the earliest deadline); replaces any earlier wake.
    WakeAt(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxConfig {
    /// The backend deduplicates by `echo_id` (`parley-server` says so in its capabilities).
    pub idempotent_backend: bool,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Attempts that reached a reachable network before the message is marked failed.
    pub max_attempts: u32,
    /// The same for a message with files: each attempt re-sends every byte, so the agent
    /// hears sooner (three attempts, as the spec says).
    pub max_upload_attempts: u32,
    /// A request with no answer after this long is aborted and counts as ambiguous.
    pub request_timeout_ms: u64,
    /// How far before its enqueue time a server message may be stamped and still be ours
    /// (clock skew between browser and server).
    pub clock_skew_ms: u64,
    /// How long a backend that deduplicates remembers an `echo_id` (the capabilities'
    /// `echo_id_window_seconds`); `None`: for good (parley-server's unique index). An
    /// entry whose first attempt left longer ago than this (less `request_timeout_ms`,
    /// for the time a resend takes to get there) is treated as on a backend without
    /// idempotency: reconciled, never resent blindly.
    pub idempotency_window_ms: Option<u64>,
    /// How long after it left a request that got no answer may still be stored by a
    /// backend that does not deduplicate. A look before that which finds no copy is
    /// repeated at that time; only a look after it that finds nothing makes the entry
    /// of unknown fate, so the agent's Retry cannot race the first request. A server
    /// that stores a request later than this is the case no client can rule out without
    /// idempotency (README).
    pub unknown_settle_ms: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            idempotent_backend: false,
            backoff_base_ms: 1_000,
            backoff_max_ms: 30_000,
            max_attempts: 8,
            max_upload_attempts: 3,
            request_timeout_ms: 20_000,
            clock_skew_ms: 120_000,
            idempotency_window_ms: None,
            unknown_settle_ms: 20_000,
        }
    }
}

/// The outbox state machine.
#[derive(Debug, Clone)]
pub struct Outbox {
    config: OutboxConfig,
    entries: Vec<Entry>,
    reachable: bool,
    next_seq: u64,
    rng: u64,
    /// Server ids already matched to an entry, so one message never delivers two entries.
    claimed: BTreeSet<i64>,
    /// The newest server id seen per conversation (see [`Entry::after_id`]).
    newest: BTreeMap<i64, i64>,
    /// Conversations with a resync requested and not yet done: what was asked.
    resyncing: BTreeMap<i64, Asked>,
    /// Fed [`Event::Restored`]: this outbox continues an earlier page, whose deliveries
    /// (and their `newest` and `claimed`) it never saw. Then an entry of a conversation
    /// leaves for the first time only once a resync of that conversation has told this
    /// instance its newest id (`synced`), else nothing would stop the reconciliation of
    /// an "ok" typed after the reload from taking an "ok" delivered before it.
    continues_earlier_page: bool,
    /// Conversations a resync of this instance has completed: `newest` bounds every
    /// message the server held then.
    synced: BTreeSet<i64>,
    /// Entries cancelled while a request was out: the server may still have stored it (a
    /// cancel racing the body's last bytes). Their messages, seen by `echo_id`, are never
    /// taken for another entry with the same text.
    cancelled_in_flight: BTreeSet<String>,
    /// This agent's messages seen lately (newest last, at most [`RECENT_MINE`]). A page
    /// often shows its history before its predecessor's entries are handed over (that tab
    /// still holds them for a moment): a restored entry is matched against these at once,
    /// so its message never shows twice, pending beside the copy the history shows.
    recent_mine: VecDeque<SeenMessage>,
}

/// A resync asked and not answered yet.
#[derive(Debug, Clone)]
struct Asked {
    after_id: Option<i64>,
    /// The entries that were reconciling when it was asked: the only ones its answer can
    /// settle (a message stored after the page was read is not on it).
    covers: BTreeSet<String>,
}

/// How many of this agent's recent messages the outbox keeps to match restored entries.
const RECENT_MINE: usize = 200;

impl Outbox {
    /// `seed` drives the backoff jitter (pass a random number; tests pass a constant).
    pub fn new(config: OutboxConfig, seed: u64) -> Self {
        Outbox {
            config,
            entries: Vec::new(),
            reachable: false,
            next_seq: 0,
            rng: seed | 1,
            claimed: BTreeSet::new(),
            newest: BTreeMap::new(),
            resyncing: BTreeMap::new(),
            continues_earlier_page: false,
            synced: BTreeSet::new(),
            cancelled_in_flight: BTreeSet::new(),
            recent_mine: VecDeque::new(),
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the backend's capabilities say. Once it deduplicates by `echo_id`, a message
    /// of unknown fate is simply sent again (feed an event, e.g. a `Tick`, to start it).
    pub fn set_idempotent_backend(&mut self, idempotent: bool) {
        self.set_backend(idempotent, None, 0);
    }

    /// What the backend's capabilities say: whether it deduplicates by `echo_id`, and for
    /// how long it remembers one (`None`: for good). A message of unknown fate the backend
    /// still covers is simply sent again (feed an event, e.g. a `Tick`, to start it); one
    /// older than the window stays as it is.
    pub fn set_backend(&mut self, idempotent: bool, window_ms: Option<u64>, now_ms: u64) {
        self.config.idempotent_backend = idempotent;
        self.config.idempotency_window_ms = window_ms;
        for i in 0..self.entries.len() {
            if self.entries[i].state == EntryState::Unknown
                && self.deduplicates(&self.entries[i], now_ms)
            {
                self.entries[i].state = EntryState::Queued;
            }
        }
    }

    /// Whether a request that may have landed can be sent again without looking first: only
    /// on a backend whose key is durable (parley-server's unique index). The proxy's memory
    /// holds only the answers that succeeded (an upstream that stored the message and then
    /// answered 500, or was killed before answering, leaves nothing behind), and a restart
    /// of the proxy forgets it all: through it the outbox looks first. Its window still
    /// counts after the look: a request with no answer is then sent again (the proxy holds
    /// the resend while the first is on its way upstream) instead of being left to the agent.
    fn resends_without_looking(&self) -> bool {
        self.config.idempotent_backend && self.config.idempotency_window_ms.is_none()
    }

    /// Whether the backend would take a resend of `e` sent now for its first copy: it
    /// deduplicates by `echo_id`, and still remembers this one.
    fn deduplicates(&self, e: &Entry, now_ms: u64) -> bool {
        self.config.idempotent_backend
            && match (self.config.idempotency_window_ms, e.first_left_at_ms) {
                (Some(window), Some(first)) => {
                    now_ms + self.config.request_timeout_ms < first.saturating_add(window)
                }
                _ => true,
            }
    }

    fn index(&self, echo_id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.echo_id == echo_id)
    }

    /// xorshift64*: jitter needs no cryptography, only reproducibility.
    fn random_unit(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential backoff with jitter: between half and all of base * 2^(attempt-1).
    fn backoff_ms(&mut self, attempts: u32) -> u64 {
        let exp = self
            .config
            .backoff_base_ms
            .saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
        let cap = exp.min(self.config.backoff_max_ms);
        cap / 2 + (self.random_unit() * (cap / 2) as f64) as u64
    }

    /// Feed one event at time `now_ms`; returns what to do, in order.
    pub fn handle(&mut self, now_ms: u64, event: Event) -> Vec<Command> {
        let mut out = Vec::new();
        match event {
            Event::Enqueue { echo_id, draft } => {
                if self.index(&echo_id).is_some() {
                    return out;
                }
                let entry = Entry {
                    echo_id: echo_id.clone(),
                    seq: self.next_seq,
                    draft,
                    enqueued_at_ms: now_ms,
                    attempts: 0,
                    next_attempt_at_ms: now_ms,
                    state: EntryState::Queued,
                    last_error: None,
                    after_id: None,
                    owned_by_others: Vec::new(),
                    unanswered: false,
                    left_at_ms: None,
                    first_left_at_ms: None,
                    may_have_landed: false,
                };
                self.next_seq += 1;
                out.push(Command::Persist(entry.clone()));
                self.entries.push(entry);
                if !self.reachable {
                    out.push(Command::Status {
                        echo_id,
                        status: SendStatus::Queued,
                    });
                }
            }
            Event::Restored(mut entries) => {
                self.continues_earlier_page = true;
                entries.sort_by_key(|e| e.seq);
                for mut e in entries {
                    if self.index(&e.echo_id).is_some() {
                        continue;
                    }
                    // A request that was out when the page died may have arrived, or may
                    // still arrive: its answer is gone with the page.
                    if matches!(e.state, EntryState::InFlight { .. }) {
                        e.unanswered = true;
                        e.may_have_landed = true;
                    }
                    let deduplicates = self.deduplicates(&e, now_ms);
                    if matches!(
                        e.state,
                        EntryState::InFlight { .. } | EntryState::Reconciling
                    ) || (deduplicates && e.state == EntryState::Unknown)
                    {
                        e.state = self.after_ambiguity(&e, now_ms);
                        out.push(Command::Persist(e.clone()));
                    }
                    let status = match &e.state {
                        EntryState::Failed { reason } => SendStatus::Failed {
                            reason: reason.clone(),
                        },
                        EntryState::Unknown => SendStatus::Unknown,
                        _ => SendStatus::Queued,
                    };
                    out.push(Command::Status {
                        echo_id: e.echo_id.clone(),
                        status,
                    });
                    self.next_seq = self.next_seq.max(e.seq + 1);
                    self.entries.push(e);
                }
                self.entries.sort_by_key(|e| e.seq);
                self.match_recent(&mut out);
            }
            Event::Reachable(reachable) => {
                let was = self.reachable;
                self.reachable = reachable;
                if reachable && !was {
                    // Coming back: try now rather than at the end of a long backoff.
                    for e in &mut self.entries {
                        if e.state == EntryState::Queued {
                            e.next_attempt_at_ms = e.next_attempt_at_ms.min(now_ms);
                        }
                    }
                } else if !reachable {
                    // A resync in the air may never answer; ask again when back.
                    self.resyncing.clear();
                    for e in &self.entries {
                        if e.state == EntryState::Queued {
                            out.push(Command::Status {
                                echo_id: e.echo_id.clone(),
                                status: SendStatus::Queued,
                            });
                        }
                    }
                }
            }
            Event::Tick => {}
            Event::SendOk {
                echo_id,
                message_id,
            } => self.deliver(&echo_id, message_id, &mut out),
            Event::SendFailed { echo_id, error } => {
                self.failed_attempt(now_ms, &echo_id, error, &mut out)
            }
            Event::Seen(seen) => self.seen(now_ms, seen, &mut out),
            Event::ResyncDone { conversation_id } => {
                // An answer nobody waits for any more (asked before the connection went)
                // settles nothing; a new resync is asked when it is back.
                let covers = match self.resyncing.remove(&conversation_id) {
                    Some(asked) => {
                        // Everything after `asked` was fed as `Seen` (or the newest page
                        // when `None`), and `asked` is itself an id of this conversation.
                        if let Some(a) = asked.after_id {
                            self.note_newest(conversation_id, a);
                        }
                        self.synced.insert(conversation_id);
                        asked.covers
                    }
                    None => BTreeSet::new(),
                };
                let settle = self.config.unknown_settle_ms;
                for i in 0..self.entries.len() {
                    let deduplicates = self.deduplicates(&self.entries[i], now_ms);
                    let e = &mut self.entries[i];
                    // Only what was reconciling when the resync was asked: the page was
                    // read before any later attempt could have stored its message.
                    if e.state == EntryState::Reconciling && covers.contains(&e.echo_id) {
                        let settles_at = e.left_at_ms.map_or(0, |t| t.saturating_add(settle));
                        if e.unanswered && !deduplicates && now_ms < settles_at {
                            // Not there yet, and the request that never answered may still
                            // be on its way or in the server's hands: look again once it
                            // cannot be any more, before saying anything.
                            e.next_attempt_at_ms = settles_at;
                        } else if e.unanswered && !deduplicates {
                            // Not there, and looked for after the request settled: it may
                            // still be stored, by a server slower than that; say so rather
                            // than guess (a resend could double it).
                            e.state = EntryState::Unknown;
                            out.push(Command::Status {
                                echo_id: e.echo_id.clone(),
                                status: SendStatus::Unknown,
                            });
                        } else if e.attempts >= max_attempts_of(&self.config, e) {
                            // Looked for after every attempt so far: not there.
                            e.may_have_landed = false;
                            // The server does not have it, and will not: sending again
                            // cannot double it (below too).
                            let reason = FailReason::GaveUp {
                                attempts: e.attempts,
                                last: e.last_error.clone(),
                            };
                            e.state = EntryState::Failed {
                                reason: reason.clone(),
                            };
                            out.push(Command::Status {
                                echo_id: e.echo_id.clone(),
                                status: SendStatus::Failed { reason },
                            });
                        } else {
                            // Looked for after every attempt so far: not there.
                            e.may_have_landed = false;
                            e.state = EntryState::Queued;
                            e.next_attempt_at_ms = e.next_attempt_at_ms.max(now_ms);
                        }
                        out.push(Command::Persist(e.clone()));
                    }
                }
            }
            Event::ResyncFailed { conversation_id } => {
                self.resyncing.remove(&conversation_id);
                let attempts = self
                    .entries
                    .iter()
                    .filter(|e| e.draft.conversation_id == conversation_id)
                    .map(|e| e.attempts)
                    .max()
                    .unwrap_or(1);
                let delay = self.backoff_ms(attempts);
                let waits_for_sync = self.waits_for_sync(conversation_id);
                for e in &mut self.entries {
                    if e.draft.conversation_id == conversation_id
                        && (e.state == EntryState::Reconciling
                            || (waits_for_sync && e.state == EntryState::Queued && e.attempts == 0))
                    {
                        e.next_attempt_at_ms = now_ms + delay;
                    }
                }
            }
            Event::Retry { echo_id } => {
                if let Some(i) = self.index(&echo_id) {
                    let deduplicates = self.deduplicates(&self.entries[i], now_ms);
                    let e = &mut self.entries[i];
                    if e.state == EntryState::Unknown && !deduplicates {
                        // The agent says send it. One more look first, so that a copy
                        // stored since is taken rather than doubled; then it goes.
                        e.state = EntryState::Reconciling;
                        e.unanswered = false;
                        e.attempts = 0;
                        e.next_attempt_at_ms = now_ms;
                        e.last_error = None;
                        out.push(Command::Persist(e.clone()));
                        out.push(Command::Status {
                            echo_id,
                            status: SendStatus::Sending,
                        });
                    } else if matches!(e.state, EntryState::Failed { .. } | EntryState::Unknown) {
                        e.unanswered = false;
                        e.state = EntryState::Queued;
                        e.attempts = 0;
                        e.next_attempt_at_ms = now_ms;
                        e.last_error = None;
                        out.push(Command::Persist(e.clone()));
                        out.push(Command::Status {
                            echo_id,
                            status: SendStatus::Sending,
                        });
                    }
                }
            }
            Event::Discard { echo_id } => {
                if let Some(i) = self.index(&echo_id) {
                    // A request in the air cannot be called back; only what has not left,
                    // or what the agent was told may not have been sent.
                    if matches!(
                        self.entries[i].state,
                        EntryState::Queued | EntryState::Failed { .. } | EntryState::Unknown
                    ) {
                        self.entries.remove(i);
                        out.push(Command::Forget { echo_id });
                    }
                }
            }
            Event::Edit { echo_id, content } => {
                if let Some(i) = self.index(&echo_id) {
                    let e = &mut self.entries[i];
                    if matches!(e.state, EntryState::Queued | EntryState::Failed { .. }) {
                        e.draft.content = content;
                        out.push(Command::Persist(e.clone()));
                    }
                }
            }
            Event::Cancel { echo_id } => {
                if let Some(i) = self.index(&echo_id) {
                    // Reconciling: an earlier attempt may be on the server; only the
                    // resync can tell, so the entry stays until it does.
                    match self.entries[i].state {
                        EntryState::InFlight { .. } => {
                            self.entries.remove(i);
                            self.cancelled_in_flight.insert(echo_id.clone());
                            out.push(Command::Abort {
                                echo_id: echo_id.clone(),
                            });
                            out.push(Command::Forget { echo_id });
                        }
                        EntryState::Queued | EntryState::Failed { .. } | EntryState::Unknown => {
                            self.entries.remove(i);
                            out.push(Command::Forget { echo_id });
                        }
                        EntryState::Reconciling => {}
                    }
                }
            }
            Event::UploadProgressed { echo_id } => {
                if let Some(i) = self.index(&echo_id) {
                    if let EntryState::InFlight { since_ms } = &mut self.entries[i].state {
                        // Not persisted: an in-flight entry is restored as ambiguous anyway.
                        *since_ms = (*since_ms).max(now_ms);
                    }
                }
            }
        }
        self.pump(now_ms, &mut out);
        out
    }

    /// Whether an entry can be edited or discarded right now (not in the air).
    pub fn is_editable(&self, echo_id: &str) -> bool {
        self.index(echo_id).is_some_and(|i| {
            matches!(
                self.entries[i].state,
                EntryState::Queued | EntryState::Failed { .. }
            )
        })
    }

    fn note_newest(&mut self, conversation_id: i64, id: i64) {
        let n = self.newest.entry(conversation_id).or_insert(id);
        *n = (*n).max(id);
    }

    /// Whether a first attempt in this conversation must wait for a resync to learn what
    /// the server already holds (see `continues_earlier_page`).
    fn waits_for_sync(&self, conversation_id: i64) -> bool {
        !self.config.idempotent_backend
            && self.continues_earlier_page
            && !self.synced.contains(&conversation_id)
    }

    fn deliver(&mut self, echo_id: &str, message_id: i64, out: &mut Vec<Command>) {
        if let Some(i) = self.index(echo_id) {
            let e = self.entries.remove(i);
            self.note_newest(e.draft.conversation_id, message_id);
            self.claimed.insert(message_id);
            // The other entries of this conversation must never be matched to this
            // message, also after a reload (which forgets `claimed`): written into them.
            for other in &mut self.entries {
                if other.draft.conversation_id != e.draft.conversation_id
                    || other.after_id.is_some_and(|a| a >= message_id)
                    || other.owned_by_others.contains(&message_id)
                {
                    continue;
                }
                if other.attempts == 0
                    && !matches!(other.state, EntryState::Reconciling | EntryState::Unknown)
                {
                    // Has not left: can only be stored after this message.
                    other.after_id = Some(message_id);
                    other.owned_by_others.retain(|&id| id > message_id);
                } else {
                    // May be on the server already, below this message: excluded by id.
                    other.owned_by_others.push(message_id);
                }
                out.push(Command::Persist(other.clone()));
            }
            out.push(Command::Forget {
                echo_id: echo_id.to_owned(),
            });
            out.push(Command::Delivered {
                echo_id: echo_id.to_owned(),
                message_id,
            });
        }
    }

    /// After an attempt that may have reached the server: resend directly if the backend
    /// deduplicates, else reconcile first (the resync starts from `pump`, after the
    /// backoff, which also gives a slow request time to land before we look).
    fn after_ambiguity(&self, e: &Entry, now_ms: u64) -> EntryState {
        if self.resends_without_looking() && self.deduplicates(e, now_ms) {
            EntryState::Queued
        } else {
            EntryState::Reconciling
        }
    }

    fn failed_attempt(
        &mut self,
        now_ms: u64,
        echo_id: &str,
        error: SendError,
        out: &mut Vec<Command>,
    ) {
        let Some(i) = self.index(echo_id) else {
            return;
        };
        if !matches!(self.entries[i].state, EntryState::InFlight { .. }) {
            return;
        }
        let unanswered = matches!(
            error,
            SendError::NoAnswer(_) | SendError::ErrorAnswer { status: 504, .. }
        );
        let error_kind = match error {
            SendError::Ambiguous(_) | SendError::NoAnswer(_) | SendError::ErrorAnswer { .. } => {
                ErrorKind::MayHaveLanded
            }
            _ => ErrorKind::NotStored,
        };
        let (state, message) = match error {
            SendError::Rejected(error) => (
                EntryState::Failed {
                    reason: FailReason::Refused(error.clone()),
                },
                error,
            ),
            SendError::NotSent => {
                // Never left: an offline spell of any length does not use up attempts.
                self.entries[i].attempts = self.entries[i].attempts.saturating_sub(1);
                (EntryState::Queued, AttemptError::Offline)
            }
            SendError::Throttled(m) => (EntryState::Queued, m),
            SendError::Ambiguous(m) => (self.after_ambiguity(&self.entries[i], now_ms), m),
            SendError::NoAnswer(m) => (self.after_ambiguity(&self.entries[i], now_ms), m),
            SendError::ErrorAnswer { status } => (
                self.after_ambiguity(&self.entries[i], now_ms),
                AttemptError::Http { status },
            ),
        };
        self.entries[i].unanswered = unanswered;
        if matches!(error_kind, ErrorKind::MayHaveLanded) {
            self.entries[i].may_have_landed = true;
        }
        let attempts = self.entries[i].attempts;
        let gave_up = attempts >= max_attempts_of(&self.config, &self.entries[i])
            && state != EntryState::Reconciling;
        let delay = self.backoff_ms(attempts);
        let e = &mut self.entries[i];
        e.last_error = Some(message.clone());
        e.state = if gave_up && !matches!(state, EntryState::Failed { .. }) {
            EntryState::Failed {
                reason: FailReason::GaveUp {
                    attempts,
                    last: Some(message.clone()),
                },
            }
        } else {
            state
        };
        e.next_attempt_at_ms = now_ms + delay;
        out.push(Command::Persist(e.clone()));
        let status = match &e.state {
            EntryState::Failed { reason } => SendStatus::Failed {
                reason: reason.clone(),
            },
            _ => SendStatus::Retrying {
                in_ms: delay,
                error: message,
            },
        };
        out.push(Command::Status {
            echo_id: echo_id.to_owned(),
            status,
        });
    }

    fn seen(&mut self, _now_ms: u64, seen: SeenMessage, out: &mut Vec<Command>) {
        self.note_newest(seen.conversation_id, seen.id);
        if self.claimed.contains(&seen.id) {
            return;
        }
        // By echo_id: the cable event of our own create carries it, whatever the backend.
        if let Some(echo) = &seen.echo_id {
            if self.index(echo).is_some() {
                self.deliver(&echo.clone(), seen.id, out);
                return;
            }
            if self.cancelled_in_flight.contains(echo) {
                // Stored after all: it is that message, and no other entry's.
                self.claimed.insert(seen.id);
                return;
            }
        }
        // By content: only for attempts that may have landed on a backend that forgets
        // echo_id (or before a reload), only this agent's own messages, and the oldest
        // candidate first.
        if !seen.from_me {
            return;
        }
        let skew = self.config.clock_skew_ms;
        let candidate = self
            .entries
            .iter()
            .position(|e| may_have_become(e, &seen, skew));
        if let Some(i) = candidate {
            let echo = self.entries[i].echo_id.clone();
            self.deliver(&echo, seen.id, out);
        } else {
            if self.recent_mine.len() == RECENT_MINE {
                self.recent_mine.pop_front();
            }
            self.recent_mine.push_back(seen);
        }
    }

    /// Restored entries that may have landed, matched against this agent's messages this
    /// page has already seen (oldest entry first, each to the oldest unclaimed candidate).
    fn match_recent(&mut self, out: &mut Vec<Command>) {
        let skew = self.config.clock_skew_ms;
        let mut i = 0;
        while i < self.entries.len() {
            let e = &self.entries[i];
            let found = self
                .recent_mine
                .iter()
                .find(|m| !self.claimed.contains(&m.id) && may_have_become(e, m, skew))
                .map(|m| m.id);
            match found {
                // `deliver` removes entry `i`: the next one moves into its place.
                Some(id) => {
                    let echo = e.echo_id.clone();
                    self.deliver(&echo, id, out);
                }
                None => i += 1,
            }
        }
    }

    /// Ask for a resync of conversation `c` unless one is under way: from the oldest
    /// watermark of its reconciling entries (whatever an attempt stored is after it), and
    /// of `first` (an entry about to leave for the first time) when given.
    fn request_resync(&mut self, c: i64, first: Option<Option<i64>>, out: &mut Vec<Command>) {
        if self.resyncing.contains_key(&c) {
            return;
        }
        let reconciling = self
            .entries
            .iter()
            .filter(|e| e.state == EntryState::Reconciling && e.draft.conversation_id == c);
        let after_id = reconciling
            .clone()
            .map(|e| e.after_id)
            .chain(first)
            .min()
            .flatten();
        let covers = reconciling.map(|e| e.echo_id.clone()).collect();
        self.resyncing.insert(c, Asked { after_id, covers });
        out.push(Command::Resync {
            conversation_id: c,
            after_id,
        });
    }

    /// Start what can start, time out what ran too long, and say when to wake next.
    fn pump(&mut self, now_ms: u64, out: &mut Vec<Command>) {
        // Timeouts first: a request that never answers must not leave a message "sending".
        let timed_out: Vec<String> = self
            .entries
            .iter()
            .filter(|e| match e.state {
                EntryState::InFlight { since_ms } => {
                    now_ms >= since_ms + self.config.request_timeout_ms
                }
                _ => false,
            })
            .map(|e| e.echo_id.clone())
            .collect();
        for echo_id in timed_out {
            out.push(Command::Abort {
                echo_id: echo_id.clone(),
            });
            self.failed_attempt(
                now_ms,
                &echo_id,
                SendError::NoAnswer(AttemptError::TimedOut),
                out,
            );
        }

        // A resend that may have landed waits on a backend that deduplicates; once the
        // backend's window for it has passed, the resend would be a second copy: look
        // first, as without idempotency.
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.state == EntryState::Queued && e.may_have_landed && !self.deduplicates(e, now_ms) {
                self.entries[i].state = EntryState::Reconciling;
                out.push(Command::Persist(self.entries[i].clone()));
            }
        }
        if self.reachable {
            // Reconciling conversations whose backoff has run out get their resync.
            let due: BTreeSet<i64> = self
                .entries
                .iter()
                .filter(|e| e.state == EntryState::Reconciling && e.next_attempt_at_ms <= now_ms)
                .map(|e| e.draft.conversation_id)
                .collect();
            for c in due {
                self.request_resync(c, None, out);
            }
            // One request in the air per conversation keeps the order typed. Failed entries
            // do not hold back the ones after them; reconciling ones do (they may be sent),
            // and so do those of unknown fate until the agent decides: were two messages
            // with the same text unresolved at once, a copy without echo_id could not tell
            // which of them it is.
            let mut busy: BTreeSet<i64> = BTreeSet::new();
            for i in 0..self.entries.len() {
                let c = self.entries[i].draft.conversation_id;
                match self.entries[i].state {
                    EntryState::Failed { .. } => continue,
                    EntryState::InFlight { .. } | EntryState::Reconciling | EntryState::Unknown => {
                        busy.insert(c);
                        continue;
                    }
                    EntryState::Queued => {}
                }
                if !busy.insert(c) || self.entries[i].next_attempt_at_ms > now_ms {
                    continue;
                }
                if self.entries[i].attempts == 0 && self.waits_for_sync(c) {
                    // Learn what the server holds before the first attempt fixes `after_id`.
                    let after_id = self.entries[i].after_id;
                    self.request_resync(c, Some(after_id), out);
                    continue;
                }
                let newest = self.newest.get(&c).copied();
                let e = &mut self.entries[i];
                e.state = EntryState::InFlight { since_ms: now_ms };
                if e.attempts == 0 {
                    // Nothing on the server now is this entry: ids owned by others up to
                    // the newest are covered by `after_id` from here on.
                    let owned = e.owned_by_others.iter().copied().max();
                    e.after_id = e.after_id.max(newest).max(owned);
                    let after = e.after_id;
                    e.owned_by_others.retain(|&id| after.is_none_or(|a| id > a));
                }
                e.attempts += 1;
                e.left_at_ms = Some(now_ms);
                e.first_left_at_ms.get_or_insert(now_ms);
                out.push(Command::Persist(e.clone()));
                out.push(Command::Status {
                    echo_id: e.echo_id.clone(),
                    status: SendStatus::Sending,
                });
                out.push(Command::Send {
                    echo_id: e.echo_id.clone(),
                    draft: e.draft.clone(),
                });
            }
        }

        // Only what can change on its own is a deadline: a request's timeout, and the
        // backoff of the first entry of each conversation. An entry waiting behind another
        // one is not (waking for it would spin: nothing changes until the head moves).
        let mut heads: BTreeSet<i64> = BTreeSet::new();
        let mut wake: Option<u64> = None;
        for e in &self.entries {
            let c = e.draft.conversation_id;
            let at = match e.state {
                EntryState::Failed { .. } => continue,
                // Waits for the agent: no deadline, and none for the entries behind it.
                EntryState::Unknown => {
                    heads.insert(c);
                    continue;
                }
                EntryState::InFlight { since_ms } => {
                    heads.insert(c);
                    Some(since_ms + self.config.request_timeout_ms)
                }
                EntryState::Queued => (heads.insert(c)
                    && self.reachable
                    && !(e.attempts == 0
                        && self.waits_for_sync(c)
                        && self.resyncing.contains_key(&c)))
                .then(|| e.next_attempt_at_ms.max(now_ms)),
                EntryState::Reconciling => {
                    (heads.insert(c) && self.reachable && !self.resyncing.contains_key(&c))
                        .then(|| e.next_attempt_at_ms.max(now_ms))
                }
            };
            if let Some(at) = at {
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
        }
        if let Some(at) = wake {
            out.push(Command::WakeAt(at));
        }
    }
}

/// Whether `seen` is, or may be, the message an attempt of `e` stored: it carries the
/// entry's echo_id, or (a real Chatwoot's REST pages carry none) `e` is reconciling (or of
/// unknown fate) and `seen` is this agent's, with its conversation, kind, text and files,
/// after every id the entry knew when it left, not one another entry was delivered as, and
/// not stamped before it was typed (less the clock skew allowed). Its limits: two pending
/// messages alike in all of this cannot be told apart (so one of unknown fate holds the
/// later ones back), and the same message sent by this agent from elsewhere (the dashboard)
/// in that time would be taken for it.
fn may_have_become(e: &Entry, seen: &SeenMessage, clock_skew_ms: u64) -> bool {
    if seen.echo_id.as_deref() == Some(e.echo_id.as_str()) {
        return true;
    }
    matches!(e.state, EntryState::Reconciling | EntryState::Unknown)
        // A message created with another echo_id is not this one.
        && seen.echo_id.is_none()
        && seen.from_me
        && e.draft.conversation_id == seen.conversation_id
        && e.draft.private == seen.private
        // A message of files only has no content (`null`), its draft an empty caption.
        && seen.content.as_deref().unwrap_or("") == e.draft.content
        && same_files(&e.draft.attachments, &seen.files)
        && e.after_id.is_none_or(|after| seen.id > after)
        && !e.owned_by_others.contains(&seen.id)
        && (seen.created_at_s.max(0) as u64) * 1000 + clock_skew_ms >= e.enqueued_at_ms
}

/// Whether a message's files can be the draft's: as many, and the same sizes where the
/// server says them (names are not compared: Chatwoot's copy may rename a file). A caption
/// with a photo is never taken for the same text alone, nor the other way round.
fn same_files(draft: &[AttachmentDraft], seen: &[Option<u64>]) -> bool {
    if draft.len() != seen.len() {
        return false;
    }
    if seen.iter().any(Option::is_none) {
        return true;
    }
    let mut want: Vec<u64> = draft.iter().map(|a| a.size).collect();
    let mut got: Vec<u64> = seen.iter().flatten().copied().collect();
    want.sort_unstable();
    got.sort_unstable();
    want == got
}

/// What a failed attempt says about the server's copy.
enum ErrorKind {
    MayHaveLanded,
    NotStored,
}

/// How many attempts an entry gets before it is marked failed.
fn max_attempts_of(config: &OutboxConfig, e: &Entry) -> u32 {
    if e.draft.has_files() {
        config.max_upload_attempts
    } else {
        config.max_attempts
    }
}
