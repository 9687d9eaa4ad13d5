//! What a new message's `content_type` and `content_attributes` may be: Chatwoot's
//! `Message` model (its content types, the keys its `store` knows) and its
//! `ContentAttributeValidator` (the item keys of each interactive content type), plus caps
//! on size and nesting so that no stored message can break a client that decodes it.

use parley_wire::message::KNOWN_CONTENT_TYPES;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// The accessors of `store :content_attributes` in Chatwoot's `Message`, and the keys its
/// `MessageBuilder` adds. Anything else is dropped: Parley's own keys (`edited`) are the
/// server's to write.
const KNOWN_KEYS: &[&str] = &[
    "submitted_email",
    "items",
    "submitted_values",
    "email",
    "in_reply_to",
    "deleted",
    "external_created_at",
    "story_sender",
    "story_id",
    "external_error",
    "translations",
    "in_reply_to_external_id",
    "is_unsupported",
    "data",
    "automation_rule_id",
    "cc_emails",
    "bcc_emails",
    "to_emails",
];

const SELECT_ITEM_KEYS: &[&str] = &["title", "value"];
const CARD_ITEM_KEYS: &[&str] = &["title", "description", "media_url", "actions"];
const CARD_ITEM_ACTION_KEYS: &[&str] = &["text", "type", "payload", "uri"];
const FORM_ITEM_KEYS: &[&str] = &[
    "type",
    "placeholder",
    "label",
    "name",
    "options",
    "default",
    "required",
    "pattern",
    "title",
    "pattern_error",
];
const ARTICLE_KEYS: &[&str] = &["title", "description", "link"];

/// Deepest nesting of objects and arrays kept: Chatwoot's deepest shape (a card's action,
/// `{items: [{actions: [{..}]}]}`) is 5 levels.
pub const MAX_DEPTH: usize = 10;
/// Largest `content_attributes`, serialized.
pub const MAX_BYTES: usize = 64 * 1024;

fn invalid(reason: &str) -> ApiError {
    ApiError::Unprocessable(format!("Validation failed: Content attributes {reason}"))
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// An agent's `content_type` and `content_attributes`, checked and normalized: the type
/// one of Chatwoot's, the attributes an object of known keys with sane types, within the
/// caps, and items as `ContentAttributeValidator` wants them.
pub fn for_agent(content_type: Option<&str>, attributes: Value) -> ApiResult<(String, Value)> {
    let content_type = content_type.filter(|t| !t.is_empty()).unwrap_or("text");
    if !KNOWN_CONTENT_TYPES.contains(&content_type) {
        return Err(ApiError::Unprocessable(format!(
            "'{content_type}' is not a valid content_type"
        )));
    }
    // Anything but an object is no attributes, as Chatwoot's MessageBuilder reads it.
    let mut attributes = match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let levels = 1 + attributes.values().map(depth).max().unwrap_or(0);
    if levels > MAX_DEPTH {
        return Err(invalid(&format!(
            "are nested too deeply (the limit is {MAX_DEPTH} levels)"
        )));
    }
    let size = serde_json::to_vec(&attributes).map_or(usize::MAX, |b| b.len());
    if size > MAX_BYTES {
        return Err(invalid(&format!(
            "are too large (the limit is {} KiB)",
            MAX_BYTES / 1024
        )));
    }
    attributes.retain(|k, v| {
        KNOWN_KEYS.contains(&k.as_str())
            && match k.as_str() {
                // The types the clients decode these as; another type would break them.
                "in_reply_to" => v.is_i64(),
                "deleted" | "is_unsupported" => v.is_boolean(),
                "external_error" => v.is_string(),
                "items" => v.is_array(),
                _ => true,
            }
    });
    // The server fills this in from the quoted message.
    attributes.remove("in_reply_to_external_id");
    let items: Vec<Value> = match attributes.get("items") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![],
    };
    match content_type {
        "input_select" => check_items(&items, SELECT_ITEM_KEYS)?,
        "cards" => {
            check_items(&items, CARD_ITEM_KEYS)?;
            check_card_actions(&items)?;
        }
        "form" => check_items(&items, FORM_ITEM_KEYS)?,
        "article" => check_items(&items, ARTICLE_KEYS)?,
        _ => {}
    }
    Ok((content_type.to_owned(), Value::Object(attributes)))
}

fn check_items(items: &[Value], allowed: &[&str]) -> ApiResult<()> {
    if items.is_empty() {
        return Err(invalid("At least one item is required."));
    }
    if items.iter().any(|i| !i.is_object()) {
        return Err(invalid("Items should be a hash."));
    }
    let unknown: Vec<&str> = items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|i| i.keys())
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(&format!(
            "contains invalid keys for items : {unknown:?}"
        )));
    }
    Ok(())
}

fn check_card_actions(items: &[Value]) -> ApiResult<()> {
    let actions: Vec<&Vec<Value>> = items
        .iter()
        .filter_map(|i| i.get("actions").and_then(Value::as_array))
        .filter(|a| !a.is_empty())
        .collect();
    if actions.len() != items.len() {
        return Err(invalid("contains items missing actions"));
    }
    let unknown: Vec<&str> = actions
        .iter()
        .flat_map(|a| a.iter())
        .filter_map(Value::as_object)
        .flat_map(|a| a.keys())
        .map(String::as_str)
        .filter(|k| !CARD_ITEM_ACTION_KEYS.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(&format!(
            "contains invalid keys for actions:  {unknown:?}"
        )));
    }
    Ok(())
}

/// What Chatwoot's public (customer) API takes of the attributes: a reply's integer
/// `in_reply_to`, nothing else. The content type is always `text`.
pub fn for_contact(attributes: &Value) -> Value {
    let mut kept = Map::new();
    if let Some(id) = attributes.get("in_reply_to").and_then(Value::as_i64) {
        kept.insert("in_reply_to".into(), Value::from(id));
    }
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..levels {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn text_keeps_known_keys_of_the_right_type_only() {
        let (t, a) = for_agent(
            None,
            json!({"in_reply_to": 5, "edited": {"previous": []}, "deleted": "yes", "x": 1}),
        )
        .unwrap();
        assert_eq!(t, "text");
        assert_eq!(a, json!({"in_reply_to": 5}));
        assert_eq!(for_agent(Some("text"), json!("str")).unwrap().1, json!({}));
    }

    #[test]
    fn depth_size_and_type_are_capped() {
        assert!(for_agent(None, json!({"data": nested(MAX_DEPTH - 1)})).is_ok());
        assert!(for_agent(None, json!({"data": nested(MAX_DEPTH)})).is_err());
        assert!(for_agent(None, json!({"data": "x".repeat(MAX_BYTES)})).is_err());
        assert!(for_agent(Some("html"), json!({})).is_err());
    }

    #[test]
    fn items_follow_chatwoots_validator() {
        let ok = json!({"items": [{"title": "A", "value": "a"}]});
        assert!(for_agent(Some("input_select"), ok).is_ok());
        assert!(for_agent(Some("input_select"), json!({})).is_err());
        assert!(for_agent(Some("input_select"), json!({"items": [1]})).is_err());
        assert!(for_agent(Some("input_select"), json!({"items": [{"evil": 1}]})).is_err());
        let card = json!({"items": [{"title": "A", "actions": [{"text": "Go", "uri": "u"}]}]});
        assert!(for_agent(Some("cards"), card).is_ok());
        assert!(for_agent(Some("cards"), json!({"items": [{"title": "A"}]})).is_err());
        let bad_action = json!({"items": [{"title": "A", "actions": [{"js": "x"}]}]});
        assert!(for_agent(Some("cards"), bad_action).is_err());
    }

    #[test]
    fn a_contact_only_sets_an_integer_reply() {
        assert_eq!(
            for_contact(&json!({"in_reply_to": 3, "deleted": true})),
            json!({"in_reply_to": 3})
        );
        assert_eq!(for_contact(&json!({"in_reply_to": "3"})), json!({}));
    }
}
