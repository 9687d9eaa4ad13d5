//! Parley's pure client logic: everything that decides something, with no browser APIs,
//! tested natively.

pub mod outbox;
