//! The message store: one rule per test, then property tests that throw the same frames at
//! it in every order and check that it always ends with the same list.

use parley_core::outbox::{AttemptError, FailReason};
use parley_core::store::*;
use parley_wire::{Message, MessageStatus, MessageType};
use serde_json::json;

fn msg(id: i64, created_at: i64) -> Message {
    serde_json::from_value(json!({
        "id": id, "content": format!("m{id}"), "conversation_id": 1,
        "message_type": 1, "created_at": created_at,
    }))
    .unwrap()
}

fn with_echo(mut m: Message, echo: &str) -> Message {
    m.echo_id = Some(echo.into());
    m
}

fn with_status(mut m: Message, s: MessageStatus) -> Message {
    m.status = s;
    m
}

fn pending(content: &str, created_at: i64) -> Message {
    let mut m = msg(0, created_at);
    m.content = Some(content.into());
    m.status = MessageStatus::Progress;
    m
}

fn ids(s: &MessageStore) -> Vec<i64> {
    s.rows().map(|r| r.message.id).collect()
}

fn keys(s: &MessageStore) -> Vec<String> {
    s.rows().map(|r| r.key.0.clone()).collect()
}

fn key(k: &str) -> RowKey {
    RowKey(k.into())
}

#[test]
fn confirmed_messages_are_ordered_by_created_at_then_id_whatever_the_arrival() {
    let mut s = MessageStore::new();
    assert_eq!(
        s.upsert(msg(5, 300)),
        Change::Inserted {
            key: key("m:5"),
            index: 0
        }
    );
    assert_eq!(
        s.upsert(msg(2, 100)),
        Change::Inserted {
            key: key("m:2"),
            index: 0
        }
    );
    // Same second: the id breaks the tie.
    assert_eq!(
        s.upsert(msg(4, 200)),
        Change::Inserted {
            key: key("m:4"),
            index: 1
        }
    );
    assert_eq!(
        s.upsert(msg(3, 200)),
        Change::Inserted {
            key: key("m:3"),
            index: 1
        }
    );
    assert_eq!(ids(&s), [2, 3, 4, 5]);
    assert_eq!(s.newest_id(), Some(5));
    assert_eq!(s.oldest_id(), Some(2));
    assert_eq!(s.len(), 4);
}

#[test]
fn a_replayed_frame_is_unchanged_and_never_a_duplicate() {
    let mut s = MessageStore::new();
    s.upsert(msg(1, 100));
    assert_eq!(s.upsert(msg(1, 100)), Change::Unchanged);
    assert_eq!(s.len(), 1);
}

#[test]
fn pending_sends_stay_after_the_last_confirmed_in_typing_order() {
    let mut s = MessageStore::new();
    s.upsert(msg(1, 100));
    assert_eq!(
        s.add_pending("a", pending("one", 50)),
        Change::Inserted {
            key: key("e:a"),
            index: 1
        }
    );
    assert_eq!(
        s.add_pending("b", pending("two", 40)),
        Change::Inserted {
            key: key("e:b"),
            index: 2
        }
    );
    // A later incoming message goes before the pending ones, even with a later time.
    assert_eq!(
        s.upsert(msg(2, 500)),
        Change::Inserted {
            key: key("m:2"),
            index: 1
        }
    );
    assert_eq!(keys(&s), ["m:1", "m:2", "e:a", "e:b"]);
    let row = s.get(&key("e:a")).unwrap();
    assert_eq!(row.send, Some(SendState::Sending));
    assert_eq!(row.message.echo_id.as_deref(), Some("a"));
    // Pending rows have no server id.
    assert_eq!(s.newest_id(), Some(2));
}

#[test]
fn the_create_response_confirms_the_pending_row_in_place_and_the_cable_event_is_a_no_op() {
    let mut s = MessageStore::new();
    s.upsert(msg(1, 100));
    s.add_pending("a", pending("m7", 150));
    let c = s.upsert(with_echo(msg(7, 160), "a"));
    assert_eq!(
        c,
        Change::Updated {
            key: key("e:a"),
            index: 1
        }
    );
    let row = s.get(&key("e:a")).unwrap();
    assert_eq!(
        (row.message.id, row.message.created_at, row.send.clone()),
        (7, 160, None)
    );
    // The cable's message.created of the same send: nothing new.
    assert_eq!(s.upsert(with_echo(msg(7, 160), "a")), Change::Unchanged);
    // And a REST page without echo_id: still the same row.
    assert_eq!(s.upsert(msg(7, 160)), Change::Unchanged);
    assert_eq!(keys(&s), ["m:1", "e:a"]);
    assert_eq!(
        s.get(&key("e:a")).unwrap().message.echo_id.as_deref(),
        Some("a")
    );
}

#[test]
fn the_cable_event_first_then_the_response_is_the_same() {
    let mut s = MessageStore::new();
    s.add_pending("a", pending("m7", 150));
    let mut cable = with_echo(msg(7, 160), "a");
    cable.account_id = Some(1);
    assert!(matches!(s.upsert(cable), Change::Updated { .. }));
    assert_eq!(s.upsert(with_echo(msg(7, 160), "a")), Change::Unchanged);
    assert_eq!(keys(&s), ["e:a"]);
}

#[test]
fn a_confirmed_send_moves_before_a_message_that_arrived_while_it_was_pending() {
    let mut s = MessageStore::new();
    s.add_pending("a", pending("mine", 100));
    // The customer's reply (id 8) arrives before our response (id 7, same second).
    s.upsert(msg(8, 100));
    assert_eq!(keys(&s), ["m:8", "e:a"]);
    assert_eq!(
        s.upsert(with_echo(msg(7, 100), "a")),
        Change::Updated {
            key: key("e:a"),
            index: 0
        }
    );
    assert_eq!(keys(&s), ["e:a", "m:8"]);
}

#[test]
fn a_rest_page_that_beat_the_echo_is_merged_into_the_pending_row() {
    let mut s = MessageStore::new();
    s.add_pending("a", pending("m7", 100));
    // A resync page holds our message without echo_id: for now, two rows.
    s.upsert(msg(7, 100));
    assert_eq!(keys(&s), ["m:7", "e:a"]);
    // The response (or the app relaying the outbox's Delivered) ties them: one row left,
    // with the pending row's key.
    assert_eq!(
        s.upsert(with_echo(msg(7, 100), "a")),
        Change::Updated {
            key: key("e:a"),
            index: 0
        }
    );
    assert_eq!(keys(&s), ["e:a"]);
    assert_eq!(s.len(), 1);
    assert_eq!(s.newest_id(), Some(7));
    assert!(s.get(&key("m:7")).is_none());
}

#[test]
fn a_second_server_message_with_the_same_echo_id_is_shown_not_hidden() {
    let mut s = MessageStore::new();
    s.add_pending("a", pending("hi", 100));
    s.upsert(with_echo(msg(7, 100), "a"));
    s.upsert(with_echo(msg(9, 101), "a"));
    assert_eq!(keys(&s), ["e:a", "m:9"]);
}

#[test]
fn statuses_never_move_backwards_but_a_server_failure_applies() {
    let mut s = MessageStore::new();
    s.upsert(with_status(msg(1, 100), MessageStatus::Read));
    assert_eq!(
        s.upsert(with_status(msg(1, 100), MessageStatus::Delivered)),
        Change::Unchanged
    );
    assert_eq!(
        s.upsert(with_status(msg(1, 100), MessageStatus::Sent)),
        Change::Unchanged
    );
    assert_eq!(
        s.get(&key("m:1")).unwrap().message.status,
        MessageStatus::Read
    );

    s.upsert(with_status(msg(2, 100), MessageStatus::Delivered));
    let c = s.upsert(with_status(msg(2, 100), MessageStatus::Failed));
    assert_eq!(
        c,
        Change::Updated {
            key: key("m:2"),
            index: 1
        }
    );
    assert_eq!(
        s.get(&key("m:2")).unwrap().message.status,
        MessageStatus::Failed
    );
    // A replay of the old "delivered" does not hide the failure...
    assert_eq!(
        s.upsert(with_status(msg(2, 100), MessageStatus::Unknown)),
        Change::Unchanged
    );
    // ...but a successful retry moves it on.
    s.upsert(with_status(msg(2, 100), MessageStatus::Sent));
    assert_eq!(
        s.get(&key("m:2")).unwrap().message.status,
        MessageStatus::Sent
    );
}

#[test]
fn message_updated_replaces_content_attributes_and_attachments() {
    let mut s = MessageStore::new();
    let mut m = msg(1, 100);
    m.attachments = Some(vec![serde_json::from_value(json!({
        "id": 3, "message_id": 1, "file_type": "image", "account_id": 1,
        "data_url": "https://x/y.png"
    }))
    .unwrap()]);
    s.upsert(m);
    let mut deleted = msg(1, 100);
    deleted.content = Some("This message was deleted".into());
    deleted.content_attributes = json!({"deleted": true});
    assert!(matches!(s.upsert(deleted), Change::Updated { .. }));
    let row = s.get(&key("m:1")).unwrap();
    assert!(row.message.is_deleted());
    assert!(row.message.attachments().is_empty());
    assert_eq!(
        row.message.content.as_deref(),
        Some("This message was deleted")
    );
    // A stale page from before the deletion does not bring it back.
    assert_eq!(s.upsert(msg(1, 100)), Change::Unchanged);
    assert!(s.get(&key("m:1")).unwrap().message.is_deleted());
}

#[test]
fn an_older_copy_does_not_undo_an_edit() {
    let mut s = MessageStore::new();
    s.upsert(msg(1, 100));
    let mut edited = msg(1, 100);
    edited.content = Some("fixed".into());
    edited.content_attributes =
        json!({"edited": {"at": 5, "previous": [{"content": "m1", "at": 1}]}});
    s.upsert(edited);
    // The stale copy still brings a newer status.
    let c = s.upsert(with_status(msg(1, 100), MessageStatus::Read));
    assert!(matches!(c, Change::Updated { .. }));
    let m = &s.get(&key("m:1")).unwrap().message;
    assert_eq!(
        (m.content.as_deref(), m.status),
        (Some("fixed"), MessageStatus::Read)
    );
}

#[test]
fn activity_messages_and_private_notes_are_kept() {
    let mut s = MessageStore::new();
    let mut activity = msg(1, 100);
    activity.message_type = MessageType::Activity;
    let mut note = msg(2, 101);
    note.private = true;
    s.upsert(activity);
    s.upsert(note);
    assert_eq!(ids(&s), [1, 2]);
}

#[test]
fn send_state_applies_to_pending_rows_only() {
    let mut s = MessageStore::new();
    s.add_pending("a", pending("x", 100));
    let failed = Some(SendState::Failed {
        reason: FailReason::Refused(AttemptError::Http { status: 422 }),
    });
    assert_eq!(
        s.set_send_state("a", failed.clone()),
        Change::Updated {
            key: key("e:a"),
            index: 0
        }
    );
    assert_eq!(s.set_send_state("a", failed.clone()), Change::Unchanged);
    assert_eq!(s.get(&key("e:a")).unwrap().send, failed);
    assert_eq!(s.set_send_state("nope", None), Change::Unchanged);
    s.upsert(with_echo(msg(3, 100), "a"));
    assert_eq!(
        s.set_send_state("a", Some(SendState::Sending)),
        Change::Unchanged
    );
    assert_eq!(s.get(&key("e:a")).unwrap().send, None);
}

#[test]
fn add_pending_again_updates_the_pending_row_and_ignores_a_confirmed_one() {
    let mut s = MessageStore::new();
    s.add_pending("a", pending("typo", 100));
    s.set_send_state("a", Some(SendState::Queued));
    assert_eq!(
        s.add_pending("a", pending("fixed", 100)),
        Change::Updated {
            key: key("e:a"),
            index: 0
        }
    );
    let row = s.get(&key("e:a")).unwrap();
    assert_eq!(
        (row.message.content.as_deref(), row.send.clone()),
        (Some("fixed"), Some(SendState::Queued))
    );
    s.upsert(with_echo(msg(4, 100), "a"));
    assert_eq!(s.add_pending("a", pending("fixed", 100)), Change::Unchanged);
    assert_eq!(s.len(), 1);
}

#[test]
fn remove_drops_pending_and_confirmed_rows() {
    let mut s = MessageStore::new();
    s.upsert(msg(1, 100));
    s.add_pending("a", pending("x", 100));
    assert!(s.remove(&key("e:a")));
    assert!(!s.remove(&key("e:a")));
    assert!(s.remove(&key("m:1")));
    assert!(s.is_empty());
    assert_eq!(s.newest_id(), None);
    // Removed means forgotten: the same id comes back as a new row.
    assert!(matches!(s.upsert(msg(1, 100)), Change::Inserted { .. }));
}

#[test]
fn mark_read_moves_our_sent_and_delivered_messages_up_to_the_time() {
    let mut s = MessageStore::new();
    s.upsert(with_status(msg(1, 100), MessageStatus::Sent));
    s.upsert(with_status(msg(2, 110), MessageStatus::Delivered));
    let mut incoming = msg(3, 110);
    incoming.message_type = MessageType::Incoming;
    s.upsert(incoming);
    let mut note = msg(4, 110);
    note.private = true;
    s.upsert(note);
    s.upsert(with_status(msg(5, 120), MessageStatus::Failed));
    s.upsert(msg(6, 200));
    s.add_pending("a", pending("x", 100));
    assert_eq!(s.mark_read(150), [key("m:1"), key("m:2")]);
    assert_eq!(
        s.get(&key("m:6")).unwrap().message.status,
        MessageStatus::Sent
    );
    assert_eq!(
        s.get(&key("m:5")).unwrap().message.status,
        MessageStatus::Failed
    );
    assert_eq!(
        s.get(&key("m:3")).unwrap().message.status,
        MessageStatus::Sent
    );
    assert_eq!(s.mark_read(150), Vec::<RowKey>::new());
}

#[test]
fn ten_thousand_messages_in_reverse_order_end_sorted() {
    let mut s = MessageStore::new();
    for id in (1..=10_000).rev() {
        s.upsert(msg(id, id / 3));
    }
    for id in (1..=10_000).step_by(7) {
        assert_eq!(s.upsert(msg(id, id / 3)), Change::Unchanged);
    }
    assert_eq!(s.len(), 10_000);
    assert!(ids(&s).windows(2).all(|w| w[0] < w[1]));
    assert_eq!(s.get(&key("m:5000")).map(|r| r.message.id), Some(5000));
}

// ---------------------------------------------------------------------------------------
// Property tests: a set of frames about a set of messages, delivered in any order, some
// twice, always ends as the same list.

use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Spec {
    id: i64,
    created_at: i64,
    message_type: i64,
    private: bool,
    /// Sent from this client: a pending row exists first.
    local: bool,
    frames: Vec<Frame>,
}

/// One copy of the message as some frame carries it.
#[derive(Debug, Clone)]
struct Frame {
    /// 0 = as created, 1 and 2 = edited once or twice, 3 = deleted.
    revision: u8,
    status: u8,
    /// The create response and the cable events of our own send carry echo_id.
    echo: bool,
    /// Cable frames carry account_id, REST frames do not.
    cable: bool,
}

const STATUSES: [MessageStatus; 3] = [
    MessageStatus::Sent,
    MessageStatus::Delivered,
    MessageStatus::Read,
];

fn frame() -> impl Strategy<Value = Frame> {
    (0u8..4, 0u8..3, any::<bool>(), any::<bool>()).prop_map(|(revision, status, echo, cable)| {
        Frame {
            revision,
            status,
            echo,
            cable,
        }
    })
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    proptest::collection::vec(
        (
            100i64..104,
            0i64..3,
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(frame(), 1..4),
        ),
        1..12,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(
                |(i, (created_at, message_type, private, local, mut frames))| {
                    let local = local && message_type == 1;
                    if local {
                        // The create response: echo_id, as created, sent.
                        frames[0] = Frame {
                            revision: 0,
                            status: 0,
                            echo: true,
                            cable: false,
                        };
                    } else {
                        frames.iter_mut().for_each(|f| f.echo = false);
                    }
                    Spec {
                        id: i as i64 + 1,
                        created_at,
                        message_type,
                        private,
                        local,
                        frames,
                    }
                },
            )
            .collect()
    })
}

fn echo_of(spec: &Spec) -> String {
    format!("echo-{}", spec.id)
}

fn copy(spec: &Spec, revision: u8, status: u8, echo: bool, cable: bool) -> Message {
    let (content, attrs) = match revision {
        0 => (format!("c{}", spec.id), json!({})),
        3 => (
            "This message was deleted".to_owned(),
            json!({"deleted": true}),
        ),
        n => (
            format!("c{} v{n}", spec.id),
            json!({"edited": {"at": n, "previous": (0..n).map(|k| json!({"content": k})).collect::<Vec<_>>()}}),
        ),
    };
    let mut m: Message = serde_json::from_value(json!({
        "id": spec.id, "content": content, "conversation_id": 1, "message_type": spec.message_type,
        "created_at": spec.created_at, "private": spec.private, "content_attributes": attrs,
    }))
    .unwrap();
    m.status = STATUSES[status as usize];
    m.echo_id = echo.then(|| echo_of(spec));
    m.account_id = cable.then_some(1);
    m
}

/// Every frame of every message, in spec order.
fn all_frames(specs: &[Spec]) -> Vec<Message> {
    specs
        .iter()
        .flat_map(|s| {
            s.frames
                .iter()
                .map(move |f| copy(s, f.revision, f.status, f.echo, f.cable))
        })
        .collect()
}

const UNCONFIRMED: [&str; 2] = ["never-1", "never-2"];

fn start(specs: &[Spec]) -> MessageStore {
    let mut s = MessageStore::new();
    for spec in specs.iter().filter(|s| s.local) {
        let mut p = copy(spec, 0, 0, false, false);
        p.id = 0;
        p.status = MessageStatus::Progress;
        p.created_at = 999; // the browser's clock: not the server's
        s.add_pending(&echo_of(spec), p);
    }
    for echo in UNCONFIRMED {
        s.add_pending(echo, pending(echo, 50));
    }
    s
}

/// What the list must be: every message once, in (created_at, id) order, with its newest
/// content and its furthest status; then the sends the server never confirmed.
fn expected(specs: &[Spec]) -> Vec<Row> {
    let mut sorted: Vec<&Spec> = specs.iter().collect();
    sorted.sort_by_key(|s| (s.created_at, s.id));
    let mut rows: Vec<Row> = sorted
        .into_iter()
        .map(|s| {
            let revision = s.frames.iter().map(|f| f.revision).max().unwrap();
            let status = s.frames.iter().map(|f| f.status).max().unwrap();
            let cable = s.frames.iter().any(|f| f.cable);
            Row {
                key: if s.local {
                    RowKey(format!("e:{}", echo_of(s)))
                } else {
                    RowKey(format!("m:{}", s.id))
                },
                message: copy(s, revision, status, s.local, cable),
                send: None,
            }
        })
        .collect();
    for echo in UNCONFIRMED {
        let mut m = pending(echo, 50);
        m.echo_id = Some(echo.to_owned());
        rows.push(Row {
            key: RowKey(format!("e:{echo}")),
            message: m,
            send: Some(SendState::Sending),
        });
    }
    rows
}

/// Apply, checking on the way that every reported index points at the reported row.
fn apply(store: &mut MessageStore, frames: Vec<Message>) {
    for m in frames {
        match store.upsert(m) {
            Change::Inserted { key, index } | Change::Updated { key, index } => {
                assert_eq!(store.rows().nth(index).map(|r| &r.key), Some(&key));
                assert_eq!(store.index_of(&key), Some(index));
            }
            Change::Unchanged => {}
        }
    }
}

fn with_duplicates(mut frames: Vec<Message>, dups: &[(usize, usize)]) -> Vec<Message> {
    let n = frames.len();
    for &(which, at) in dups {
        let f = frames[which % n].clone();
        let at = at % (frames.len() + 1);
        frames.insert(at, f);
    }
    frames
}

fn arrival_orders() -> impl Strategy<Value = (Vec<Spec>, Vec<Message>)> {
    specs().prop_flat_map(|specs| {
        let frames = all_frames(&specs);
        let dups = proptest::collection::vec((any::<usize>(), any::<usize>()), 0..8);
        (Just(specs), Just(frames).prop_shuffle(), dups)
            .prop_map(|(specs, frames, dups)| (specs, with_duplicates(frames, &dups)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_order_and_duplication_of_frames_yields_the_same_list((specs, frames) in arrival_orders()) {
        let mut s = start(&specs);
        apply(&mut s, frames);
        let got: Vec<Row> = s.rows().cloned().collect();
        prop_assert_eq!(got, expected(&specs));
        prop_assert_eq!(s.newest_id(), specs.iter().map(|s| s.id).max());
        prop_assert_eq!(s.oldest_id(), Some(1));
    }

    #[test]
    fn a_second_delivery_of_everything_changes_nothing((specs, frames) in arrival_orders()) {
        let mut s = start(&specs);
        apply(&mut s, frames.clone());
        let before: Vec<Row> = s.rows().cloned().collect();
        for m in frames {
            prop_assert_eq!(s.upsert(m), Change::Unchanged);
        }
        prop_assert_eq!(s.rows().cloned().collect::<Vec<_>>(), before);
    }
}
