//! Canned responses: the `/` trigger, insertion, and Chatwoot's variables.

use parley_core::canned::{fill, insert, trigger, unfilled, Context, Variables};
use serde_json::json;

#[test]
fn a_slash_at_the_start_of_a_word_opens_the_picker() {
    assert_eq!(trigger("/", 1), Some((0, "")));
    assert_eq!(trigger("/ref", 4), Some((0, "ref")));
    assert_eq!(trigger("hello /ref", 10), Some((6, "ref")));
    assert_eq!(trigger("line one\n/ship", 14), Some((9, "ship")));
    // Only up to the caret: the word being typed.
    assert_eq!(trigger("/refund now", 4), Some((0, "ref")));
}

#[test]
fn urls_dates_and_finished_words_do_not() {
    assert_eq!(trigger("see https://x.example/", 22), None);
    assert_eq!(trigger("on 1/2", 6), None);
    assert_eq!(trigger("/a/b", 4), None);
    assert_eq!(trigger("/refund ", 8), None);
    assert_eq!(trigger("", 0), None);
    // A caret inside a multi-byte character is not a place to look.
    assert_eq!(trigger("é/x", 1), None);
    assert_eq!(trigger("é /x", 5), Some((3, "x")));
}

#[test]
fn choosing_replaces_the_slash_word_and_keeps_the_rest() {
    let (text, caret) = insert("Hi! /ref thanks", 4, 8, "Your refund is on its way.");
    assert_eq!(text, "Hi! Your refund is on its way. thanks");
    assert_eq!(&text[..caret], "Hi! Your refund is on its way.");
}

fn vars() -> Variables {
    let custom = json!({"plan": "Pro", "seats": 5, "gone": null});
    Variables::from_context(&Context {
        contact_name: Some("Maya Chen"),
        contact_email: Some("maya@example.com"),
        contact_phone: None,
        contact_id: Some(7),
        contact_custom: Some(&custom),
        conversation_id: Some(42),
        conversation_custom: None,
        agent_name: Some("Alex van Morgan"),
        agent_email: Some("alex@acme.example"),
        inbox_id: Some(1),
        inbox_name: Some("Website"),
    })
}

#[test]
fn chatwoots_variables_are_filled() {
    let out = fill(
        "Hi {{contact.first_name}} ({{ contact.email }}), I'm {{agent.first_name}} {{agent.last_name}}. Ticket #{{conversation.id}}, plan {{contact.custom_attribute.plan}} for {{contact.custom_attribute.seats}} seats.",
        &vars(),
    );
    assert_eq!(
        out,
        "Hi Maya (maya@example.com), I'm Alex Morgan. Ticket #42, plan Pro for 5 seats."
    );
}

#[test]
fn unknown_or_empty_variables_stay_visible() {
    let out = fill(
        "Call {{contact.phone}} or {{nonsense}}; {{contact.custom_attribute.gone}} {{unclosed",
        &vars(),
    );
    assert_eq!(
        out,
        "Call {{contact.phone}} or {{nonsense}}; {{contact.custom_attribute.gone}} {{unclosed"
    );
    assert_eq!(
        unfilled(&out),
        ["contact.phone", "nonsense", "contact.custom_attribute.gone"]
    );
}
