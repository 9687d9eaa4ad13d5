//! The HTML of a message's blocks (issue 16): each shape says what it means, and nothing
//! the sender wrote becomes markup, script or an unsafe link.

use parley_core::blocks::{draws, escape, html};
use parley_core::i18n::Lang;
use parley_wire::Message;
use serde_json::{json, Value};

fn message(fields: Value) -> Message {
    let mut m = json!({
        "id": 1, "content": "", "conversation_id": 1, "message_type": 0, "created_at": 1,
        "sender": {"id": 5, "name": "Ana", "type": "contact"},
    });
    m.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    serde_json::from_value(m).unwrap()
}

fn of(fields: Value) -> String {
    html(&message(fields), Lang::En)
}

const EVIL: &str = "<img src=x onerror=alert(1)>\"'&";

#[test]
fn escaping_covers_text_and_attributes() {
    assert_eq!(
        escape(EVIL),
        "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"
    );
    assert_eq!(escape("a\nb"), "a&#10;b");
}

#[test]
fn sender_text_in_every_shape_stays_text() {
    let shapes = [
        json!({"content_type": "input_select", "content_attributes": {"items": [{"title": EVIL, "value": EVIL}], "submitted_values": [{"title": EVIL, "value": EVIL}]}}),
        json!({"content_type": "cards", "content_attributes": {"items": [{"media_url": "https://x.example/a.png", "title": EVIL, "description": EVIL, "actions": [{"type": "link", "text": EVIL, "uri": "https://x.example"}]}]}}),
        json!({"content_type": "form", "content_attributes": {"items": [{"name": "a", "label": EVIL}], "submitted_values": [{"name": "a", "value": EVIL}]}}),
        json!({"content_type": "article", "content_attributes": {"items": [{"title": EVIL, "description": EVIL, "link": "https://x.example"}]}}),
        json!({"content_type": "incoming_email", "content_attributes": {"email": {"subject": EVIL, "from": [EVIL], "text_content": {"full": EVIL, "quoted": EVIL}}}}),
        json!({"content_type": "input_csat", "content_attributes": {"submitted_values": {"csat_survey_response": {"rating": 3, "feedback_message": EVIL}}}}),
        json!({"content_type": "integrations", "content_attributes": {"type": EVIL}}),
        json!({"content_type": "input_email", "content_attributes": {"submitted_email": EVIL}}),
        json!({"content": EVIL, "attachments": [{"id": 1, "file_type": "contact", "fallback_title": EVIL}]}),
        json!({"attachments": [{"id": 1, "file_type": "location", "fallback_title": EVIL, "coordinates_lat": 1, "coordinates_long": 2}]}),
        json!({"attachments": [{"id": 1, "file_type": "fallback", "fallback_title": EVIL, "data_url": "https://x.example"}]}),
        json!({"attachments": [{"id": 1, "file_type": "audio", "data_url": "https://x.example/a.ogg", "transcribed_text": EVIL}]}),
    ];
    for shape in shapes {
        let out = of(shape.clone());
        assert!(!out.is_empty(), "{shape} shows something");
        assert!(!out.contains("<img src=x"), "{shape}: {out}");
        assert!(!out.contains("onerror=alert(1)>"), "{shape}: {out}");
        assert!(
            out.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{shape}: {out}"
        );
    }
}

#[test]
fn links_are_safe_and_open_apart() {
    let out = of(
        json!({"content_type": "cards", "content_attributes": {"items": [{"title": "T", "actions": [
            {"type": "link", "text": "Buy", "uri": "https://shop.example.com/a?b=1&c=2"},
            {"type": "link", "text": "Evil", "uri": "javascript:alert(1)"},
            {"type": "link", "text": "Quote", "uri": "https://x.example/\"onmouseover=\"alert(1)"},
            {"type": "postback", "text": "More", "payload": "MORE"},
        ]}]}}),
    );
    assert!(out.contains("<a class=\"parley-card-action\" href=\"https://shop.example.com/a?b=1&amp;c=2\" target=\"_blank\" rel=\"noopener noreferrer\""), "{out}");
    assert!(!out.contains("javascript:"), "{out}");
    assert!(
        out.contains("<span class=\"parley-card-action\" dir=\"auto\">Evil</span>"),
        "{out}"
    );
    assert!(
        out.contains("href=\"https://x.example/&quot;onmouseover=&quot;alert(1)\""),
        "{out}"
    );
    assert!(out.contains(">More</span>"), "{out}");
}

#[test]
fn select_marks_the_choice_and_says_it() {
    let out = of(
        json!({"content_type": "input_select", "content_attributes": {
            "items": [{"title": "Basic", "value": "basic"}, {"title": "Pro", "value": "pro"}],
            "submitted_values": [{"title": "Pro", "value": "pro"}],
        }}),
    );
    assert_eq!(out.matches("data-chosen=\"true\"").count(), 1);
    assert!(
        out.contains("Customer chose:</span> <strong dir=\"auto\">Pro</strong>"),
        "{out}"
    );
    let open = of(
        json!({"content_type": "input_select", "content_attributes": {"items": [{"title": "A", "value": "a"}]}}),
    );
    assert!(open.contains("No answer yet"), "{open}");
}

#[test]
fn email_html_part_only_in_a_sandboxed_frame_that_fetches_nothing() {
    let out = of(
        json!({"content_type": "incoming_email", "content": "Hi", "content_attributes": {"email": {
            "subject": "S", "from": ["a@example.com"],
            "html_content": {"full": "<p>Hi</p><script>alert(1)</script><img src=\"https://t.example/p.gif\">"},
            "text_content": {"full": "Hi", "reply": "Hi"},
        }}}),
    );
    let frame = out.find("<iframe").expect("a frame");
    let tag = &out[frame..out[frame..].find('>').unwrap() + frame];
    assert!(
        tag.contains("sandbox=\"allow-popups allow-popups-to-escape-sandbox\""),
        "{tag}"
    );
    assert!(
        !tag.contains("allow-scripts") && !tag.contains("allow-same-origin"),
        "{tag}"
    );
    assert!(tag.contains("img-src data:"), "{tag}");
    assert!(
        tag.contains("&lt;script&gt;"),
        "the markup is inside the attribute: {tag}"
    );
    // Outside the frame nothing of the HTML part is markup.
    let outside = out.replace(tag, "");
    assert!(
        !outside.contains("<script") && !outside.contains("t.example"),
        "{outside}"
    );
    assert!(out.contains("<details"), "on demand: {out}");
    assert!(
        !out.contains("parley-email-text"),
        "the bubble shows the text already"
    );
}

#[test]
fn csat_rating_and_places() {
    let out = of(
        json!({"content_type": "input_csat", "content_attributes": {"display_type": "star", "submitted_values": {"csat_survey_response": {"rating": 4, "feedback_message": "Kind"}}}}),
    );
    assert!(out.contains("aria-label=\"Rated 4 out of 5\""), "{out}");
    assert!(out.contains("★★★★☆"), "{out}");
    let emoji = of(
        json!({"content_type": "input_csat", "content_attributes": {"submitted_values": {"csat_survey_response": {"rating": 1}}}}),
    );
    assert!(emoji.contains("😞"), "{emoji}");

    let place = of(
        json!({"attachments": [{"id": 1, "file_type": "location", "fallback_title": "Eiffel Tower", "coordinates_lat": 48.8584, "coordinates_long": 2.2945}]}),
    );
    assert!(place.contains("href=\"https://www.openstreetmap.org/?mlat=48.858400&amp;mlon=2.294500#map=16/48.858400/2.294500\""), "{place}");
    assert!(
        !place.contains("<img") && !place.contains("<iframe"),
        "no map tiles: {place}"
    );

    let contact = of(
        json!({"content": "Bob", "attachments": [{"id": 1, "file_type": "contact", "fallback_title": "+33 6 12"}]}),
    );
    assert!(contact.contains("href=\"tel:+33612\""), "{contact}");
    assert!(
        contact.contains("data-copy=\"Bob&#10;+33 6 12\""),
        "{contact}"
    );
}

#[test]
fn files_are_not_drawn_here_and_a_deleted_message_has_no_block() {
    let m = message(json!({"attachments": [
        {"id": 1, "file_type": "image", "data_url": "https://x.example/a.png"},
        {"id": 2, "file_type": "story_mention", "data_url": "https://x.example/s"},
        {"id": 3, "file_type": "share", "data_url": "https://x.example/p"},
    ]}));
    let drawn: Vec<bool> = m.attachments().iter().map(draws).collect();
    assert_eq!(drawn, [false, false, true]);
    let deleted = of(
        json!({"content_type": "cards", "content_attributes": {"deleted": true, "items": [{"title": "T"}]}}),
    );
    assert_eq!(deleted, "");
}
