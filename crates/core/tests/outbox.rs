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
        files: Vec::new(),
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
            error: SendError::Rejected(AttemptError::Http { status: 422 }),
        },
    );
    assert!(statuses(&c).contains(&(
        "a".to_string(),
        SendStatus::Failed {
            reason: FailReason::Refused(AttemptError::Http { status: 422 })
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
                error: SendError::Ambiguous(AttemptError::Http { status: 502 }),
            },
        );
        match statuses(&c).pop().unwrap().1 {
            SendStatus::Retrying { in_ms, .. } => {
                delays.push(in_ms);
                now += in_ms;
                assert_eq!(sends(&o.handle(now, Event::Tick)), ["a"]);
            }
            SendStatus::Failed { reason } => {
                assert_eq!(
                    reason,
                    FailReason::GaveUp {
                        attempts: 4,
                        last: Some(AttemptError::Http { status: 502 })
                    }
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
            error: SendError::Ambiguous(AttemptError::Network),
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
            files: Vec::new(),
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
            error: SendError::Ambiguous(AttemptError::Network),
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
            files: Vec::new(),
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
            files: Vec::new(),
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
            error: SendError::Ambiguous(AttemptError::Network),
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
    assert_eq!(
        o2.entries().iter().map(|e| e.seq).collect::<Vec<_>>(),
        [0, 1]
    );
    // Not on the server (yet): the answer died with the page, so the request may still be
    // on its way or in the server's hands. Looked for again once it cannot be any more
    // (`unknown_settle_ms` after it left), nothing said or sent before.
    let c = o2.handle(12, Event::ResyncDone { conversation_id: 1 });
    assert!(statuses(&c).is_empty() && sends(&c).is_empty(), "{c:?}");
    assert_eq!(o2.entries()[0].state, EntryState::Reconciling);
    assert!(o2
        .handle(19_999, Event::Tick)
        .iter()
        .all(|c| !matches!(c, Command::Resync { .. })));
    let c = o2.handle(20_000, Event::Tick);
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
    // Still not there: not guessed either way: "a" may not have been sent, the agent
    // decides; "b" waits behind it (the order typed).
    let c = o2.handle(20_001, Event::ResyncDone { conversation_id: 1 });
    assert!(
        statuses(&c).contains(&("a".to_owned(), SendStatus::Unknown)),
        "{c:?}"
    );
    assert_eq!(o2.entries()[0].state, EntryState::Unknown);
    assert!(sends(&c).is_empty(), "{c:?}");
    assert!(sends(&o2.handle(600_000, Event::Tick)).is_empty());
    // Retry: one more look, then it goes.
    let c = o2.handle(
        600_001,
        Event::Retry {
            echo_id: "a".into(),
        },
    );
    assert!(sends(&c).is_empty(), "{c:?}");
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
    let c = o2.handle(600_002, Event::ResyncDone { conversation_id: 1 });
    assert_eq!(sends(&c), ["a"]);
    let c = o2.handle(
        600_003,
        Event::SendOk {
            echo_id: "a".into(),
            message_id: 3,
        },
    );
    assert_eq!(sends(&c), ["b"]);
}

#[test]
fn a_resync_asked_before_an_attempt_left_does_not_settle_that_attempt() {
    // A backend that forgets echo_id. "a" is reconciled; while its resync is out, the
    // cable says "a" arrived, "b" goes and gets a 500 after the server stored it. The
    // resync's page was read before "b" was stored: it must not send "b" again.
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    enqueue(&mut o, 0, "a", 1, "first");
    enqueue(&mut o, 0, "b", 1, "second");
    o.handle(
        1,
        Event::SendFailed {
            echo_id: "a".into(),
            error: SendError::Ambiguous(AttemptError::Network),
        },
    );
    let c = o.handle(60_000, Event::Tick);
    assert!(
        c.contains(&Command::Resync {
            conversation_id: 1,
            after_id: None
        }),
        "{c:?}"
    );
    let c = o.handle(60_001, Event::Seen(mine(5, Some("a"), "first")));
    assert_eq!(delivered(&c), [("a".to_owned(), 5)]);
    assert_eq!(sends(&c), ["b"]);
    o.handle(
        60_002,
        Event::SendFailed {
            echo_id: "b".into(),
            error: SendError::Ambiguous(AttemptError::Http { status: 500 }),
        },
    );
    // The old answer: "a" only.
    o.handle(60_003, Event::Seen(mine(5, None, "first")));
    let c = o.handle(60_004, Event::ResyncDone { conversation_id: 1 });
    assert!(sends(&c).is_empty(), "{c:?}");
    assert_eq!(o.entries()[0].state, EntryState::Reconciling);
    // A resync of its own finds it.
    let c = o.handle(200_000, Event::Tick);
    assert!(
        c.contains(&Command::Resync {
            conversation_id: 1,
            after_id: Some(5)
        }),
        "{c:?}"
    );
    let c = o.handle(200_001, Event::Seen(mine(6, None, "second")));
    assert_eq!(delivered(&c), [("b".to_owned(), 6)]);
}

#[test]
fn a_message_of_unknown_fate_is_settled_by_a_copy_seen_later_or_a_backend_that_deduplicates() {
    let unknown = |seed| {
        let entry = persisted_in_flight(&mut Outbox::new(OutboxConfig::default(), seed), "a", "hi");
        let mut o = Outbox::new(OutboxConfig::default(), seed);
        o.handle(5, Event::Restored(vec![entry]));
        o.handle(5, Event::Reachable(true));
        o.handle(6, Event::ResyncDone { conversation_id: 1 });
        // Looked for again once the request cannot still be on its way (20 s after it left).
        o.handle(20_000, Event::Tick);
        let c = o.handle(20_001, Event::ResyncDone { conversation_id: 1 });
        assert!(
            statuses(&c).contains(&("a".to_owned(), SendStatus::Unknown)),
            "{c:?}"
        );
        // Nothing is sent on its own, however long it waits.
        assert!(sends(&o.handle(10_000_000, Event::Tick)).is_empty());
        assert!(!o.is_editable("a"), "its text may be on the server already");
        o
    };
    // The request was stored late: the cable's copy settles it.
    let mut o = unknown(1);
    let c = o.handle(10_000_001, Event::Seen(mine(9, Some("a"), "hi")));
    assert_eq!(delivered(&c), [("a".to_owned(), 9)]);
    // So does a copy without echo_id (a resync for another message, a history page).
    let mut o = unknown(2);
    let c = o.handle(10_000_001, Event::Seen(mine(9, None, "hi")));
    assert_eq!(delivered(&c), [("a".to_owned(), 9)]);
    // The backend turns out to deduplicate: sending again is safe, so it goes.
    let mut o = unknown(3);
    o.set_idempotent_backend(true);
    assert_eq!(sends(&o.handle(10_000_001, Event::Tick)), ["a"]);
    // The agent discards it.
    let mut o = unknown(4);
    let c = o.handle(
        10_000_001,
        Event::Discard {
            echo_id: "a".into(),
        },
    );
    assert!(c.contains(&Command::Forget {
        echo_id: "a".into()
    }));
    assert!(o.is_empty());
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
        files: Vec::new(),
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
        error: SendError::Ambiguous(AttemptError::Network),
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
            files: Vec::new(),
        }),
    );
    assert!(
        !c.iter().any(|c| matches!(c, Command::Delivered { .. })),
        "{c:?}"
    );
}

#[test]
fn queued_and_failed_messages_can_be_edited_or_discarded_in_flight_ones_cannot() {
    let persisted_text = |c: &[Command], echo: &str| {
        c.iter().find_map(|c| match c {
            Command::Persist(e) if e.echo_id == echo => Some(e.draft.content.clone()),
            _ => None,
        })
    };
    let sent_text = |c: &[Command]| {
        c.iter().find_map(|c| match c {
            Command::Send { draft, .. } => Some(draft.content.clone()),
            _ => None,
        })
    };
    let forgot = |c: &[Command], echo: &str| {
        c.contains(&Command::Forget {
            echo_id: echo.into(),
        })
    };
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    // Queued (offline): edited, written down, then sent with the new text.
    enqueue(&mut o, 0, "a", 1, "typo");
    assert!(o.is_editable("a"));
    let edit = |content: &str| Event::Edit {
        echo_id: "a".into(),
        content: content.into(),
    };
    let c = o.handle(1, edit("fixed"));
    assert_eq!(persisted_text(&c, "a").as_deref(), Some("fixed"), "{c:?}");
    let c = o.handle(2, Event::Reachable(true));
    assert_eq!(sent_text(&c).as_deref(), Some("fixed"));
    // In the air: neither edited nor discarded.
    assert!(!o.is_editable("a"));
    let c = o.handle(3, edit("too late"));
    assert_eq!(persisted_text(&c, "a"), None, "{c:?}");
    let discard = |echo: &str| Event::Discard {
        echo_id: echo.into(),
    };
    let c = o.handle(3, discard("a"));
    assert!(!forgot(&c, "a"), "{c:?}");
    assert_eq!(o.entries().len(), 1);
    assert_eq!(o.entries()[0].draft.content, "fixed");
    // Refused: failed. Now it can be edited, and Retry sends the edit.
    let refuse = |o: &mut Outbox, now| {
        let c = o.handle(
            now,
            Event::SendFailed {
                echo_id: "a".into(),
                error: SendError::Rejected(AttemptError::Http { status: 422 }),
            },
        );
        assert!(
            statuses(&c)
                .iter()
                .any(|(e, s)| e == "a" && matches!(s, SendStatus::Failed { .. })),
            "{c:?}"
        );
    };
    refuse(&mut o, 4);
    assert!(o.is_editable("a"));
    let c = o.handle(5, edit("shorter"));
    assert_eq!(persisted_text(&c, "a").as_deref(), Some("shorter"), "{c:?}");
    let c = o.handle(
        6,
        Event::Retry {
            echo_id: "a".into(),
        },
    );
    assert_eq!(sent_text(&c).as_deref(), Some("shorter"));
    // Failed again, then discarded: forgotten, and nothing more is sent.
    refuse(&mut o, 7);
    let c = o.handle(8, discard("a"));
    assert!(forgot(&c, "a"), "{c:?}");
    assert!(sends(&c).is_empty());
    assert!(o.is_empty());
    // Queued while offline, then discarded: forgotten, never sent when the network is back.
    o.handle(9, Event::Reachable(false));
    enqueue(&mut o, 10, "b", 1, "never mind");
    assert!(o.is_editable("b"));
    let c = o.handle(11, discard("b"));
    assert!(forgot(&c, "b"), "{c:?}");
    assert!(o.is_empty());
    assert!(sends(&o.handle(12, Event::Reachable(true))).is_empty());
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
    /// The request reaches the server, which stores it only this many ms after it left
    /// (a busy worker): possibly after the client timed out, resynced, sent it again or
    /// reloaded. No answer ever comes back.
    StoredLate(u64),
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
        1 => (1u64..180_000).prop_map(Fate::StoredLate),
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
    /// The agent presses Retry on every message that failed or may not have been sent,
    /// at once, whatever may still be in the air.
    AgentRetries,
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
        1 => Just(Step::AgentRetries),
    ]
}

#[derive(Debug)]
struct Stored {
    id: i64,
    conv: i64,
    content: String,
    echo: String,
    created_at_s: i64,
    /// When it was stored (the world's clock).
    at_ms: u64,
    files: Vec<Option<u64>>,
    /// The request that stored it got a 2xx answer to the proxy: only these does the proxy
    /// remember (an error answer, or one that never came, leaves nothing behind).
    answered_ok: bool,
}

/// The proxy's window (`echo_id_window_seconds`: 600).
const PROXY_WINDOW_MS: u64 = 600_000;
/// The proxy's `--upstream-timeout` (60 s): an upstream that stores a request later than
/// this has been answered 504 by the proxy, which then remembers nothing of it.
const PROXY_UPSTREAM_TIMEOUT_MS: u64 = 60_000;

/// What the backend does with `echo_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// parley-server: a unique index, for good; its messages index names `echo_id`.
    Deduplicates,
    /// A real Chatwoot: stores every POST; its index never names `echo_id`.
    Forgets,
    /// `parley-server --upstream` in front of a Chatwoot: a resend within the window after
    /// the first copy gets that copy; later ones store another; the index (Chatwoot's)
    /// never names `echo_id`.
    RemembersForAWhile,
}

struct World {
    backend: Backend,
    now: u64,
    outbox: Outbox,
    db: BTreeMap<String, Entry>,
    server: Vec<Stored>,
    fates: Vec<Fate>,
    fate_i: usize,
    /// Requests out: echo_id -> (answer, stored id)
    pending: HashMap<String, Result<i64, SendError>>,
    /// Requests the server holds and stores at the given time (`Fate::StoredLate`). They
    /// are the server's: a reload of the page does not take them back.
    /// With whether the proxy gets its answer (it waits up to its upstream timeout; a
    /// resend meanwhile waits for the same answer).
    late: Vec<(u64, String, Draft, bool)>,
    /// Resync answers in the air: the page the server answered when asked (`None`: the
    /// request failed). Delivered with the other answers, so that time, a reload or the
    /// cable can come between a resync's request and its answer.
    resync_inbox: Vec<(i64, Option<Vec<SeenMessage>>)>,
    /// `message.created` events in the air; lost when the cable drops.
    cable_inbox: Vec<SeenMessage>,
    net: bool,
    cable: bool,
    resync_fails: bool,
    typed: Vec<(String, i64, String)>,
    ever_failed: Vec<String>,
    /// Entries the agent was told may not have been sent.
    ever_unknown: Vec<String>,
    /// The server message each entry was reported delivered as.
    delivered_as: BTreeMap<String, i64>,
    /// Entries the outbox let go of without reporting them delivered (forgotten, or
    /// simply no longer held): each is a message lost without a word.
    forgotten_silently: Vec<String>,
    /// Copies stored more than `unknown_settle_ms` after their request left, per entry:
    /// the one case no client can rule out without idempotency (a server that slow). Only
    /// these may be a second copy, and only against a backend that forgets echo_id.
    stored_after_settling: BTreeMap<String, usize>,
    wake: Option<u64>,
    seed: u64,
}

impl World {
    fn new(idempotent: bool, fates: Vec<Fate>, seed: u64) -> Self {
        let backend = if idempotent {
            Backend::Deduplicates
        } else {
            Backend::Forgets
        };
        World::with_backend(backend, fates, seed)
    }

    fn config(backend: Backend) -> OutboxConfig {
        OutboxConfig {
            idempotent_backend: backend != Backend::Forgets,
            idempotency_window_ms: (backend == Backend::RemembersForAWhile)
                .then_some(PROXY_WINDOW_MS),
            ..Default::default()
        }
    }

    fn with_backend(backend: Backend, fates: Vec<Fate>, seed: u64) -> Self {
        let cfg = World::config(backend);
        World {
            backend,
            now: 1_000_000,
            outbox: Outbox::new(cfg, seed),
            db: BTreeMap::new(),
            server: Vec::new(),
            fates,
            fate_i: 0,
            pending: HashMap::new(),
            late: Vec::new(),
            resync_inbox: Vec::new(),
            cable_inbox: Vec::new(),
            net: true,
            cable: true,
            resync_fails: false,
            typed: Vec::new(),
            ever_failed: Vec::new(),
            ever_unknown: Vec::new(),
            delivered_as: BTreeMap::new(),
            forgotten_silently: Vec::new(),
            stored_after_settling: BTreeMap::new(),
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

    fn store(&mut self, echo: &str, d: &Draft, answered_ok: bool) -> i64 {
        let now = self.now;
        let remembered = |s: &Stored| match self.backend {
            Backend::Deduplicates => true,
            Backend::Forgets => false,
            Backend::RemembersForAWhile => s.answered_ok && now < s.at_ms + PROXY_WINDOW_MS,
        };
        if let Some(s) = self.server.iter().find(|s| s.echo == echo && remembered(s)) {
            return s.id;
        }
        let id = self.server.len() as i64 + 1;
        self.server.push(Stored {
            id,
            conv: d.conversation_id,
            content: d.content.clone(),
            echo: echo.to_owned(),
            created_at_s: (self.now / 1000) as i64,
            at_ms: self.now,
            files: d.attachments.iter().map(|a| Some(a.size)).collect(),
            answered_ok,
        });
        if self.cable && self.net {
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
                files: d.attachments.iter().map(|a| Some(a.size)).collect(),
            });
        }
        id
    }

    fn feed(&mut self, ev: Event) {
        let cmds = self.outbox.handle(self.now, ev);
        let delivered_now: Vec<String> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::Delivered { echo_id, .. } => Some(echo_id.clone()),
                _ => None,
            })
            .collect();
        for c in cmds {
            match c {
                Command::Persist(e) => {
                    self.db.insert(e.echo_id.clone(), e);
                }
                Command::Forget { echo_id } => {
                    self.db.remove(&echo_id);
                    // Nobody here discards or cancels: a forget must be a delivery.
                    if !delivered_now.contains(&echo_id) {
                        self.forgotten_silently.push(echo_id);
                    }
                }
                Command::Send { echo_id, draft } => {
                    assert!(self.db.contains_key(&echo_id), "sent before persisted");
                    let now = self.now;
                    let proxy_waits = self.backend == Backend::RemembersForAWhile
                        && self.late.iter().any(|l| l.1 == echo_id && l.3 && l.0 > now);
                    let outcome = match self.next_fate() {
                        // The proxy holds a resend while the first is still on its way
                        // upstream, for that one's answer (which this world never delivers).
                        _ if proxy_waits => None,
                        Fate::Ok => Some(Ok(self.store(&echo_id, &draft, true))),
                        Fate::StoredNoAnswer => {
                            self.store(&echo_id, &draft, true);
                            None
                        }
                        Fate::LostNoAnswer | Fate::Hang => None,
                        Fate::StoredLate(after_ms) => {
                            let proxy_answered = self.backend == Backend::RemembersForAWhile
                                && after_ms < PROXY_UPSTREAM_TIMEOUT_MS;
                            let residual = match self.backend {
                                Backend::Forgets => {
                                    after_ms >= self.outbox_config().unknown_settle_ms
                                }
                                Backend::RemembersForAWhile => !proxy_answered,
                                Backend::Deduplicates => false,
                            };
                            if residual {
                                *self
                                    .stored_after_settling
                                    .entry(echo_id.clone())
                                    .or_default() += 1;
                            }
                            self.late.push((
                                self.now + after_ms,
                                echo_id.clone(),
                                draft,
                                proxy_answered,
                            ));
                            None
                        }
                        Fate::BadGatewayUnstored => {
                            Some(Err(SendError::ErrorAnswer { status: 502 }))
                        }
                        Fate::ErrorAfterStoring => {
                            self.store(&echo_id, &draft, false);
                            Some(Err(SendError::ErrorAnswer { status: 500 }))
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
                    // Answered from what the server holds now; the answer arrives later.
                    let page = (self.net && !self.resync_fails)
                        .then(|| self.rest_page(conversation_id, after_id));
                    self.resync_inbox.push((conversation_id, page));
                }
                Command::Status {
                    echo_id,
                    status: SendStatus::Failed { .. },
                } => {
                    self.ever_failed.push(echo_id);
                }
                Command::Status {
                    echo_id,
                    status: SendStatus::Unknown,
                } => {
                    self.ever_unknown.push(echo_id);
                }
                Command::WakeAt(t) => self.wake = Some(t),
                Command::Delivered {
                    echo_id,
                    message_id,
                } => {
                    // Delivered as a message the server holds, of this conversation and text.
                    let (_, conv, text) = self
                        .typed
                        .iter()
                        .find(|(e, _, _)| *e == echo_id)
                        .expect("delivered an entry nobody typed");
                    let copy = self.server.iter().find(|s| s.id == message_id);
                    assert!(
                        copy.is_some_and(|s| s.conv == *conv && s.content == *text),
                        "{echo_id} ({text:?}) delivered as {copy:?}"
                    );
                    let before = self.delivered_as.insert(echo_id.clone(), message_id);
                    assert!(
                        before.is_none_or(|b| b == message_id),
                        "{echo_id} delivered as {before:?}, then as {message_id}"
                    );
                }
                Command::Status { .. } => {}
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
                echo_id: (self.backend == Backend::Deduplicates).then(|| s.echo.clone()),
                content: Some(s.content.clone()),
                private: false,
                from_me: true,
                created_at_s: s.created_at_s,
                files: s.files.clone(),
            })
            .collect()
    }

    fn deliver_cable(&mut self) {
        for s in std::mem::take(&mut self.cable_inbox) {
            self.feed(Event::Seen(s));
        }
    }

    /// Answers arrive: those of sends, then those of resyncs. What they cause is in the
    /// air until the next time answers arrive.
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
        for (conversation_id, page) in std::mem::take(&mut self.resync_inbox) {
            match page {
                Some(page) if self.net => {
                    for s in page {
                        self.feed(Event::Seen(s));
                    }
                    self.feed(Event::ResyncDone { conversation_id });
                }
                _ => self.feed(Event::ResyncFailed { conversation_id }),
            }
        }
    }

    /// The server stores the late requests whose time has come.
    fn land_late(&mut self) {
        let now = self.now;
        let (mut due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.late)
            .into_iter()
            .partition(|l| l.0 <= now);
        self.late = rest;
        due.sort_by_key(|l| l.0);
        for (_, echo, draft, proxy_answered) in due {
            self.store(&echo, &draft, proxy_answered);
        }
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        loop {
            let next_late = self.late.iter().map(|l| l.0).min();
            let Some(t) = [self.wake, next_late].into_iter().flatten().min() else {
                break;
            };
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.land_late();
            if self.wake.is_some_and(|w| w <= self.now) {
                self.wake = None;
                self.deliver_answers();
                self.feed(Event::Tick);
            }
        }
        self.now = end;
        self.land_late();
        self.feed(Event::Tick);
    }

    fn reachable(&mut self) {
        let r = self.net && self.cable;
        self.feed(Event::Reachable(r));
    }

    /// Every message typed and not yet reported delivered is still held by the outbox.
    fn none_dropped(&mut self) {
        for (echo, _, _) in &self.typed {
            let held = self.outbox.entries().iter().any(|e| e.echo_id == *echo);
            if !held
                && !self.delivered_as.contains_key(echo)
                && !self.forgotten_silently.contains(echo)
            {
                self.forgotten_silently.push(echo.clone());
            }
        }
    }

    fn run(&mut self, steps: &[Step]) {
        // The app feeds the stored outbox at every start, even empty.
        self.feed(Event::Restored(Vec::new()));
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
                    // answers go nowhere (the server still stores what it holds late).
                    self.pending.clear();
                    self.resync_inbox.clear();
                    self.cable_inbox.clear();
                    self.seed += 1;
                    self.outbox = Outbox::new(World::config(self.backend), self.seed);
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
                    // Through the proxy a restored entry is simply sent again (its answer
                    // settles it): until then its row and the history's copy both show.
                    if self.net && self.backend != Backend::RemembersForAWhile {
                        self.shown_once(&landed);
                    }
                }
                Step::ResyncFails(f) => self.resync_fails = *f,
                Step::AgentRetries => self.agent_retries(),
            }
            self.none_dropped();
        }
        // Then the world heals; the agent presses Retry on anything failed or that may not
        // have been sent, at once (a request may still be in the air: the outbox must not
        // double it unless the server stores it later than `unknown_settle_ms`).
        self.net = true;
        self.cable = true;
        self.resync_fails = false;
        self.fates.clear();
        self.reachable();
        for _ in 0..400 {
            self.deliver_answers();
            self.deliver_cable();
            self.none_dropped();
            self.agent_retries();
            if self.outbox.is_empty()
                && self.pending.is_empty()
                && self.cable_inbox.is_empty()
                && self.resync_inbox.is_empty()
                && self.late.is_empty()
            {
                break;
            }
            self.advance(31_000);
        }
    }

    fn agent_retries(&mut self) {
        let unsure: Vec<String> = self
            .outbox
            .entries()
            .iter()
            .filter(|e| matches!(e.state, EntryState::Failed { .. } | EntryState::Unknown))
            .map(|e| e.echo_id.clone())
            .collect();
        for echo_id in unsure {
            self.feed(Event::Retry { echo_id });
        }
    }

    fn outbox_config(&self) -> OutboxConfig {
        World::config(self.backend)
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
        // Nothing failed silently: every entry the outbox let go of was delivered.
        assert!(
            self.forgotten_silently.is_empty(),
            "let go of without a word: {:?}",
            self.forgotten_silently
        );
        // Exactly once: as many stored messages of each text as were typed. Against a
        // backend that forgets echo_id, more only by the copies the server stored later
        // than `unknown_settle_ms` after their request left (the case no client can rule
        // out); such a late copy may also stand in for a later message with the same text.
        let mut typed: BTreeMap<(i64, &str), usize> = BTreeMap::new();
        let mut excused: BTreeMap<(i64, &str), usize> = BTreeMap::new();
        for (echo, conv, text) in &self.typed {
            *typed.entry((*conv, text.as_str())).or_default() += 1;
            if self.backend != Backend::Deduplicates {
                *excused.entry((*conv, text.as_str())).or_default() +=
                    self.stored_after_settling.get(echo).copied().unwrap_or(0);
            }
        }
        let mut stored: BTreeMap<(i64, &str), usize> = BTreeMap::new();
        for s in &self.server {
            *stored.entry((s.conv, s.content.as_str())).or_default() += 1;
        }
        for (key, &want) in &typed {
            let got = stored.get(key).copied().unwrap_or(0);
            let extra = excused.get(key).copied().unwrap_or(0);
            assert!(
                got >= want && got <= want + extra,
                "{key:?}: typed {want}, stored {got} (stored after settling: {extra}); server: {:?}",
                self.server
            );
        }
        assert!(
            stored.keys().all(|k| typed.contains_key(k)),
            "a message nobody typed: {:?}",
            self.server
        );
        // And each message was delivered as a copy of its own, no copy claimed twice: a
        // duplicate of one "ok" never stands in for another "ok" that was lost.
        let mut claimed: BTreeMap<i64, &str> = BTreeMap::new();
        for (echo, _, _) in &self.typed {
            let id = self
                .delivered_as
                .get(echo)
                .unwrap_or_else(|| panic!("{echo} never reported delivered"));
            if let Some(other) = claimed.insert(*id, echo) {
                panic!("{echo} and {other} both delivered as message {id}");
            }
        }
        // In order: per conversation, messages that never failed arrive in typing order
        // (one of unknown fate holds back the ones after it until the agent decides). A
        // message delivered as another's late copy (above) has no copy of its own to order.
        let stood_in = |echo: &str| {
            self.delivered_as
                .get(echo)
                .is_some_and(|id| self.server.iter().any(|s| s.id == *id && s.echo != echo))
        };
        for conv in 1..4 {
            let want: Vec<&str> = self
                .typed
                .iter()
                .filter(|(e, c, _)| *c == conv && !self.ever_failed.contains(e) && !stood_in(e))
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
    fn exactly_once_in_order_through_a_proxy_that_remembers_echo_id_for_ten_minutes(
        steps in proptest::collection::vec(step(), 1..60),
        fates in proptest::collection::vec(fate(), 0..60),
        seed in any::<u64>(),
    ) {
        let mut w = World::with_backend(Backend::RemembersForAWhile, fates, seed);
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

/// Where a send is when the page reloads.
#[derive(Debug, Clone, Copy)]
enum ReloadPoint {
    /// Typed; no request has left (against a backend that forgets echo_id, the first send
    /// of a page waits for a resync, which is in the air).
    BeforeTheRequest,
    /// The request is out and never reaches the server.
    DuringTheRequest,
    /// The server stored it; the answer is on its way.
    AfterTheServerStoredIt,
    /// The server stores it this long after it left: after the new page showed its
    /// history, resynced, or sent again.
    StoredLate(u64),
    /// The answer arrived and was handled.
    AfterTheAnswer,
}

const RELOAD_POINTS: [ReloadPoint; 9] = [
    ReloadPoint::BeforeTheRequest,
    ReloadPoint::DuringTheRequest,
    ReloadPoint::AfterTheServerStoredIt,
    ReloadPoint::StoredLate(5),
    ReloadPoint::StoredLate(2_000),
    ReloadPoint::StoredLate(25_000),
    ReloadPoint::StoredLate(70_000),
    ReloadPoint::StoredLate(400_000),
    ReloadPoint::AfterTheAnswer,
];

/// An earlier message (delivered), then one sent and reloaded at `point`, then another
/// typed and reloaded at once (the agent keeps going): every message once, each as its
/// own copy, nothing let go of without a word.
fn reload_at(
    idempotent: bool,
    point: ReloadPoint,
    history_first: bool,
    same_text: bool,
    cable_at_reload: bool,
) {
    let typed = |conv| Step::Type {
        conv,
        dup_text: same_text,
        files: false,
    };
    let settle = Step::Advance(10, false);
    // The earlier message, delivered; then a fresh page, where the message is typed.
    let mut steps = vec![typed(1), settle.clone(), settle.clone(), settle.clone()];
    steps.push(Step::Reload { history_first });
    let mut fates = vec![Fate::Ok];
    steps.push(typed(1));
    // Against a backend that forgets echo_id the request leaves only after the resync a
    // fresh page makes first (the `settle`); parley-server's leaves at once.
    match point {
        ReloadPoint::BeforeTheRequest => {
            if idempotent {
                // Its POST never left the browser.
                fates.push(Fate::LostNoAnswer);
            }
        }
        ReloadPoint::DuringTheRequest => {
            fates.push(Fate::LostNoAnswer);
            steps.push(settle.clone());
        }
        ReloadPoint::AfterTheServerStoredIt => {
            fates.push(Fate::StoredNoAnswer);
            steps.push(settle.clone());
        }
        ReloadPoint::StoredLate(ms) => {
            fates.push(Fate::StoredLate(ms));
            steps.push(settle.clone());
        }
        ReloadPoint::AfterTheAnswer => {
            fates.push(Fate::Ok);
            steps.extend([settle.clone(), settle.clone()]);
        }
    }
    if !cable_at_reload {
        steps.push(Step::Cable(false));
    }
    steps.push(Step::Reload { history_first });
    steps.push(Step::Cable(true));
    steps.push(typed(1));
    steps.push(Step::Reload { history_first });
    let mut w = World::new(idempotent, fates, 11);
    w.run(&steps);
    w.check();
}

#[test]
fn a_reload_at_every_point_of_a_send_loses_nothing_and_doubles_nothing() {
    let mut failed = Vec::new();
    let mut cases = 0;
    for idempotent in [true, false] {
        for point in RELOAD_POINTS {
            for history_first in [true, false] {
                for same_text in [true, false] {
                    for cable_at_reload in [true, false] {
                        cases += 1;
                        let run = std::panic::catch_unwind(|| {
                            reload_at(idempotent, point, history_first, same_text, cable_at_reload)
                        });
                        if let Err(e) = run {
                            let why = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            failed.push(format!(
                                "idempotent {idempotent}, {point:?}, history first \
                                 {history_first}, same text {same_text}, cable at reload \
                                 {cable_at_reload}: {why}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
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
            error: SendError::Ambiguous(AttemptError::Http { status: 500 }),
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
        SendStatus::Failed {
            reason: FailReason::GaveUp { attempts: 3, .. },
        } => {}
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
            files: vec![Some(30 * 1024 * 1024)],
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
            error: SendError::Ambiguous(AttemptError::Network),
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
            error: SendError::Ambiguous(AttemptError::Network),
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
            files: vec![Some(30 * 1024 * 1024)],
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
            error: SendError::Ambiguous(AttemptError::Network),
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
            files: vec![Some(30 * 1024 * 1024)],
        }),
    );
    assert!(
        !c.iter().any(|c| matches!(c, Command::Delivered { .. })),
        "the text \"ok\" is not the cancelled message: {c:?}"
    );
    // A resync that finds only that message does not take it either: the text is resent.
    let c = o.handle(60_000, Event::Tick);
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
    let c = o.handle(
        60_001,
        Event::Seen(SeenMessage {
            id: 7,
            conversation_id: 1,
            echo_id: None,
            content: Some("ok".into()),
            private: false,
            from_me: true,
            created_at_s: 0,
            files: vec![Some(30 * 1024 * 1024)],
        }),
    );
    assert!(!c.iter().any(|c| matches!(c, Command::Delivered { .. })));
    let c = o.handle(60_002, Event::ResyncDone { conversation_id: 1 });
    assert_eq!(sends(&c), ["text"], "{c:?}");
}

#[test]
fn reasons_persist_as_data_and_the_text_an_earlier_version_stored_still_loads() {
    // Stored before reasons were typed: an English sentence each.
    let old = r#"{"echo_id":"e","seq":0,"draft":{"conversation_id":1,"content":"hi","private":false,"in_reply_to":null},"enqueued_at_ms":5,"attempts":8,"next_attempt_at_ms":5,"state":{"Failed":{"reason":"Not sent after 8 attempts: No connection"}},"last_error":"No connection"}"#;
    let e: Entry = serde_json::from_str(old).unwrap();
    assert_eq!(
        e.state,
        EntryState::Failed {
            reason: FailReason::Earlier("Not sent after 8 attempts: No connection".into())
        }
    );
    assert_eq!(
        e.last_error,
        Some(AttemptError::Earlier("No connection".into()))
    );
    // Written now: data, no sentence; and read back the same.
    let typed = Entry {
        state: EntryState::Failed {
            reason: FailReason::GaveUp {
                attempts: 8,
                last: Some(AttemptError::Http { status: 503 }),
            },
        },
        last_error: Some(AttemptError::TimedOut),
        ..e
    };
    let json = serde_json::to_string(&typed).unwrap();
    assert!(!json.contains("Not sent"), "{json}");
    let back: Entry = serde_json::from_str(&json).unwrap();
    assert_eq!(back, typed);
    // An entry without `last_error` at all (never written so, but harmless) loads too.
    let bare = old.replace(r#","last_error":"No connection""#, "");
    let e: Entry = serde_json::from_str(&bare).unwrap();
    assert_eq!(e.last_error, None);
}

#[test]
fn past_the_proxys_window_a_message_that_may_have_landed_is_looked_for_not_resent() {
    // The proxy remembers an echo_id for 10 minutes (`echo_id_window_seconds`).
    let cfg = OutboxConfig {
        idempotent_backend: true,
        idempotency_window_ms: Some(600_000),
        ..Default::default()
    };
    let stored_then_offline = |seed| {
        let mut o = Outbox::new(cfg, seed);
        o.handle(0, Event::Reachable(true));
        assert_eq!(sends(&enqueue(&mut o, 0, "a", 1, "hello")), ["a"]);
        // Stored upstream; the answer is lost with the connection, the network goes.
        o.handle(1_000, Event::Reachable(false));
        o.handle(
            1_000,
            Event::SendFailed {
                echo_id: "a".into(),
                error: SendError::Ambiguous(AttemptError::Network),
            },
        );
        o
    };
    // Back within the window: the proxy keeps only answers that succeeded (the upstream may
    // have stored it and answered 500), so the outbox looks first, and resends what it
    // does not find.
    let mut o = stored_then_offline(1);
    let c = o.handle(60_000, Event::Reachable(true));
    assert!(sends(&c).is_empty(), "{c:?}");
    assert_eq!(
        sends(&o.handle(60_001, Event::ResyncDone { conversation_id: 1 })),
        ["a"]
    );
    // Back after it: the proxy would store a second copy, so the outbox looks first and
    // takes the copy it finds (the index, Chatwoot's, names no echo_id).
    let mut o = stored_then_offline(2);
    let c = o.handle(661_000, Event::Reachable(true));
    assert!(sends(&c).is_empty(), "{c:?}");
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
    let c = o.handle(661_001, Event::Seen(mine(7, None, "hello")));
    assert_eq!(delivered(&c), [("a".to_owned(), 7)]);
    // Not there: then it goes (the look was made after the attempt answered).
    let mut o = stored_then_offline(3);
    o.handle(661_000, Event::Reachable(true));
    let c = o.handle(661_001, Event::ResyncDone { conversation_id: 1 });
    assert_eq!(sends(&c), ["a"]);
    // A message of unknown fate from before the capabilities were known is sent again
    // when the backend covers it, and stays for the agent when the window is past.
    for (now, resent) in [(100_000, true), (700_000, false)] {
        let entry = persisted_in_flight(&mut Outbox::new(OutboxConfig::default(), 4), "b", "hi");
        let mut o = Outbox::new(OutboxConfig::default(), 4);
        o.handle(5, Event::Restored(vec![entry]));
        o.handle(5, Event::Reachable(true));
        o.handle(6, Event::ResyncDone { conversation_id: 1 });
        o.handle(20_000, Event::Tick);
        o.handle(20_001, Event::ResyncDone { conversation_id: 1 });
        assert_eq!(o.entries()[0].state, EntryState::Unknown);
        o.set_backend(true, Some(600_000), now);
        assert_eq!(
            !sends(&o.handle(now, Event::Tick)).is_empty(),
            resent,
            "at {now}"
        );
    }
}

#[test]
fn a_copy_without_echo_id_is_taken_only_with_the_same_files() {
    // "see this" with a 1 MB photo may have landed (its answer was lost); the resync finds
    // "see this" as text alone, then with a 2 MB file, then with the 1 MB photo.
    let mut o = Outbox::new(OutboxConfig::default(), 3);
    o.handle(0, Event::Reachable(true));
    let mut d = draft(1, "see this");
    d.attachments = vec![parley_core::attachment::AttachmentDraft {
        blob_key: "p/0".into(),
        file_name: "photo.jpg".into(),
        mime: "image/jpeg".into(),
        size: 1_000_000,
    }];
    o.handle(
        0,
        Event::Enqueue {
            echo_id: "p".into(),
            draft: d,
        },
    );
    o.handle(
        1,
        Event::SendFailed {
            echo_id: "p".into(),
            error: SendError::Ambiguous(AttemptError::Network),
        },
    );
    let c = o.handle(60_000, Event::Tick);
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
    let seen = |id, files| {
        Event::Seen(SeenMessage {
            id,
            conversation_id: 1,
            echo_id: None,
            content: Some("see this".into()),
            private: false,
            from_me: true,
            created_at_s: 0,
            files,
        })
    };
    assert!(delivered(&o.handle(60_001, seen(5, vec![]))).is_empty());
    assert!(delivered(&o.handle(60_002, seen(6, vec![Some(2_000_000)]))).is_empty());
    assert_eq!(
        delivered(&o.handle(60_003, seen(7, vec![Some(1_000_000)]))),
        [("p".to_owned(), 7)]
    );
}
