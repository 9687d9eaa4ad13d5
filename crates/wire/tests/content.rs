//! Issue 16, points 1 to 4: every content type, attachment type, sender and reaction a
//! Chatwoot 4.x sends decodes into what the app shows. Each sample notes the Chatwoot file
//! whose shape it follows; each also arrives as a live `message.created` (the push shape).

use parley_wire::cable::CableEvent;
use parley_wire::content::{Answer, Block, Card, CardAction, Choice, Csat, Email};
use parley_wire::{from_str, FileType, Message, Sender, ServerFrame};
use serde_json::{json, Value};

/// A REST message (`_message.json.jbuilder`) with these fields.
fn rest(fields: Value) -> Message {
    let mut m = json!({
        "id": 10, "content": "", "inbox_id": 1, "conversation_id": 3, "message_type": 0,
        "content_type": "text", "status": "sent", "content_attributes": {},
        "created_at": 1_700_000_000, "private": false, "source_id": null,
        "sender": {"id": 5, "name": "Ana", "type": "contact", "thumbnail": ""},
    });
    m.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    from_str(&m.to_string()).expect("the REST message reads")
}

/// The same message as a live `message.created` broadcast (`Message#push_event_data`).
fn live(fields: Value) -> Message {
    let mut data = json!({
        "id": 10, "content": "", "account_id": 1, "inbox_id": 1, "conversation_id": 3,
        "message_type": 0, "created_at": 1_700_000_000, "updated_at": "2023-11-14T22:13:20.000Z",
        "private": false, "status": "sent", "source_id": null, "content_type": "text",
        "content_attributes": {}, "sender_type": "Contact", "sender_id": 5,
        "external_source_ids": {}, "additional_attributes": {}, "processed_message_content": null,
        "sentiment": {}, "conversation": {"assignee_id": null, "unread_count": 1, "last_activity_at": 1_700_000_000},
        "sender": {"id": 5, "name": "Ana", "type": "contact", "thumbnail": ""},
    });
    data.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let frame = json!({"identifier": "{\"channel\":\"RoomChannel\"}", "message": {"event": "message.created", "data": data}});
    let ServerFrame::Broadcast { message, .. } = ServerFrame::parse(&frame.to_string()).unwrap()
    else {
        panic!("a broadcast")
    };
    match CableEvent::from_message(&message).expect("the event reads") {
        CableEvent::MessageCreated(m) => m,
        other => panic!("not a message.created: {other:?}"),
    }
}

/// Both shapes of one message give the same block.
fn block(fields: Value) -> Block {
    let from_rest = rest(fields.clone()).block();
    assert_eq!(live(fields).block(), from_rest, "REST and cable agree");
    from_rest
}

#[test]
fn text_types_without_more_are_plain() {
    // `Message#content_type` enum: text, input_text, input_textarea.
    for kind in [
        "text",
        "input_text",
        "input_textarea",
        "sticker",
        "hologram",
    ] {
        assert_eq!(
            block(json!({"content_type": kind, "content": "hi"})),
            Block::Plain
        );
    }
}

#[test]
fn input_email_shows_the_address_given() {
    // `MessageTemplates::Template::EmailCollect` (message_type 3) and the widget's reply:
    // `content_attributes.submitted_email`.
    let b = block(json!({
        "message_type": 3, "content_type": "input_email", "content": "Get notified by email",
        "content_attributes": {"submitted_email": "ana@example.com"},
    }));
    assert_eq!(
        b,
        Block::InputEmail {
            submitted: Some("ana@example.com".into())
        }
    );
    assert_eq!(
        rest(json!({"message_type": 3})).message_type.as_str(),
        "template"
    );
}

#[test]
fn input_select_shows_options_and_the_choice() {
    // `ContentAttributeValidator` (input_select: items [{title, value}]) and the widget's
    // `submitted_values` [{title, value}] (`Messages::MessageBuilder`, dashboard `Form.vue`).
    let b = block(json!({
        "content_type": "input_select", "content": "Which plan?",
        "content_attributes": {
            "items": [{"title": "Basic", "value": "basic"}, {"title": "Pro", "value": "pro"}, {"bad": 1}],
            "submitted_values": [{"title": "Pro", "value": "pro"}],
        },
    }));
    let choice = |t: &str, v: &str| Choice {
        title: t.into(),
        value: v.into(),
    };
    assert_eq!(
        b,
        Block::Select {
            options: vec![choice("Basic", "basic"), choice("Pro", "pro")],
            chosen: vec![choice("Pro", "pro")],
        }
    );
}

#[test]
fn cards_keep_image_title_description_and_link_buttons() {
    // `ContentAttributeValidator` (cards: items [{media_url, title, description, actions
    // [{type: link|postback, text, uri|payload}]}]), widget `CardMessage.vue`.
    let b = block(json!({
        "content_type": "cards",
        "content_attributes": {"items": [{
            "media_url": "https://cdn.example.com/shoe.png", "title": "Red shoe", "description": "Size 42",
            "actions": [
                {"type": "link", "text": "Buy", "uri": "https://shop.example.com/shoe"},
                {"type": "postback", "text": "More", "payload": "MORE"},
                {"type": "link"},
            ],
        }, "not a card"]},
    }));
    assert_eq!(
        b,
        Block::Cards(vec![Card {
            media_url: Some("https://cdn.example.com/shoe.png".into()),
            title: Some("Red shoe".into()),
            description: Some("Size 42".into()),
            actions: vec![
                CardAction {
                    text: "Buy".into(),
                    uri: Some("https://shop.example.com/shoe".into())
                },
                CardAction {
                    text: "More".into(),
                    uri: None
                },
            ],
        }])
    );
}

#[test]
fn form_shows_fields_then_the_submitted_values_under_their_labels() {
    // `ContentAttributeValidator` (form: items [{name, label, type, placeholder}]) and
    // `submitted_values` [{name, value}] (dashboard `Form.vue` finds each item's label).
    let b = block(json!({
        "content_type": "form", "content": "Tell us more",
        "content_attributes": {
            "items": [{"name": "email", "label": "Email", "type": "email"}, {"name": "msg", "type": "text_area"}],
            "submitted_values": [{"name": "email", "value": "ana@example.com"}, {"name": "msg", "value": 42}],
        },
    }));
    let Block::Form { fields, answers } = b else {
        panic!("a form")
    };
    assert_eq!(fields.len(), 2);
    assert_eq!(
        fields[1].label, "msg",
        "a field without a label shows its name"
    );
    assert_eq!(
        answers,
        [
            Answer {
                label: Some("Email".into()),
                value: "ana@example.com".into()
            },
            Answer {
                label: Some("msg".into()),
                value: "42".into()
            },
        ]
    );
}

#[test]
fn article_lists_title_description_link() {
    // `ContentAttributeValidator` (article: items [{title, description, link}]).
    let Block::Articles(list) = block(json!({
        "content_type": "article",
        "content_attributes": {"items": [{"title": "Reset a password", "description": "Steps", "link": "https://help.example.com/reset"}]},
    })) else {
        panic!("articles")
    };
    assert_eq!(list[0].title, "Reset a password");
    assert_eq!(
        list[0].link.as_deref(),
        Some("https://help.example.com/reset")
    );
}

#[test]
fn incoming_email_has_subject_addresses_text_and_quoted_history() {
    // `MailPresenter#serialized_data` stored by `Imap::ImapMailbox` / `MailboxHelper`
    // as `content_attributes.email`; dashboard `bubbles/Email/Index.vue`, `EmailMeta.vue`.
    let b = block(json!({
        "content_type": "incoming_email", "content": "Hello",
        "content_attributes": {"email": {
            "subject": "Invoice 42", "from": ["ana@example.com"], "to": ["support@example.com"],
            "cc": ["bob@example.com"], "bcc": null,
            "html_content": {"full": "<p>Hello</p>", "reply": "<p>Hello</p>", "quoted": ""},
            "text_content": {"full": "Hello\n> old", "reply": "Hello", "quoted": "> old"},
        }, "cc_emails": ["bob@example.com"]},
    }));
    assert_eq!(
        b,
        Block::Email(Box::new(Email {
            subject: Some("Invoice 42".into()),
            from: vec!["ana@example.com".into()],
            to: vec!["support@example.com".into()],
            cc: vec!["bob@example.com".into()],
            bcc: vec![],
            text: Some("Hello".into()),
            quoted: Some("> old".into()),
            html: Some("<p>Hello</p>".into()),
        }))
    );
    // An email whose parts are missing or odd still reads.
    assert!(matches!(
        block(json!({"content_type": "incoming_email", "content_attributes": {"email": "x"}})),
        Block::Email(e) if e.subject.is_none() && e.text.is_none()
    ));
}

#[test]
fn csat_shows_rating_and_feedback_as_stars_or_emoji() {
    // `MessageTemplates::Template::CsatSurvey` (`display_type`), the survey controller's
    // `submitted_values.csat_survey_response {rating, feedback_message}`, dashboard `CSAT.vue`.
    let b = block(json!({
        "content_type": "input_csat", "content": "Rate us",
        "content_attributes": {"display_type": "star", "submitted_values": {"csat_survey_response": {"rating": "4", "feedback_message": "Quick, thanks"}}},
    }));
    assert_eq!(
        b,
        Block::Csat(Csat {
            stars: true,
            rating: Some(4),
            feedback: Some("Quick, thanks".into())
        })
    );
    let unanswered = block(
        json!({"content_type": "input_csat", "content_attributes": {"submitted_values": {"csat_survey_response": {"rating": 9}}}}),
    );
    assert_eq!(
        unanswered,
        Block::Csat(Csat {
            stars: false,
            rating: None,
            feedback: None
        })
    );
}

#[test]
fn integrations_say_which() {
    // `Integrations::Dyte::ProcessorService`: content_attributes {type: "dyte", data: {meeting_id}}.
    assert_eq!(
        block(
            json!({"content_type": "integrations", "content_attributes": {"type": "dyte", "data": {"meeting_id": "m1"}}})
        ),
        Block::Integration {
            kind: "dyte".into()
        }
    );
}

#[test]
fn attachment_types_keep_their_metadata() {
    // `Attachment#push_event_data`: location_metadata, fallback_data, contact_metadata and
    // file_metadata (with `transcribed_text` for audio); dashboard `Location.vue`,
    // `Contact.vue` (name is the message's content, phone the fallback_title), `Audio.vue`.
    let m = live(json!({
        "content": "Bob Stone",
        "content_attributes": {"image_type": "story_mention"},
        "attachments": [
            {"id": 1, "message_id": 10, "file_type": "location", "account_id": 1, "coordinates_lat": 48.8584, "coordinates_long": "2.2945", "fallback_title": "Eiffel Tower, Paris", "data_url": null},
            {"id": 2, "message_id": 10, "file_type": "contact", "account_id": 1, "fallback_title": "+33 6 12 34 56 78", "meta": {}},
            {"id": 3, "message_id": 10, "file_type": "audio", "account_id": 1, "data_url": "https://x.example/a.ogg", "thumb_url": "", "file_size": 900, "transcribed_text": "Call me back"},
            {"id": 4, "message_id": 10, "file_type": "fallback", "account_id": 1, "fallback_title": "Shared post", "data_url": "https://instagram.com/p/1"},
            {"id": 5, "message_id": 10, "file_type": "story_mention", "account_id": 1, "data_url": "https://lookaside.example/story", "thumb_url": "https://lookaside.example/story"},
            {"id": 6, "message_id": 10, "file_type": "ig_story", "account_id": 1, "data_url": "https://lookaside.example/s2"},
            {"id": 7, "message_id": 10, "file_type": "share", "account_id": 1, "data_url": "https://example.com/shared"},
        ],
    }));
    let a = m.attachments();
    assert_eq!(a[0].file_type, FileType::Location);
    assert_eq!(
        (a[0].coordinates_lat, a[0].coordinates_long),
        (Some(48.8584), Some(2.2945))
    );
    assert_eq!(a[0].fallback_title.as_deref(), Some("Eiffel Tower, Paris"));
    assert_eq!(a[1].file_type, FileType::Contact);
    assert_eq!(a[1].fallback_title.as_deref(), Some("+33 6 12 34 56 78"));
    assert_eq!(m.content.as_deref(), Some("Bob Stone"));
    assert_eq!(a[2].transcribed_text.as_deref(), Some("Call me back"));
    assert_eq!(a[3].file_type, FileType::Fallback);
    assert_eq!(a[4].file_type, FileType::StoryMention);
    assert_eq!(a[5].file_type, FileType::IgStory);
    assert_eq!(a[6].file_type, FileType::Share);
    assert!(parley_wire::content::is_story_mention(
        &m.content_attributes
    ));
}

#[test]
fn every_sender_type_and_none() {
    // `User`, `Contact`, `AgentBot`, `Captain::Assistant` `#push_event_data`; automation
    // and system messages have no sender.
    let cases = [
        (
            json!({"id": 1, "name": "Agent A", "available_name": "Ann", "avatar_url": "", "type": "user", "thumbnail": ""}),
            "user",
            "Ann",
        ),
        (
            json!({"id": 2, "name": "Ana", "type": "contact", "thumbnail": "https://x.example/a.png"}),
            "contact",
            "Ana",
        ),
        (
            json!({"id": 3, "name": "Helper bot", "avatar_url": "", "type": "agent_bot"}),
            "agent_bot",
            "Helper bot",
        ),
        (
            json!({"id": 4, "name": "Captain", "avatar_url": "", "description": "AI", "created_at": 1, "type": "captain_assistant"}),
            "captain_assistant",
            "Captain",
        ),
    ];
    for (sender, kind, name) in cases {
        let m = live(json!({"message_type": 1, "sender": sender}));
        let s = m.sender.expect("a sender");
        assert_eq!(s.display_name(), Some(name), "{kind}");
        match (kind, &s) {
            ("user", Sender::User(_))
            | ("contact", Sender::Contact(_))
            | ("agent_bot", Sender::AgentBot(_))
            | ("captain_assistant", Sender::CaptainAssistant(_)) => {}
            _ => panic!("{kind} read as {s:?}"),
        }
    }
    let mut none = json!({"message_type": 2, "content": "Conversation was resolved by Ann"});
    none.as_object_mut()
        .unwrap()
        .insert("sender".into(), Value::Null);
    assert!(rest(none).sender.is_none());
}

#[test]
fn a_reaction_names_the_message_it_answers() {
    // WhatsApp / Instagram incoming reactions: content is the emoji,
    // content_attributes {is_reaction: true, in_reply_to: <message id>}.
    let m = live(
        json!({"content": "👍", "content_attributes": {"is_reaction": true, "in_reply_to": "7"}}),
    );
    assert_eq!(m.reaction_to(), Some(7));
    let reply = rest(json!({"content": "ok", "content_attributes": {"in_reply_to": 7}}));
    assert_eq!(reply.reaction_to(), None, "a plain reply is not a reaction");
    let odd = rest(json!({"content": "👍", "content_attributes": {"is_reaction": "yes"}}));
    assert_eq!(
        odd.reaction_to(),
        None,
        "a reaction to nothing is a message"
    );
}
