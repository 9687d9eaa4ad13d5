//! The app's state, by domain (as Chatwoot's dashboard store splits it): the session, the
//! open conversation and its messages, sending and the outbox, the live connection, typing.

pub mod agent_typing;
pub mod attaching;
pub mod canned;
pub mod chat;
pub mod connection;
pub mod conversation;
pub mod messages;
pub mod sending;
pub mod session;
pub mod typing;
pub mod voice_note;
