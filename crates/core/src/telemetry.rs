//! The telemetry events Parley reports (the seed's four), as plain data. Where they go is
//! the embedder's choice (a callback, the console in development, nowhere by default);
//! the app decides only what happened. No message text ever leaves in an event.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum TelemetryEvent {
    /// The agent sent a message (once per send, when it is queued, not per attempt).
    MessageSent {
        conversation_id: i64,
        /// `"reply"` or `"note"`.
        message_type: &'static str,
        private: bool,
        /// Characters, as Chatwoot counts them (code points).
        character_count: usize,
    },
    /// A canned response was chosen in the picker.
    CannedResponseUsed {
        conversation_id: i64,
        canned_response_id: i64,
        short_code: String,
    },
    AttachmentSent {
        conversation_id: i64,
        file_type: String,
        size: u64,
    },
    VoiceMessageSent {
        conversation_id: i64,
        duration_s: f64,
    },
}

impl TelemetryEvent {
    pub fn message_sent(conversation_id: i64, private: bool, content: &str) -> Self {
        TelemetryEvent::MessageSent {
            conversation_id,
            message_type: if private { "note" } else { "reply" },
            private,
            character_count: content.chars().count(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TelemetryEvent::MessageSent { .. } => "message_sent",
            TelemetryEvent::CannedResponseUsed { .. } => "canned_response_used",
            TelemetryEvent::AttachmentSent { .. } => "attachment_sent",
            TelemetryEvent::VoiceMessageSent { .. } => "voice_message_sent",
        }
    }
}
