//! Durable storage for the outbox: one IndexedDB object store of entries keyed by
//! `echo_id`, each held as JSON text: the core's `Entry` (serde) with the id of the tab that
//! owns it (see `tab_locks`), so that a second tab never sends what a live one holds.
//!
//! A hand-written adapter over web-sys rather than a crate: it needs three operations
//! (put, delete, get all), and the request-to-promise glue is a few lines.
//!
//! Writes are queued when called (IndexedDB runs the read-write transactions of one store
//! in the order they were created) and the returned [`StoreWrite`] resolves when the
//! transaction commits, so a caller can hold a request back until its entry is on disk.
//!
//! The files of messages with attachments live in a second object store, `blobs`, as the
//! browser's own Blobs (IndexedDB keeps them on disk by structured clone): the bytes never
//! pass through wasm memory. Their keys start with the entry's `echo_id` and a `/`, so
//! forgetting an entry deletes its files by one key range.
//!
//! Where IndexedDB is unavailable (some private modes, sandboxed frames, storage turned
//! off) [`OutboxStore::memory`] keeps the entries for the life of the page, and
//! [`OutboxStore::is_durable`] says so, for the agent to be told.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::{Array, Promise};
use parley_core::outbox::Entry;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::i18n::t_args;

const STORE: &str = "entries";
const BLOBS: &str = "blobs";
/// 1: entries. 2: blobs added.
const VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("{}", t_args("store.unavailable", &[("detail", .0)]))]
    Unavailable(String),
    #[error("{}", t_args("store.refused", &[("detail", .0)]))]
    Request(String),
    #[error("{}", t_args("store.unreadable", &[("detail", .0)]))]
    Decode(String),
    #[error("{}", crate::i18n::t("store.held_by_older_tab"))]
    HeldByOlderTab,
}

#[derive(Clone)]
enum Backend {
    Idb(IdbDatabase),
    Memory(Rc<MemoryStores>),
}

#[derive(Default)]
struct MemoryStores {
    entries: RefCell<BTreeMap<String, String>>,
    blobs: RefCell<BTreeMap<String, web_sys::Blob>>,
}

/// The key of file `index` of entry `echo_id`.
pub fn blob_key(echo_id: &str, index: usize) -> String {
    format!("{echo_id}/{index}")
}

/// The outbox's entries, in IndexedDB or (when that is unavailable) in memory.
#[derive(Clone)]
pub struct OutboxStore {
    backend: Backend,
    /// The tab whose entries this store writes.
    owner: Option<String>,
    /// The account whose entries this store reads and writes: one database holds an
    /// agent's entries of every account on one server (`None`: every entry).
    account: Option<i64>,
}

/// One stored entry and the tab that owns it (`None`: written without an owner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(default)]
    pub owner: Option<String>,
    /// The account of the session that wrote it (`None`: written before entries named
    /// theirs; it belongs to the session that finds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<i64>,
    pub entry: Entry,
}

/// A write that has been queued; `.done()` resolves when it is committed.
#[derive(Clone)]
pub struct StoreWrite(Promise);

impl StoreWrite {
    fn resolved() -> StoreWrite {
        StoreWrite(Promise::resolve(&JsValue::UNDEFINED))
    }

    fn failed(e: JsValue) -> StoreWrite {
        StoreWrite(Promise::reject(&e))
    }

    pub async fn done(self) -> Result<(), StoreError> {
        JsFuture::from(self.0)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Request(describe(&e)))
    }
}

impl OutboxStore {
    /// Open (creating on first use) the database `name`.
    pub async fn open(name: &str) -> Result<OutboxStore, StoreError> {
        let factory = web_sys::window()
            .ok_or_else(|| StoreError::Unavailable("no window".into()))?
            .indexed_db()
            .map_err(|e| StoreError::Unavailable(describe(&e)))?
            .ok_or_else(|| StoreError::Unavailable("indexedDB is missing".into()))?;
        let request = factory
            .open_with_u32(name, VERSION)
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        let upgrade_target = request.clone();
        // From any older version (or none): each store that is missing is created, the
        // entries of version 1 stay as they are.
        let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
            if let Ok(db) = upgrade_target.result() {
                let db: IdbDatabase = db.unchecked_into();
                for name in [STORE, BLOBS] {
                    if !db.object_store_names().contains(name) {
                        let _ = db.create_object_store(name);
                    }
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        // A tab of an older release keeps the old version open and never lets it go: the
        // upgrade would wait for that tab to close, and this tab's outbox with it. Rather
        // than wait, give up (the caller keeps the outbox in memory and says so); should
        // the open still succeed later, that connection is closed at once.
        let blocked_target = request.clone();
        let blocked = Promise::new(&mut |resolve, _| {
            let target = blocked_target.clone();
            let on_blocked = Closure::once_into_js(move |_: web_sys::Event| {
                let late = target.clone();
                let close_late = Closure::once_into_js(move |_: web_sys::Event| {
                    if let Ok(db) = late.result() {
                        db.unchecked_into::<IdbDatabase>().close();
                    }
                });
                target.set_onsuccess(Some(close_late.unchecked_ref()));
                let _ = resolve.call0(&JsValue::UNDEFINED);
            });
            blocked_target.set_onblocked(Some(on_blocked.unchecked_ref()));
        });
        let opened = Box::pin(request_result(&request));
        let db: IdbDatabase =
            match futures::future::select(opened, Box::pin(JsFuture::from(blocked))).await {
                futures::future::Either::Left((result, _)) => result
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?
                    .unchecked_into(),
                futures::future::Either::Right(_) => return Err(StoreError::HeldByOlderTab),
            };
        request.set_onblocked(None);
        // A newer version opened in another tab must not wait for this one to close.
        let closing = db.clone();
        let on_version_change = Closure::<dyn Fn()>::new(move || closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        on_version_change.forget();
        Ok(OutboxStore {
            backend: Backend::Idb(db),
            owner: None,
            account: None,
        })
    }

    /// Writes from now on name `owner` as the entries' tab.
    pub fn with_owner(mut self, owner: Option<String>) -> OutboxStore {
        self.owner = owner;
        self
    }

    /// Reads and writes from now on only the entries of `account` (and, when read, those
    /// that name no account yet).
    pub fn with_account(mut self, account: i64) -> OutboxStore {
        self.account = Some(account);
        self
    }

    /// Entries kept for the life of the page only.
    pub fn memory() -> OutboxStore {
        OutboxStore {
            backend: Backend::Memory(Rc::default()),
            owner: None,
            account: None,
        }
    }

    /// Whether entries survive a reload.
    pub fn is_durable(&self) -> bool {
        matches!(self.backend, Backend::Idb(_))
    }

    /// Write (or overwrite) the entry under its `echo_id`.
    pub fn put(&self, entry: &Entry) -> StoreWrite {
        let stored = Stored {
            owner: self.owner.clone(),
            account: self.account,
            entry: entry.clone(),
        };
        let json = match serde_json::to_string(&stored) {
            Ok(json) => json,
            Err(e) => return StoreWrite::failed(JsValue::from_str(&e.to_string())),
        };
        match &self.backend {
            Backend::Memory(m) => {
                m.entries.borrow_mut().insert(entry.echo_id.clone(), json);
                StoreWrite::resolved()
            }
            Backend::Idb(db) => write(db, STORE, |store| {
                store.put_with_key(
                    &JsValue::from_str(&json),
                    &JsValue::from_str(&entry.echo_id),
                )
            }),
        }
    }

    pub fn delete(&self, echo_id: &str) -> StoreWrite {
        match &self.backend {
            Backend::Memory(m) => {
                m.entries.borrow_mut().remove(echo_id);
                StoreWrite::resolved()
            }
            Backend::Idb(db) => write(db, STORE, |store| store.delete(&JsValue::from_str(echo_id))),
        }
    }

    /// Keep a file under `key` (see [`blob_key`]): the Blob itself, not its bytes.
    pub fn put_blob(&self, key: &str, blob: &web_sys::Blob) -> StoreWrite {
        match &self.backend {
            Backend::Memory(m) => {
                m.blobs.borrow_mut().insert(key.to_owned(), blob.clone());
                StoreWrite::resolved()
            }
            Backend::Idb(db) => write(db, BLOBS, |store| {
                store.put_with_key(blob, &JsValue::from_str(key))
            }),
        }
    }

    /// The file stored under `key`, if any. A read started after a write of the same key
    /// sees it (IndexedDB orders transactions over the same store).
    pub async fn get_blob(&self, key: &str) -> Result<Option<web_sys::Blob>, StoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.blobs.borrow().get(key).cloned()),
            Backend::Idb(db) => {
                let tx = db
                    .transaction_with_str(BLOBS)
                    .map_err(|e| StoreError::Request(describe(&e)))?;
                let store = tx
                    .object_store(BLOBS)
                    .map_err(|e| StoreError::Request(describe(&e)))?;
                let request = store
                    .get(&JsValue::from_str(key))
                    .map_err(|e| StoreError::Request(describe(&e)))?;
                let value = request_result(&request).await?;
                Ok(value.dyn_into::<web_sys::Blob>().ok())
            }
        }
    }

    /// Delete every file of entry `echo_id` (none is fine).
    pub fn delete_blobs_of(&self, echo_id: &str) -> StoreWrite {
        let prefix = format!("{echo_id}/");
        match &self.backend {
            Backend::Memory(m) => {
                m.blobs.borrow_mut().retain(|k, _| !k.starts_with(&prefix));
                StoreWrite::resolved()
            }
            Backend::Idb(db) => {
                // Every key that starts with the prefix sorts between it and prefix + U+FFFF.
                let range = match web_sys::IdbKeyRange::bound(
                    &JsValue::from_str(&prefix),
                    &JsValue::from_str(&format!("{prefix}\u{ffff}")),
                ) {
                    Ok(range) => range,
                    Err(e) => return StoreWrite::failed(e),
                };
                write(db, BLOBS, |store| store.delete(&range))
            }
        }
    }

    /// Every stored entry. One that cannot be read (written by an incompatible version)
    /// is reported in the second list rather than failing the whole restore.
    pub async fn get_all(&self) -> Result<(Vec<Stored>, Vec<StoreError>), StoreError> {
        let texts: Vec<String> = match &self.backend {
            Backend::Memory(m) => m.entries.borrow().values().cloned().collect(),
            Backend::Idb(db) => {
                let tx = db
                    .transaction_with_str(STORE)
                    .map_err(|e| StoreError::Request(describe(&e)))?;
                let store = tx
                    .object_store(STORE)
                    .map_err(|e| StoreError::Request(describe(&e)))?;
                let request = store
                    .get_all()
                    .map_err(|e| StoreError::Request(describe(&e)))?;
                let values = request_result(&request).await?;
                Array::from(&values)
                    .iter()
                    .filter_map(|v| v.as_string())
                    .collect()
            }
        };
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for text in texts {
            match parley_wire::from_str::<Stored>(&text) {
                // Another account's session keeps its own.
                Ok(stored)
                    if self.account.is_some()
                        && stored.account.is_some()
                        && stored.account != self.account => {}
                Ok(stored) => entries.push(stored),
                Err(e) => errors.push(StoreError::Decode(e.to_string())),
            }
        }
        Ok((entries, errors))
    }
}

/// One read-write transaction on the store running `op`; resolves on commit, rejects on
/// abort (a failed request aborts its transaction, so `complete` and `abort` are exclusive).
fn write(
    db: &IdbDatabase,
    name: &str,
    op: impl FnOnce(&web_sys::IdbObjectStore) -> Result<IdbRequest, JsValue>,
) -> StoreWrite {
    let tx = match db.transaction_with_str_and_mode(name, IdbTransactionMode::Readwrite) {
        Ok(tx) => tx,
        Err(e) => return StoreWrite::failed(e),
    };
    let store = match tx.object_store(name) {
        Ok(store) => store,
        Err(e) => return StoreWrite::failed(e),
    };
    if let Err(e) = op(&store) {
        let _ = tx.abort();
        return StoreWrite::failed(e);
    }
    StoreWrite(transaction_done(&tx))
}

fn transaction_done(tx: &IdbTransaction) -> Promise {
    let tx = tx.clone();
    Promise::new(&mut |resolve, reject| {
        let target = tx.clone();
        // One closure for both outcomes: only one of them fires, and it frees the closure.
        let settle = Closure::once_into_js(move |event: web_sys::Event| {
            if event.type_() == "complete" {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            } else {
                let why = target
                    .error()
                    .map(|e| JsValue::from_str(&format!("{}: {}", e.name(), e.message())))
                    .unwrap_or_else(|| JsValue::from_str("the write was aborted"));
                let _ = reject.call1(&JsValue::UNDEFINED, &why);
            }
        });
        tx.set_oncomplete(Some(settle.unchecked_ref()));
        tx.set_onabort(Some(settle.unchecked_ref()));
    })
}

/// The result of a request once it succeeds.
async fn request_result(request: &IdbRequest) -> Result<JsValue, StoreError> {
    let target = request.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let target = target.clone();
        let request = target.clone();
        let settle = Closure::once_into_js(move |event: web_sys::Event| {
            if event.type_() == "success" {
                let value = request.result().unwrap_or(JsValue::UNDEFINED);
                let _ = resolve.call1(&JsValue::UNDEFINED, &value);
            } else {
                let why = match request.error() {
                    Ok(Some(e)) => format!("{}: {}", e.name(), e.message()),
                    _ => "the request failed".to_owned(),
                };
                let _ = reject.call1(&JsValue::UNDEFINED, &JsValue::from_str(&why));
            }
        });
        target.set_onsuccess(Some(settle.unchecked_ref()));
        target.set_onerror(Some(settle.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| StoreError::Request(describe(&e)))
}

fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    if let Some(ex) = e.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", ex.name(), ex.message());
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    format!("{e:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::outbox::{Draft, EntryState};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn entry(echo_id: &str, seq: u64) -> Entry {
        Entry {
            echo_id: echo_id.into(),
            seq,
            draft: Draft {
                conversation_id: 7,
                content: format!("text {seq}"),
                private: false,
                in_reply_to: None,
                attachments: Vec::new(),
            },
            enqueued_at_ms: 1_000 + seq,
            attempts: 0,
            next_attempt_at_ms: 0,
            state: EntryState::Queued,
            last_error: None,
            after_id: None,
            owned_by_others: Vec::new(),
            unanswered: false,
            left_at_ms: None,
            first_left_at_ms: None,
            may_have_landed: false,
        }
    }

    async fn round_trip(store: OutboxStore) {
        store.put(&entry("a", 1)).done().await.unwrap();
        store.put(&entry("b", 2)).done().await.unwrap();
        let mut changed = entry("a", 1);
        changed.attempts = 3;
        changed.state = EntryState::Failed {
            reason: parley_core::outbox::FailReason::Refused(
                parley_core::outbox::AttemptError::Http { status: 422 },
            ),
        };
        store.put(&changed).done().await.unwrap();
        store.delete("b").done().await.unwrap();
        store.delete("never-there").done().await.unwrap();
        let (entries, errors) = store.get_all().await.unwrap();
        assert!(errors.is_empty());
        assert_eq!(
            entries,
            vec![Stored {
                owner: Some("tab-1".into()),
                account: None,
                entry: changed
            }]
        );
    }

    #[wasm_bindgen_test]
    async fn indexeddb_puts_overwrites_deletes_and_reads_back() {
        let name = format!("parley-outbox-test-{}", uuid::Uuid::new_v4());
        let store = OutboxStore::open(&name)
            .await
            .unwrap()
            .with_owner(Some("tab-1".into()));
        assert!(store.is_durable());
        round_trip(store).await;
        // A second open of the same database sees what the first wrote.
        let again = OutboxStore::open(&name).await.unwrap();
        assert_eq!(again.get_all().await.unwrap().0.len(), 1);
    }

    #[wasm_bindgen_test]
    async fn each_account_reads_its_own_entries_and_those_that_name_none() {
        let name = format!("parley-outbox-test-{}", uuid::Uuid::new_v4());
        let unnamed = OutboxStore::open(&name).await.unwrap();
        unnamed.put(&entry("legacy", 1)).done().await.unwrap();
        let one = OutboxStore::open(&name).await.unwrap().with_account(1);
        let two = OutboxStore::open(&name).await.unwrap().with_account(2);
        one.put(&entry("of-1", 2)).done().await.unwrap();
        two.put(&entry("of-2", 3)).done().await.unwrap();
        let ids = |stored: Vec<Stored>| {
            let mut ids: Vec<String> = stored.into_iter().map(|s| s.entry.echo_id).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(one.get_all().await.unwrap().0), ["legacy", "of-1"]);
        assert_eq!(ids(two.get_all().await.unwrap().0), ["legacy", "of-2"]);
    }

    fn blob(text: &str, mime: &str) -> web_sys::Blob {
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).unwrap()
    }

    async fn text_of(b: &web_sys::Blob) -> String {
        JsFuture::from(b.text()).await.unwrap().as_string().unwrap()
    }

    async fn blobs_round_trip(store: &OutboxStore) {
        store
            .put_blob(&blob_key("e1", 0), &blob("first", "text/plain"))
            .done()
            .await
            .unwrap();
        store
            .put_blob(&blob_key("e1", 1), &blob("second", "image/png"))
            .done()
            .await
            .unwrap();
        store
            .put_blob(&blob_key("e10", 0), &blob("other", "text/csv"))
            .done()
            .await
            .unwrap();
        let back = store.get_blob("e1/1").await.unwrap().unwrap();
        assert_eq!(back.type_(), "image/png");
        assert_eq!(text_of(&back).await, "second");
        // Forgetting e1 takes both its files and leaves e10's (a longer id, same start).
        store.delete_blobs_of("e1").done().await.unwrap();
        assert!(store.get_blob("e1/0").await.unwrap().is_none());
        assert!(store.get_blob("e1/1").await.unwrap().is_none());
        assert_eq!(
            text_of(&store.get_blob("e10/0").await.unwrap().unwrap()).await,
            "other"
        );
    }

    #[wasm_bindgen_test]
    async fn files_are_kept_as_blobs_and_forgotten_with_their_entry() {
        let name = format!("parley-outbox-test-{}", uuid::Uuid::new_v4());
        let store = OutboxStore::open(&name).await.unwrap();
        blobs_round_trip(&store).await;
        blobs_round_trip(&OutboxStore::memory()).await;
    }

    /// `name` opened as the previous release did: version 1, its one object store.
    async fn open_version_1(name: &str) -> IdbDatabase {
        let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
        let request = factory.open_with_u32(name, 1).unwrap();
        let target = request.clone();
        let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
            let db: IdbDatabase = target.result().unwrap().unchecked_into();
            db.create_object_store(STORE).unwrap();
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        request_result(&request).await.unwrap().unchecked_into()
    }

    #[wasm_bindgen_test]
    async fn a_version_1_database_keeps_its_entries_and_gains_the_blob_store() {
        let name = format!("parley-outbox-test-{}", uuid::Uuid::new_v4());
        // Version 1 as the previous release created it, with one entry in it.
        let v1 = open_version_1(&name).await;
        let old = Stored {
            owner: None,
            account: None,
            entry: entry("old", 1),
        };
        write(&v1, STORE, |s| {
            s.put_with_key(
                &JsValue::from_str(&serde_json::to_string(&old).unwrap()),
                &JsValue::from_str("old"),
            )
        })
        .done()
        .await
        .unwrap();
        v1.close();
        let store = OutboxStore::open(&name).await.unwrap();
        assert_eq!(store.get_all().await.unwrap().0, vec![old]);
        blobs_round_trip(&store).await;
    }

    #[wasm_bindgen_test]
    async fn an_old_tab_holding_version_1_makes_the_open_give_up_not_hang() {
        let name = format!("parley-outbox-test-{}", uuid::Uuid::new_v4());
        // An older release's tab: version 1 open, no versionchange handler, never closed.
        let old_tab = open_version_1(&name).await;
        assert!(matches!(
            OutboxStore::open(&name).await,
            Err(StoreError::HeldByOlderTab)
        ));
        // Once the old tab is gone, the upgrade goes through (the abandoned attempt's late
        // connection was closed, so it does not block this one).
        old_tab.close();
        let store = OutboxStore::open(&name).await.unwrap();
        blobs_round_trip(&store).await;
    }

    #[wasm_bindgen_test]
    async fn the_memory_fallback_behaves_the_same() {
        let store = OutboxStore::memory().with_owner(Some("tab-1".into()));
        assert!(!store.is_durable());
        round_trip(store).await;
    }
}
