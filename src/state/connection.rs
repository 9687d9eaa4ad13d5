//! The live connection as the agent sees it. The status itself is decided in
//! `parley_core::connection`; here is only what the banner says about it.

/// `data-state` of `connection-state` is [`ConnectionState::as_str`].
pub use parley_core::connection::ConnectionStatus as ConnectionState;

/// What the banner says; `None` when there is nothing to say.
pub fn banner_message(state: ConnectionState) -> Option<&'static str> {
    match state {
        ConnectionState::Connected => None,
        ConnectionState::Connecting => Some("Connecting…"),
        ConnectionState::Reconnecting => {
            Some("Connection lost. Reconnecting… New messages will appear when it is back.")
        }
        ConnectionState::Offline => Some(
            "You are offline. Messages you send wait here and go out when you are back online.",
        ),
        ConnectionState::Refused => {
            Some("Live updates are off: the server refused the live connection.")
        }
    }
}
