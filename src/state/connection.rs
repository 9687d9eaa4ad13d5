//! The live connection as the agent sees it.

/// `data-state` of `connection-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// First connection attempt.
    Connecting,
    /// Subscribed: live events flow.
    Connected,
    /// Lost the connection; trying again after a backoff.
    Reconnecting,
    /// The browser says it is offline; waiting for it to come back.
    Offline,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Reconnecting => "reconnecting",
            ConnectionState::Offline => "offline",
        }
    }

    /// What the banner says; `None` when there is nothing to say.
    pub fn message(self) -> Option<&'static str> {
        match self {
            ConnectionState::Connected => None,
            ConnectionState::Connecting => Some("Connecting…"),
            ConnectionState::Reconnecting => {
                Some("Connection lost. Reconnecting… New messages will appear when it is back.")
            }
            ConnectionState::Offline => Some(
                "You are offline. Messages you send wait here and go out when you are back online.",
            ),
        }
    }
}
