//! Parley's pure client logic: everything that decides something, with no browser APIs,
//! tested natively (`cargo test -p parley-core`).
//!
//! - [`store`]: one conversation's messages in display order; deduplication by id and
//!   `echo_id`, `(created_at, id)` ordering, statuses that never go backwards.
//! - [`outbox`]: the sans-IO send queue; persists before sending, retries with backoff,
//!   reconciles ambiguous failures so every message lands exactly once, in order.

pub mod outbox;
pub mod store;
