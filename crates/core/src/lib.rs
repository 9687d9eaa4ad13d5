//! Parley's pure client logic: everything that decides something, with no browser APIs,
//! tested natively (`cargo test -p parley-core`).
//!
//! - [`attachment`]: safe attachment URLs, names, sizes and reserved image boxes.
//! - [`gallery`]: the images the lightbox moves through, in display order.
//! - [`canned`]: the `/` picker's trigger, inserting a response, filling its variables.
//! - [`formatting`]: the rich text editor's commands (bold, lists, link…) as markdown edits.
//! - [`telemetry`]: the events reported to the embedder (never message text).
//! - [`store`]: one conversation's messages in display order; deduplication by id and
//!   `echo_id`, `(created_at, id)` ordering, statuses that never go backwards.
//! - [`markdown`]: message text to HTML that is safe in `innerHTML` (raw HTML as text,
//!   only http/https/mailto/tel links, no images loaded, bare URLs linked).
//! - [`timeline`]: the displayed log: day separators, the unread divider, sender groups.
//! - [`i18n`]: the message catalogs (en, ar, fr), locale negotiation, placeholders.
//! - [`voice`]: voice notes' length limit and warning, timer, meter, microphone errors,
//!   file name.
//! - [`viewport`]: the arithmetic of the virtualized list (windows, padding, anchoring).
//! - [`connection`]: the sans-IO ActionCable connection; subscribes, notices a dead socket
//!   by its silence, reconnects with jittered backoff, resyncs after an outage.
//! - [`outbox`]: the sans-IO send queue; persists before sending, retries with backoff,
//!   reconciles ambiguous failures so every message lands exactly once, in order.

pub mod attachment;
pub mod blocks;
pub mod canned;
pub mod connection;
pub mod formatting;
pub mod gallery;
pub mod i18n;
pub mod markdown;
pub mod outbox;
pub mod store;
pub mod telemetry;
pub mod timeline;
pub mod viewport;
pub mod voice;
