//! Deserializers for fields whose JSON type varies between Chatwoot versions and views.

use serde::{Deserialize, Deserializer};

/// `echo_id` is whatever the client sent; in practice a string, sometimes a number.
pub fn opt_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        I(i64),
        F(f64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::S(s)) => Some(s),
        Some(Raw::I(i)) => Some(i.to_string()),
        Some(Raw::F(f)) => Some(f.to_string()),
    })
}

/// Objects that Chatwoot sends as `{}` but may send as `null` (older rows).
pub fn object_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => serde_json::Value::Object(Default::default()),
        Some(v) => v,
    })
}

pub fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}
