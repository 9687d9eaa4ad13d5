//! SQLite storage: the schema and every query. Handlers never write SQL; they call these
//! functions with a connection borrowed through [`Db::with`].
//!
//! All timestamps are stored as unix milliseconds: Chatwoot renders the same instant as
//! unix seconds, float seconds or ISO strings depending on the view, and milliseconds let
//! `views` produce each of them exactly.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use crate::credentials;

pub use rusqlite::Error as DbError;
pub type DbResult<T> = Result<T, DbError>;

/// One connection behind a mutex. Queries are short and local, so a pool would only add
/// write contention (SQLite has one writer anyway).
pub struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    pub fn open(path: &Path) -> DbResult<Db> {
        let mut conn = Connection::open(path)?;
        // FULL: a message is acknowledged to the app only after its commit reached the
        // disk, and the app then drops its outbox copy, so a commit that a power loss could
        // still undo (NORMAL in WAL mode) would lose a message for good.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )?;
        // Anything else holding the file (a backup, an operator's sqlite3) makes a write
        // wait for it instead of failing at once with SQLITE_BUSY.
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&mut conn)?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    /// Run `f` with the connection. Keep `f` free of awaits: the lock is a std mutex.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// Run `f` in a transaction; it commits only when `f` returns Ok.
    pub fn tx<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = guard.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// The schema as it was first released; [`MIGRATIONS`] change it from there.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
  password_salt TEXT NOT NULL, password_hash TEXT NOT NULL,
  access_token TEXT NOT NULL UNIQUE, pubsub_token TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS account_users (
  account_id INTEGER NOT NULL REFERENCES accounts(id), user_id INTEGER NOT NULL REFERENCES users(id),
  role TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (account_id, user_id));
CREATE TABLE IF NOT EXISTS sessions (
  client TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  token_hash TEXT NOT NULL, expiry INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS inboxes (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
  channel_type TEXT NOT NULL, inbox_identifier TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS contacts (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), name TEXT, email TEXT,
  phone_number TEXT, identifier TEXT, created_at INTEGER NOT NULL, last_activity_at INTEGER);
CREATE TABLE IF NOT EXISTS contact_inboxes (
  id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL REFERENCES contacts(id),
  inbox_id INTEGER NOT NULL REFERENCES inboxes(id), source_id TEXT NOT NULL UNIQUE,
  pubsub_token TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
  inbox_id INTEGER NOT NULL, display_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
  contact_inbox_id INTEGER NOT NULL, assignee_id INTEGER, status TEXT NOT NULL DEFAULT 'open',
  uuid TEXT NOT NULL, agent_last_seen_at INTEGER, assignee_last_seen_at INTEGER,
  contact_last_seen_at INTEGER, first_reply_created_at INTEGER, waiting_since INTEGER,
  last_activity_at INTEGER NOT NULL, additional_attributes TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (account_id, display_id));
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, inbox_id INTEGER NOT NULL,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id), message_type INTEGER NOT NULL,
  content_type TEXT NOT NULL DEFAULT 'text', content TEXT, status TEXT NOT NULL DEFAULT 'sent',
  private INTEGER NOT NULL DEFAULT 0, content_attributes TEXT NOT NULL DEFAULT '{}',
  sender_type TEXT, sender_id INTEGER, source_id TEXT, echo_id TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, created_at, id);
CREATE TABLE IF NOT EXISTS attachments (
  id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL REFERENCES messages(id),
  account_id INTEGER NOT NULL, file_type TEXT NOT NULL, content_type TEXT NOT NULL,
  filename TEXT NOT NULL, extension TEXT, token TEXT NOT NULL UNIQUE, stored_name TEXT NOT NULL,
  file_size INTEGER NOT NULL, width INTEGER, height INTEGER, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS attachments_by_message ON attachments (message_id);
CREATE TABLE IF NOT EXISTS canned_responses (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, short_code TEXT NOT NULL,
  content TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
"#;

/// Changes to [`SCHEMA`], in order; `PRAGMA user_version` counts those a database has had.
/// Only ever append: a database must be able to come from any earlier version.
const MIGRATIONS: &[fn(&Connection) -> DbResult<()>] = &[
    hash_stored_credentials,
    index_conversation_list,
    unique_echo_id,
    conversation_snooze,
];

fn migrate(conn: &mut Connection) -> DbResult<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if done > MIGRATIONS.len() {
        return Err(DbError::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(format!(
                "the database is at schema version {done}, newer than this parley-server knows \
                 ({}): run the parley-server that wrote it",
                MIGRATIONS.len()
            )),
        ));
    }
    if done == MIGRATIONS.len() {
        return Ok(());
    }
    // What a migration replaces (credentials in clear) must not stay readable in freed
    // pages or in the write-ahead log: zero freed space, then fold the log into the file.
    conn.pragma_update(None, "secure_delete", true)?;
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        migration(&tx)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.pragma_update(None, "secure_delete", false)?;
    Ok(())
}

/// Password schemes of `users.password_scheme`.
pub const SCHEME_ARGON2: &str = "argon2id";
/// An argon2id PHC string of the old salted SHA-256 digest (`password_salt` keeps its salt).
pub const SCHEME_LEGACY_WRAPPED: &str = "sha256+argon2id";

/// Migration 1: no credential in clear. Access tokens move to `access_tokens` as SHA-256
/// digests; pubsub tokens become derived tokens stored as digests (see `auth`); the old
/// salted SHA-256 password digests are wrapped in argon2id at once rather than at the next
/// sign-in, so a copy of the database taken before that sign-in is no easier to crack (the
/// next successful sign-in then stores a plain argon2id hash); the demo password kept in
/// clear in `settings` is deleted. The old token columns are UNIQUE, which SQLite cannot
/// drop, so they are overwritten with unique placeholders and no longer read. Devise
/// sessions from before are ended: their tokens were never access tokens.
fn hash_stored_credentials(c: &Connection) -> DbResult<()> {
    c.execute_batch(
        "CREATE TABLE access_tokens (
           token_sha256 TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
           pubsub_sha256 TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
           created_at INTEGER NOT NULL, expires_at INTEGER);
         CREATE INDEX access_tokens_by_user ON access_tokens (user_id);
         ALTER TABLE users ADD COLUMN password_scheme TEXT NOT NULL DEFAULT 'argon2id';
         ALTER TABLE contact_inboxes ADD COLUMN pubsub_sha256 TEXT;
         DELETE FROM settings WHERE key = 'agent_password';
         DELETE FROM sessions;",
    )?;
    let now = now_ms();
    let users: Vec<(i64, String, String)> = c
        .prepare("SELECT id, access_token, password_hash FROM users")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<DbResult<_>>()?;
    for (id, token, legacy_digest) in users {
        insert_access_token(c, id, &token, TOKEN_CONFIGURED, None, now)?;
        c.execute(
            "UPDATE users SET access_token = 'unused:' || id, pubsub_token = 'unused:' || id,
               password_hash = ?2, password_scheme = ?3 WHERE id = ?1",
            params![
                id,
                credentials::hash_password(&legacy_digest),
                SCHEME_LEGACY_WRAPPED
            ],
        )?;
    }
    let inboxes: Vec<(i64, String)> = c
        .prepare("SELECT id, source_id FROM contact_inboxes")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<DbResult<_>>()?;
    for (id, source_id) in inboxes {
        c.execute(
            "UPDATE contact_inboxes SET pubsub_token = 'unused:' || id, pubsub_sha256 = ?2
             WHERE id = ?1",
            params![
                id,
                credentials::pubsub_key(&credentials::contact_pubsub_token(&source_id))
            ],
        )?;
    }
    c.execute_batch(
        "CREATE UNIQUE INDEX contact_inboxes_by_pubsub ON contact_inboxes (pubsub_sha256);",
    )
}

/// Migration 2: the agent's conversation list pages in SQL (newest activity first, one
/// status or all), so it must not sort a whole account per request; its counts read only
/// the (account, status, assignee) index, never the rows.
fn index_conversation_list(c: &Connection) -> DbResult<()> {
    c.execute_batch(
        "CREATE INDEX conversations_by_status_activity
           ON conversations (account_id, status, last_activity_at DESC, id DESC);
         CREATE INDEX conversations_by_activity
           ON conversations (account_id, last_activity_at DESC, id DESC);
         CREATE INDEX conversations_by_status_assignee
           ON conversations (account_id, status, assignee_id);",
    )
}

/// Migration 3: echo_id idempotency is per conversation and sender, and enforced by a
/// unique index (two simultaneous retries store one message). A database from before it may
/// hold repeats (stored while idempotency was off): the first of each keeps its echo_id, so
/// the index can be built.
fn unique_echo_id(c: &Connection) -> DbResult<()> {
    c.execute_batch(
        "DROP INDEX IF EXISTS messages_by_echo_id;
         UPDATE messages SET echo_id = NULL
           WHERE echo_id IS NOT NULL
             AND id NOT IN (SELECT MIN(id) FROM messages WHERE echo_id IS NOT NULL
                            GROUP BY conversation_id, sender_type, sender_id, echo_id);
         CREATE UNIQUE INDEX messages_echo_id_unique
           ON messages (conversation_id, sender_type, sender_id, echo_id)
           WHERE echo_id IS NOT NULL;",
    )
}

/// Migration 4: a snoozed conversation may name when it wakes (Chatwoot's `snoozed_until`;
/// NULL while snoozed means until the customer's next message), and a conversation may have
/// a priority (`low`, `medium`, `high`, `urgent`, or NULL). The partial index serves the
/// task that reopens due snoozes (`conversation_state::reopen_due_snoozes`).
/// It may run on a schema that has the column already (a database whose `user_version` was
/// set back, as the upgrade tests do), so it adds only what is missing.
fn conversation_snooze(c: &Connection) -> DbResult<()> {
    let has_column: bool = c.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('conversations') WHERE name = 'snoozed_until'",
        [],
        |r| r.get(0),
    )?;
    if !has_column {
        c.execute_batch(
            "ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
             ALTER TABLE conversations ADD COLUMN priority TEXT;",
        )?;
    }
    c.execute_batch(
        "CREATE INDEX IF NOT EXISTS conversations_by_snooze ON conversations (snoozed_until)
           WHERE status = 'snoozed' AND snoozed_until IS NOT NULL;",
    )
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Rows

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// Empty unless the user came from a request's credentials (`auth::AuthUser`): the
    /// database keeps only digests.
    pub access_token: String,
    /// The pubsub token that goes with `access_token`; empty with it.
    pub pubsub_token: String,
}

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub account: AccountRow,
    pub role: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct InboxRow {
    pub id: i64,
    pub account_id: i64,
    pub channel_type: String,
    pub inbox_identifier: String,
}

#[derive(Debug, Clone)]
pub struct ContactRow {
    pub id: i64,
    pub account_id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    pub created_at: i64,
    pub last_activity_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ContactInboxRow {
    pub id: i64,
    pub contact_id: i64,
    pub inbox_id: i64,
    pub source_id: String,
    /// Derived from `source_id` (`credentials::contact_pubsub_token`), not stored.
    pub pubsub_token: String,
    /// What is stored: the digest the cable hub subscribes the contact under.
    pub pubsub_key: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: i64,
    pub account_id: i64,
    pub inbox_id: i64,
    pub display_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: i64,
    pub assignee_id: Option<i64>,
    pub status: String,
    pub uuid: String,
    pub agent_last_seen_at: Option<i64>,
    pub assignee_last_seen_at: Option<i64>,
    pub contact_last_seen_at: Option<i64>,
    pub first_reply_created_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub last_activity_at: i64,
    pub additional_attributes: Value,
    pub created_at: i64,
    pub updated_at: i64,
    /// When a snoozed conversation reopens (ms); None unless snoozed with a time.
    pub snoozed_until: Option<i64>,
    /// `low`, `medium`, `high` or `urgent`.
    pub priority: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: i64,
    pub account_id: i64,
    pub inbox_id: i64,
    pub conversation_id: i64,
    pub message_type: i64,
    pub content_type: String,
    pub content: Option<String>,
    pub status: String,
    pub private: bool,
    pub content_attributes: Value,
    pub sender_type: Option<String>,
    pub sender_id: Option<i64>,
    pub source_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The `echo_id` of the request that created it, if any.
    pub echo_id: Option<String>,
}

pub const INCOMING: i64 = 0;
pub const OUTGOING: i64 = 1;
pub const ACTIVITY: i64 = 2;

#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub id: i64,
    pub message_id: i64,
    pub account_id: i64,
    pub content_type: String,
    pub filename: String,
    pub extension: Option<String>,
    pub token: String,
    pub stored_name: String,
    pub file_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CannedRow {
    pub id: i64,
    pub account_id: i64,
    pub short_code: String,
    pub content: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn json_col(s: String) -> Value {
    serde_json::from_str(&s).unwrap_or_else(|_| Value::Object(Default::default()))
}

// ---------------------------------------------------------------------------------------
// Settings

pub fn setting(c: &Connection, key: &str) -> DbResult<Option<String>> {
    c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

pub fn set_setting(c: &Connection, key: &str, value: &str) -> DbResult<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Accounts and users

pub fn insert_account(c: &Connection, name: &str, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO accounts (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn account(c: &Connection, id: i64) -> DbResult<Option<AccountRow>> {
    c.query_row("SELECT id, name FROM accounts WHERE id = ?1", [id], |r| {
        Ok(AccountRow {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })
    .optional()
}

pub fn account_count(c: &Connection) -> DbResult<i64> {
    c.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
}

const USER_COLS: &str = "users.id, users.name, users.email";

fn map_user(r: &Row) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        access_token: String::new(),
        pubsub_token: String::new(),
    })
}

pub struct NewUser<'a> {
    pub name: &'a str,
    pub email: &'a str,
    /// An argon2id PHC string (`credentials::hash_password`).
    pub password_hash: &'a str,
}

pub fn insert_user(c: &Connection, u: &NewUser, now: i64) -> DbResult<i64> {
    // The old token columns are unused (migration 1) but NOT NULL UNIQUE.
    c.execute(
        "INSERT INTO users (name, email, password_salt, password_hash, password_scheme,
           access_token, pubsub_token, created_at)
         VALUES (?1, ?2, '', ?3, ?4, 'unused:' || lower(hex(randomblob(16))),
           'unused:' || lower(hex(randomblob(16))), ?5)",
        params![u.name, u.email, u.password_hash, SCHEME_ARGON2, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn add_account_user(
    c: &Connection,
    account_id: i64,
    user_id: i64,
    role: &str,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "INSERT OR IGNORE INTO account_users (account_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![account_id, user_id, role, now],
    )?;
    Ok(())
}

pub fn user(c: &Connection, id: i64) -> DbResult<Option<UserRow>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        [id],
        map_user,
    )
    .optional()
}

pub fn user_by_email(c: &Connection, email: &str) -> DbResult<Option<UserRow>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE email = ?1 COLLATE NOCASE"),
        [email],
        map_user,
    )
    .optional()
}

/// The owner of a live access token, found by the token's digest.
pub fn user_by_access_token(c: &Connection, token: &str, now: i64) -> DbResult<Option<UserRow>> {
    c.query_row(
        &format!(
            "SELECT {USER_COLS} FROM access_tokens t JOIN users ON users.id = t.user_id
             WHERE t.token_sha256 = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)"
        ),
        params![credentials::sha256_hex(token), now],
        map_user,
    )
    .optional()
}

/// The agent whose live access token this pubsub token goes with.
pub fn user_by_pubsub_token(c: &Connection, token: &str) -> DbResult<Option<UserRow>> {
    c.query_row(
        &format!(
            "SELECT {USER_COLS} FROM access_tokens t JOIN users ON users.id = t.user_id
             WHERE t.pubsub_sha256 = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)"
        ),
        params![credentials::pubsub_key(token), now_ms()],
        map_user,
    )
    .optional()
}

/// `access_tokens.kind`: the agent's token from `--agent-token` or `--demo` (one per user).
pub const TOKEN_CONFIGURED: &str = "configured";
/// `access_tokens.kind`: given by a password sign-in, with the session's expiry.
pub const TOKEN_SIGN_IN: &str = "sign_in";
/// devise_token_auth's `max_number_of_devices`: sign-in tokens kept per user.
const MAX_SIGN_IN_TOKENS: i64 = 10;

/// Stores a token's digest (and its pubsub token's). Sign-in tokens beyond the newest
/// [`MAX_SIGN_IN_TOKENS`] of the user, and expired ones, are removed.
pub fn insert_access_token(
    c: &Connection,
    user_id: i64,
    token: &str,
    kind: &str,
    expires_at: Option<i64>,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "INSERT INTO access_tokens (token_sha256, user_id, pubsub_sha256, kind, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            credentials::sha256_hex(token),
            user_id,
            credentials::pubsub_key(&credentials::agent_pubsub_token(token)),
            kind,
            now,
            expires_at
        ],
    )?;
    c.execute(
        "DELETE FROM access_tokens WHERE user_id = ?1 AND (expires_at <= ?2 OR rowid IN (
           SELECT rowid FROM access_tokens WHERE user_id = ?1 AND kind = ?3
           ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?4))",
        params![user_id, now, TOKEN_SIGN_IN, MAX_SIGN_IN_TOKENS],
    )?;
    Ok(())
}

/// Makes `token` the user's configured token, ending the previous one (unless it is the
/// same token, which keeps its row).
pub fn set_configured_token(c: &Connection, user_id: i64, token: &str, now: i64) -> DbResult<()> {
    let digest = credentials::sha256_hex(token);
    c.execute(
        "DELETE FROM access_tokens WHERE user_id = ?1 AND kind = ?2 AND token_sha256 != ?3",
        params![user_id, TOKEN_CONFIGURED, digest],
    )?;
    let kept: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM access_tokens WHERE token_sha256 = ?1)",
        [&digest],
        |r| r.get(0),
    )?;
    if !kept {
        insert_access_token(c, user_id, token, TOKEN_CONFIGURED, None, now)?;
    }
    Ok(())
}

/// The cable keys of every live token of the account's agents: whom an account's
/// broadcasts go to.
pub fn agent_pubsub_keys(c: &Connection, account_id: i64) -> DbResult<Vec<String>> {
    let mut st = c.prepare(
        "SELECT t.pubsub_sha256 FROM access_tokens t
         JOIN account_users au ON au.user_id = t.user_id
         WHERE au.account_id = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)",
    )?;
    let rows = st.query_map(params![account_id, now_ms()], |r| r.get(0))?;
    rows.collect()
}

/// The cable keys of one agent's live tokens.
pub fn user_pubsub_keys(c: &Connection, user_id: i64) -> DbResult<Vec<String>> {
    let mut st = c.prepare(
        "SELECT pubsub_sha256 FROM access_tokens
         WHERE user_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
    )?;
    let rows = st.query_map(params![user_id, now_ms()], |r| r.get(0))?;
    rows.collect()
}

/// A user's stored password.
pub struct PasswordRow {
    /// An argon2 PHC string.
    pub hash: String,
    /// [`SCHEME_ARGON2`] or [`SCHEME_LEGACY_WRAPPED`].
    pub scheme: String,
    /// The legacy digest's salt (empty for plain argon2id).
    pub salt: String,
}

pub fn user_password(c: &Connection, user_id: i64) -> DbResult<Option<PasswordRow>> {
    c.query_row(
        "SELECT password_hash, password_scheme, password_salt FROM users WHERE id = ?1",
        [user_id],
        |r| {
            Ok(PasswordRow {
                hash: r.get(0)?,
                scheme: r.get(1)?,
                salt: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Stores a plain argon2id PHC string (after a legacy password was typed right).
pub fn set_password(c: &Connection, user_id: i64, phc: &str) -> DbResult<()> {
    c.execute(
        "UPDATE users SET password_hash = ?2, password_scheme = ?3, password_salt = '' WHERE id = ?1",
        params![user_id, phc, SCHEME_ARGON2],
    )?;
    Ok(())
}

pub fn memberships(c: &Connection, user_id: i64) -> DbResult<Vec<MembershipRow>> {
    let mut st = c.prepare(
        "SELECT a.id, a.name, au.role, au.created_at FROM account_users au
         JOIN accounts a ON a.id = au.account_id WHERE au.user_id = ?1 ORDER BY a.id",
    )?;
    let rows = st.query_map([user_id], |r| {
        Ok(MembershipRow {
            account: AccountRow {
                id: r.get(0)?,
                name: r.get(1)?,
            },
            role: r.get(2)?,
            created_at: r.get(3)?,
        })
    })?;
    rows.collect()
}

pub fn is_member(c: &Connection, account_id: i64, user_id: i64) -> DbResult<bool> {
    Ok(c.query_row(
        "SELECT 1 FROM account_users WHERE account_id = ?1 AND user_id = ?2",
        params![account_id, user_id],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

pub fn account_users(c: &Connection, account_id: i64) -> DbResult<Vec<UserRow>> {
    let mut st = c.prepare(
        "SELECT u.id, u.name, u.email
         FROM account_users au JOIN users u ON u.id = au.user_id
         WHERE au.account_id = ?1 ORDER BY u.id",
    )?;
    let rows = st.query_map([account_id], map_user)?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------
// Devise sessions (access-token + client + uid)

pub fn insert_session(
    c: &Connection,
    client: &str,
    user_id: i64,
    token_hash: &str,
    expiry: i64,
) -> DbResult<()> {
    c.execute(
        "INSERT INTO sessions (client, user_id, token_hash, expiry) VALUES (?1, ?2, ?3, ?4)",
        params![client, user_id, token_hash, expiry],
    )?;
    // A session lives as long as the access token sign-in gave with it (expired or beyond
    // the newest ten): one row per live sign-in, not one per sign-in ever.
    c.execute(
        "DELETE FROM sessions WHERE user_id = ?1
           AND token_hash NOT IN (SELECT token_sha256 FROM access_tokens WHERE user_id = ?1)",
        [user_id],
    )?;
    Ok(())
}

/// (user_id, token_hash, expiry) of a devise client.
pub fn session(c: &Connection, client: &str) -> DbResult<Option<(i64, String, i64)>> {
    c.query_row(
        "SELECT user_id, token_hash, expiry FROM sessions WHERE client = ?1",
        [client],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

// ---------------------------------------------------------------------------------------
// Inboxes, contacts

pub fn insert_inbox(
    c: &Connection,
    account_id: i64,
    name: &str,
    channel_type: &str,
    identifier: &str,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO inboxes (account_id, name, channel_type, inbox_identifier) VALUES (?1, ?2, ?3, ?4)",
        params![account_id, name, channel_type, identifier],
    )?;
    Ok(c.last_insert_rowid())
}

const INBOX_COLS: &str = "id, account_id, channel_type, inbox_identifier";

fn map_inbox(r: &Row) -> rusqlite::Result<InboxRow> {
    Ok(InboxRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        channel_type: r.get(2)?,
        inbox_identifier: r.get(3)?,
    })
}

pub fn inbox(c: &Connection, id: i64) -> DbResult<Option<InboxRow>> {
    c.query_row(
        &format!("SELECT {INBOX_COLS} FROM inboxes WHERE id = ?1"),
        [id],
        map_inbox,
    )
    .optional()
}

pub fn inbox_by_identifier(c: &Connection, identifier: &str) -> DbResult<Option<InboxRow>> {
    c.query_row(
        &format!("SELECT {INBOX_COLS} FROM inboxes WHERE inbox_identifier = ?1"),
        [identifier],
        map_inbox,
    )
    .optional()
}

pub fn first_inbox(c: &Connection, account_id: i64) -> DbResult<Option<InboxRow>> {
    c.query_row(
        &format!("SELECT {INBOX_COLS} FROM inboxes WHERE account_id = ?1 ORDER BY id LIMIT 1"),
        [account_id],
        map_inbox,
    )
    .optional()
}

pub struct NewContact<'a> {
    pub account_id: i64,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub identifier: Option<&'a str>,
}

pub fn insert_contact(c: &Connection, n: &NewContact, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO contacts (account_id, name, email, phone_number, identifier, created_at, last_activity_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![n.account_id, n.name, n.email, n.phone_number, n.identifier, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn contact(c: &Connection, id: i64) -> DbResult<Option<ContactRow>> {
    c.query_row(
        "SELECT id, account_id, name, email, phone_number, identifier, created_at, last_activity_at
         FROM contacts WHERE id = ?1",
        [id],
        |r| {
            Ok(ContactRow {
                id: r.get(0)?,
                account_id: r.get(1)?,
                name: r.get(2)?,
                email: r.get(3)?,
                phone_number: r.get(4)?,
                identifier: r.get(5)?,
                created_at: r.get(6)?,
                last_activity_at: r.get(7)?,
            })
        },
    )
    .optional()
}

pub fn touch_contact(c: &Connection, id: i64, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE contacts SET last_activity_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// The contact inbox's pubsub token is derived from `source_id`; only its digest is stored.
pub fn insert_contact_inbox(
    c: &Connection,
    contact_id: i64,
    inbox_id: i64,
    source_id: &str,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, pubsub_token, pubsub_sha256,
           created_at, updated_at)
         VALUES (?1, ?2, ?3, 'unused:' || lower(hex(randomblob(16))), ?4, ?5, ?5)",
        params![
            contact_id,
            inbox_id,
            source_id,
            credentials::pubsub_key(&credentials::contact_pubsub_token(source_id)),
            now
        ],
    )?;
    Ok(c.last_insert_rowid())
}

const CI_COLS: &str = "id, contact_id, inbox_id, source_id, pubsub_sha256, created_at, updated_at";

fn map_ci(r: &Row) -> rusqlite::Result<ContactInboxRow> {
    let source_id: String = r.get(3)?;
    Ok(ContactInboxRow {
        id: r.get(0)?,
        contact_id: r.get(1)?,
        inbox_id: r.get(2)?,
        pubsub_token: credentials::contact_pubsub_token(&source_id),
        source_id,
        pubsub_key: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub fn contact_inbox(c: &Connection, id: i64) -> DbResult<Option<ContactInboxRow>> {
    c.query_row(
        &format!("SELECT {CI_COLS} FROM contact_inboxes WHERE id = ?1"),
        [id],
        map_ci,
    )
    .optional()
}

pub fn contact_inbox_by_source(
    c: &Connection,
    inbox_id: i64,
    source_id: &str,
) -> DbResult<Option<ContactInboxRow>> {
    c.query_row(
        &format!("SELECT {CI_COLS} FROM contact_inboxes WHERE inbox_id = ?1 AND source_id = ?2"),
        params![inbox_id, source_id],
        map_ci,
    )
    .optional()
}

pub fn contact_inbox_by_pubsub(c: &Connection, token: &str) -> DbResult<Option<ContactInboxRow>> {
    c.query_row(
        &format!("SELECT {CI_COLS} FROM contact_inboxes WHERE pubsub_sha256 = ?1"),
        [credentials::pubsub_key(token)],
        map_ci,
    )
    .optional()
}

// ---------------------------------------------------------------------------------------
// Conversations

const CONV_COLS: &str = "id, account_id, inbox_id, display_id, contact_id, contact_inbox_id, assignee_id,
  status, uuid, agent_last_seen_at, assignee_last_seen_at, contact_last_seen_at,
  first_reply_created_at, waiting_since, last_activity_at, additional_attributes, created_at, updated_at,
  snoozed_until, priority";

fn map_conv(r: &Row) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        inbox_id: r.get(2)?,
        display_id: r.get(3)?,
        contact_id: r.get(4)?,
        contact_inbox_id: r.get(5)?,
        assignee_id: r.get(6)?,
        status: r.get(7)?,
        uuid: r.get(8)?,
        agent_last_seen_at: r.get(9)?,
        assignee_last_seen_at: r.get(10)?,
        contact_last_seen_at: r.get(11)?,
        first_reply_created_at: r.get(12)?,
        waiting_since: r.get(13)?,
        last_activity_at: r.get(14)?,
        additional_attributes: json_col(r.get(15)?),
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
        snoozed_until: r.get(18)?,
        priority: r.get(19)?,
    })
}

pub struct NewConversation<'a> {
    pub account_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: i64,
    pub assignee_id: Option<i64>,
    pub status: &'a str,
    pub uuid: &'a str,
    pub additional_attributes: &'a Value,
}

/// Inserts with the next per-account display id (Chatwoot's `display_id` sequence).
pub fn insert_conversation(c: &Connection, n: &NewConversation, now: i64) -> DbResult<i64> {
    let display_id: i64 = c.query_row(
        "SELECT COALESCE(MAX(display_id), 0) + 1 FROM conversations WHERE account_id = ?1",
        [n.account_id],
        |r| r.get(0),
    )?;
    c.execute(
        "INSERT INTO conversations (account_id, inbox_id, display_id, contact_id, contact_inbox_id,
           assignee_id, status, uuid, last_activity_at, additional_attributes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9, ?9)",
        params![
            n.account_id,
            n.inbox_id,
            display_id,
            n.contact_id,
            n.contact_inbox_id,
            n.assignee_id,
            n.status,
            n.uuid,
            now,
            n.additional_attributes.to_string()
        ],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn conversation(c: &Connection, id: i64) -> DbResult<Option<ConversationRow>> {
    c.query_row(
        &format!("SELECT {CONV_COLS} FROM conversations WHERE id = ?1"),
        [id],
        map_conv,
    )
    .optional()
}

pub fn conversation_by_display_id(
    c: &Connection,
    account_id: i64,
    display_id: i64,
) -> DbResult<Option<ConversationRow>> {
    c.query_row(
        &format!("SELECT {CONV_COLS} FROM conversations WHERE account_id = ?1 AND display_id = ?2"),
        params![account_id, display_id],
        map_conv,
    )
    .optional()
}

/// Which conversations the agent's list starts from (Chatwoot's `ConversationFinder`):
/// one account, one status or all, optionally one inbox.
pub struct ConversationFilter<'a> {
    pub account_id: i64,
    pub status: Option<&'a str>,
    pub inbox_id: Option<i64>,
}

/// The list's `assignee_type` tab.
#[derive(Debug, Clone, Copy)]
pub enum AssigneeTab {
    All,
    Mine(i64),
    Unassigned,
    Assigned,
}

/// The list's four counts (`meta`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConversationCounts {
    pub mine: i64,
    pub assigned: i64,
    pub unassigned: i64,
    pub all: i64,
}

/// SQL values with numbered placeholders, for queries whose conditions vary.
#[derive(Default)]
struct Bound(Vec<rusqlite::types::Value>);

impl Bound {
    /// Adds a value and returns its placeholder (`?N`).
    fn push(&mut self, v: impl Into<rusqlite::types::Value>) -> String {
        self.0.push(v.into());
        format!("?{}", self.0.len())
    }
}

impl ConversationFilter<'_> {
    /// The WHERE clause; written out per case (rather than `?2 IS NULL OR ...`) so SQLite
    /// can use the list's indexes.
    fn clause(&self, bound: &mut Bound) -> String {
        let mut sql = format!("account_id = {}", bound.push(self.account_id));
        if let Some(status) = self.status {
            sql.push_str(&format!(" AND status = {}", bound.push(status.to_owned())));
        }
        if let Some(inbox) = self.inbox_id {
            sql.push_str(&format!(" AND inbox_id = {}", bound.push(inbox)));
        }
        sql
    }
}

/// The four counts, counted by SQLite.
pub fn conversation_counts(
    c: &Connection,
    f: &ConversationFilter,
    user_id: i64,
) -> DbResult<ConversationCounts> {
    let mut bound = Bound::default();
    let cond = f.clause(&mut bound);
    let user = bound.push(user_id);
    c.query_row(
        &format!(
            "SELECT COUNT(*), COALESCE(SUM(assignee_id = {user}), 0),
               COALESCE(SUM(assignee_id IS NOT NULL), 0), COALESCE(SUM(assignee_id IS NULL), 0)
             FROM conversations WHERE {cond}"
        ),
        rusqlite::params_from_iter(bound.0),
        |r| {
            Ok(ConversationCounts {
                all: r.get(0)?,
                mine: r.get(1)?,
                assigned: r.get(2)?,
                unassigned: r.get(3)?,
            })
        },
    )
}

/// One page of the list, newest activity first.
pub fn conversation_page(
    c: &Connection,
    f: &ConversationFilter,
    tab: AssigneeTab,
    offset: usize,
    limit: usize,
) -> DbResult<Vec<ConversationRow>> {
    let mut bound = Bound::default();
    let mut cond = f.clause(&mut bound);
    match tab {
        AssigneeTab::All => {}
        AssigneeTab::Mine(user) => {
            cond.push_str(&format!(" AND assignee_id = {}", bound.push(user)))
        }
        AssigneeTab::Unassigned => cond.push_str(" AND assignee_id IS NULL"),
        AssigneeTab::Assigned => cond.push_str(" AND assignee_id IS NOT NULL"),
    }
    let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let limit = bound.push(as_i64(limit));
    let offset = bound.push(as_i64(offset));
    let mut st = c.prepare(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE {cond}
         ORDER BY last_activity_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
    ))?;
    let rows = st.query_map(rusqlite::params_from_iter(bound.0), map_conv)?;
    rows.collect()
}

pub fn conversations_of_contact_inbox(
    c: &Connection,
    contact_inbox_id: i64,
) -> DbResult<Vec<ConversationRow>> {
    let mut st = c.prepare(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE contact_inbox_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([contact_inbox_id], map_conv)?;
    rows.collect()
}

pub fn set_agent_last_seen(c: &Connection, id: i64, at: i64, also_assignee: bool) -> DbResult<()> {
    // `update_column` in Chatwoot: no `updated_at` bump, no callbacks.
    c.execute(
        "UPDATE conversations SET agent_last_seen_at = ?2,
           assignee_last_seen_at = CASE WHEN ?3 THEN ?2 ELSE assignee_last_seen_at END
         WHERE id = ?1",
        params![id, at, also_assignee],
    )?;
    Ok(())
}

pub fn set_contact_last_seen(c: &Connection, id: i64, at: i64) -> DbResult<()> {
    c.execute(
        "UPDATE conversations SET contact_last_seen_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// What a new message changes on its conversation (activity time, first reply, waiting).
pub fn note_message_activity(c: &Connection, m: &MessageRow) -> DbResult<()> {
    let is_reply = m.message_type == OUTGOING && !m.private && m.sender_type.is_some();
    c.execute(
        "UPDATE conversations SET
           updated_at = ?2,
           last_activity_at = CASE WHEN ?3 THEN last_activity_at ELSE ?2 END,
           first_reply_created_at = CASE WHEN ?4 AND first_reply_created_at IS NULL THEN ?2 ELSE first_reply_created_at END,
           waiting_since = CASE WHEN ?4 THEN NULL WHEN ?5 AND waiting_since IS NULL THEN ?2 ELSE waiting_since END
         WHERE id = ?1",
        params![
            m.conversation_id,
            m.created_at,
            m.message_type == ACTIVITY,
            is_reply,
            m.message_type == INCOMING
        ],
    )?;
    Ok(())
}

pub fn unread_incoming_count(c: &Connection, conv: &ConversationRow) -> DbResult<i64> {
    // Chatwoot counts `.last(10)`, so the number is capped at 10.
    c.query_row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE conversation_id = ?1 AND message_type = 0
           AND created_at > ?2 LIMIT 10)",
        params![conv.id, conv.agent_last_seen_at.unwrap_or(0)],
        |r| r.get(0),
    )
}

/// A status change as Chatwoot's `save!` makes it: `snoozed_until` is kept only while
/// snoozed (`ensure_snooze_until_reset`), resolving clears `waiting_since`
/// (`handle_resolved_status_change`), and `updated_at` moves.
pub fn set_conversation_status(
    c: &Connection,
    id: i64,
    status: &str,
    snoozed_until: Option<i64>,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "UPDATE conversations SET status = ?2,
           snoozed_until = CASE WHEN ?2 = 'snoozed' THEN ?3 ELSE NULL END,
           waiting_since = CASE WHEN ?2 = 'resolved' THEN NULL ELSE waiting_since END,
           updated_at = ?4
         WHERE id = ?1",
        params![id, status, snoozed_until, now],
    )?;
    Ok(())
}

pub fn set_conversation_assignee(
    c: &Connection,
    id: i64,
    assignee_id: Option<i64>,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "UPDATE conversations SET assignee_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, assignee_id, now],
    )?;
    Ok(())
}

pub fn set_conversation_priority(
    c: &Connection,
    id: i64,
    priority: Option<&str>,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "UPDATE conversations SET priority = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, priority, now],
    )?;
    Ok(())
}

/// Both agent read markers at once, as Chatwoot's `unread` writes them (`update_columns`:
/// no `updated_at`, no event); None clears them, which makes every message unread.
pub fn set_agent_read_markers(c: &Connection, id: i64, at: Option<i64>) -> DbResult<()> {
    c.execute(
        "UPDATE conversations SET agent_last_seen_at = ?2, assignee_last_seen_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// `created_at` of the conversation's last incoming message (`messages.incoming.last`).
pub fn last_incoming_created_at(c: &Connection, conversation_id: i64) -> DbResult<Option<i64>> {
    c.query_row(
        "SELECT created_at FROM messages WHERE conversation_id = ?1 AND message_type = ?2
         ORDER BY id DESC LIMIT 1",
        params![conversation_id, INCOMING],
        |r| r.get(0),
    )
    .optional()
}

/// The snoozed conversations whose time has come, oldest first, a batch at a time.
pub fn due_snoozes(c: &Connection, now: i64, limit: i64) -> DbResult<Vec<ConversationRow>> {
    let mut st = c.prepare(&format!(
        "SELECT {CONV_COLS} FROM conversations
         WHERE status = 'snoozed' AND snoozed_until IS NOT NULL AND snoozed_until <= ?1
         ORDER BY snoozed_until LIMIT ?2"
    ))?;
    let rows = st.query_map(params![now, limit], map_conv)?;
    rows.collect()
}

/// The earliest snooze still to come.
pub fn next_snooze(c: &Connection) -> DbResult<Option<i64>> {
    c.query_row(
        "SELECT MIN(snoozed_until) FROM conversations
         WHERE status = 'snoozed' AND snoozed_until IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// An agent of the account with their role there (`administrator` or `agent`).
pub fn account_agent(
    c: &Connection,
    account_id: i64,
    user_id: i64,
) -> DbResult<Option<(UserRow, String)>> {
    c.query_row(
        "SELECT u.id, u.name, u.email, au.role
         FROM account_users au JOIN users u ON u.id = au.user_id
         WHERE au.account_id = ?1 AND au.user_id = ?2",
        params![account_id, user_id],
        |r| Ok((map_user(r)?, r.get(3)?)),
    )
    .optional()
}

/// The account's agents with their roles, by name as Chatwoot's `order_by_full_name`.
pub fn account_agents(c: &Connection, account_id: i64) -> DbResult<Vec<(UserRow, String)>> {
    let mut st = c.prepare(
        "SELECT u.id, u.name, u.email, au.role
         FROM account_users au JOIN users u ON u.id = au.user_id
         WHERE au.account_id = ?1 ORDER BY lower(u.name), u.id",
    )?;
    let rows = st.query_map([account_id], |r| Ok((map_user(r)?, r.get(3)?)))?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------
// Messages

const MSG_COLS: &str =
    "id, account_id, inbox_id, conversation_id, message_type, content_type, content,
  status, private, content_attributes, sender_type, sender_id, source_id, created_at, updated_at,
  echo_id";

fn map_msg(r: &Row) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        inbox_id: r.get(2)?,
        conversation_id: r.get(3)?,
        message_type: r.get(4)?,
        content_type: r.get(5)?,
        content: r.get(6)?,
        status: r.get(7)?,
        private: r.get(8)?,
        content_attributes: json_col(r.get(9)?),
        sender_type: r.get(10)?,
        sender_id: r.get(11)?,
        source_id: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        echo_id: r.get(15)?,
    })
}

pub struct NewMessage<'a> {
    pub conversation: &'a ConversationRow,
    pub message_type: i64,
    pub content_type: &'a str,
    pub content: Option<&'a str>,
    pub status: &'a str,
    pub private: bool,
    pub content_attributes: &'a Value,
    pub sender_type: Option<&'a str>,
    pub sender_id: Option<i64>,
    pub echo_id: Option<&'a str>,
}

pub fn insert_message(c: &Connection, n: &NewMessage, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content_type, content,
           status, private, content_attributes, sender_type, sender_id, echo_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
        params![
            n.conversation.account_id,
            n.conversation.inbox_id,
            n.conversation.id,
            n.message_type,
            n.content_type,
            n.content,
            n.status,
            n.private,
            n.content_attributes.to_string(),
            n.sender_type,
            n.sender_id,
            n.echo_id,
            now
        ],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn message(c: &Connection, id: i64) -> DbResult<Option<MessageRow>> {
    c.query_row(
        &format!("SELECT {MSG_COLS} FROM messages WHERE id = ?1"),
        [id],
        map_msg,
    )
    .optional()
}

pub fn message_in_conversation(
    c: &Connection,
    conversation_id: i64,
    id: i64,
) -> DbResult<Option<MessageRow>> {
    c.query_row(
        &format!("SELECT {MSG_COLS} FROM messages WHERE id = ?1 AND conversation_id = ?2"),
        params![id, conversation_id],
        map_msg,
    )
    .optional()
}

/// The message this sender created with `echo_id` in this conversation: never another
/// sender's (a contact reusing an agent's echo_id must not get the agent's message back).
pub fn message_by_echo_id(
    c: &Connection,
    conversation_id: i64,
    sender_type: &str,
    sender_id: i64,
    echo_id: &str,
) -> DbResult<Option<MessageRow>> {
    c.query_row(
        &format!(
            "SELECT {MSG_COLS} FROM messages WHERE conversation_id = ?1 AND sender_type = ?2
               AND sender_id = ?3 AND echo_id = ?4 ORDER BY id LIMIT 1"
        ),
        params![conversation_id, sender_type, sender_id, echo_id],
        map_msg,
    )
    .optional()
}

/// Which slice of a conversation `GET .../messages` returns (Chatwoot's `MessageFinder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePage {
    /// The newest 20.
    Latest,
    /// The 20 before this id.
    Before(i64),
    /// Up to 100 after this id.
    After(i64),
    /// Up to 1000 with `after <= id < before`.
    Between { after: i64, before: i64 },
    /// The newest n (the customer page's history).
    Recent(u32),
}

/// Messages of a page, ascending by (created_at, id). `public_only` drops private notes and
/// activity messages (what a contact may see).
pub fn messages_page(
    c: &Connection,
    conversation_id: i64,
    page: MessagePage,
    public_only: bool,
) -> DbResult<Vec<MessageRow>> {
    let filter = if public_only {
        "AND private = 0 AND message_type != 2"
    } else {
        ""
    };
    let (cond, order, limit, reverse) = match page {
        MessagePage::Latest => ("1 = 1".to_owned(), "DESC", 20, true),
        MessagePage::Recent(n) => ("1 = 1".to_owned(), "DESC", n, true),
        MessagePage::Before(b) => (format!("id < {b}"), "DESC", 20, true),
        MessagePage::After(a) => (format!("id > {a}"), "ASC", 100, false),
        MessagePage::Between { after, before } => (
            format!("id >= {after} AND id < {before}"),
            "ASC",
            1000,
            false,
        ),
    };
    let sql = format!(
        "SELECT {MSG_COLS} FROM messages WHERE conversation_id = ?1 AND {cond} {filter}
         ORDER BY created_at {order}, id {order} LIMIT {limit}"
    );
    let mut st = c.prepare(&sql)?;
    let mut rows = st
        .query_map([conversation_id], map_msg)?
        .collect::<DbResult<Vec<_>>>()?;
    if reverse {
        rows.reverse();
    }
    Ok(rows)
}

/// The newest message of a conversation; `chat_only` skips private notes and activity.
pub fn last_message(
    c: &Connection,
    conversation_id: i64,
    chat_only: bool,
) -> DbResult<Option<MessageRow>> {
    let filter = if chat_only {
        "AND private = 0 AND message_type != 2"
    } else {
        ""
    };
    c.query_row(
        &format!(
            "SELECT {MSG_COLS} FROM messages WHERE conversation_id = ?1 {filter}
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        [conversation_id],
        map_msg,
    )
    .optional()
}

pub fn last_non_activity_message(
    c: &Connection,
    conversation_id: i64,
) -> DbResult<Option<MessageRow>> {
    c.query_row(
        &format!(
            "SELECT {MSG_COLS} FROM messages WHERE conversation_id = ?1 AND message_type != 2
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        [conversation_id],
        map_msg,
    )
    .optional()
}

pub fn update_message_content(
    c: &Connection,
    id: i64,
    content: Option<&str>,
    content_type: &str,
    content_attributes: &Value,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "UPDATE messages SET content = ?2, content_type = ?3, content_attributes = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, content, content_type, content_attributes.to_string(), now],
    )?;
    Ok(())
}

/// Outgoing and template messages (not private) still `sent`/`delivered` and created at or
/// before `at`: what a contact's read turns into `read`.
pub fn unread_replies_until(
    c: &Connection,
    conversation_id: i64,
    at: i64,
) -> DbResult<Vec<MessageRow>> {
    let mut st = c.prepare(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE conversation_id = ?1 AND message_type IN (1, 3)
           AND private = 0 AND status IN ('sent', 'delivered') AND created_at <= ?2
         ORDER BY created_at, id"
    ))?;
    let rows = st.query_map(params![conversation_id, at], map_msg)?;
    rows.collect()
}

pub fn set_message_status(c: &Connection, id: i64, status: &str, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE messages SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status, now],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Attachments

pub struct NewAttachment<'a> {
    pub message_id: i64,
    pub account_id: i64,
    pub file_type: &'a str,
    pub content_type: &'a str,
    pub filename: &'a str,
    pub extension: Option<&'a str>,
    pub token: &'a str,
    pub stored_name: &'a str,
    pub file_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

pub fn insert_attachment(c: &Connection, n: &NewAttachment, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO attachments (message_id, account_id, file_type, content_type, filename, extension,
           token, stored_name, file_size, width, height, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            n.message_id,
            n.account_id,
            n.file_type,
            n.content_type,
            n.filename,
            n.extension,
            n.token,
            n.stored_name,
            n.file_size,
            n.width,
            n.height,
            now
        ],
    )?;
    Ok(c.last_insert_rowid())
}

const ATT_COLS: &str = "id, message_id, account_id, content_type, filename, extension, token,
  stored_name, file_size, width, height";

fn map_att(r: &Row) -> rusqlite::Result<AttachmentRow> {
    Ok(AttachmentRow {
        id: r.get(0)?,
        message_id: r.get(1)?,
        account_id: r.get(2)?,
        content_type: r.get(3)?,
        filename: r.get(4)?,
        extension: r.get(5)?,
        token: r.get(6)?,
        stored_name: r.get(7)?,
        file_size: r.get(8)?,
        width: r.get(9)?,
        height: r.get(10)?,
    })
}

pub fn attachments_of(c: &Connection, message_id: i64) -> DbResult<Vec<AttachmentRow>> {
    let mut st = c.prepare(&format!(
        "SELECT {ATT_COLS} FROM attachments WHERE message_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([message_id], map_att)?;
    rows.collect()
}

pub fn attachment_by_token(c: &Connection, token: &str) -> DbResult<Option<AttachmentRow>> {
    c.query_row(
        &format!("SELECT {ATT_COLS} FROM attachments WHERE token = ?1"),
        [token],
        map_att,
    )
    .optional()
}

/// Deletes the rows and returns them, so the caller can remove the stored files.
pub fn delete_attachments_of(c: &Connection, message_id: i64) -> DbResult<Vec<AttachmentRow>> {
    let rows = attachments_of(c, message_id)?;
    c.execute(
        "DELETE FROM attachments WHERE message_id = ?1",
        [message_id],
    )?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Canned responses

pub fn insert_canned(
    c: &Connection,
    account_id: i64,
    short_code: &str,
    content: &str,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO canned_responses (account_id, short_code, content, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![account_id, short_code, content, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Chatwoot's `CannedResponse.search`: ILIKE on short_code or content, ranked short_code
/// prefix (1) over short_code contains (0.5) over content contains (0.2).
pub fn canned_responses(
    c: &Connection,
    account_id: i64,
    search: Option<&str>,
) -> DbResult<Vec<CannedRow>> {
    let map = |r: &Row| {
        Ok(CannedRow {
            id: r.get(0)?,
            account_id: r.get(1)?,
            short_code: r.get(2)?,
            content: r.get(3)?,
            created_at: r.get(4)?,
            updated_at: r.get(5)?,
        })
    };
    match search.filter(|s| !s.is_empty()) {
        None => {
            let mut st = c.prepare(
                "SELECT id, account_id, short_code, content, created_at, updated_at
                 FROM canned_responses WHERE account_id = ?1 ORDER BY id",
            )?;
            let rows = st.query_map([account_id], map)?;
            rows.collect()
        }
        Some(term) => {
            let escaped = term
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let contains = format!("%{escaped}%");
            let prefix = format!("{escaped}%");
            let mut st = c.prepare(
                "SELECT id, account_id, short_code, content, created_at, updated_at
                 FROM canned_responses
                 WHERE account_id = ?1 AND (short_code LIKE ?2 ESCAPE '\\' OR content LIKE ?2 ESCAPE '\\')
                 ORDER BY CASE WHEN short_code LIKE ?3 ESCAPE '\\' THEN 1.0
                               WHEN short_code LIKE ?2 ESCAPE '\\' THEN 0.5
                               ELSE 0.2 END DESC, id",
            )?;
            let rows = st.query_map(params![account_id, contains, prefix], map)?;
            rows.collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_keeps_its_newest_ten_sign_ins_and_its_configured_token() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        db.with(|c| {
            let user = insert_user(
                c,
                &NewUser {
                    name: "A",
                    email: "a@x.test",
                    password_hash: "$argon2id$unused",
                },
                0,
            )
            .unwrap();
            set_configured_token(c, user, "configured-token-0123456789", 1).unwrap();
            let tokens: Vec<String> = (0..12)
                .map(|i| format!("sign-in-token-{i:02}-abcdefghij"))
                .collect();
            for (i, t) in tokens.iter().enumerate() {
                let at = 10 + i as i64;
                insert_access_token(c, user, t, TOKEN_SIGN_IN, Some(i64::MAX), at).unwrap();
                insert_session(
                    c,
                    &format!("client-{i}"),
                    user,
                    &credentials::sha256_hex(t),
                    i64::MAX,
                )
                .unwrap();
            }
            let live = |t: &str| user_by_access_token(c, t, 100).unwrap().is_some();
            assert!(
                !live(&tokens[0]) && !live(&tokens[1]),
                "the oldest two ended"
            );
            assert!(tokens[2..].iter().all(|t| live(t)));
            assert!(live("configured-token-0123456789"));
            assert!(session(c, "client-0").unwrap().is_none(), "its session too");
            assert!(session(c, "client-11").unwrap().is_some());
            // An expired sign-in token no longer signs in.
            insert_access_token(
                c,
                user,
                "short-lived-token-0123456789",
                TOKEN_SIGN_IN,
                Some(50),
                20,
            )
            .unwrap();
            assert!(user_by_access_token(c, "short-lived-token-0123456789", 49)
                .unwrap()
                .is_some());
            assert!(user_by_access_token(c, "short-lived-token-0123456789", 50)
                .unwrap()
                .is_none());
        });
    }

    #[test]
    fn commits_are_durable_and_writers_wait_for_a_busy_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        db.with(|c| {
            let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
            assert_eq!(sync, 2, "synchronous = FULL");
            let wait: i64 = c
                .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
                .unwrap();
            assert!(wait >= 1000, "busy_timeout {wait} ms");
            let version: usize = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, MIGRATIONS.len());
        });
    }
}
