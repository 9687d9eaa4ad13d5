//! Thin adapters between the browser and the app: each turns browser callbacks into state
//! changes and core commands into browser calls, and decides nothing itself.

pub mod api;
pub mod cable;
pub mod clock;
pub mod host_events;
pub mod outbox_driver;
pub mod outbox_store;
pub mod page;
pub mod recorder;
pub mod resize;
pub mod socket;
pub mod storage;
pub mod tab_locks;
pub mod telemetry;
pub mod upload;
