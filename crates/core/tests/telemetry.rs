//! Telemetry events: their names and JSON as an embedder receives them.

use parley_core::telemetry::TelemetryEvent;
use serde_json::json;

#[test]
fn message_sent_counts_characters_and_carries_no_text() {
    let e = TelemetryEvent::message_sent(42, true, "héllo 🙂");
    assert_eq!(e.name(), "message_sent");
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        v,
        json!({"name": "message_sent", "conversation_id": 42, "message_type": "note", "private": true, "character_count": 7})
    );
    assert!(!v.to_string().contains("héllo"));
}

/// Embedders switch on these names (docs/embedding.md lists them): renaming a variant or
/// its serde tag breaks their code, so each name is written out here, not derived.
#[test]
fn every_event_has_its_published_name_and_fields() {
    let events = [
        (
            TelemetryEvent::message_sent(1, false, "x"),
            json!({"name": "message_sent", "conversation_id": 1, "message_type": "reply", "private": false, "character_count": 1}),
        ),
        (
            TelemetryEvent::CannedResponseUsed {
                conversation_id: 1,
                canned_response_id: 3,
                short_code: "greet".into(),
            },
            json!({"name": "canned_response_used", "conversation_id": 1, "canned_response_id": 3, "short_code": "greet"}),
        ),
        (
            TelemetryEvent::AttachmentSent {
                conversation_id: 1,
                file_type: "image".into(),
                size: 10,
            },
            json!({"name": "attachment_sent", "conversation_id": 1, "file_type": "image", "size": 10}),
        ),
        (
            TelemetryEvent::VoiceMessageSent {
                conversation_id: 1,
                duration_s: 2.5,
            },
            json!({"name": "voice_message_sent", "conversation_id": 1, "duration_s": 2.5}),
        ),
    ];
    let docs = include_str!("../../../docs/embedding.md");
    for (e, expected) in events {
        assert_eq!(serde_json::to_value(&e).unwrap(), expected);
        assert_eq!(e.name(), expected["name"]);
        assert!(
            docs.contains(&format!("`{}`", e.name())),
            "docs/embedding.md does not list `{}`",
            e.name()
        );
    }
}
