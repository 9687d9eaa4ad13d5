//! ActionCable over a real WebSocket: handshake, subscriptions and who receives what.

mod common;

use std::time::Duration;

use common::{Cable, TestServer, LONG};
use parley_wire::cable::{CableEvent, ServerFrame};
use serde_json::json;

#[tokio::test]
async fn handshake_matches_rails() {
    let s = TestServer::start().await;
    let mut c = Cable::connect(&s).await;
    assert_eq!(c.protocol.as_deref(), Some("actioncable-v1-json"));
    let first = c.next(LONG).await.unwrap();
    assert_eq!(first, json!({"type": "welcome"}));
    let ping = c.next(Duration::from_secs(4)).await.unwrap();
    assert_eq!(ping["type"], "ping");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((ping["message"].as_i64().unwrap() - now).abs() < 5);
    assert!(matches!(
        ServerFrame::parse(&ping.to_string()),
        Ok(ServerFrame::Ping(_))
    ));
}

#[tokio::test]
async fn subscriptions_confirm_known_tokens_and_reject_others() {
    let s = TestServer::start().await;
    let p = s.profile().await;
    let id = json!({"channel": "RoomChannel", "pubsub_token": p["pubsub_token"], "account_id": 1, "user_id": p["id"]}).to_string();
    let mut c = Cable::connect(&s).await;
    assert_eq!(c.subscribe(&id).await, "confirm_subscription");
    // presence.update follows, to this subscriber only.
    let presence = c.event("presence.update", LONG).await.unwrap();
    assert_eq!(presence["identifier"], id.as_str());
    assert_eq!(presence["message"]["data"]["users"]["1"], "online");
    // update_presence answers with presence again.
    c.send(
        json!({"command": "message", "identifier": id, "data": "{\"action\":\"update_presence\"}"}),
    )
    .await;
    assert!(c.event("presence.update", LONG).await.is_some());

    for bad in [
        json!({"channel": "RoomChannel", "pubsub_token": "nope", "account_id": 1, "user_id": 1}),
        json!({"channel": "RoomChannel", "pubsub_token": p["pubsub_token"], "account_id": 2, "user_id": p["id"]}),
        json!({"channel": "RoomChannel", "pubsub_token": p["pubsub_token"], "account_id": 1, "user_id": 2}),
        json!({"channel": "OtherChannel", "pubsub_token": p["pubsub_token"]}),
    ] {
        let mut c = Cable::connect(&s).await;
        assert_eq!(
            c.subscribe(&bad.to_string()).await,
            "reject_subscription",
            "{bad}"
        );
    }
    let _contact = Cable::contact(&s).await;
}

#[tokio::test]
async fn messages_reach_agents_and_the_contact_but_notes_do_not() {
    let s = TestServer::start().await;
    let mut agent = Cable::agent(&s).await;
    let mut contact = Cable::contact(&s).await;
    let (_, sent) = s
        .agent_send(
            1,
            json!({"content": "Your parcel is on its way", "echo_id": "cab-1"}),
        )
        .await;
    for cable in [&mut agent, &mut contact] {
        let f = cable
            .event("message.created", LONG)
            .await
            .expect("message.created");
        let data = &f["message"]["data"];
        assert_eq!(data["id"], sent["id"]);
        assert_eq!(data["echo_id"], "cab-1");
        assert_eq!(data["account_id"], 1);
        assert_eq!(data["conversation_id"], 1);
        assert_eq!(data["performer"]["id"], 1);
        assert!(data["conversation"]["contact_inbox"]["source_id"].is_string());
        assert!(data["updated_at"].as_str().unwrap().ends_with('Z'));
        let ev = CableEvent::from_message(&f["message"]).unwrap();
        assert!(
            matches!(ev, CableEvent::MessageCreated(m) if m.echo_id.as_deref() == Some("cab-1"))
        );
    }
    s.agent_send(1, json!({"content": "internal", "private": true}))
        .await;
    let f = agent.event("message.created", LONG).await.unwrap();
    assert_eq!(f["message"]["data"]["private"], true);
    // A public message after the note: the first message the contact gets must be that one.
    let (st, public) = s.agent_send(1, json!({"content": "after the note"})).await;
    assert_eq!(st, 200);
    let (before, first) = contact.events_before("message.created", LONG).await;
    assert_eq!(
        first["message"]["data"]["id"], public["id"],
        "a private note reached the contact: {first}"
    );
    assert!(before.is_empty(), "{before:?}");
    let f = agent.event("message.created", LONG).await.unwrap();
    assert_eq!(f["message"]["data"]["id"], public["id"]);

    // The customer's message reaches the agent live.
    let (st, _) = s
        .json(
            s.http
                .post(s.url(&format!("{}/messages", s.public_conv())))
                .json(&json!({"content": "Thanks!"})),
        )
        .await;
    assert_eq!(st, 200);
    let f = agent.event("message.created", LONG).await.unwrap();
    assert_eq!(f["message"]["data"]["content"], "Thanks!");
    assert_eq!(f["message"]["data"]["message_type"], 0);
    assert_eq!(f["message"]["data"]["sender"]["type"], "contact");
    assert!(f["message"]["data"].get("performer").is_none());
}

#[tokio::test]
async fn typing_goes_to_everyone_but_the_typer() {
    let s = TestServer::start().await;
    let mut agent = Cable::agent(&s).await;
    let mut contact = Cable::contact(&s).await;
    let typing = |status: &str, private: bool| {
        s.post("/api/v1/accounts/1/conversations/1/toggle_typing_status")
            .json(&json!({"typing_status": status, "is_private": private}))
    };
    assert_eq!(typing("on", false).send().await.unwrap().status(), 200);
    let f = contact.event("conversation.typing_on", LONG).await.unwrap();
    assert_eq!(f["message"]["data"]["user"]["type"], "user");
    assert_eq!(f["message"]["data"]["conversation"]["id"], 1);
    assert!(matches!(
        CableEvent::from_message(&f["message"]).unwrap(),
        CableEvent::TypingOn(_)
    ));
    // The private typing must have been taken, or the leak check below proves nothing.
    assert_eq!(typing("on", true).send().await.unwrap().status(), 200);
    // Public typing off after the private on: the contact's next event must be that off.
    assert_eq!(typing("off", false).send().await.unwrap().status(), 200);
    let (leaked, _) = contact.events_before("conversation.typing_off", LONG).await;
    assert!(
        leaked.is_empty(),
        "private typing reached the contact: {leaked:?}"
    );

    let (st, _) = s
        .json(
            s.http
                .post(s.url(&format!("{}/toggle_typing", s.public_conv())))
                .json(&json!({"typing_status": "off"})),
        )
        .await;
    assert_eq!(st, 200);
    // The agent's first typing event is the contact's: it never got its own typing.
    let (own, f) = agent.events_before("conversation.typing_off", LONG).await;
    assert_eq!(f["message"]["data"]["user"]["type"], "contact");
    assert!(
        own.iter().all(|f| !f["message"]["event"]
            .as_str()
            .unwrap()
            .starts_with("conversation.typing")),
        "the typer got its own typing: {own:?}"
    );
    // Nor does the contact: the agent's next typing is the first thing it gets.
    assert_eq!(typing("on", false).send().await.unwrap().status(), 200);
    let (own, _) = contact.events_before("conversation.typing_on", LONG).await;
    assert!(own.is_empty(), "the contact got its own typing: {own:?}");
}

#[tokio::test]
async fn contact_read_broadcasts_conversation_read_and_read_statuses() {
    let s = TestServer::start().await;
    let (_, m) = s
        .agent_send(1, json!({"content": "did you see this?"}))
        .await;
    assert_eq!(m["status"], "sent");
    let mut agent = Cable::agent(&s).await;
    let (st, _) = s
        .json(
            s.http
                .post(s.url(&format!("{}/update_last_seen", s.public_conv()))),
        )
        .await;
    assert_eq!(st, 200);
    let f = agent.event("conversation.read", LONG).await.unwrap();
    let ev = CableEvent::from_message(&f["message"]).unwrap();
    let CableEvent::ConversationRead(conv) = ev else {
        panic!("not a conversation.read: {f}");
    };
    assert_eq!(conv.id, 1);
    assert!(conv.contact_last_seen_at > 0);
    let f = agent.event("message.updated", LONG).await.unwrap();
    assert_eq!(f["message"]["data"]["id"], m["id"]);
    assert_eq!(f["message"]["data"]["status"], "read");
    assert_eq!(
        f["message"]["data"]["previous_changes"]["status"],
        json!(["sent", "read"])
    );
    let (_, idx) = s
        .json(s.get("/api/v1/accounts/1/conversations/1/messages"))
        .await;
    let stored = idx["payload"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == m["id"])
        .unwrap()
        .clone();
    assert_eq!(stored["status"], "read");
    // The agent's own update_last_seen broadcasts nothing (it must have been taken, or the
    // check below proves nothing).
    let own = s
        .post("/api/v1/accounts/1/conversations/1/update_last_seen")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    // The contact reading again does broadcast: nothing may come before it.
    let (st, _) = s
        .json(
            s.http
                .post(s.url(&format!("{}/update_last_seen", s.public_conv()))),
        )
        .await;
    assert_eq!(st, 200);
    let (after, f) = agent.events_before("conversation.read", LONG).await;
    assert!(after.is_empty(), "{after:?}");
    assert!(
        f["message"]["data"]["contact_last_seen_at"].as_i64() >= Some(conv.contact_last_seen_at)
    );
}

#[tokio::test]
async fn delete_broadcasts_message_updated() {
    let s = TestServer::start().await;
    let (_, m) = s.agent_send(1, json!({"content": "oops"})).await;
    let mut agent = Cable::agent(&s).await;
    let mut contact = Cable::contact(&s).await;
    let id = m["id"].as_i64().unwrap();
    let deleted = s
        .http
        .delete(s.url(&format!("/api/v1/accounts/1/conversations/1/messages/{id}")))
        .header("api_access_token", s.token())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    for cable in [&mut agent, &mut contact] {
        let f = cable.event("message.updated", LONG).await.unwrap();
        assert_eq!(f["message"]["data"]["id"], id);
        assert_eq!(f["message"]["data"]["content"], "This message was deleted");
        assert_eq!(
            f["message"]["data"]["content_attributes"],
            json!({"deleted": true})
        );
    }
}

#[tokio::test]
async fn cable_faults_duplicate_frames() {
    let s = TestServer::start().await;
    let mut agent = Cable::agent(&s).await;
    let r = s
        .http
        .post(s.url("/__parley/test/faults"))
        .json(&json!({"cable_duplicate": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (st, sent) = s
        .agent_send(1, json!({"content": "twice on the wire"}))
        .await;
    assert_eq!(st, 200);
    let first = agent.event("message.created", LONG).await.expect("a frame");
    let second = agent
        .event("message.created", LONG)
        .await
        .expect("the same frame again");
    assert_eq!(first["message"]["data"]["id"], sent["id"]);
    assert_eq!(second, first);
    // Twice, not more: the next message.created is the next message's.
    let (st, next) = s.agent_send(1, json!({"content": "the next one"})).await;
    assert_eq!(st, 200);
    let (_, after) = agent.events_before("message.created", LONG).await;
    assert_eq!(
        after["message"]["data"]["id"], next["id"],
        "a third copy: {after}"
    );
}
