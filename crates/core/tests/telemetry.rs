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

#[test]
fn every_event_names_itself_in_its_json() {
    let events = [
        TelemetryEvent::message_sent(1, false, "x"),
        TelemetryEvent::CannedResponseUsed {
            conversation_id: 1,
            canned_response_id: 3,
            short_code: "greet".into(),
        },
        TelemetryEvent::AttachmentSent {
            conversation_id: 1,
            file_type: "image".into(),
            size: 10,
        },
        TelemetryEvent::VoiceMessageSent {
            conversation_id: 1,
            duration_s: 2.5,
        },
    ];
    for e in events {
        assert_eq!(serde_json::to_value(&e).unwrap()["name"], e.name());
    }
}
