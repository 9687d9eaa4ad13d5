//! The inbox's actions (issue 13) against Chatwoot's source: toggle_status, unread,
//! assignments, the agents list, retry, the list's filters and counts, and the cable events a
//! second agent (and the contact) receive. Each answer's shape names the Chatwoot file it
//! follows. Demo data: account 1 has Alex Morgan (administrator, the default token) and
//! Jordan Lee (agent); conversations 1 and 2 are Alex's and open, 3 is unassigned and open,
//! 4 is Jordan's and resolved. Account 2 has Sam Rivera and its own conversation 1.

mod common;

use common::{Cable, TestServer, LONG};
use parley_wire::{Agent, Conversation, ConversationPush, Message};
use serde_json::{json, Value};

const ACCOUNT: &str = "/api/v1/accounts/1";

fn conv_path(display_id: i64, action: &str) -> String {
    format!("{ACCOUNT}/conversations/{display_id}/{action}")
}

/// The broadcast event names in `frames`, without the presence updates a subscription gets.
fn names(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            f["message"]["event"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|e| e != "presence.update")
        .collect()
}

/// The frames of `frames` that are conversation or message events (no presence updates).
fn changes(frames: Vec<Value>) -> Vec<Value> {
    frames
        .into_iter()
        .filter(|f| f["message"]["event"] != "presence.update")
        .collect()
}

fn data(frame: &Value) -> &Value {
    &frame["message"]["data"]
}

/// Sends a note that every agent receives: what arrives before it was broadcast before it.
async fn agent_marker(s: &TestServer, display_id: i64) {
    let (st, _) = s
        .agent_send(
            display_id,
            json!({"content": "marker", "private": true, "echo_id": "marker"}),
        )
        .await;
    assert_eq!(st, 200);
}

/// Sends a reply the contact of conversation 1 receives.
/// The agents receive it too: `agent` reads past it.
async fn contact_marker(s: &TestServer, agent: &mut Cable) {
    let (st, _) = s
        .agent_send(1, json!({"content": "public marker", "private": false}))
        .await;
    assert_eq!(st, 200);
    let (_, marker) = agent.events_before("message.created", LONG).await;
    assert_eq!(data(&marker)["content"], "public marker");
}

async fn toggle(s: &TestServer, token: &str, display_id: i64, body: Value) -> (u16, Value) {
    s.json(
        s.post_as(token, &conv_path(display_id, "toggle_status"))
            .json(&body),
    )
    .await
}

async fn show(s: &TestServer, display_id: i64) -> Value {
    let (st, c) = s
        .json(s.get(&format!("{ACCOUNT}/conversations/{display_id}")))
        .await;
    assert_eq!(st, 200, "{c}");
    c
}

/// The display ids of one list page, and its meta counts.
async fn list(s: &TestServer, query: &str) -> (Vec<i64>, Value) {
    let (st, l) = s
        .json(s.get(&format!("{ACCOUNT}/conversations?{query}")))
        .await;
    assert_eq!(st, 200, "{l}");
    let ids = l["data"]["payload"]
        .as_array()
        .expect("a payload array")
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    (ids, l["data"]["meta"].clone())
}

#[tokio::test]
async fn resolve_and_reopen_answer_and_broadcast_as_chatwoot() {
    let s = TestServer::start().await;
    let jordan = s.token_of("jordan@parley.test").await;
    let mut second_agent = Cable::agent_as(&s, &jordan, 1).await;
    let mut contact = Cable::contact(&s).await;
    let (st, body) = toggle(&s, s.token(), 1, json!({"status": "resolved"})).await;
    // app/views/api/v1/accounts/conversations/toggle_status.json.jbuilder
    assert_eq!(st, 200);
    assert_eq!(
        body,
        json!({"meta": {}, "payload": {
            "success": true, "conversation_id": 1, "current_status": "resolved", "snoozed_until": null
        }})
    );

    // Conversation#notify_status_change, #notify_conversation_updation, then the activity
    // message (ActivityMessageHandler, en.yml conversations.activity.status.resolved).
    let (before, activity) = second_agent.events_before("message.created", LONG).await;
    let before = changes(before);
    assert_eq!(
        names(&before),
        ["conversation.status_changed", "conversation.updated"]
    );
    for frame in &before {
        // Conversations::EventDataPresenter#push_data + account_id, without performer.
        let push: ConversationPush = serde_json::from_value(data(frame).clone()).unwrap();
        assert_eq!(push.id, 1);
        assert_eq!(push.status.as_deref(), Some("resolved"));
        assert_eq!(data(frame)["account_id"], 1);
        assert!(data(frame).get("performer").is_none());
    }
    let activity = data(&activity);
    assert_eq!(activity["message_type"], 2);
    assert_eq!(
        activity["content"],
        "Conversation was marked resolved by Alex Morgan"
    );
    assert_eq!(activity["conversation_id"], 1);
    assert!(activity["sender"].is_null(), "an activity has no sender");

    // The contact gets the conversation events (ActionCableListener's contact_inbox_tokens),
    // never the activity message.
    contact_marker(&s, &mut second_agent).await;
    let (before, _) = contact.events_before("message.created", LONG).await;
    assert_eq!(
        names(&before),
        ["conversation.status_changed", "conversation.updated"]
    );

    assert_eq!(show(&s, 1).await["status"], "resolved");
    let (open, _) = list(&s, "status=open").await;
    assert!(!open.contains(&1));
    let (resolved, _) = list(&s, "status=resolved").await;
    assert!(resolved.contains(&1));

    // No status: Conversation#toggle_status, resolved becomes open.
    let (st, body) = toggle(&s, s.token(), 1, json!({})).await;
    assert_eq!(
        (st, &body["payload"]["current_status"]),
        (200, &json!("open"))
    );
    let (_, activity) = second_agent.events_before("message.created", LONG).await;
    assert_eq!(
        data(&activity)["content"],
        "Conversation was reopened by Alex Morgan"
    );
}

#[tokio::test]
async fn toggling_without_a_status_follows_conversation_toggle_status() {
    let s = TestServer::start().await;
    // app/models/conversation.rb#toggle_status: open -> resolved, anything else -> open.
    for (set, toggled) in [
        ("open", "resolved"),
        ("resolved", "open"),
        ("pending", "open"),
        ("snoozed", "open"),
    ] {
        let (st, _) = toggle(&s, s.token(), 2, json!({"status": set})).await;
        assert_eq!(st, 200);
        // A body without status, an empty status and no body at all all toggle.
        let (st, body) = if set == "pending" {
            s.json(s.post(&conv_path(2, "toggle_status"))).await
        } else if set == "snoozed" {
            toggle(&s, s.token(), 2, json!({"status": ""})).await
        } else {
            toggle(&s, s.token(), 2, json!({})).await
        };
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["payload"]["current_status"], toggled, "from {set}");
        assert_eq!(show(&s, 2).await["status"], toggled);
    }
}

#[tokio::test]
async fn setting_the_same_status_again_changes_and_broadcasts_nothing() {
    let s = TestServer::start().await;
    let mut cable = Cable::agent(&s).await;
    let (st, body) = toggle(&s, s.token(), 1, json!({"status": "open"})).await;
    assert_eq!(
        (st, &body["payload"]["current_status"]),
        (200, &json!("open"))
    );
    agent_marker(&s, 1).await;
    let (before, _) = cable.events_before("message.created", LONG).await;
    assert_eq!(names(&before), Vec::<String>::new());
}

#[tokio::test]
async fn an_agent_who_leaves_a_conversation_open_becomes_its_assignee() {
    let s = TestServer::start().await;
    let jordan = s.token_of("jordan@parley.test").await;
    let mut alex_cable = Cable::agent(&s).await;
    // Conversation 3 is unassigned. Alex is an administrator: reopening assigns nobody.
    let (st, _) = toggle(&s, s.token(), 3, json!({"status": "pending"})).await;
    assert_eq!(st, 200);
    let (st, _) = toggle(&s, s.token(), 3, json!({"status": "open"})).await;
    assert_eq!(st, 200);
    assert!(show(&s, 3).await["meta"].get("assignee").is_none());

    // Jordan's role is agent: ConversationsController#should_assign_conversation?
    let (st, _) = toggle(&s, &jordan, 3, json!({"status": "resolved"})).await;
    assert_eq!(st, 200);
    assert!(show(&s, 3).await["meta"].get("assignee").is_none());
    let (st, body) = toggle(&s, &jordan, 3, json!({})).await;
    assert_eq!(
        (st, &body["payload"]["current_status"]),
        (200, &json!("open"))
    );
    let conv = show(&s, 3).await;
    assert_eq!(conv["meta"]["assignee"]["name"], "Jordan Lee");
    assert_eq!(conv["meta"]["assignee_type"], "User");

    // Drain up to Jordan's reopen, then its assignment follows.
    let mut seen = vec![];
    loop {
        let f = alex_cable
            .event("message.created", LONG)
            .await
            .expect("activity messages");
        let content = data(&f)["content"].as_str().unwrap().to_owned();
        let done = content == "Jordan Lee self-assigned this conversation";
        seen.push(content);
        if done {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "Conversation was marked as pending by Alex Morgan",
            "Conversation was reopened by Alex Morgan",
            "Conversation was marked resolved by Jordan Lee",
            "Conversation was reopened by Jordan Lee",
            "Jordan Lee self-assigned this conversation",
        ]
    );
}

#[tokio::test]
async fn a_snooze_with_a_time_reopens_on_time() {
    let s = TestServer::start().await;
    let jordan = s.token_of("jordan@parley.test").await;
    let mut second_agent = Cable::agent_as(&s, &jordan, 1).await;
    let mut contact = Cable::contact(&s).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let until = now + 3;
    let (st, body) = toggle(
        &s,
        s.token(),
        1,
        json!({"status": "snoozed", "snoozed_until": until}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"]["current_status"], "snoozed");
    let iso = body["payload"]["snoozed_until"]
        .as_str()
        .expect("snoozed_until as an ISO time")
        .to_owned();
    assert!(iso.ends_with(".000Z"), "{iso}");
    let conv: Conversation = serde_json::from_value(show(&s, 1).await).unwrap();
    assert_eq!(conv.status, "snoozed");
    assert_eq!(conv.snoozed_until.as_deref(), Some(iso.as_str()));
    let (snoozed, meta) = list(&s, "status=snoozed").await;
    assert_eq!(snoozed, [1]);
    assert_eq!(meta["all_count"], 1);

    let (before, _) = second_agent.events_before("message.created", LONG).await;
    let before = changes(before);
    assert_eq!(
        names(&before),
        ["conversation.status_changed", "conversation.updated"]
    );
    assert_eq!(data(&before[0])["snoozed_until"], json!(iso));
    // A private note becomes the newest message while it sleeps: the wake's events must not
    // carry it to the contact (the push's `messages` is the last public message).
    let (st, _) = s
        .agent_send(1, json!({"content": "secret plan", "private": true}))
        .await;
    assert_eq!(st, 200);
    let _ = second_agent.events_before("message.created", LONG).await;

    // Chatwoot's ReopenSnoozedConversationsJob: open again once the time has come, and
    // not before; nobody did it, so no activity message.
    let woke = second_agent
        .event("conversation.status_changed", LONG + LONG)
        .await
        .expect("the snooze runs out");
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(at >= until as f64, "woke at {at}, before {until}");
    assert_eq!(data(&woke)["status"], "open");
    assert_eq!(data(&woke)["snoozed_until"], Value::Null);
    agent_marker(&s, 1).await;
    let (before, marker) = second_agent.events_before("message.created", LONG).await;
    assert_eq!(names(&before), ["conversation.updated"]);
    assert_eq!(data(&marker)["content"], "marker");
    contact_marker(&s, &mut second_agent).await;
    let (before, _) = contact.events_before("message.created", LONG).await;
    assert_eq!(
        names(&before),
        [
            "conversation.status_changed",
            "conversation.updated",
            "conversation.status_changed",
            "conversation.updated"
        ]
    );
    for frame in &before {
        assert!(!frame.to_string().contains("secret plan"), "{frame}");
    }
    assert_eq!(show(&s, 1).await["status"], "open");
}

#[tokio::test]
async fn a_customer_message_reopens_a_snoozed_or_resolved_conversation() {
    let s = TestServer::start().await;
    let mut cable = Cable::agent(&s).await;
    let customer_says = |text: &'static str| {
        s.http
            .post(s.url(&format!("{}/messages", s.public_conv())))
            .json(&json!({ "content": text }))
    };
    // Snoozed with no time: until the customer's next message (Message#reopen_conversation).
    let (st, body) = toggle(&s, s.token(), 1, json!({"status": "snoozed"})).await;
    assert_eq!(st, 200);
    assert_eq!(body["payload"]["snoozed_until"], Value::Null);
    let (_, _) = cable.events_before("message.created", LONG).await;
    for status in ["snoozed", "resolved"] {
        if status == "resolved" {
            let (st, _) = toggle(&s, s.token(), 1, json!({"status": "resolved"})).await;
            assert_eq!(st, 200);
            let (_, _) = cable.events_before("message.created", LONG).await;
        }
        let (st, _) = s.json(customer_says("I'm back")).await;
        assert_eq!(st, 200);
        // The reopen's events come before the customer's message, and write no activity.
        let (before, message) = cable.events_before("message.created", LONG).await;
        let before = changes(before);
        assert_eq!(
            names(&before),
            ["conversation.status_changed", "conversation.updated"],
            "from {status}"
        );
        assert_eq!(data(&before[0])["status"], "open");
        assert_eq!(data(&message)["content"], "I'm back");
        assert_eq!(show(&s, 1).await["status"], "open");
    }
}

#[tokio::test]
async fn bad_statuses_and_snooze_times_are_refused_and_change_nothing() {
    let s = TestServer::start().await;
    let mut cable = Cable::agent(&s).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (body, reason) in [
        (json!({"status": "bogus"}), "status must be one of"),
        (json!({"status": 1}), "status must be one of"),
        (json!({"status": ["open"]}), "status must be one of"),
        (
            json!({"status": "snoozed", "snoozed_until": now - 60}),
            "must be in the future",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": 0}),
            "must be in the future",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": -5}),
            "must be in the future",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": 253_402_300_800_i64}),
            "too far in the future",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": i64::MAX}),
            "too far in the future",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": "tomorrow"}),
            "unix time in seconds",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": 1.5e9}),
            "unix time in seconds",
        ),
        (
            json!({"status": "snoozed", "snoozed_until": {"at": 1}}),
            "unix time in seconds",
        ),
    ] {
        let (st, answer) = toggle(&s, s.token(), 1, body.clone()).await;
        assert_eq!(st, 422, "{body} answered {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{body}: {answer}");
    }
    // A time given as a string of digits is taken, as Chatwoot's strptime('%s') takes it.
    let (st, body) = toggle(
        &s,
        s.token(),
        1,
        json!({"status": "snoozed", "snoozed_until": (now + 3600).to_string()}),
    )
    .await;
    assert_eq!(
        (st, &body["payload"]["current_status"]),
        (200, &json!("snoozed"))
    );
    // Only that one change was broadcast.
    let (before, _) = cable.events_before("message.created", LONG).await;
    assert_eq!(
        names(&before),
        ["conversation.status_changed", "conversation.updated"]
    );
}

#[tokio::test]
async fn unread_moves_the_read_markers_before_the_last_incoming_message() {
    let s = TestServer::start().await;
    let mut cable = Cable::agent(&s).await;
    // Conversation 2: the agent has read everything.
    assert_eq!(show(&s, 2).await["unread_count"], 0);
    let last_incoming = s
        .messages(2)
        .await
        .iter()
        .rev()
        .find(|m| m["message_type"] == 0)
        .map(|m| m["created_at"].as_i64().unwrap())
        .unwrap();
    let (st, body) = s.json(s.post(&conv_path(2, "unread"))).await;
    // The conversation partial (api/v1/conversations/partials/_conversation.json.jbuilder).
    assert_eq!(st, 200, "{body}");
    let conv: Conversation = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(conv.id, 2);
    assert_eq!(
        conv.unread_count, 1,
        "the last incoming message is unread again"
    );
    // ConversationsController#unread: one second before it, for the agent and the assignee.
    assert_eq!(body["agent_last_seen_at"], last_incoming - 1);
    assert_eq!(body["assignee_last_seen_at"], last_incoming - 1);
    assert_eq!(show(&s, 2).await["unread_count"], 1);
    // update_columns: no event.
    agent_marker(&s, 2).await;
    let (before, _) = cable.events_before("message.created", LONG).await;
    assert_eq!(names(&before), Vec::<String>::new());
}

#[tokio::test]
async fn the_agents_list_is_the_accounts_agents_by_name() {
    let s = TestServer::start().await;
    let (st, body) = s.json(s.get(&format!("{ACCOUNT}/agents"))).await;
    assert_eq!(st, 200);
    // agents/index.json.jbuilder: an array of app/views/api/v1/models/_agent.json.jbuilder.
    let agents: Vec<Agent> = serde_json::from_value(body.clone()).unwrap();
    let names: Vec<_> = agents.iter().map(|a| a.name.clone().unwrap()).collect();
    assert_eq!(
        names,
        ["Alex Morgan", "Jordan Lee"],
        "never Sam, of account 2"
    );
    assert_eq!(agents[0].role.as_deref(), Some("administrator"));
    assert_eq!(agents[1].role.as_deref(), Some("agent"));
    let keys: Vec<&str> = body[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "account_id",
        "availability_status",
        "auto_offline",
        "confirmed",
        "email",
        "provider",
        "available_name",
        "name",
        "role",
        "thumbnail",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(body[0]["account_id"], 1);
}

#[tokio::test]
async fn assignments_assign_unassign_and_never_reach_another_account() {
    let s = TestServer::start().await;
    let jordan_token = s.token_of("jordan@parley.test").await;
    let sam_token = s.token_of("sam@parley.test").await;
    let mut second_agent = Cable::agent_as(&s, &jordan_token, 1).await;
    let mut contact = Cable::contact(&s).await;
    let (_, agents) = s.json(s.get(&format!("{ACCOUNT}/agents"))).await;
    let alex_id = agents[0]["id"].as_i64().unwrap();
    let jordan_id = agents[1]["id"].as_i64().unwrap();
    let (_, sam) = s.json(s.get_as(&sam_token, "/api/v1/profile")).await;
    let sam_id = sam["id"].as_i64().unwrap();

    let (_, meta) = list(&s, "assignee_type=me").await;
    assert_eq!(
        (meta["mine_count"].clone(), meta["unassigned_count"].clone()),
        (json!(2), json!(1))
    );

    // Conversation 1 is Alex's: Alex gives it to Jordan.
    let assign = |body: Value| s.post(&conv_path(1, "assignments")).json(&body);
    let (st, body) = s.json(assign(json!({"assignee_id": jordan_id}))).await;
    // AssignmentsController#render_agent: the _agent partial.
    assert_eq!(st, 200);
    let agent: Agent = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(agent.id, jordan_id);
    assert_eq!(body["name"], "Jordan Lee");
    assert_eq!(body["role"], "agent");

    // AssignmentHandler#notify_assignment_change, then conversation.updated, then the
    // activity (en.yml conversations.activity.assignee.assigned).
    let (before, activity) = second_agent.events_before("message.created", LONG).await;
    let before = changes(before);
    assert_eq!(names(&before), ["assignee.changed", "conversation.updated"]);
    assert_eq!(data(&before[0])["meta"]["assignee"]["id"], jordan_id);
    assert_eq!(data(&before[0])["meta"]["assignee_type"], "User");
    assert_eq!(
        data(&activity)["content"],
        "Assigned to Jordan Lee by Alex Morgan"
    );
    // The contact is told the conversation changed, not who it went to (assignee.changed
    // goes to the agents only).
    contact_marker(&s, &mut second_agent).await;
    let (before, _) = contact.events_before("message.created", LONG).await;
    assert_eq!(names(&before), ["conversation.updated"]);

    // The list's filters and counts follow.
    let (mine, meta) = list(&s, "assignee_type=me").await;
    assert!(!mine.contains(&1));
    assert_eq!(meta["mine_count"], 1);
    let (_, jordans) = s
        .json(s.get_as(
            &jordan_token,
            &format!("{ACCOUNT}/conversations?assignee_type=me"),
        ))
        .await;
    assert_eq!(jordans["data"]["payload"][0]["id"], 1);

    // Another account's agent is nobody here (account.users.find_by): unassigned, null.
    let (st, body) = s.json(assign(json!({"assignee_id": sam_id}))).await;
    assert_eq!((st, body), (200, Value::Null));
    let conv = show(&s, 1).await;
    assert!(conv["meta"].get("assignee").is_none(), "{conv}");
    let (before, activity) = second_agent.events_before("message.created", LONG).await;
    let before = changes(before);
    assert_eq!(names(&before), ["assignee.changed", "conversation.updated"]);
    assert_eq!(data(&before[0])["meta"]["assignee"], Value::Null);
    assert_eq!(
        data(&activity)["content"],
        "Conversation unassigned by Alex Morgan"
    );
    assert!(!data(&activity).to_string().contains("Sam Rivera"));
    let (unassigned, _) = list(&s, "assignee_type=unassigned").await;
    assert!(unassigned.contains(&1));

    // Self-assignment, by id as a string.
    let (st, body) = s
        .json(assign(json!({"assignee_id": alex_id.to_string()})))
        .await;
    assert_eq!((st, &body["id"]), (200, &json!(alex_id)));
    let (_, activity) = second_agent.events_before("message.created", LONG).await;
    assert_eq!(
        data(&activity)["content"],
        "Alex Morgan self-assigned this conversation"
    );

    // No assignee_id, a team, an agent bot: nothing changes, null.
    for body in [
        json!({}),
        json!({"team_id": 1}),
        json!({"assignee_id": jordan_id, "assignee_type": "AgentBot"}),
    ] {
        let (st, answer) = s.json(assign(body.clone())).await;
        assert_eq!((st, answer), (200, Value::Null), "{body}");
    }
    assert_eq!(show(&s, 1).await["meta"]["assignee"]["id"], alex_id);
    agent_marker(&s, 1).await;
    let (before, _) = second_agent.events_before("message.created", LONG).await;
    assert_eq!(names(&before), Vec::<String>::new());
}

#[tokio::test]
async fn every_action_is_scoped_to_the_agents_account() {
    let s = TestServer::start().await;
    let sam = s.token_of("sam@parley.test").await;
    let mut alex_cable = Cable::agent(&s).await;
    let not_authorized = json!({"error": "You are not authorized to do this action"});
    let not_found = json!({"error": "Resource could not be found"});
    let actions = [
        ("toggle_status", json!({"status": "resolved"})),
        ("toggle_priority", json!({"priority": "high"})),
        ("unread", json!({})),
        ("assignments", json!({"assignee_id": null})),
        ("messages/1/retry", json!({})),
    ];
    for (action, body) in &actions {
        // Sam (account 2) on account 1's conversation 1.
        let (st, answer) = s
            .json(s.post_as(&sam, &conv_path(1, action)).json(body))
            .await;
        assert_eq!((st, answer), (401, not_authorized.clone()), "{action}");
        // Alex on account 2, and on a conversation account 1 does not have.
        let (st, answer) = s
            .json(
                s.post(&format!("/api/v1/accounts/2/conversations/1/{action}"))
                    .json(body),
            )
            .await;
        assert_eq!((st, answer), (401, not_authorized.clone()), "{action}");
        let (st, answer) = s.json(s.post(&conv_path(999, action)).json(body)).await;
        assert_eq!((st, answer), (404, not_found.clone()), "{action}");
        // No credentials at all.
        let (st, _) = s
            .json(s.http.post(s.url(&conv_path(1, action))).json(body))
            .await;
        assert_eq!(st, 401, "{action}");
    }
    let (st, _) = s.json(s.get_as(&sam, &format!("{ACCOUNT}/agents"))).await;
    assert_eq!(st, 401);
    let (st, _) = s
        .json(s.http.get(s.url(&format!("{ACCOUNT}/agents"))))
        .await;
    assert_eq!(st, 401);
    // Sam assigns his own conversation to Alex, who is not of account 2: nobody.
    let (st, answer) = s
        .json(
            s.post_as(&sam, "/api/v1/accounts/2/conversations/1/assignments")
                .json(&json!({"assignee_id": 1})),
        )
        .await;
    assert_eq!((st, answer), (200, Value::Null));
    // Account 1 is untouched, and none of account 2's changes reached its agents.
    assert_eq!(show(&s, 1).await["status"], "open");
    agent_marker(&s, 1).await;
    let (before, _) = alex_cable.events_before("message.created", LONG).await;
    assert_eq!(names(&before), Vec::<String>::new());
}

#[tokio::test]
async fn a_body_over_the_json_limit_is_refused() {
    let s = TestServer::start().await;
    let huge = json!({"status": "resolved", "pad": "x".repeat(2 * 1024 * 1024)});
    for action in ["toggle_status", "assignments", "unread"] {
        let (st, _) = s.json(s.post(&conv_path(1, action)).json(&huge)).await;
        assert_eq!(st, 413, "{action}");
    }
    assert_eq!(show(&s, 1).await["status"], "open");
}

#[tokio::test]
async fn the_list_filters_and_counts_follow_the_actions() {
    let s = TestServer::start().await;
    // ConversationFinder: status defaults to open, assignee_type to all; the counts are of
    // the status (and inbox) filter, whatever the assignee_type.
    let (open, meta) = list(&s, "").await;
    assert_eq!(open, [1, 3, 2], "by last activity");
    assert_eq!(
        meta,
        json!({"mine_count": 2, "assigned_count": 2, "unassigned_count": 1, "all_count": 3})
    );
    let (_, meta) = list(&s, "status=all").await;
    assert_eq!(meta["all_count"], 4);

    let (st, _) = toggle(&s, s.token(), 2, json!({"status": "resolved"})).await;
    assert_eq!(st, 200);
    let (st, _) = toggle(&s, s.token(), 3, json!({"status": "pending"})).await;
    assert_eq!(st, 200);

    let (open, meta) = list(&s, "status=open").await;
    assert_eq!(open, [1]);
    assert_eq!(
        meta,
        json!({"mine_count": 1, "assigned_count": 1, "unassigned_count": 0, "all_count": 1})
    );
    let (mine_resolved, meta) = list(&s, "status=resolved&assignee_type=me").await;
    assert_eq!(mine_resolved, [2]);
    assert_eq!(
        meta,
        json!({"mine_count": 1, "assigned_count": 2, "unassigned_count": 0, "all_count": 2})
    );
    let (pending, _) = list(&s, "status=pending&assignee_type=unassigned").await;
    assert_eq!(pending, [3]);
    let (assigned, _) = list(&s, "status=all&assignee_type=assigned").await;
    assert_eq!(assigned.len(), 3);
    // conversations/meta answers the same counts (meta.json.jbuilder).
    let (st, meta) = s
        .json(s.get(&format!("{ACCOUNT}/conversations/meta?status=resolved")))
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        meta,
        json!({"meta": {"mine_count": 1, "assigned_count": 2, "unassigned_count": 0, "all_count": 2}})
    );
    // 25 a page: the second page of three is empty, its counts the same.
    let (page2, meta) = list(&s, "status=all&page=2").await;
    assert!(page2.is_empty());
    assert_eq!(meta["all_count"], 4);
}

#[tokio::test]
async fn retry_answers_the_message_of_that_conversation() {
    let s = TestServer::start().await;
    let messages = s.messages(1).await;
    let id = messages.last().unwrap()["id"].as_i64().unwrap();
    let (st, body) = s
        .json(s.post(&conv_path(1, &format!("messages/{id}/retry"))))
        .await;
    // messages/retry.json.jbuilder: the message partial.
    assert_eq!(st, 200, "{body}");
    let m: Message = serde_json::from_value(body).unwrap();
    assert_eq!(m.id, id);
    // A message of another conversation is not found through this one.
    let (st, _) = s
        .json(s.post(&conv_path(2, &format!("messages/{id}/retry"))))
        .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn priority_is_set_changed_and_removed_as_chatwoot() {
    let s = TestServer::start().await;
    let jordan = s.token_of("jordan@parley.test").await;
    let mut second_agent = Cable::agent_as(&s, &jordan, 1).await;
    let mut contact = Cable::contact(&s).await;
    let priority = |body: Value| s.post(&conv_path(1, "toggle_priority")).json(&body);

    // ConversationsController#toggle_priority: head :ok.
    let res = priority(json!({"priority": "high"})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "");
    let (before, activity) = second_agent.events_before("message.created", LONG).await;
    let before = changes(before);
    assert_eq!(names(&before), ["conversation.updated"]);
    assert_eq!(data(&before[0])["priority"], "high");
    // en.yml conversations.activity.priority.added
    assert_eq!(
        data(&activity)["content"],
        "Alex Morgan set the priority to high"
    );
    assert_eq!(show(&s, 1).await["priority"], "high");
    contact_marker(&s, &mut second_agent).await;
    let (before, _) = contact.events_before("message.created", LONG).await;
    assert_eq!(names(&before), ["conversation.updated"]);

    for _ in 0..2 {
        let (st, _) = s.json(priority(json!({"priority": "urgent"}))).await;
        assert_eq!(st, 200);
    }
    let (before, activity) = second_agent.events_before("message.created", LONG).await;
    assert_eq!(names(&before), ["conversation.updated"]);
    assert_eq!(
        data(&activity)["content"],
        "Alex Morgan changed the priority from high to urgent"
    );

    for bad in [
        json!({"priority": "critical"}),
        json!({"priority": 3}),
        json!({"priority": ["low"]}),
    ] {
        let (st, answer) = s.json(priority(bad.clone())).await;
        assert_eq!(st, 422, "{bad}");
        assert!(answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("priority must be one of"));
    }
    // The repeat and the refusals changed nothing; removing it does (priority.presence).
    let (st, _) = s.json(priority(json!({"priority": ""}))).await;
    assert_eq!(st, 200);
    let (before, activity) = second_agent.events_before("message.created", LONG).await;
    assert_eq!(names(&before), ["conversation.updated"]);
    assert_eq!(
        data(&activity)["content"],
        "Alex Morgan removed the priority"
    );
    assert_eq!(show(&s, 1).await["priority"], Value::Null);
}

#[tokio::test]
async fn a_new_conversation_reaches_the_accounts_agents_and_its_contact() {
    let s = TestServer::start().await;
    let jordan = s.token_of("jordan@parley.test").await;
    let sam = s.token_of("sam@parley.test").await;
    let mut second_agent = Cable::agent_as(&s, &jordan, 1).await;
    let mut other_account = Cable::agent_as(&s, &sam, 2).await;
    let (inbox, _, _) = s.customer();
    let (st, contact) = s
        .json(
            s.http
                .post(s.url(&format!("/public/api/v1/inboxes/{inbox}/contacts")))
                .json(&json!({"name": "Ana"})),
        )
        .await;
    assert_eq!(st, 200);
    let source = contact["source_id"].as_str().unwrap();
    let identifier =
        json!({"channel": "RoomChannel", "pubsub_token": contact["pubsub_token"]}).to_string();
    let mut contact_cable = Cable::connect(&s).await;
    assert_eq!(
        contact_cable.subscribe(&identifier).await,
        "confirm_subscription"
    );
    let (st, conv) = s
        .json(s.http.post(s.url(&format!(
            "/public/api/v1/inboxes/{inbox}/contacts/{source}/conversations"
        ))))
        .await;
    assert_eq!(st, 200);
    let display_id = conv["id"].as_i64().unwrap();

    // ActionCableListener#conversation_created: the inbox's agents and the contact.
    for cable in [&mut second_agent, &mut contact_cable] {
        let created = cable
            .event("conversation.created", LONG)
            .await
            .expect("conversation.created");
        let push: ConversationPush = serde_json::from_value(data(&created).clone()).unwrap();
        assert_eq!(push.id, display_id);
        assert_eq!(push.status.as_deref(), Some("open"));
        assert_eq!(data(&created)["account_id"], 1);
    }
    // Never another account's agents: what reaches Sam next is his own conversation's note.
    let (st, _) = s
        .json(
            s.post_as(&sam, "/api/v1/accounts/2/conversations/1/messages")
                .json(&json!({"content": "globex marker", "private": true})),
        )
        .await;
    assert_eq!(st, 200);
    let (before, marker) = other_account.events_before("message.created", LONG).await;
    assert_eq!(names(&before), Vec::<String>::new());
    assert_eq!(data(&marker)["content"], "globex marker");
}
