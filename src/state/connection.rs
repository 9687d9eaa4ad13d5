//! The live connection as the agent sees it. The status itself is decided in
//! `parley_core::connection`; here is only what the banner says about it.

/// `data-state` of `connection-state` is [`ConnectionState::as_str`].
pub use parley_core::connection::ConnectionStatus as ConnectionState;

use crate::i18n::t;

/// What the banner says; `None` when there is nothing to say.
pub fn banner_message(state: ConnectionState) -> Option<&'static str> {
    match state {
        ConnectionState::Connected => None,
        ConnectionState::Connecting => Some(t("connection.connecting")),
        ConnectionState::Reconnecting => Some(t("connection.reconnecting")),
        ConnectionState::Offline => Some(t("connection.offline")),
        ConnectionState::Refused => Some(t("connection.refused")),
    }
}
