//! Every sample a real Chatwoot sends (`shared/chatwoot/samples/`) decodes, and the shapes
//! `parley-server` encodes with these types are Chatwoot's to the key: decoding a sample and
//! encoding it again gives back the same JSON.

use std::path::PathBuf;

use parley_wire::cable::{Envelope, Presence};
use parley_wire::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn samples_dir() -> PathBuf {
    // CI and developers keep `shared/` beside the repository.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/chatwoot/samples");
    assert!(
        dir.is_dir(),
        "samples not found at {} (shared/ must sit beside the repo)",
        dir.display()
    );
    dir
}

fn sample(name: &str) -> Value {
    let path = samples_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Decode `v` as `T`, encode it again and require the same JSON (keys, nulls and values).
fn roundtrips<T: DeserializeOwned + Serialize>(v: &Value) -> T {
    let decoded: T = serde_json::from_value(v.clone()).expect("decodes");
    let again = serde_json::to_value(&decoded).unwrap();
    assert_eq!(&again, v, "re-encoding changed the JSON");
    decoded
}

#[test]
fn every_sample_file_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let covered = [
        "cable_message_created.json",
        "cable_message_updated.json",
        "cable_protocol_frames.json",
        "cable_typing_on.json",
        "canned_responses.json",
        "conversation_list.json",
        "conversation_show.json",
        "message_create.json",
        "message_delete_response.json",
        "messages_index.json",
        "profile_show.json",
    ];
    for n in &names {
        assert!(covered.contains(&n.as_str()), "sample {n} has no test here");
    }
}

#[test]
fn profile() {
    let p: Profile = roundtrips(&sample("profile_show.json"));
    assert_eq!(p.pubsub_token, "Vm3nBG1dKdjfGmNnYdDf4zn4");
    assert_eq!(p.accounts[0].permissions, vec!["administrator"]);
}

#[test]
fn conversation_show_is_exact() {
    let c: Conversation = roundtrips(&sample("conversation_show.json"));
    assert_eq!(c.id, 10);
    assert_eq!(c.meta.sender.name.as_deref(), Some("damp-field-834"));
    assert_eq!(c.updated_at, 1635846359.118293);
    assert_eq!(
        c.messages[0].sender.as_ref().unwrap().display_name(),
        Some("John")
    );
}

#[test]
fn conversation_list_is_exact() {
    let l: ConversationList = roundtrips(&sample("conversation_list.json"));
    assert_eq!(l.data.meta.all_count, 4);
    assert!(!l.data.payload.is_empty());
}

#[test]
fn messages_index_is_exact() {
    let idx: MessagesIndex = roundtrips(&sample("messages_index.json"));
    let types: Vec<_> = idx.payload.iter().map(|m| m.message_type).collect();
    assert_eq!(
        types,
        [
            MessageType::Incoming,
            MessageType::Template,
            MessageType::Activity,
            MessageType::Outgoing
        ]
    );
    // `content: null` with an audio attachment.
    let voice = &idx.payload[3];
    assert_eq!(voice.content, None);
    assert_eq!(voice.attachments()[0].file_type, FileType::Audio);
    assert_eq!(voice.attachments()[0].transcribed_text.as_deref(), Some(""));
    assert!(matches!(idx.payload[0].sender, Some(Sender::Contact(_))));
    assert_eq!(idx.payload[1].sender, None);
    assert_eq!(
        idx.meta.agent_last_seen_at.as_deref(),
        Some("2021-11-02T09:45:59.118Z")
    );
}

#[test]
fn message_create_request_and_response() {
    let s = sample("message_create.json");
    let req: NewMessage = serde_json::from_value(s["request_json"].clone()).unwrap();
    assert_eq!(
        req.echo_id.as_deref(),
        Some("7d6c2c1e-5b2f-4a8e-9f3a-2b1d0c9e8f7a")
    );
    assert_eq!(req.content_attributes.unwrap()["in_reply_to"], 5295);
    assert!(!req.private);

    let m: Message = roundtrips(&s["response"]);
    assert_eq!(m.echo_id, req.echo_id);
    assert_eq!(m.in_reply_to(), Some(5295));
    assert_eq!(m.status, MessageStatus::Sent);

    let atts: Vec<Attachment> = roundtrips(&s["response_with_attachment_attachments_field"]);
    assert_eq!(atts[0].file_type, FileType::File);

    let err: ErrorBody = roundtrips(&s["error_422"]);
    assert!(err.text().unwrap().contains("150000"));
}

#[test]
fn message_delete_response() {
    let m: Message = roundtrips(&sample("message_delete_response.json"));
    assert!(m.is_deleted());
    assert_eq!(m.content.as_deref(), Some("This message was deleted"));
}

#[test]
fn canned_responses() {
    let c: Vec<CannedResponse> = roundtrips(&sample("canned_responses.json"));
    assert_eq!(c[0].short_code, "greet");
}

fn broadcast(name: &str) -> (String, Value) {
    let raw = sample(name);
    match ServerFrame::parse(&raw.to_string()).unwrap() {
        ServerFrame::Broadcast {
            identifier,
            message,
        } => (identifier, message),
        other => panic!("expected a broadcast, got {other:?}"),
    }
}

#[test]
fn cable_message_created() {
    let (identifier, message) = broadcast("cable_message_created.json");
    let id = RoomIdentifier::parse(&identifier).unwrap();
    assert_eq!(
        id.to_identifier(),
        identifier,
        "key order channel,pubsub_token,account_id,user_id"
    );
    // The push shape is exact to the key.
    let push: MessagePush = roundtrips(&message["data"]);
    assert!(push.performer.is_some());
    match CableEvent::from_message(&message).unwrap() {
        CableEvent::MessageCreated(m) => {
            assert_eq!(m.id, 5320);
            assert_eq!(
                m.echo_id.as_deref(),
                Some("7d6c2c1e-5b2f-4a8e-9f3a-2b1d0c9e8f7a")
            );
            assert_eq!(m.account_id, Some(2));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cable_message_updated() {
    let (_, message) = broadcast("cable_message_updated.json");
    let push: MessagePush = serde_json::from_value(message["data"].clone()).unwrap();
    assert_eq!(push.previous_changes.unwrap()["status"][1], "read");
    match CableEvent::from_message(&message).unwrap() {
        CableEvent::MessageUpdated(m) => assert_eq!(m.status, MessageStatus::Read),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cable_typing_on() {
    let (_, message) = broadcast("cable_typing_on.json");
    let ev: TypingEventData = roundtrips(&message["data"]);
    assert!(matches!(ev.user, Sender::Contact(_)));
    match CableEvent::from_message(&message).unwrap() {
        CableEvent::TypingOn(t) => {
            assert_eq!(t.conversation.id, 10);
            assert_eq!(t.account_id, Some(1));
            assert!(!t.is_private);
        }
        other => panic!("{other:?}"),
    }
}
type TypingEventData = parley_wire::cable::TypingEvent;

#[test]
fn cable_protocol_frames() {
    let s = sample("cable_protocol_frames.json");
    let mut seen = Vec::new();
    for f in s["frames"].as_array().unwrap() {
        let frame = &f["frame"];
        let text = frame.to_string();
        if f["dir"].as_str().unwrap().starts_with("client->server") {
            let cmd: ClientCommand = roundtrips(frame);
            seen.push(cmd.command.clone());
            if cmd.command == "message" {
                assert_eq!(cmd.action().as_deref(), Some("update_presence"));
                assert_eq!(
                    cmd,
                    ClientCommand::perform(&cmd.identifier, "update_presence")
                );
            }
        } else {
            let parsed = ServerFrame::parse(&text).unwrap();
            // Our encoding of the frame is the frame.
            let again: Value = serde_json::from_str(&parsed.to_json()).unwrap();
            assert_eq!(&again, frame);
            seen.push(
                format!("{parsed:?}")
                    .split([' ', '('])
                    .next()
                    .unwrap()
                    .to_owned(),
            );
            if let ServerFrame::Broadcast { message, .. } = &parsed {
                let env: Envelope = serde_json::from_value(message.clone()).unwrap();
                if env.event == "presence.update" {
                    let p: Presence = serde_json::from_value(env.data).unwrap();
                    assert_eq!(p.users.get("4").map(String::as_str), Some("busy"));
                }
            }
        }
    }
    assert_eq!(
        seen,
        [
            "Welcome",
            "subscribe",
            "Confirm",
            "Broadcast",
            "Ping",
            "message",
            "Broadcast",
            "Disconnect",
            "Reject"
        ]
    );
}

#[test]
fn lenient_decoding_of_missing_and_extra_keys() {
    let m: Message = serde_json::from_value(serde_json::json!({
        "id": 1, "conversation_id": 2, "message_type": 0, "created_at": 5,
        "content_attributes": null, "brand_new_key": [1, 2, 3], "status": "something_new"
    }))
    .unwrap();
    assert_eq!(m.status, MessageStatus::Unknown);
    assert_eq!(m.content_attributes, serde_json::json!({}));
    assert!(!m.is_deleted());
    let s: Sender = serde_json::from_value(serde_json::json!({"type": "robot", "id": 3})).unwrap();
    assert_eq!(s, Sender::Unknown);
    let echo: Message = serde_json::from_value(serde_json::json!({
        "id": 1, "conversation_id": 2, "message_type": 1, "created_at": 5, "echo_id": 42
    }))
    .unwrap();
    assert_eq!(echo.echo_id.as_deref(), Some("42"));
}

#[test]
fn bad_frames_are_errors_not_panics() {
    assert!(ServerFrame::parse("not json").is_err());
    assert!(ServerFrame::parse(r#"{"type":"mystery"}"#).is_err());
    assert!(ServerFrame::parse(r#"{"type":"confirm_subscription"}"#).is_err());
    assert!(ServerFrame::parse(r#"{"message":{}}"#).is_err());
    assert!(
        CableEvent::from_message(&serde_json::json!({"event":"message.created","data":{}}))
            .is_err()
    );
    let other = CableEvent::from_message(
        &serde_json::json!({"event":"notification.created","data":{"account_id":3}}),
    )
    .unwrap();
    assert_eq!(other.account_id(), Some(3));
}

#[test]
fn file_types_follow_chatwoot() {
    assert_eq!(FileType::from_content_type("image/png"), FileType::Image);
    assert_eq!(FileType::from_content_type("image/svg+xml"), FileType::File);
    assert_eq!(
        FileType::from_content_type("audio/ogg; codecs=opus"),
        FileType::Audio
    );
    assert_eq!(FileType::from_content_type("video/webm"), FileType::Video);
    assert_eq!(
        FileType::from_content_type("application/pdf"),
        FileType::File
    );
}
