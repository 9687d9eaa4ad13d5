//! The displayed log: day separators, the unread divider and sender groups, one rule per
//! test.

use parley_core::store::MessageStore;
use parley_core::timeline::{build, reactions, Item, GROUP_WINDOW_S};
use parley_wire::Message;
use serde_json::json;

const DAY: i64 = 86_400;

/// A message from `who` ("contact:7", "user:1") at `t`.
fn msg(id: i64, t: i64, who: &str) -> Message {
    let (kind, sid) = who.split_once(':').unwrap();
    let sid: i64 = sid.parse().unwrap();
    let message_type = if kind == "contact" { 0 } else { 1 };
    serde_json::from_value(json!({
        "id": id, "content": format!("m{id}"), "conversation_id": 1,
        "message_type": message_type, "created_at": t,
        "sender": { "id": sid, "name": who, "type": kind },
    }))
    .unwrap()
}

fn activity(id: i64, t: i64) -> Message {
    serde_json::from_value(json!({
        "id": id, "content": "Conversation was resolved", "conversation_id": 1,
        "message_type": 2, "created_at": t,
    }))
    .unwrap()
}

fn store(messages: Vec<Message>) -> MessageStore {
    let mut s = MessageStore::new();
    for m in messages {
        s.upsert(m);
    }
    s
}

/// UTC days, as a browser at UTC would give them.
fn utc_day(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// A compact picture of the items: "D<day>", "U<count>", "<id>" or "<id>+" (continued).
fn shape(s: &MessageStore, items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Item::Day { day, .. } => format!("D{day}"),
            Item::Unread { count } => format!("U{count}"),
            Item::Message { key, continued } => {
                let id = s
                    .rows()
                    .find(|r| &r.key.0 == key)
                    .map(|r| r.message.id)
                    .unwrap();
                format!("{id}{}", if *continued { "+" } else { "" })
            }
        })
        .collect()
}

#[test]
fn a_day_separator_opens_each_calendar_day() {
    let s = store(vec![
        msg(1, 10 * DAY + 100, "contact:7"),
        msg(2, 10 * DAY + 200, "user:1"),
        msg(3, 11 * DAY + 5, "user:1"),
    ]);
    let items = build(s.rows(), utc_day, None);
    assert_eq!(shape(&s, &items), ["D10", "1", "2", "D11", "3"]);
    assert_eq!(
        items[3],
        Item::Day {
            day: 11,
            at: 11 * DAY + 5
        }
    );
}

#[test]
fn the_day_comes_from_the_callers_time_zone() {
    // 23:30 UTC is already the next day at UTC+1.
    let t = 10 * DAY + 23 * 3600 + 1800;
    let s = store(vec![msg(1, 10 * DAY + 3600, "user:1"), msg(2, t, "user:1")]);
    let plus_one = |t: i64| (t + 3600).div_euclid(DAY);
    assert_eq!(
        shape(&s, &build(s.rows(), utc_day, None)),
        ["D10", "1", "2"]
    );
    assert_eq!(
        shape(&s, &build(s.rows(), plus_one, None)),
        ["D10", "1", "D11", "2"]
    );
}

#[test]
fn one_senders_messages_close_in_time_are_grouped() {
    let s = store(vec![
        msg(1, 1000, "contact:7"),
        msg(2, 1010, "contact:7"),
        msg(3, 1020, "user:1"),
        msg(4, 1030, "user:1"),
        msg(5, 1030 + GROUP_WINDOW_S + 1, "user:1"),
        msg(6, 1030 + GROUP_WINDOW_S + 2, "user:2"),
    ]);
    assert_eq!(
        shape(&s, &build(s.rows(), utc_day, None)),
        ["D0", "1", "2+", "3", "4+", "5", "6"]
    );
}

#[test]
fn activity_messages_and_private_notes_break_groups() {
    let mut note = msg(3, 1020, "user:1");
    note.private = true;
    let s = store(vec![
        msg(1, 1000, "user:1"),
        activity(2, 1010),
        note,
        msg(4, 1030, "user:1"),
    ]);
    assert_eq!(
        shape(&s, &build(s.rows(), utc_day, None)),
        ["D0", "1", "2", "3", "4"]
    );
}

#[test]
fn the_unread_divider_sits_above_the_first_incoming_message_after_last_seen() {
    let s = store(vec![
        msg(1, 1000, "contact:7"),
        msg(2, 1100, "user:1"),
        msg(3, 1200, "user:1"),
        msg(4, 1300, "contact:7"),
        msg(5, 1310, "contact:7"),
    ]);
    // Seen at 1150: message 3 is the agent's own, so unread starts at message 4.
    let items = build(s.rows(), utc_day, Some(1150));
    assert_eq!(shape(&s, &items), ["D0", "1", "2", "3+", "U2", "4", "5+"]);
}

#[test]
fn no_divider_when_everything_was_read_or_nothing_was_ever_seen_is_unknown() {
    let s = store(vec![msg(1, 1000, "contact:7"), msg(2, 1100, "contact:7")]);
    assert_eq!(
        shape(&s, &build(s.rows(), utc_day, Some(2000))),
        ["D0", "1", "2+"]
    );
    assert_eq!(
        shape(&s, &build(s.rows(), utc_day, None)),
        ["D0", "1", "2+"]
    );
}

#[test]
fn item_keys_are_stable_and_distinct() {
    let s = store(vec![
        msg(1, 1000, "contact:7"),
        msg(2, DAY + 1, "contact:7"),
    ]);
    let items = build(s.rows(), utc_day, Some(0));
    let keys: Vec<String> = items.iter().map(Item::key).collect();
    assert_eq!(keys, ["d:0", "unread", "m:1", "d:1", "m:2"]);
}

#[test]
fn ten_thousand_messages_build_one_item_each_plus_separators() {
    let messages: Vec<Message> = (1..=10_000)
        .map(|i| msg(i, i * 600, if i % 3 == 0 { "user:1" } else { "contact:7" }))
        .collect();
    let s = store(messages);
    let items = build(s.rows(), utc_day, None);
    let days = items
        .iter()
        .filter(|i| matches!(i, Item::Day { .. }))
        .count();
    // 10,000 messages ten minutes apart span 70 days (day 0 through day 69).
    assert_eq!(days, 70);
    assert_eq!(items.len(), 10_000 + days);
}

/// A reaction (`content_attributes.is_reaction`, WhatsApp and Instagram) from `who`.
fn reaction(id: i64, t: i64, who: &str, emoji: &str, to: i64) -> Message {
    let mut m = msg(id, t, who);
    m.content = Some(emoji.to_owned());
    m.content_attributes = json!({ "is_reaction": true, "in_reply_to": to });
    m
}

#[test]
fn reactions_are_not_rows_of_their_own_but_chips_on_their_message_grouped_by_emoji() {
    let s = store(vec![
        msg(1, 100, "user:1"),
        reaction(2, 110, "contact:7", "👍", 1),
        reaction(3, 120, "contact:8", "❤️", 1),
        reaction(4, 130, "contact:9", "👍", 1),
        msg(5, 140, "contact:7"),
    ]);
    let items = build(s.rows(), utc_day, None);
    assert_eq!(shape(&s, &items), ["D0", "1", "5"]);
    let chips = reactions(s.rows(), 1);
    let seen: Vec<(&str, Vec<&str>)> = chips
        .iter()
        .map(|r| {
            (
                r.emoji.as_str(),
                r.names.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("👍", vec!["contact:7", "contact:9"]),
            ("❤️", vec!["contact:8"])
        ]
    );
    assert!(reactions(s.rows(), 5).is_empty());
}

#[test]
fn a_reaction_to_a_message_not_loaded_stays_a_row_and_a_deleted_one_counts_no_more() {
    let mut deleted = reaction(3, 120, "contact:8", "👍", 1);
    deleted.content_attributes["deleted"] = json!(true);
    let s = store(vec![
        msg(1, 100, "user:1"),
        reaction(2, 110, "contact:7", "👍", 999),
        deleted,
    ]);
    assert_eq!(shape(&s, &build(s.rows(), utc_day, None)), ["D0", "1", "2"]);
    assert!(reactions(s.rows(), 1).is_empty());
}
