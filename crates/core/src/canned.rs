//! Canned responses in the composer: when `/` at the start of a word opens the picker,
//! what is searched, and what choosing a response does to the text.
//!
//! Variables are Chatwoot's (`@chatwoot/utils` `getMessageVariables`): `{{contact.name}}`,
//! `{{agent.first_name}}`, `{{conversation.id}}`, custom attributes and the rest. A variable
//! with no value here is left as written, visible, so the agent sees what to fill in.

use std::collections::BTreeMap;

/// The `/word` being typed at `caret` (a byte offset): the offset of its `/` and the
/// search text after it. Only at the start of the text or after whitespace, so a URL
/// (`https://…`) or a date (`1/2`) never opens the picker.
pub fn trigger(text: &str, caret: usize) -> Option<(usize, &str)> {
    let caret = caret.min(text.len());
    if !text.is_char_boundary(caret) {
        return None;
    }
    let before = &text[..caret];
    let word_start = before.rfind(char::is_whitespace).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    let word = &before[word_start..];
    let query = word.strip_prefix('/')?;
    // A second slash means a path, not a short code.
    if query.contains('/') {
        return None;
    }
    Some((word_start, query))
}

/// The text after choosing `content` for the `/word` at `slash..caret`, and the caret after
/// the inserted content.
pub fn insert(text: &str, slash: usize, caret: usize, content: &str) -> (String, usize) {
    let caret = caret.min(text.len()).max(slash);
    let mut out = String::with_capacity(text.len() + content.len());
    out.push_str(&text[..slash]);
    out.push_str(content);
    let new_caret = out.len();
    out.push_str(&text[caret..]);
    (out, new_caret)
}

/// Values for the variables, by name (`contact.name`, `agent.email`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variables(BTreeMap<String, String>);

/// What the variables are filled from.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    pub contact_name: Option<&'a str>,
    pub contact_email: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub contact_id: Option<i64>,
    pub contact_custom: Option<&'a serde_json::Value>,
    pub conversation_id: Option<i64>,
    pub conversation_custom: Option<&'a serde_json::Value>,
    pub agent_name: Option<&'a str>,
    pub agent_email: Option<&'a str>,
    pub inbox_id: Option<i64>,
    pub inbox_name: Option<&'a str>,
}

fn first_and_last(name: &str) -> (String, String) {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or("").to_owned();
    let last = words.last().unwrap_or("").to_owned();
    (first, last)
}

impl Variables {
    pub fn from_context(c: &Context<'_>) -> Variables {
        let mut v = BTreeMap::new();
        let mut put = |k: &str, val: Option<String>| {
            if let Some(val) = val.filter(|s| !s.is_empty()) {
                v.insert(k.to_owned(), val);
            }
        };
        if let Some(name) = c.contact_name {
            let (first, last) = first_and_last(name);
            put("contact.name", Some(name.to_owned()));
            put("contact.first_name", Some(first));
            put("contact.last_name", Some(last));
        }
        put("contact.email", c.contact_email.map(str::to_owned));
        put("contact.phone", c.contact_phone.map(str::to_owned));
        put("contact.id", c.contact_id.map(|i| i.to_string()));
        put("conversation.id", c.conversation_id.map(|i| i.to_string()));
        if let Some(name) = c.agent_name {
            let (first, last) = first_and_last(name);
            put("agent.name", Some(name.to_owned()));
            put("agent.first_name", Some(first));
            put("agent.last_name", Some(last));
        }
        put("agent.email", c.agent_email.map(str::to_owned));
        put("inbox.id", c.inbox_id.map(|i| i.to_string()));
        put("inbox.name", c.inbox_name.map(str::to_owned));
        for (prefix, attrs) in [
            ("contact.custom_attribute.", c.contact_custom),
            ("conversation.custom_attribute.", c.conversation_custom),
        ] {
            if let Some(serde_json::Value::Object(map)) = attrs {
                for (k, val) in map {
                    let text = match val {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => continue,
                        other => other.to_string(),
                    };
                    put(&format!("{prefix}{k}"), Some(text));
                }
            }
        }
        Variables(v)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// `content` with every `{{ name }}` that has a value replaced by it; the others stay.
pub fn fill(content: &str, vars: &Variables) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            break;
        };
        let name = rest[open + 2..open + 2 + close].trim();
        out.push_str(&rest[..open]);
        match vars.get(name) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &rest[open + 2 + close + 2..];
    }
    out.push_str(rest);
    out
}

/// The variables `content` still has after filling: the agent is told before sending.
pub fn unfilled(content: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = content;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            break;
        };
        names.push(rest[open + 2..open + 2 + close].trim().to_owned());
        rest = &rest[open + 2 + close + 2..];
    }
    names
}
