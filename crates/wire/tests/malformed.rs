//! One odd message never breaks more than its own row: pages, lists and cable events that
//! carry a malformed message still decode, the odd message as itself (wrong but plain
//! types read) or as a placeholder that keeps what reads. Decoding goes through
//! `parley_wire::from_str`, as the app does, and each result is checked against
//! `serde_json::from_str` (whose recursion limit counts the whole document), which
//! `parley-server` and other users of these types may call.

use parley_wire::cable::ServerFrame;
use parley_wire::*;
use serde_json::{json, Value};

/// `text` read as the app reads it (`parley_wire::from_str`), which must agree with
/// serde_json's own reader.
fn decode<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    text: &str,
) -> Result<T, serde_json::Error> {
    let app = parley_wire::from_str::<T>(text);
    let plain = serde_json::from_str::<T>(text);
    match (&app, &plain) {
        (Ok(a), Ok(p)) => assert_eq!(a, p, "parley_wire::from_str and serde_json disagree"),
        (Err(_), Err(_)) => {}
        _ => panic!("parley_wire::from_str {app:?}, serde_json {plain:?}"),
    }
    app
}

/// `levels` nested objects: `{"a":{"a":...{}}}`.
fn nested(levels: usize) -> String {
    let mut s = String::with_capacity(levels * 6);
    for _ in 0..levels {
        s.push_str("{\"a\":");
    }
    s.push_str("{}");
    for _ in 0..levels {
        s.push('}');
    }
    s
}

/// A message as Chatwoot's REST view renders it.
fn rest_message(id: i64, content: &str) -> Value {
    json!({
        "id": id, "content": content, "inbox_id": 1, "conversation_id": 7,
        "message_type": 0, "content_type": "text", "status": "sent",
        "content_attributes": {}, "created_at": 1_700_000_000 + id, "private": false,
        "source_id": null,
        "sender": {"id": 5, "name": "Ada", "type": "contact", "thumbnail": ""}
    })
}

/// The push shape (a conversation's `messages[]`, cable events).
fn push_message(id: i64, content: &str) -> Value {
    let mut m = rest_message(id, content);
    m["account_id"] = json!(1);
    m
}

/// `{"payload": [...]}` as text, with the JSON text of one element spliced in raw (serde_json
/// values cannot hold a nesting this deep to build it).
fn index_text(before: &[Value], raw: &str, after: &[Value]) -> String {
    let mut parts: Vec<String> = before.iter().map(Value::to_string).collect();
    parts.push(raw.to_owned());
    parts.extend(after.iter().map(Value::to_string));
    format!(
        r#"{{"meta":{{"labels":[],"additional_attributes":{{}},"contact":{{"id":5,"name":"Ada"}}}},"payload":[{}]}}"#,
        parts.join(",")
    )
}

fn with_raw_attributes(m: &Value, raw_attributes: &str) -> String {
    let text = m.to_string();
    text.replacen(
        r#""content_attributes":{}"#,
        &format!(r#""content_attributes":{raw_attributes}"#),
        1,
    )
}

#[test]
fn a_message_nested_past_serde_jsons_limit_does_not_fail_its_page() {
    for levels in [125, 127, 1_000, 100_000] {
        let deep = with_raw_attributes(&rest_message(3, "deep"), &nested(levels));
        let text = index_text(
            &[rest_message(1, "one"), rest_message(2, "two")],
            &deep,
            &[],
        );
        let page: MessagesIndex =
            decode(&text).unwrap_or_else(|e| panic!("{levels} levels fail the page: {e}"));
        let ids: Vec<i64> = page.payload.iter().map(|m| m.id).collect();
        assert_eq!(ids, [1, 2, 3], "{levels} levels");
        let latest = &page.payload[2];
        assert_eq!(latest.content.as_deref(), Some("deep"));
        assert!(
            !latest.is_unreadable(),
            "the text and its metadata all read"
        );
        // Kept to a bounded depth, the rest cut (a free-form value nests a handful of levels).
        let mut depth = 0;
        let mut v = &latest.content_attributes;
        while let Some(inner) = v.get("a") {
            depth += 1;
            v = inner;
        }
        assert!(depth < 64, "kept {depth} levels");
    }
}

#[test]
fn a_conversation_list_whose_latest_message_is_deep_still_lists() {
    let deep_push = with_raw_attributes(&push_message(9, "deep latest"), &nested(125));
    let conversation = |id: i64, last: &str| {
        format!(
            r#"{{"meta":{{"sender":{{"id":5,"name":"Ada"}},"channel":"Channel::WebWidget"}},"id":{id},"messages":[{last}],"account_id":1,"uuid":"u","additional_attributes":{{}},"agent_last_seen_at":0,"assignee_last_seen_at":0,"can_reply":true,"contact_last_seen_at":0,"custom_attributes":{{}},"inbox_id":1,"labels":[],"muted":false,"snoozed_until":null,"status":"open","created_at":1700000000,"updated_at":1700000000.5,"timestamp":1700000000,"first_reply_created_at":0,"unread_count":1,"last_non_activity_message":{last},"last_activity_at":1700000000,"priority":null,"waiting_since":0,"sla_policy_id":null}}"#
        )
    };
    let text = format!(
        r#"{{"data":{{"meta":{{"mine_count":0,"assigned_count":0,"unassigned_count":2,"all_count":2}},"payload":[{},{}]}}}}"#,
        conversation(7, &deep_push),
        conversation(8, &push_message(10, "fine").to_string()),
    );
    let list: ConversationList = decode(&text).expect("the list decodes");
    let payload = &list.data.payload;
    assert_eq!(payload.iter().map(|c| c.id).collect::<Vec<_>>(), [7, 8]);
    assert_eq!(
        payload[0]
            .last_non_activity_message
            .as_ref()
            .and_then(|m| m.content.as_deref()),
        Some("deep latest")
    );
    assert_eq!(payload[0].messages.len(), 1);

    // The single conversation (`GET /conversations/{id}`) too.
    let one: Conversation = decode(&conversation(7, &deep_push)).expect("the conversation decodes");
    assert_eq!(one.messages[0].id, 9);
}

#[test]
fn a_cable_event_nested_past_the_limit_is_read() {
    let deep = with_raw_attributes(&push_message(11, "live deep"), &nested(125));
    let frame = format!(
        r#"{{"identifier":"{{\"channel\":\"RoomChannel\"}}","message":{{"event":"message.created","data":{deep}}}}}"#
    );
    let ServerFrame::Broadcast { message, .. } = ServerFrame::parse(&frame).expect("frame reads")
    else {
        panic!("not a broadcast");
    };
    match CableEvent::from_message(&message).expect("event reads") {
        CableEvent::MessageCreated(m) => {
            assert_eq!((m.id, m.content.as_deref()), (11, Some("live deep")));
            assert_eq!(m.account_id, Some(1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_types_of_another_kind_read_as_meant() {
    let odd = json!({
        "id": "42",
        "content": 12345,
        "inbox_id": null,
        "echo_id": 77,
        "conversation_id": "7",
        "message_type": "0",
        "content_type": null,
        "status": null,
        "content_attributes": null,
        "created_at": "1700000042",
        "private": "false",
        "source_id": 99,
        "account_id": "1",
        "unknown_key": {"anything": [1, 2, {"deep": true}]},
        "sender": {"id": "5", "name": "Ada", "type": "contact", "thumbnail": "", "blocked": null,
                   "custom_attributes": "not an object", "extra": 1},
        "attachments": [{
            "id": "3", "message_id": "42", "file_type": "image", "account_id": "1",
            "extension": null, "data_url": "", "thumb_url": "", "file_size": "2048",
            "width": 640.0, "height": "480", "coordinates_lat": "48.85", "unknown": 1
        }]
    });
    let text = index_text(&[rest_message(1, "before")], &odd.to_string(), &[]);
    let page: MessagesIndex = decode(&text).expect("decodes");
    let m = &page.payload[1];
    assert!(!m.is_unreadable());
    assert_eq!(m.id, 42);
    assert_eq!(m.content.as_deref(), Some("12345"));
    assert_eq!(m.inbox_id, 0);
    assert_eq!(m.echo_id.as_deref(), Some("77"));
    assert_eq!(m.conversation_id, 7);
    assert_eq!(m.message_type, MessageType::Incoming);
    assert_eq!(m.content_type, "text");
    assert_eq!(m.status, MessageStatus::Sent);
    assert_eq!(m.content_attributes, json!({}));
    assert_eq!(m.created_at, 1_700_000_042);
    assert!(!m.private);
    assert_eq!(m.source_id.as_deref(), Some("99"));
    assert_eq!(m.account_id, Some(1));
    let sender = m.sender.as_ref().expect("the sender reads");
    assert_eq!((sender.id(), sender.display_name()), (Some(5), Some("Ada")));
    assert_eq!(sender.avatar(), None, "an empty URL is no avatar");
    let a = &m.attachments()[0];
    assert_eq!((a.id, a.message_id, a.account_id), (3, 42, 1));
    assert_eq!(a.file_type, FileType::Image);
    assert_eq!(
        (a.file_size, a.width, a.height),
        (Some(2048), Some(640), Some(480))
    );
    assert_eq!(a.coordinates_lat, Some(48.85));
}

#[test]
fn timestamps_as_seconds_floats_numeric_strings_and_iso_strings() {
    for (created_at, want) in [
        (json!(1_635_846_359), 1_635_846_359),
        (json!(1_635_846_359.118), 1_635_846_359),
        (json!("1635846359"), 1_635_846_359),
        (json!("2021-11-02T09:45:59.118Z"), 1_635_846_359),
        (json!("2021-11-02T10:45:59+01:00"), 1_635_846_359),
        (json!("2021-11-02 09:45:59 UTC"), 1_635_846_359),
    ] {
        let mut m = rest_message(1, "t");
        m["created_at"] = created_at.clone();
        let page: MessagesIndex = decode(&index_text(&[], &m.to_string(), &[])).unwrap();
        assert_eq!(page.payload[0].created_at, want, "{created_at}");
        assert!(!page.payload[0].is_unreadable(), "{created_at}");
    }
}

#[test]
fn flags_statuses_and_types_of_other_spellings() {
    for (private, want) in [
        (json!(true), true),
        (json!("true"), true),
        (json!(1), true),
        (json!(null), false),
        (json!("0"), false),
        (json!({}), false),
    ] {
        let mut m = rest_message(1, "p");
        m["private"] = private.clone();
        let page: MessagesIndex = decode(&index_text(&[], &m.to_string(), &[])).unwrap();
        assert_eq!(page.payload[0].private, want, "{private}");
    }
    for (status, want) in [
        (json!("delivered"), MessageStatus::Delivered),
        (json!(2), MessageStatus::Read),
        (json!("3"), MessageStatus::Failed),
        (json!("teleported"), MessageStatus::Unknown),
        (json!(null), MessageStatus::Sent),
        (json!([1]), MessageStatus::Unknown),
    ] {
        let mut m = rest_message(1, "s");
        m["status"] = status.clone();
        let page: MessagesIndex = decode(&index_text(&[], &m.to_string(), &[])).unwrap();
        assert_eq!(page.payload[0].status, want, "{status}");
    }
    for (kind, want) in [
        (json!("outgoing"), MessageType::Outgoing),
        (json!("2"), MessageType::Activity),
        (json!(3.0), MessageType::Template),
        (json!("hologram"), MessageType::Other(-1)),
    ] {
        let mut m = rest_message(1, "k");
        m["message_type"] = kind.clone();
        let page: MessagesIndex = decode(&index_text(&[], &m.to_string(), &[])).unwrap();
        assert_eq!(page.payload[0].message_type, want, "{kind}");
    }
}

#[test]
fn an_unknown_content_type_keeps_its_text_and_is_known_to_be_unknown() {
    let mut m = rest_message(1, "a hologram of a cat");
    m["content_type"] = json!("hologram");
    m["content_attributes"] = json!({"hologram": {"frames": 3}});
    let page: MessagesIndex = decode(&index_text(&[], &m.to_string(), &[])).unwrap();
    let m = &page.payload[0];
    assert_eq!(m.content.as_deref(), Some("a hologram of a cat"));
    assert!(m.has_unknown_content_type());
    assert!(!m.is_unreadable());
    // Chatwoot's content types, written out (CONTRACTS.md, Message table), not read from the
    // crate's own list: a type dropped from that list would otherwise go unchecked.
    for known in [
        "text",
        "input_text",
        "input_textarea",
        "input_email",
        "input_select",
        "cards",
        "form",
        "article",
        "incoming_email",
        "input_csat",
        "integrations",
        "sticker",
        "voice_call",
    ] {
        let mut m = rest_message(1, "x");
        m["content_type"] = json!(known);
        let m: Message = serde_json::from_value(m).unwrap();
        assert!(!m.has_unknown_content_type(), "{known}");
    }
}

#[test]
fn a_message_that_does_not_read_whole_is_a_placeholder_with_what_reads() {
    let mut broken = rest_message(3, "my order 1234");
    broken["attachments"] = json!("not a list");
    broken["conversation_id"] = json!({"id": 7});
    broken["message_type"] = json!(null);
    broken["in_reply_to"] = json!([]);
    let mut no_time = rest_message(4, "when?");
    no_time["created_at"] = json!("yesterday");
    let mut object_content = rest_message(5, "");
    object_content["content"] = json!({"html": "<b>hi</b>"});
    object_content["created_at"] = json!("2021-11-02T09:45:59Z");
    let text = index_text(
        &[rest_message(1, "one"), broken],
        &no_time.to_string(),
        &[object_content, rest_message(6, "after")],
    );
    let page: MessagesIndex = decode(&text).expect("decodes");
    let ids: Vec<i64> = page.payload.iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 3, 4, 5, 6]);

    let broken = &page.payload[1];
    assert!(broken.is_unreadable());
    assert_eq!(broken.content.as_deref(), Some("my order 1234"));
    assert_eq!(broken.created_at, 1_700_000_003);
    assert_eq!(
        broken.sender.as_ref().and_then(Sender::display_name),
        Some("Ada")
    );
    assert_eq!(
        broken.message_type,
        MessageType::Incoming,
        "a contact's message stays on the contact's side"
    );
    assert!(broken.attachments().is_empty());

    let no_time = &page.payload[2];
    assert!(no_time.is_unreadable());
    assert_eq!(no_time.content.as_deref(), Some("when?"));

    let object_content = &page.payload[3];
    assert!(object_content.is_unreadable());
    assert_eq!(object_content.content, None);
    assert_eq!(object_content.created_at, 1_635_846_359);

    for ok in [&page.payload[0], &page.payload[4]] {
        assert!(!ok.is_unreadable());
    }
}

#[test]
fn elements_without_an_id_are_left_out_and_the_rest_kept() {
    let mut no_id = rest_message(0, "who am I");
    no_id.as_object_mut().unwrap().remove("id");
    let text = index_text(
        &[
            rest_message(1, "one"),
            no_id,
            json!(42),
            json!("x"),
            json!(null),
            json!([1]),
        ],
        &json!({"id": "not a number"}).to_string(),
        &[rest_message(2, "two")],
    );
    let page: MessagesIndex = decode(&text).expect("decodes");
    assert_eq!(
        page.payload.iter().map(|m| m.id).collect::<Vec<_>>(),
        [1, 2]
    );
}

#[test]
fn a_long_adversarial_text_decodes_whole() {
    let text = format!("http://a{}", ")".repeat(150_000));
    let page: MessagesIndex =
        decode(&index_text(&[], &rest_message(1, &text).to_string(), &[])).unwrap();
    assert_eq!(page.payload[0].content.as_deref(), Some(text.as_str()));
}

#[test]
fn cable_events_with_malformed_messages_are_placeholders_or_errors_without_an_id() {
    let event = |data: Value| json!({"event": "message.updated", "data": data});

    let mut odd = push_message(12, "edited elsewhere");
    odd["created_at"] = json!("2021-11-02T09:45:59Z");
    odd["status"] = json!(1);
    odd["inbox_id"] = json!("1");
    match CableEvent::from_message(&event(odd)).unwrap() {
        CableEvent::MessageUpdated(m) => {
            assert!(!m.is_unreadable());
            assert_eq!((m.id, m.created_at), (12, 1_635_846_359));
            assert_eq!(m.status, MessageStatus::Delivered);
        }
        other => panic!("{other:?}"),
    }

    let mut broken = push_message(13, "still shown");
    broken["content_type"] = json!("text");
    broken["attachments"] = json!({"not": "a list"});
    match CableEvent::from_message(&event(broken)).unwrap() {
        CableEvent::MessageUpdated(m) => {
            assert!(m.is_unreadable());
            assert_eq!((m.id, m.conversation_id), (13, 7));
            assert_eq!(m.content.as_deref(), Some("still shown"));
            assert_eq!(
                m.account_id,
                Some(1),
                "kept to filter other accounts' events"
            );
        }
        other => panic!("{other:?}"),
    }

    assert!(CableEvent::from_message(&event(json!({"content": "no id"}))).is_err());
}

#[test]
fn a_conversation_whose_own_fields_do_not_read_still_lists() {
    let good = json!({
        "meta": {"sender": {"id": 5, "name": "Ada"}}, "id": 8, "account_id": 1,
        "inbox_id": 1, "status": "open", "created_at": 1_700_000_000
    });
    let broken = json!({
        "meta": {"sender": {"id": {"no": 1}, "name": "Bea"}}, "id": "9", "account_id": null,
        "inbox_id": [], "status": null, "created_at": "never", "labels": "vip",
        "unread_count": "3", "last_non_activity_message": push_message(1, "hello")
    });
    let text = json!({"data": {"meta": "odd", "payload": [good, broken, {"no": "id"}]}});
    let list: ConversationList = decode(&text.to_string()).expect("decodes");
    let payload = &list.data.payload;
    assert_eq!(payload.iter().map(|c| c.id).collect::<Vec<_>>(), [8, 9]);
    assert_eq!(payload[1].meta.sender.name.as_deref(), Some("Bea"));
    assert_eq!(payload[1].unread_count, 3);
    assert_eq!(
        payload[1]
            .last_non_activity_message
            .as_ref()
            .and_then(|m| m.content.as_deref()),
        Some("hello")
    );
}

#[test]
fn the_apps_reader_reads_past_serde_jsons_limit_and_refuses_trailing_text() {
    // What serde_json's own reader refuses (its recursion limit), the app's reader keeps to a
    // bounded depth and cuts below that, as it does inside list elements.
    let text = format!(r#"{{"key":{}}}"#, nested(1_000));
    assert!(serde_json::from_str::<Value>(&text).is_err());
    let v: Value = parley_wire::from_str(&text).expect("a deep document reads");
    let mut depth = 0;
    let mut at = &v["key"];
    while let Some(inner) = at.get("a") {
        depth += 1;
        at = inner;
    }
    assert!((64..128).contains(&depth), "kept {depth} levels");
    assert_eq!(at, &Value::Null, "what lies deeper is cut");

    // One document, as serde_json::from_str: text after it is an error, whitespace is not.
    assert!(parley_wire::from_str::<Value>(r#"{"id": 1} {"id": 2}"#).is_err());
    assert!(parley_wire::from_str::<Message>(&format!("{} x", rest_message(1, "one"))).is_err());
    let m: Message = parley_wire::from_str(&format!(" {} \n", rest_message(1, "one"))).unwrap();
    assert_eq!(m.content.as_deref(), Some("one"));
}

/// The app's reader takes a record from an object only (serde_json alone would also take
/// one from an array of its fields in order, which no Chatwoot payload uses and which costs
/// the wasm a second decoder per type); everything else reads as before.
#[test]
fn the_apps_reader_takes_records_from_objects_only() {
    use parley_wire::ErrorBody;
    let positional = r#"["Invalid Access Token", null, null]"#;
    assert!(serde_json::from_str::<ErrorBody>(positional).is_ok());
    let err = parley_wire::from_str::<ErrorBody>(positional).unwrap_err();
    assert!(err.to_string().contains("invalid type: sequence"), "{err}");
    let body: ErrorBody =
        parley_wire::from_str(r#"{"errors": ["a", "b"], "message": "m", "other": [1, {"x": 2}]}"#)
            .unwrap();
    assert_eq!(
        body.errors.as_deref(),
        Some(&["a".to_owned(), "b".to_owned()][..])
    );
    assert_eq!(body.message.as_deref(), Some("m"));
    // A list of records, numbers as keys' values, nested options: the shapes the app reads.
    let list: Vec<ErrorBody> = parley_wire::from_str(r#"[{"error": "x"}, {}]"#).unwrap();
    assert_eq!(list, vec![ErrorBody::new("x"), ErrorBody::default()]);
}

/// A conversation (or a conversation event) without `can_reply` leaves replies open: the
/// composer is never closed on a guess.
#[test]
fn a_missing_can_reply_leaves_the_reply_window_open() {
    let conv: parley_wire::ConversationPush =
        serde_json::from_str(r#"{"id": 1, "inbox_id": 1, "status": "open"}"#).unwrap();
    assert!(conv.can_reply);
    let conv: parley_wire::ConversationPush =
        serde_json::from_str(r#"{"id": 1, "inbox_id": 1, "can_reply": false}"#).unwrap();
    assert!(!conv.can_reply);
}
