//! What a message's `content_type` and `content_attributes` mean, read into small typed
//! blocks the app shows inside the bubble (issue 16, point 1).
//!
//! Chatwoot keeps these shapes in one free-form JSON column (`Message#content_attributes`,
//! checked only loosely by `ContentAttributeValidator`), written by bots, channels and
//! older versions alike. So every block is read here by hand from the already decoded
//! `Value`, field by field: a field missing or of another type is left out, never an
//! error, and a block with nothing readable still leaves the message's text. Hand readers
//! rather than serde derives keep one small decoder per shape in the wasm.

use serde_json::Value;

use crate::lenient::{field, Scalar};

/// An option of an `input_select` (`items[]`) or the customer's choice
/// (`submitted_values[]`): `{title, value}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub title: String,
    pub value: String,
}

/// A card's button: a link (`{type: "link", text, uri}`) or a postback to the bot
/// (`{type: "postback", text, payload}`), which has no URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAction {
    pub text: String,
    pub uri: Option<String>,
}

/// One of `cards`' `items[]`: `{media_url, title, description, actions[]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub media_url: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub actions: Vec<CardAction>,
}

/// A field of a `form` (`items[]`: `{name, label, type, placeholder, options}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub name: String,
    pub label: String,
}

/// What the customer answered to one field, labelled by the field when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub label: Option<String>,
    pub value: String,
}

/// One of `article`'s `items[]`: `{title, description, link}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    pub description: Option<String>,
    pub link: Option<String>,
}

/// `content_attributes.email` of an `incoming_email` (the email channel's
/// `MailPresenter#serialized_data`): addresses as lists, each body part as
/// `{full, reply, quoted}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    pub subject: Option<String>,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    /// The text part without the quoted history (`text_content.reply`, else `full`).
    pub text: Option<String>,
    /// The quoted history, shown collapsed.
    pub quoted: Option<String>,
    /// The HTML part (`html_content.full`, else `reply`): untrusted markup, for a
    /// sandboxed frame only.
    pub html: Option<String>,
}

/// An `input_csat` survey: `display_type` (`emoji` or `star`) and, once answered,
/// `submitted_values.csat_survey_response {rating 1-5, feedback_message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csat {
    pub stars: bool,
    pub rating: Option<u8>,
    pub feedback: Option<String>,
}

/// What a message's content type adds to its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `text`, `input_text`, `input_textarea`, and anything without more to show.
    Plain,
    /// `input_email`: the address the customer gave (`submitted_email`).
    InputEmail {
        submitted: Option<String>,
    },
    /// `input_select`: the options and which the customer chose.
    Select {
        options: Vec<Choice>,
        chosen: Vec<Choice>,
    },
    Cards(Vec<Card>),
    Form {
        fields: Vec<FormField>,
        answers: Vec<Answer>,
    },
    Articles(Vec<Article>),
    Email(Box<Email>),
    Csat(Csat),
    /// `integrations`: `{type, data}` (Dyte calls: `{type: "dyte", data: {meeting_id}}`).
    Integration {
        kind: String,
    },
}

fn text(v: &Value, key: &str) -> Option<String> {
    field(v, key).text().filter(|s| !s.trim().is_empty())
}

fn items<'a>(v: &'a Value, key: &str) -> std::slice::Iter<'a, Value> {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
}

/// Addresses: Chatwoot sends lists; a lone string is one address.
fn addresses(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|a| Scalar::of(a).text())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(other) => Scalar::of(other).text().into_iter().collect(),
        None => Vec::new(),
    }
}

fn choices(v: &Value, key: &str) -> Vec<Choice> {
    items(v, key)
        .filter_map(|i| {
            let title = text(i, "title");
            let value = text(i, "value");
            Some(Choice {
                title: title.clone().or_else(|| value.clone())?,
                value: value.or(title)?,
            })
        })
        .collect()
}

/// The meaning of `content_type` with `content_attributes` (`attrs`).
pub fn block_of(content_type: &str, attrs: &Value) -> Block {
    match content_type {
        "input_email" => Block::InputEmail {
            submitted: text(attrs, "submitted_email"),
        },
        "input_select" => Block::Select {
            options: choices(attrs, "items"),
            chosen: choices(attrs, "submitted_values"),
        },
        "cards" => Block::Cards(
            items(attrs, "items")
                .map(|i| Card {
                    media_url: text(i, "media_url"),
                    title: text(i, "title"),
                    description: text(i, "description"),
                    actions: items(i, "actions")
                        .filter_map(|a| {
                            Some(CardAction {
                                text: text(a, "text")?,
                                uri: text(a, "uri").filter(|_| {
                                    field(a, "type").text().as_deref() != Some("postback")
                                }),
                            })
                        })
                        .collect(),
                })
                .filter(|c| c.title.is_some() || c.description.is_some() || c.media_url.is_some())
                .collect(),
        ),
        "form" => {
            let fields: Vec<FormField> = items(attrs, "items")
                .filter_map(|i| {
                    let name = text(i, "name")?;
                    Some(FormField {
                        label: text(i, "label").unwrap_or_else(|| name.clone()),
                        name,
                    })
                })
                .collect();
            let answers = items(attrs, "submitted_values")
                .filter_map(|s| {
                    let name = text(s, "name");
                    Some(Answer {
                        label: fields
                            .iter()
                            .find(|f| Some(&f.name) == name.as_ref())
                            .map(|f| f.label.clone())
                            .or(name),
                        value: text(s, "value")?,
                    })
                })
                .collect();
            Block::Form { fields, answers }
        }
        "article" => Block::Articles(
            items(attrs, "items")
                .filter_map(|i| {
                    Some(Article {
                        title: text(i, "title")?,
                        description: text(i, "description"),
                        link: text(i, "link"),
                    })
                })
                .collect(),
        ),
        "incoming_email" => {
            let e = attrs.get("email").unwrap_or(&Value::Null);
            let part = |key| e.get(key).unwrap_or(&Value::Null);
            let plain = part("text_content");
            Block::Email(Box::new(Email {
                subject: text(e, "subject"),
                from: addresses(e, "from"),
                to: addresses(e, "to"),
                cc: addresses(e, "cc"),
                bcc: addresses(e, "bcc"),
                text: text(plain, "reply").or_else(|| text(plain, "full")),
                quoted: text(plain, "quoted"),
                html: text(part("html_content"), "full")
                    .or_else(|| text(part("html_content"), "reply")),
            }))
        }
        "input_csat" => {
            let response = attrs
                .get("submitted_values")
                .and_then(|s| s.get("csat_survey_response"))
                .unwrap_or(&Value::Null);
            Block::Csat(Csat {
                stars: field(attrs, "display_type").text().as_deref() == Some("star"),
                rating: field(response, "rating")
                    .int()
                    .filter(|r| (1..=5).contains(r))
                    .map(|r| r as u8),
                feedback: text(response, "feedback_message"),
            })
        }
        "integrations" => Block::Integration {
            kind: text(attrs, "type").unwrap_or_default(),
        },
        _ => Block::Plain,
    }
}

/// `content_attributes.is_reaction`: the message is an emoji reaction to the message in
/// `in_reply_to` (WhatsApp and Instagram reactions), not a message of its own.
pub fn is_reaction(attrs: &Value) -> bool {
    field(attrs, "is_reaction").flag()
}

/// `content_attributes.image_type == "story_mention"`: the customer mentioned the
/// business in an Instagram story (the attachment is the story).
pub fn is_story_mention(attrs: &Value) -> bool {
    field(attrs, "image_type").text().as_deref() == Some("story_mention")
}
