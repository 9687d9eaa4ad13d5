//! The outbox against a simulated world: a server (deduplicating by echo_id, like
//! parley-server, or not, like a real Chatwoot), a network that loses requests and
//! responses, a cable that drops, and pages that reload mid-send. Whatever happens, once the
//! network is good again every message is on the server exactly once, in the order typed.

use std::collections::{BTreeMap, HashMap};

use parley_core::outbox::*;
use proptest::prelude::*;

fn draft(conversation_id: i64, content: &str) -> Draft {
    Draft {
        conversation_id,
        content: content.into(),
        private: false,
        in_reply_to: None,
        attachments: Vec::new(),
    }
}

fn sends(cmds: &[Command]) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Send { echo_id, .. } => Some(echo_id.clone()),
            _ => None,
        })
        .collect()
}

fn statuses(cmds: &[Command]) -> Vec<(String, SendStatus)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Status { echo_id, status } => Some((echo_id.clone(), status.clone())),
            _ => None,
        })
        .collect()
}

fn enqueue(o: &mut Outbox, now: u64, echo: &str, conv: i64, text: &str) -> Vec<Command> {
    o.handle(
        now,
        Event::Enqueue {
            echo_id: echo.into(),
            draft: draft(conv, text),
        },
    )
}

#[test]
fn persists_before_sending_and_sends_one_at_a_time_per_conversation() {
    let mut o = Outbox::new(OutboxConfig::default(), 7);
    o.handle(0, Event::Reachable(true));
    let c = enqueue(&mut o, 0, "a", 1, "first");
    let persist = c
        .iter()
        .position(|c| matches!(c, Command::Persist(_)))
        .unwrap();
    let send = c
        .iter()
        .position(|c| matches!(c, Command::Send { .. }))
        .unwrap();
    assert!(persist < send, "written down before it leaves");
    // Same conversation waits; another conversation goes at once.
    assert!(sends(&enqueue(&mut o, 1, "b", 1, "second")).is_empty());
    assert_eq!(sends(&enqueue(&mut o, 2, "c", 2, "other")), ["c"]);
    let c = o.handle(
        3,
        Event::SendOk {
            echo_id: "a".into(),
            message_id: 10,
        },
    );
    assert!(c.contains(&Command::Delivered {
        echo_id: "a".into(),
        message_id: 10
    }));
    assert!(c.contains(&Command::Forget {
        echo_id: "a".into()
    }));
    assert_eq!(sends(&c), ["b"]);
}

#[test]
fn offline_messages_are_queued_then_flushed_in_order() {
    let mut o = Outbox::new(OutboxConfig::default(), 7);
    let c = enqueue(&mut o, 0, "a", 1, "one");
    assert!(sends(&c).is_empty());
    assert_eq!(statuses(&c), [("a".to_string(), SendStatus::Queued)]);
    enqueue(&mut o, 1, "b", 1, "two");
    let c = o.handle(5_000_000, Event::Reachable(true));
    assert_eq!(sends(&c), ["a"]);
    let c = o.handle(
        5_000_001,
        Event::SendOk {
            echo_id: "a".into(),
            message_id: 1,
        },
    );
    assert_eq!(sends(&c), ["b"]);
}

#[test]
fn the_cable_event_can_beat_the_http_response() {
    let mut o = Outbox::new(OutboxConfig::default(), 7);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 0, "a", 1, "hi");
    let seen = SeenMessage {
        id: 5,
        conversation_id: 1,
        echo_id: Some("a".into()),
        content: Some("hi".into()),
        private: false,
        from_me: true,
        created_at_s: 0,
    };
    let c = o.handle(1, Event::Seen(seen));
    assert!(c.contains(&Command::Delivered {
        echo_id: "a".into(),
        message_id: 5
    }));
    // The late response changes nothing.
    let c = o.handle(
        2,
        Event::SendOk {
            echo_id: "a".into(),
            message_id: 5,
        },
    );
    assert!(!c.iter().any(|c| matches!(c, Command::Delivered { .. })));
    assert!(o.is_empty());
}

#[test]
fn rejected_fails_at_once_with_the_reason_and_does_not_block_the_next() {
    let mut o = Outbox::new(OutboxConfig::default(), 7);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 0, "a", 1, "x");
    enqueue(&mut o, 0, "b", 1, "y");
    let c = o.handle(
        1,
        Event::SendFailed {
            echo_id: "a".into(),
            error: SendError::Rejected("Content is too long".into()),
        },
    );
    assert!(statuses(&c).contains(&(
        "a".to_string(),
        SendStatus::Failed {
            reason: "Content is too long".into()
        }
    )));
    assert_eq!(sends(&c), ["b"]);
    // Retry puts it back.
    o.handle(
        2,
        Event::SendOk {
            echo_id: "b".into(),
            message_id: 2,
        },
    );
    let c = o.handle(
        3,
        Event::Retry {
            echo_id: "a".into(),
        },
    );
    assert_eq!(sends(&c), ["a"]);
}

#[test]
fn a_request_that_never_answers_times_out_and_retries_with_backoff() {
    let cfg = OutboxConfig {
        idempotent_backend: true,
        ..Default::default()
    };
    let mut o = Outbox::new(cfg, 7);
    o.handle(0, Event::Reachable(true));
    let c = enqueue(&mut o, 0, "a", 1, "x");
    assert!(c.contains(&Command::WakeAt(cfg.request_timeout_ms)));
    let c = o.handle(cfg.request_timeout_ms, Event::Tick);
    assert!(c.contains(&Command::Abort {
        echo_id: "a".into()
    }));
    let (_, status) = statuses(&c).pop().unwrap();
    let SendStatus::Retrying { in_ms, .. } = status else {
        panic!("{status:?}")
    };
    assert!((cfg.backoff_base_ms / 2..=cfg.backoff_base_ms).contains(&in_ms));
    // Not before the backoff; at it, the same echo_id goes again.
    assert!(sends(&o.handle(cfg.request_timeout_ms + in_ms - 1, Event::Tick)).is_empty());
    assert_eq!(
        sends(&o.handle(cfg.request_timeout_ms + in_ms, Event::Tick)),
        ["a"]
    );
}

#[test]
fn backoff_grows_and_gives_up_after_max_attempts() {
    let cfg = OutboxConfig {
        idempotent_backend: true,
        max_attempts: 4,
        ..Default::default()
    };
    let mut o = Outbox::new(cfg, 99);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 0, "a", 1, "x");
    let mut now = 0;
    let mut delays = Vec::new();
    loop {
        let c = o.handle(
            now,
            Event::SendFailed {
                echo_id: "a".into(),
                error: SendError::Ambiguous("502".into()),
            },
        );
        match statuses(&c).pop().unwrap().1 {
            SendStatus::Retrying { in_ms, .. } => {
                delays.push(in_ms);
                now += in_ms;
                assert_eq!(sends(&o.handle(now, Event::Tick)), ["a"]);
            }
            SendStatus::Failed { reason } => {
                assert!(
                    reason.contains("4 attempts") && reason.contains("502"),
                    "{reason}"
                );
                break;
            }
            s => panic!("{s:?}"),
        }
    }
    // Three waits between four attempts, then failed (visible) rather than retrying forever.
    assert_eq!(delays.len(), 3);
    // Attempt n waits between half and all of base * 2^(n-1): the jitter never lets a
    // later wait be shorter than an earlier one.
    for (i, d) in delays.iter().enumerate() {
        let full = cfg.backoff_base_ms << i;
        assert!(
            (full / 2..=full).contains(d),
            "attempt {}: {d} ms, {delays:?}",
            i + 1
        );
    }
    assert!(delays.windows(2).all(|w| w[1] >= w[0]), "{delays:?}");
    assert!(delays[2] >= 2 * cfg.backoff_base_ms, "{delays:?}");
}

#[test]
fn offline_time_does_not_use_up_attempts() {
    let cfg = OutboxConfig {
        max_attempts: 2,
        ..Default::default()
    };
    let mut o = Outbox::new(cfg, 1);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 0, "a", 1, "x");
    let mut now = 0;
    for _ in 0..50 {
        let c = o.handle(
            now,
            Event::SendFailed {
                echo_id: "a".into(),
                error: SendError::NotSent,
            },
        );
        assert!(!statuses(&c)
            .iter()
            .any(|(_, s)| matches!(s, SendStatus::Failed { .. })));
        now += 60_000;
        assert_eq!(sends(&o.handle(now, Event::Tick)), ["a"]);
    }
}

#[test]
fn without_idempotency_an_ambiguous_failure_resyncs_before_resending() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 1_000, "a", 4, "hello");
    let c = o.handle(
        2_000,
        Event::SendFailed {
            echo_id: "a".into(),
            error: SendError::Ambiguous("timeout".into()),
        },
    );
    assert!(sends(&c).is_empty());
    // After the backoff: a resync, still no resend.
    let c = o.handle(60_000, Event::Tick);
    assert!(c.contains(&Command::Resync {
        conversation_id: 4,
        after_id: None
    }));
    assert!(sends(&c).is_empty());
    // The server had it (no echo_id in the index of a real Chatwoot): matched by content.
    let c = o.handle(
        61_000,
        Event::Seen(SeenMessage {
            id: 77,
            conversation_id: 4,
            echo_id: None,
            content: Some("hello".into()),
            private: false,
            from_me: true,
            created_at_s: 1,
        }),
    );
    assert!(c.contains(&Command::Delivered {
        echo_id: "a".into(),
        message_id: 77
    }));
    let c = o.handle(61_001, Event::ResyncDone { conversation_id: 4 });
    assert!(sends(&c).is_empty());
    assert!(o.is_empty());
}

#[test]
fn without_idempotency_a_resync_that_finds_nothing_allows_the_resend() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 0, "a", 4, "hello");
    o.handle(
        1,
        Event::SendFailed {
            echo_id: "a".into(),
            error: SendError::Ambiguous("x".into()),
        },
    );
    o.handle(60_000, Event::Tick);
    // Another agent's identical text does not count as ours.
    o.handle(
        60_001,
        Event::Seen(SeenMessage {
            id: 8,
            conversation_id: 4,
            echo_id: None,
            content: Some("hello".into()),
            private: false,
            from_me: false,
            created_at_s: 0,
        }),
    );
    let c = o.handle(60_002, Event::ResyncDone { conversation_id: 4 });
    assert_eq!(sends(&c), ["a"]);
}

#[test]
fn without_idempotency_an_earlier_identical_text_is_not_taken_for_the_lost_one() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    let seen = |id: i64, echo: Option<&str>| {
        Event::Seen(SeenMessage {
            id,
            conversation_id: 4,
            echo_id: echo.map(str::to_owned),
            content: Some("ok".into()),
            private: false,
            from_me: true,
            created_at_s: 0,
        })
    };
    // "ok" sent and confirmed as id 10; a second "ok" is typed right after and lost.
    enqueue(&mut o, 0, "a", 4, "ok");
    o.handle(1, seen(10, Some("a")));
    enqueue(&mut o, 2, "b", 4, "ok");
    assert_eq!(o.entries()[0].after_id, Some(10));
    o.handle(
        3,
        Event::SendFailed {
            echo_id: "b".into(),
            error: SendError::Ambiguous("x".into()),
        },
    );
    let c = o.handle(60_000, Event::Tick);
    assert!(
        c.contains(&Command::Resync {
            conversation_id: 4,
            after_id: Some(10)
        }),
        "{c:?}"
    );
    // A resync that (for whatever reason) includes id 10 again must not deliver "b" with it.
    let c = o.handle(60_001, seen(10, None));
    assert!(
        !c.iter().any(|c| matches!(c, Command::Delivered { .. })),
        "{c:?}"
    );
    let c = o.handle(60_002, Event::ResyncDone { conversation_id: 4 });
    assert_eq!(sends(&c), ["b"]);
}

#[test]
fn a_reload_mid_send_restores_and_reconciles() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    let mut db: BTreeMap<String, Entry> = BTreeMap::new();
    for c in enqueue(&mut o, 0, "a", 1, "one")
        .into_iter()
        .chain(enqueue(&mut o, 0, "b", 1, "two"))
    {
        if let Command::Persist(e) = c {
            db.insert(e.echo_id.clone(), e);
        }
    }
    assert!(matches!(db["a"].state, EntryState::InFlight { .. }));
    // The tab dies. A new one restores; "a" may have landed, so it is reconciled first.
    let mut o2 = Outbox::new(OutboxConfig::default(), 4);
    let c = o2.handle(10, Event::Restored(db.values().cloned().collect()));
    assert!(sends(&c).is_empty());
    let c = o2.handle(11, Event::Reachable(true));
    assert!(
        c.iter().any(|c| matches!(
            c,
            Command::Resync {
                conversation_id: 1,
                ..
            }
        )),
        "{c:?}"
    );
    assert!(sends(&c).is_empty());
    let c = o2.handle(12, Event::ResyncDone { conversation_id: 1 });
    assert_eq!(sends(&c), ["a"]);
    assert_eq!(
        o2.entries().iter().map(|e| e.seq).collect::<Vec<_>>(),
        [0, 1]
    );
}

/// An entry persisted in the air (the page died before the answer), as a new page gets it.
fn persisted_in_flight(o: &mut Outbox, echo: &str, text: &str) -> Entry {
    o.handle(0, Event::Reachable(true));
    enqueue(o, 0, echo, 1, text)
        .into_iter()
        .rev()
        .find_map(|c| match c {
            Command::Persist(e) => Some(e),
            _ => None,
        })
        .expect("persisted before it left")
}

fn mine(id: i64, echo_id: Option<&str>, text: &str) -> SeenMessage {
    SeenMessage {
        id,
        conversation_id: 1,
        echo_id: echo_id.map(str::to_owned),
        content: Some(text.into()),
        private: false,
        from_me: true,
        created_at_s: 0,
    }
}

fn delivered(cmds: &[Command]) -> Vec<(String, i64)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Delivered {
                echo_id,
                message_id,
            } => Some((echo_id.clone(), *message_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reloaded_page_that_shows_the_history_first_matches_the_message_there() {
    // A real Chatwoot: the index has no echo_id. The dead tab's entries arrive after the
    // new page has shown its history, which already holds the message.
    let entry = persisted_in_flight(&mut Outbox::new(OutboxConfig::default(), 1), "a", "hello");
    let mut o = Outbox::new(OutboxConfig::default(), 2);
    o.handle(5, Event::Reachable(true));
    o.handle(5, Event::Seen(mine(7, None, "hello")));
    let c = o.handle(6, Event::Restored(vec![entry]));
    assert_eq!(delivered(&c), [("a".to_owned(), 7)]);
    assert!(sends(&c).is_empty());
    assert!(
        o.is_empty(),
        "never pending beside its copy: {:?}",
        o.entries()
    );
}

#[test]
fn against_parley_server_the_history_names_the_echo_id_and_settles_it_exactly() {
    let config = OutboxConfig {
        idempotent_backend: true,
        ..Default::default()
    };
    let entry = persisted_in_flight(&mut Outbox::new(config, 1), "a", "ok");
    // History first: an earlier "ok" (another echo_id) and this one.
    let mut o = Outbox::new(config, 2);
    o.handle(5, Event::Reachable(true));
    o.handle(5, Event::Seen(mine(6, Some("earlier"), "ok")));
    o.handle(5, Event::Seen(mine(7, Some("a"), "ok")));
    let c = o.handle(6, Event::Restored(vec![entry.clone()]));
    assert_eq!(delivered(&c), [("a".to_owned(), 7)]);
    assert!(sends(&c).is_empty());
    // Entries first: the resend is under way when the history shows the message.
    let mut o = Outbox::new(config, 3);
    o.handle(5, Event::Restored(vec![entry]));
    let c = o.handle(5, Event::Reachable(true));
    assert_eq!(sends(&c), ["a"]);
    let c = o.handle(6, Event::Seen(mine(7, Some("a"), "ok")));
    assert_eq!(delivered(&c), [("a".to_owned(), 7)]);
}

#[test]
fn a_message_created_with_another_echo_id_is_never_taken_by_its_text() {
    let entry = persisted_in_flight(&mut Outbox::new(OutboxConfig::default(), 1), "a", "ok");
    let mut o = Outbox::new(OutboxConfig::default(), 2);
    o.handle(5, Event::Reachable(true));
    // Another tab of this agent sent "ok" too; the cable named its echo_id.
    o.handle(5, Event::Seen(mine(7, Some("other-tab"), "ok")));
    let c = o.handle(6, Event::Restored(vec![entry]));
    assert!(delivered(&c).is_empty(), "{c:?}");
    // Nor by the resync: only a message without an echo_id can be matched by text.
    let c = o.handle(7, Event::Seen(mine(7, Some("other-tab"), "ok")));
    assert!(delivered(&c).is_empty(), "{c:?}");
    assert_eq!(o.entries().len(), 1);
}

#[test]
fn after_a_reload_a_pending_ok_is_not_matched_to_the_ok_another_entry_was_delivered_as() {
    // "a" ("ok") fails visibly, "b" ("ok") is typed and lost in the air, the agent retries
    // "a" and it is delivered as id 10 while "b" is still unresolved. The tab reloads:
    // the new outbox never saw id 10 delivered, but "b" must still not take it.
    let cfg = OutboxConfig {
        max_attempts: 1,
        ..Default::default()
    };
    let mut o = Outbox::new(cfg, 3);
    let mut db: BTreeMap<String, Entry> = BTreeMap::new();
    let mut run = |o: &mut Outbox, now: u64, ev: Event| {
        let c = o.handle(now, ev);
        for c in &c {
            match c {
                Command::Persist(e) => {
                    db.insert(e.echo_id.clone(), e.clone());
                }
                Command::Forget { echo_id } => {
                    db.remove(echo_id);
                }
                _ => {}
            }
        }
        (c, db.clone())
    };
    let ambiguous = |echo: &str| Event::SendFailed {
        echo_id: echo.into(),
        error: SendError::Ambiguous("timeout".into()),
    };
    run(&mut o, 0, Event::Reachable(true));
    run(
        &mut o,
        0,
        Event::Enqueue {
            echo_id: "a".into(),
            draft: draft(4, "ok"),
        },
    );
    run(&mut o, 1, ambiguous("a"));
    run(&mut o, 60_000, Event::Tick);
    let (c, _) = run(&mut o, 60_001, Event::ResyncDone { conversation_id: 4 });
    assert!(statuses(&c)
        .iter()
        .any(|(e, s)| e == "a" && matches!(s, SendStatus::Failed { .. })));
    let (c, _) = run(
        &mut o,
        60_002,
        Event::Enqueue {
            echo_id: "b".into(),
            draft: draft(4, "ok"),
        },
    );
    assert_eq!(sends(&c), ["b"]);
    run(&mut o, 60_003, ambiguous("b"));
    let (c, _) = run(
        &mut o,
        60_004,
        Event::Retry {
            echo_id: "a".into(),
        },
    );
    assert_eq!(sends(&c), ["a"]);
    let (_, saved) = run(
        &mut o,
        60_005,
        Event::SendOk {
            echo_id: "a".into(),
            message_id: 10,
        },
    );
    assert_eq!(saved.keys().collect::<Vec<_>>(), ["b"]);

    let mut o2 = Outbox::new(cfg, 4);
    run(
        &mut o2,
        70_000,
        Event::Restored(saved.values().cloned().collect()),
    );
    let (c, _) = run(&mut o2, 70_001, Event::Reachable(true));
    assert!(
        c.iter().any(|c| matches!(
            c,
            Command::Resync {
                conversation_id: 4,
                ..
            }
        )),
        "{c:?}"
    );
    let (c, _) = run(
        &mut o2,
        70_002,
        Event::Seen(SeenMessage {
            id: 10,
            conversation_id: 4,
            echo_id: None,
            content: Some("ok".into()),
            private: false,
            from_me: true,
            created_at_s: 60,
        }),
    );
    assert!(
        !c.iter().any(|c| matches!(c, Command::Delivered { .. })),
        "{c:?}"
    );
}

#[test]
fn queued_and_failed_messages_can_be_edited_or_discarded_in_flight_ones_cannot() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    enqueue(&mut o, 0, "a", 1, "typo");
    assert!(o.is_editable("a"));
    o.handle(
        1,
        Event::Edit {
            echo_id: "a".into(),
            content: "fixed".into(),
        },
    );
    let c = o.handle(2, Event::Reachable(true));
    let Some(Command::Send { draft, .. }) = c.iter().find(|c| matches!(c, Command::Send { .. }))
    else {
        panic!()
    };
    assert_eq!(draft.content, "fixed");
    assert!(!o.is_editable("a"));
    let c = o.handle(
        3,
        Event::Discard {
            echo_id: "a".into(),
        },
    );
    assert!(c.iter().all(|c| !matches!(c, Command::Forget { .. })));
    assert_eq!(o.entries().len(), 1);
}

// ---------------------------------------------------------------------------------------
// The simulated world.

#[derive(Debug, Clone, Copy)]
enum Fate {
    /// Stored, answered.
    Ok,
    /// Stored, the answer lost.
    StoredNoAnswer,
    /// Lost before the server.
    LostNoAnswer,
    /// 502 without storing.
    BadGatewayUnstored,
    /// 500 after storing (the worst case for a non-deduplicating server).
    ErrorAfterStoring,
    /// Offline: never left.
    NotSent,
    /// The request hangs until the client times it out; the server never saw it.
    Hang,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        4 => Just(Fate::Ok),
        1 => Just(Fate::StoredNoAnswer),
        1 => Just(Fate::LostNoAnswer),
        1 => Just(Fate::BadGatewayUnstored),
        1 => Just(Fate::ErrorAfterStoring),
        1 => Just(Fate::NotSent),
        1 => Just(Fate::Hang),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Type {
        conv: i64,
        dup_text: bool,
        /// A message with files: three attempts before it fails (then the agent retries).
        files: bool,
    },
    Net(bool),
    Cable(bool),
    /// Time passes; answers and cable events that were in the air arrive (the cable's
    /// first or the HTTP answers first).
    Advance(u64, bool),
    /// The page reloads; the new page shows the history before it gets the dead page's
    /// entries (that tab holds them a moment longer), or after.
    Reload {
        history_first: bool,
    },
    ResyncFails(bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1i64..4, proptest::bool::weighted(0.15), proptest::bool::weighted(0.3))
            .prop_map(|(conv, dup_text, files)| Step::Type { conv, dup_text, files }),
        1 => any::<bool>().prop_map(Step::Net),
        1 => any::<bool>().prop_map(Step::Cable),
        3 => (1u64..40_000, any::<bool>()).prop_map(|(ms, cable_first)| Step::Advance(ms, cable_first)),
        1 => any::<bool>().prop_map(|history_first| Step::Reload { history_first }),
        1 => any::<bool>().prop_map(Step::ResyncFails),
    ]
}

#[derive(Debug)]
struct Stored {
    id: i64,
    conv: i64,
    content: String,
    echo: String,
    created_at_s: i64,
}

struct World {
    idempotent: bool,
    now: u64,
    outbox: Outbox,
    db: BTreeMap<String, Entry>,
    server: Vec<Stored>,
    fates: Vec<Fate>,
    fate_i: usize,
    /// Requests out: echo_id -> (answer, stored id)
    pending: HashMap<String, Result<i64, SendError>>,
    /// `message.created` events in the air; lost when the cable drops.
    cable_inbox: Vec<SeenMessage>,
    net: bool,
    cable: bool,
    resync_fails: bool,
    typed: Vec<(String, i64, String)>,
    ever_failed: Vec<String>,
    wake: Option<u64>,
    seed: u64,
}

impl World {
    fn new(idempotent: bool, fates: Vec<Fate>, seed: u64) -> Self {
        let cfg = OutboxConfig {
            idempotent_backend: idempotent,
            ..Default::default()
        };
        World {
            idempotent,
            now: 1_000_000,
            outbox: Outbox::new(cfg, seed),
            db: BTreeMap::new(),
            server: Vec::new(),
            fates,
            fate_i: 0,
            pending: HashMap::new(),
            cable_inbox: Vec::new(),
            net: true,
            cable: true,
            resync_fails: false,
            typed: Vec::new(),
            ever_failed: Vec::new(),
            wake: None,
            seed,
        }
    }

    fn next_fate(&mut self) -> Fate {
        if !self.net {
            return Fate::NotSent;
        }
        let f = self.fates.get(self.fate_i).copied().unwrap_or(Fate::Ok);
        self.fate_i += 1;
        f
    }

    fn store(&mut self, echo: &str, d: &Draft) -> i64 {
        if self.idempotent {
            if let Some(s) = self.server.iter().find(|s| s.echo == echo) {
                return s.id;
            }
        }
        let id = self.server.len() as i64 + 1;
        self.server.push(Stored {
            id,
            conv: d.conversation_id,
            content: d.content.clone(),
            echo: echo.to_owned(),
            created_at_s: (self.now / 1000) as i64,
        });
        if self.cable {
            // The cable delivers message.created with echo_id, whatever the backend, but
            // later, and not at all if it drops first.
            self.cable_inbox.push(SeenMessage {
                id,
                conversation_id: d.conversation_id,
                echo_id: Some(echo.to_owned()),
                content: Some(d.content.clone()),
                private: false,
                from_me: true,
                created_at_s: (self.now / 1000) as i64,
            });
        }
        id
    }

    fn feed(&mut self, ev: Event) {
        let cmds = self.outbox.handle(self.now, ev);
        for c in cmds {
            match c {
                Command::Persist(e) => {
                    self.db.insert(e.echo_id.clone(), e);
                }
                Command::Forget { echo_id } => {
                    self.db.remove(&echo_id);
                }
                Command::Send { echo_id, draft } => {
                    assert!(self.db.contains_key(&echo_id), "sent before persisted");
                    let outcome = match self.next_fate() {
                        Fate::Ok => Some(Ok(self.store(&echo_id, &draft))),
                        Fate::StoredNoAnswer => {
                            self.store(&echo_id, &draft);
                            None
                        }
                        Fate::LostNoAnswer | Fate::Hang => None,
                        Fate::BadGatewayUnstored => Some(Err(SendError::Ambiguous("502".into()))),
                        Fate::ErrorAfterStoring => {
                            self.store(&echo_id, &draft);
                            Some(Err(SendError::Ambiguous("500".into())))
                        }
                        Fate::NotSent => Some(Err(SendError::NotSent)),
                    };
                    if let Some(o) = outcome {
                        self.pending.insert(echo_id, o);
                    }
                }
                Command::Abort { echo_id } => {
                    self.pending.remove(&echo_id);
                }
                Command::Resync {
                    conversation_id,
                    after_id,
                } => {
                    if self.resync_fails || !self.net {
                        self.feed(Event::ResyncFailed { conversation_id });
                    } else {
                        for s in self.rest_page(conversation_id, after_id) {
                            self.feed(Event::Seen(s));
                        }
                        self.feed(Event::ResyncDone { conversation_id });
                    }
                }
                Command::Status {
                    echo_id,
                    status: SendStatus::Failed { .. },
                } => {
                    self.ever_failed.push(echo_id);
                }
                Command::WakeAt(t) => self.wake = Some(t),
                Command::Delivered { .. } | Command::Status { .. } => {}
            }
        }
    }

    /// `GET messages?after=`: a real Chatwoot's index has no echo_id; parley-server's
    /// (which deduplicates) names it.
    fn rest_page(&self, conversation_id: i64, after_id: Option<i64>) -> Vec<SeenMessage> {
        self.server
            .iter()
            .filter(|s| s.conv == conversation_id && after_id.is_none_or(|a| s.id > a))
            .map(|s| SeenMessage {
                id: s.id,
                conversation_id: s.conv,
                echo_id: self.idempotent.then(|| s.echo.clone()),
                content: Some(s.content.clone()),
                private: false,
                from_me: true,
                created_at_s: s.created_at_s,
            })
            .collect()
    }

    fn deliver_cable(&mut self) {
        for s in std::mem::take(&mut self.cable_inbox) {
            self.feed(Event::Seen(s));
        }
    }

    /// Answers arrive.
    fn deliver_answers(&mut self) {
        let mut answers: Vec<_> = self.pending.drain().collect();
        answers.sort_by(|a, b| a.0.cmp(&b.0));
        for (echo_id, answer) in answers {
            match answer {
                Ok(message_id) => self.feed(Event::SendOk {
                    echo_id,
                    message_id,
                }),
                Err(error) => self.feed(Event::SendFailed { echo_id, error }),
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(w) = self.wake.filter(|w| *w <= end) {
            self.now = self.now.max(w);
            self.wake = None;
            self.feed(Event::Tick);
            self.deliver_answers();
        }
        self.now = end;
        self.feed(Event::Tick);
    }

    fn reachable(&mut self) {
        let r = self.net && self.cable;
        self.feed(Event::Reachable(r));
    }

    fn run(&mut self, steps: &[Step]) {
        self.reachable();
        let mut n = 0;
        for s in steps {
            match s {
                Step::Type {
                    conv,
                    dup_text,
                    files,
                } => {
                    n += 1;
                    let echo = format!("echo-{n}");
                    let text = if *dup_text {
                        "ok".to_string()
                    } else {
                        format!("message {n}")
                    };
                    self.typed.push((echo.clone(), *conv, text.clone()));
                    let draft = if *files {
                        with_files(*conv, &text)
                    } else {
                        draft(*conv, &text)
                    };
                    self.feed(Event::Enqueue {
                        echo_id: echo,
                        draft,
                    });
                }
                Step::Net(up) => {
                    self.net = *up;
                    if !up {
                        self.cable_inbox.clear();
                    }
                    self.reachable();
                }
                Step::Cable(up) => {
                    self.cable = *up;
                    if !up {
                        self.cable_inbox.clear();
                    }
                    self.reachable();
                }
                Step::Advance(ms, cable_first) => {
                    if *cable_first {
                        self.deliver_cable();
                        self.deliver_answers();
                    } else {
                        self.deliver_answers();
                        self.deliver_cable();
                    }
                    self.advance(*ms);
                }
                Step::Reload { history_first } => {
                    // The page dies with requests and cable events in the air; their
                    // answers go nowhere.
                    self.pending.clear();
                    self.cable_inbox.clear();
                    self.seed += 1;
                    let cfg = OutboxConfig {
                        idempotent_backend: self.idempotent,
                        ..Default::default()
                    };
                    self.outbox = Outbox::new(cfg, self.seed);
                    self.wake = None;
                    let saved: Vec<Entry> = self.db.values().cloned().collect();
                    let landed: Vec<String> = self.server.iter().map(|s| s.echo.clone()).collect();
                    if !history_first {
                        self.feed(Event::Restored(saved.clone()));
                        self.reachable();
                    }
                    // The new page loads each conversation's history (as the app does).
                    if self.net {
                        for conv in 1..4 {
                            for s in self.rest_page(conv, None) {
                                self.feed(Event::Seen(s));
                            }
                        }
                    }
                    if *history_first {
                        self.feed(Event::Restored(saved));
                        self.reachable();
                    }
                    if self.net {
                        self.shown_once(&landed);
                    }
                }
                Step::ResyncFails(f) => self.resync_fails = *f,
            }
        }
        // Then the world heals; the agent presses Retry on anything failed.
        self.net = true;
        self.cable = true;
        self.resync_fails = false;
        self.fates.clear();
        self.reachable();
        for _ in 0..400 {
            self.deliver_answers();
            self.deliver_cable();
            let failed: Vec<String> = self
                .outbox
                .entries()
                .iter()
                .filter(|e| matches!(e.state, EntryState::Failed { .. }))
                .map(|e| e.echo_id.clone())
                .collect();
            for echo_id in failed {
                self.feed(Event::Retry { echo_id });
            }
            if self.outbox.is_empty() && self.pending.is_empty() && self.cable_inbox.is_empty() {
                break;
            }
            self.advance(31_000);
        }
    }

    /// Once the new page shows the history, no message the server had at the reload is
    /// also still pending in its outbox: the agent never sees one message twice.
    fn shown_once(&self, landed: &[String]) {
        for e in self.outbox.entries() {
            assert!(
                !landed.contains(&e.echo_id),
                "{} is in the history and still pending ({:?})",
                e.echo_id,
                e.state
            );
        }
    }

    fn check(&self) {
        assert!(
            self.outbox.is_empty(),
            "left in the outbox: {:?}",
            self.outbox.entries()
        );
        assert!(self.db.is_empty(), "left in storage: {:?}", self.db.keys());
        // Exactly once: as many stored messages of each text as were typed.
        let mut typed: BTreeMap<(i64, &str), usize> = BTreeMap::new();
        for (_, conv, text) in &self.typed {
            *typed.entry((*conv, text.as_str())).or_default() += 1;
        }
        let mut stored: BTreeMap<(i64, &str), usize> = BTreeMap::new();
        for s in &self.server {
            *stored.entry((s.conv, s.content.as_str())).or_default() += 1;
        }
        assert_eq!(stored, typed, "server: {:?}", self.server);
        // Nothing failed silently: a message that failed was reported failed to the agent.
        assert!(self
            .ever_failed
            .iter()
            .all(|e| self.typed.iter().any(|(t, _, _)| t == e)));
        // In order: per conversation, messages that never failed arrive in typing order.
        for conv in 1..4 {
            let want: Vec<&str> = self
                .typed
                .iter()
                .filter(|(e, c, _)| *c == conv && !self.ever_failed.contains(e))
                .map(|(e, _, _)| e.as_str())
                .collect();
            let mut got: Vec<&str> = Vec::new();
            for s in self.server.iter().filter(|s| s.conv == conv) {
                if want.contains(&s.echo.as_str()) && !got.contains(&s.echo.as_str()) {
                    got.push(s.echo.as_str());
                }
            }
            assert_eq!(got, want, "conversation {conv} out of order");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn exactly_once_in_order_with_echo_id_idempotency(
        steps in proptest::collection::vec(step(), 1..60),
        fates in proptest::collection::vec(fate(), 0..60),
        seed in any::<u64>(),
    ) {
        let mut w = World::new(true, fates, seed);
        w.run(&steps);
        w.check();
    }

    #[test]
    fn exactly_once_in_order_against_a_server_that_forgets_echo_id(
        steps in proptest::collection::vec(step(), 1..60),
        fates in proptest::collection::vec(fate(), 0..60),
        seed in any::<u64>(),
    ) {
        let mut w = World::new(false, fates, seed);
        w.run(&steps);
        w.check();
    }
}

// Messages with files: the same outbox, three attempts, cancellable while uploading.

fn with_files(conversation_id: i64, caption: &str) -> Draft {
    let mut d = draft(conversation_id, caption);
    d.attachments = vec![parley_core::attachment::AttachmentDraft {
        blob_key: "up/0".into(),
        file_name: "report.pdf".into(),
        mime: "application/pdf".into(),
        size: 30 * 1024 * 1024,
    }];
    d
}

fn enqueue_files(o: &mut Outbox, now: u64, echo: &str, conv: i64) -> Vec<Command> {
    o.handle(
        now,
        Event::Enqueue {
            echo_id: echo.into(),
            draft: with_files(conv, ""),
        },
    )
}

fn idempotent() -> Outbox {
    let mut o = Outbox::new(
        OutboxConfig {
            idempotent_backend: true,
            ..Default::default()
        },
        5,
    );
    o.handle(0, Event::Reachable(true));
    o
}

/// Fails the in-flight attempt of `echo` and waits out its backoff; the last status.
fn fail_and_wait(o: &mut Outbox, now: &mut u64, echo: &str) -> (SendStatus, Vec<String>) {
    let c = o.handle(
        *now,
        Event::SendFailed {
            echo_id: echo.into(),
            error: SendError::Ambiguous("The server answered with an error (500).".into()),
        },
    );
    let status = statuses(&c).pop().unwrap().1;
    if let SendStatus::Retrying { in_ms, .. } = status {
        *now += in_ms;
    }
    let sent = sends(&o.handle(*now, Event::Tick));
    (status, sent)
}

#[test]
fn a_message_with_files_gets_three_attempts_then_fails_with_retry() {
    let mut o = idempotent();
    let c = enqueue_files(&mut o, 0, "f", 1);
    assert_eq!(sends(&c), ["f"]);
    let mut now = 0;
    let (s1, again1) = fail_and_wait(&mut o, &mut now, "f");
    assert!(matches!(s1, SendStatus::Retrying { .. }), "{s1:?}");
    assert_eq!(again1, ["f"]);
    let (s2, again2) = fail_and_wait(&mut o, &mut now, "f");
    assert!(matches!(s2, SendStatus::Retrying { .. }), "{s2:?}");
    assert_eq!(again2, ["f"]);
    let (s3, again3) = fail_and_wait(&mut o, &mut now, "f");
    match s3 {
        SendStatus::Failed { reason } => assert!(reason.contains("3 attempts"), "{reason}"),
        s => panic!("expected failed after 3 attempts, got {s:?}"),
    }
    assert!(again3.is_empty(), "no fourth attempt on its own");
    // Retry starts a new round of three, with the same echo_id and the same files.
    let c = o.handle(
        now,
        Event::Retry {
            echo_id: "f".into(),
        },
    );
    let resent: Vec<_> = c
        .iter()
        .filter_map(|c| match c {
            Command::Send { echo_id, draft } => Some((echo_id.clone(), draft.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(resent, [("f".to_owned(), with_files(1, ""))]);
}

#[test]
fn text_keeps_its_own_attempt_budget() {
    let mut o = idempotent();
    enqueue(&mut o, 0, "t", 1, "hello");
    let mut now = 0;
    for _ in 0..3 {
        let (s, again) = fail_and_wait(&mut o, &mut now, "t");
        assert!(matches!(s, SendStatus::Retrying { .. }), "{s:?}");
        assert_eq!(again, ["t"]);
    }
}

#[test]
fn a_failing_server_then_success_delivers_once_with_the_same_echo_id() {
    let mut o = idempotent();
    enqueue_files(&mut o, 0, "f", 1);
    let mut now = 0;
    fail_and_wait(&mut o, &mut now, "f");
    let (_, again) = fail_and_wait(&mut o, &mut now, "f");
    assert_eq!(again, ["f"]);
    let c = o.handle(
        now,
        Event::SendOk {
            echo_id: "f".into(),
            message_id: 70,
        },
    );
    assert!(c.contains(&Command::Delivered {
        echo_id: "f".into(),
        message_id: 70
    }));
    assert!(c.contains(&Command::Forget {
        echo_id: "f".into()
    }));
    // The cable's copy of the same message changes nothing.
    let c = o.handle(
        now,
        Event::Seen(SeenMessage {
            id: 70,
            conversation_id: 1,
            echo_id: Some("f".into()),
            content: None,
            private: false,
            from_me: true,
            created_at_s: 1,
        }),
    );
    assert!(!c.iter().any(|c| matches!(c, Command::Delivered { .. })));
    assert!(o.is_empty());
}

#[test]
fn cancelling_an_upload_in_flight_aborts_and_forgets_and_ignores_its_late_answer() {
    let mut o = idempotent();
    enqueue_files(&mut o, 0, "f", 1);
    enqueue(&mut o, 0, "next", 1, "after the files");
    let c = o.handle(
        10,
        Event::Cancel {
            echo_id: "f".into(),
        },
    );
    let abort = c.iter().position(|c| {
        *c == Command::Abort {
            echo_id: "f".into(),
        }
    });
    let forget = c.iter().position(|c| {
        *c == Command::Forget {
            echo_id: "f".into(),
        }
    });
    assert!(abort.is_some() && forget.is_some(), "{c:?}");
    // The message behind it no longer waits.
    assert_eq!(sends(&c), ["next"]);
    // The aborted request's late answers change nothing.
    let late_fail = o.handle(
        20,
        Event::SendFailed {
            echo_id: "f".into(),
            error: SendError::NotSent,
        },
    );
    assert!(sends(&late_fail).is_empty() && statuses(&late_fail).is_empty());
    let late_ok = o.handle(
        30,
        Event::SendOk {
            echo_id: "f".into(),
            message_id: 5,
        },
    );
    assert!(!late_ok
        .iter()
        .any(|c| matches!(c, Command::Delivered { .. } | Command::Persist(_))));
    assert_eq!(o.entries().len(), 1);
    assert_eq!(o.entries()[0].echo_id, "next");
}

#[test]
fn a_queued_or_failed_upload_can_be_cancelled_a_reconciling_one_cannot() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    // Offline: queued, never left.
    enqueue_files(&mut o, 0, "q", 1);
    let c = o.handle(
        1,
        Event::Cancel {
            echo_id: "q".into(),
        },
    );
    assert_eq!(
        c,
        [Command::Forget {
            echo_id: "q".into()
        }]
    );
    // Against a backend that forgets echo_id, an ambiguous failure must be reconciled
    // before anything is promised: cancel waits.
    o.handle(2, Event::Reachable(true));
    enqueue_files(&mut o, 3, "r", 2);
    o.handle(
        4,
        Event::SendFailed {
            echo_id: "r".into(),
            error: SendError::Ambiguous("dropped".into()),
        },
    );
    assert_eq!(o.entries()[0].state, EntryState::Reconciling);
    let c = o.handle(
        5,
        Event::Cancel {
            echo_id: "r".into(),
        },
    );
    assert!(c
        .iter()
        .all(|c| !matches!(c, Command::Forget { .. } | Command::Abort { .. })));
    assert_eq!(o.entries().len(), 1);
}

#[test]
fn an_upload_times_out_only_after_the_timeout_without_progress() {
    let mut o = idempotent();
    let timeout = OutboxConfig::default().request_timeout_ms;
    enqueue_files(&mut o, 0, "f", 1);
    // Bytes keep moving: a long upload is not a dead one.
    let mut now = 0;
    for _ in 0..5 {
        now += timeout - 1;
        let c = o.handle(
            now,
            Event::UploadProgressed {
                echo_id: "f".into(),
            },
        );
        assert!(
            !c.contains(&Command::Abort {
                echo_id: "f".into()
            }),
            "{c:?}"
        );
        assert!(c.contains(&Command::WakeAt(now + timeout)), "{c:?}");
    }
    // Then nothing for the whole timeout: aborted, counted, retried.
    let c = o.handle(now + timeout, Event::Tick);
    assert!(
        c.contains(&Command::Abort {
            echo_id: "f".into()
        }),
        "{c:?}"
    );
    assert!(matches!(
        statuses(&c).pop().unwrap().1,
        SendStatus::Retrying { .. }
    ));
}

#[test]
fn a_file_only_message_is_reconciled_by_its_empty_caption() {
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    enqueue_files(&mut o, 0, "f", 4);
    o.handle(
        1,
        Event::SendFailed {
            echo_id: "f".into(),
            error: SendError::Ambiguous("dropped".into()),
        },
    );
    // The resync finds this agent's file message (content null, no echo_id stored).
    let c = o.handle(
        2,
        Event::Seen(SeenMessage {
            id: 9,
            conversation_id: 4,
            echo_id: None,
            content: None,
            private: false,
            from_me: true,
            created_at_s: 0,
        }),
    );
    assert!(c.contains(&Command::Delivered {
        echo_id: "f".into(),
        message_id: 9
    }));
}

#[test]
fn entries_persisted_before_files_existed_still_load() {
    let old = r#"{"echo_id":"e","seq":0,"draft":{"conversation_id":1,"content":"hi","private":false,"in_reply_to":null},"enqueued_at_ms":5,"attempts":0,"next_attempt_at_ms":5,"state":"Queued","last_error":null}"#;
    let e: Entry = serde_json::from_str(old).unwrap();
    assert_eq!(e.draft, draft(1, "hi"));
    // And a text entry is still written without the new field.
    let json = serde_json::to_string(&e).unwrap();
    assert!(!json.contains("attachments"), "{json}");
    let files = Entry {
        draft: with_files(1, "see"),
        ..e
    };
    let back: Entry = serde_json::from_str(&serde_json::to_string(&files).unwrap()).unwrap();
    assert_eq!(back, files);
}

#[test]
fn a_cancelled_upload_stored_after_all_is_never_taken_for_another_message() {
    // A backend that forgets echo_id: reconciliation matches by text.
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    o.handle(
        0,
        Event::Enqueue {
            echo_id: "files".into(),
            draft: with_files(1, "ok"),
        },
    );
    // Cancelled as its last bytes left: the server stored it anyway.
    o.handle(
        10,
        Event::Cancel {
            echo_id: "files".into(),
        },
    );
    // Another "ok" (text) goes out and its answer is lost: it must be reconciled.
    enqueue(&mut o, 20, "text", 1, "ok");
    o.handle(
        30,
        Event::SendFailed {
            echo_id: "text".into(),
            error: SendError::Ambiguous("dropped".into()),
        },
    );
    assert_eq!(o.entries()[0].state, EntryState::Reconciling);
    // The cable reports the cancelled message (its echo_id, its text).
    let c = o.handle(
        40,
        Event::Seen(SeenMessage {
            id: 7,
            conversation_id: 1,
            echo_id: Some("files".into()),
            content: Some("ok".into()),
            private: false,
            from_me: true,
            created_at_s: 0,
        }),
    );
    assert!(
        !c.iter().any(|c| matches!(c, Command::Delivered { .. })),
        "the text \"ok\" is not the cancelled message: {c:?}"
    );
    // A resync that finds only that message does not take it either: the text is resent.
    let c = o.handle(
        50,
        Event::Seen(SeenMessage {
            id: 7,
            conversation_id: 1,
            echo_id: None,
            content: Some("ok".into()),
            private: false,
            from_me: true,
            created_at_s: 0,
        }),
    );
    assert!(!c.iter().any(|c| matches!(c, Command::Delivered { .. })));
    let c = o.handle(60, Event::ResyncDone { conversation_id: 1 });
    assert_eq!(o.entries()[0].state, EntryState::Queued, "{c:?}");
}
