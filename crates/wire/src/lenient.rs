//! Deserializers for what Chatwoot versions, views, channels and old rows really send.
//!
//! Two rules, so that one odd message never breaks more than its own row:
//!
//! - A field of another type than expected is read when its meaning is plain (numbers as
//!   strings, timestamps as strings or integers, `null` for a string or a flag) and falls
//!   back to its default when the row does not need it.
//! - Lists of messages (and of conversations) are decoded one element at a time: an element
//!   that still cannot be read becomes a placeholder ([`Salvage`]) that keeps its id, time,
//!   sender and text where those read, instead of failing the page.
//!
//! serde_json refuses documents nested deeper than 128 levels, counted from the root of the
//! whole document, and the free-form values (`content_attributes`, custom attributes, ...)
//! are where a customer can nest. They are read here with a depth budget: what lies deeper
//! is skipped (serde_json skips without recursion) and kept as `null`.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// How deep a free-form value is kept. Chatwoot's own shapes nest a handful of levels
/// (cards → actions, form → options); the cut keeps a page far from serde_json's limit.
pub const MAX_VALUE_DEPTH: usize = 32;

/// How deep one list element (a message, a conversation) is kept: its own levels plus a
/// free-form value's.
const MAX_ELEMENT_DEPTH: usize = MAX_VALUE_DEPTH + 8;

/// How deep a cable broadcast is kept (`{event, data: {conversation: {messages: [...]}}}`).
pub(crate) const MAX_BROADCAST_DEPTH: usize = MAX_ELEMENT_DEPTH + 8;

/// A JSON value read with at most `levels` levels of arrays and objects; deeper containers
/// are skipped and read as `null`.
pub(crate) struct Bounded {
    pub levels: usize,
}

impl<'de> DeserializeSeed<'de> for Bounded {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Some(levels) = self.levels.checked_sub(1) else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Value::Null);
        };
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Bounded { levels })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(levels) = self.levels.checked_sub(1) else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Value::Null);
        };
        let mut entries = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Bounded { levels })?;
            entries.insert(key, value);
        }
        Ok(Value::Object(entries))
    }
}

/// How deep a whole document read by [`from_str`] is kept: below serde_json's limit (128)
/// and above what the cuts of elements and free-form values keep inside it.
const MAX_DOCUMENT_DEPTH: usize = 100;

/// A whole JSON document read as `T`, the way the app reads every document it gets.
///
/// The text is parsed once into a depth-bounded [`Value`] and `T` is then read from that
/// value. Lists already read each element from a `Value`; reading whole documents the same
/// way means every type's `Deserialize` code exists once in the wasm (for `&Value`), not a
/// second time for serde_json's text reader (the bundle budget).
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let document = Bounded {
        levels: MAX_DOCUMENT_DEPTH,
    }
    .deserialize(&mut reader)?;
    reader.end()?;
    read(&document)
}

/// `T` read from a value the app already holds, the one way the app reads a type from a
/// [`Value`] (the bundle budget: see [`Objects`]).
pub fn read<'a, T: Deserialize<'a>>(v: &'a Value) -> serde_json::Result<T> {
    T::deserialize(Objects(v))
}

/// A [`Value`] as serde_json's own `&Value` deserializer reads it, except that a struct is
/// read from an object only. serde_json also accepts an array for a struct (its fields in
/// order), and so compiles every struct's `visit_seq` into the wasm beside its `visit_map`:
/// some 20 KB of code no Chatwoot payload ever uses. Nested values are read the same way.
#[derive(Clone, Copy)]
pub struct Objects<'a>(pub &'a Value);

struct ObjectFields<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> de::MapAccess<'de> for ObjectFields<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without its key"))?;
        seed.deserialize(Objects(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Elements<'a>(std::slice::Iter<'a, Value>);

impl<'de> de::SeqAccess<'de> for Elements<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Objects(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

impl<'de> Objects<'de> {
    fn fields(map: &'de Map<String, Value>) -> ObjectFields<'de> {
        ObjectFields {
            entries: map.iter(),
            value: None,
        }
    }

    fn invalid<V: Visitor<'de>>(self, visitor: &V) -> serde_json::Error {
        let unexpected = match self.0 {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(_) => de::Unexpected::Other("a number"),
            Value::String(s) => de::Unexpected::Str(s),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        };
        de::Error::invalid_type(unexpected, visitor)
    }
}

/// Scalars (numbers, strings, ...) as serde_json reads them: nothing nested.
macro_rules! scalars_as_serde_json {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Objects<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Elements(items.iter())),
            Value::Object(map) => visitor.visit_map(Objects::fields(map)),
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Objects::fields(map)),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Elements(items.iter())),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        // Unit variants (strings) are all the wire types have; serde_json's reader does.
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        visitor.visit_unit()
    }

    scalars_as_serde_json! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.0.deserialize_unit_struct(name, visitor)
    }
}

/// A free-form value (`team`, `previous_changes`), depth-bounded.
pub fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Bounded {
        levels: MAX_VALUE_DEPTH,
    }
    .deserialize(d)
}

/// An optional free-form value: `null` is `None`.
pub fn opt_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(match value(d)? {
        Value::Null => None,
        v => Some(v),
    })
}

/// Objects that Chatwoot sends as `{}` but may send as `null` (older rows), depth-bounded.
pub fn object_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(match value(d)? {
        Value::Null => empty_object(),
        v => v,
    })
}

pub fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// One scalar as sent, or the mark of an array or object (already skipped).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Compound,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
}

impl Scalar {
    pub(crate) fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    pub(crate) fn of(v: &Value) -> Scalar {
        match v {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => n.as_i64().map_or_else(
                || Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
                Scalar::Int,
            ),
            Value::String(s) => Scalar::Str(s.clone()),
            Value::Array(_) | Value::Object(_) => Scalar::Compound,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "a boolean",
            Scalar::Int(_) | Scalar::Float(_) => "a number",
            Scalar::Str(_) => "a string",
            Scalar::Compound => "an array or object",
        }
    }

    /// An integer, also from a float with no fraction or a numeric string.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) => Some(*i),
            Scalar::Float(f) => float_to_int(*f),
            Scalar::Str(s) => {
                let s = s.trim();
                s.parse::<i64>()
                    .ok()
                    .or_else(|| float_to_int(s.parse::<f64>().ok()?))
            }
            _ => None,
        }
    }

    pub(crate) fn float(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f).filter(|f| f.is_finite()),
            Scalar::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }

    /// Unix seconds, from seconds (integer, float, numeric string) or an ISO 8601 / Rails
    /// time string.
    pub(crate) fn timestamp(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) => Some(*i),
            Scalar::Float(f) => Some(*f).filter(|f| f.is_finite()).map(|f| f as i64),
            Scalar::Str(s) => self.int().or_else(|| parse_time(s.trim())),
            _ => None,
        }
    }

    /// Text, also from a number or a boolean; `None` for null, arrays and objects.
    pub(crate) fn text(self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::Float(f) => Some(f.to_string()),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Null | Scalar::Compound => None,
        }
    }

    pub(crate) fn flag(&self) -> bool {
        match self {
            Scalar::Bool(b) => *b,
            Scalar::Int(i) => *i != 0,
            Scalar::Float(f) => *f != 0.0,
            Scalar::Str(s) => matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "true" | "t" | "1" | "yes"
            ),
            Scalar::Null | Scalar::Compound => false,
        }
    }
}

fn float_to_int(f: f64) -> Option<i64> {
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

fn unexpected<E: de::Error>(s: &Scalar, wanted: &str) -> E {
    E::custom(format_args!("expected {wanted}, found {}", s.kind()))
}

/// A required integer (an id).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = Scalar::read(d)?;
    s.int().ok_or_else(|| unexpected(&s, "an integer"))
}

/// An integer the row can do without: anything unreadable is 0.
pub fn int_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Scalar::read(d)?.int().unwrap_or(0))
}

pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Scalar::read(d)?.int())
}

pub fn float_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Scalar::read(d)?.float().unwrap_or(0.0))
}

pub fn opt_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Scalar::read(d)?.float())
}

/// A required time (a message's `created_at`), as unix seconds.
pub fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = Scalar::read(d)?;
    s.timestamp().ok_or_else(|| unexpected(&s, "a time"))
}

pub fn timestamp_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Scalar::read(d)?.timestamp().unwrap_or(0))
}

pub fn opt_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Scalar::read(d)?.timestamp())
}

/// Optional text: numbers and booleans as their text, anything else `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Scalar::read(d)?.text())
}

/// `echo_id` is whatever the client sent; in practice a string, sometimes a number.
pub fn opt_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    opt_string(d)
}

/// A message's text: an array or object there is not a text we can show, so the message is
/// not read as an ordinary one (it becomes a placeholder).
pub fn content<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Scalar::read(d)? {
        Scalar::Compound => Err(de::Error::custom("content is an array or object")),
        s => Ok(s.text()),
    }
}

/// A required string (a conversation's `status`).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = Scalar::read(d)?;
    s.clone().text().ok_or_else(|| unexpected(&s, "a string"))
}

/// `content_type`: `text` when null.
pub fn content_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Scalar::read(d)?.text().unwrap_or_else(|| "text".to_owned()))
}

pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Scalar::read(d)?.flag())
}

/// An optional flag: `null` or anything unreadable is `None`.
pub fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Scalar::read(d)? {
        Scalar::Null | Scalar::Compound => None,
        s => Some(s.flag()),
    })
}

/// A list of names (`labels`): numbers kept as text, anything else dropped.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match value(d)? {
        Value::Array(items) => items.iter().filter_map(|v| Scalar::of(v).text()).collect(),
        _ => Vec::new(),
    })
}

/// A nested record the row can do without (a conversation's `meta.assignee`, a message's
/// `sender`): unreadable is `None` rather than an error.
pub fn opt_lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let v = Bounded {
        levels: MAX_ELEMENT_DEPTH,
    }
    .deserialize(d)?;
    Ok(read(&v).ok())
}

/// A nested record with defaults (the counts of a list's `meta`): unreadable is the default.
pub fn opt_lenient_or_default<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(opt_lenient(d)?.unwrap_or_default())
}

/// A list element that can stand in for itself when it cannot be read whole.
pub trait Salvage: DeserializeOwned {
    /// What can still be shown of `v`, or `None` if not even its id reads.
    fn salvage(v: &Value) -> Option<Self>;
}

/// `v` read whole, else salvaged.
pub fn decode_or_salvage<T: Salvage>(v: &Value) -> Option<T> {
    read(v).ok().or_else(|| T::salvage(v))
}

/// A list read element by element: an element that cannot be read is salvaged, one without
/// even an id is left out. Anything but an array is an empty list.
pub fn list<'de, D: Deserializer<'de>, T: Salvage>(d: D) -> Result<Vec<T>, D::Error> {
    struct ListVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Salvage> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element_seed(Bounded {
                levels: MAX_ELEMENT_DEPTH,
            })? {
                out.extend(decode_or_salvage(&v));
            }
            Ok(out)
        }

        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }

        fn visit_unit<E>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_none<E>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_i64<E>(self, _: i64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_u64<E>(self, _: u64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_f64<E>(self, _: f64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_str<E>(self, _: &str) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
    }

    d.deserialize_any(ListVisitor(std::marker::PhantomData))
}

/// One optional element (a conversation's `last_non_activity_message`), salvaged like a
/// list's.
pub fn opt_salvaged<'de, D: Deserializer<'de>, T: Salvage>(d: D) -> Result<Option<T>, D::Error> {
    let v = Bounded {
        levels: MAX_ELEMENT_DEPTH,
    }
    .deserialize(d)?;
    Ok(match v {
        Value::Null => None,
        v => decode_or_salvage(&v),
    })
}

/// The scalar at `key` of an object.
pub(crate) fn field(v: &Value, key: &str) -> Scalar {
    v.get(key).map_or(Scalar::Null, Scalar::of)
}

/// Unix seconds of an ISO 8601 time (`2026-12-02T05:30:01.123Z`, `+01:00` offsets) or of
/// Rails' `to_s` (`2026-12-02 05:30:01 UTC`). No zone is UTC.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut rest = &s[10..];
    if let Some(time) = rest.strip_prefix(['T', 't', ' ']) {
        let tb = time.as_bytes();
        let two = |from: usize| -> Option<i64> {
            let part = tb.get(from..from + 2)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| std::str::from_utf8(part).ok()?.parse().ok())?
        };
        let (hour, minute) = (two(0)?, two(3)?);
        if tb.get(2) != Some(&b':') || hour > 23 || minute > 59 {
            return None;
        }
        let mut used = 5;
        let mut second = 0;
        if tb.get(5) == Some(&b':') {
            second = two(6)?;
            used = 8;
            if tb.get(8) == Some(&b'.') || tb.get(8) == Some(&b',') {
                used = 9 + tb[9..].iter().take_while(|c| c.is_ascii_digit()).count();
            }
        }
        seconds += hour * 3600 + minute * 60 + second.min(60);
        rest = &time[used..];
    }
    let zone = rest.trim();
    let offset = match zone {
        "" | "Z" | "z" | "UTC" | "GMT" => 0,
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    Some(seconds - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2021-11-02T09:45:59.118Z"), Some(1_635_846_359));
        assert_eq!(parse_time("2021-11-02 09:45:59 UTC"), Some(1_635_846_359));
        assert_eq!(parse_time("2021-11-02T10:45:59+01:00"), Some(1_635_846_359));
        assert_eq!(
            parse_time("2021-11-02T04:45:59.5-0500"),
            Some(1_635_846_359)
        );
        assert_eq!(parse_time("2000-02-29"), Some(951_782_400));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2021-13-02T09:45:59Z"), None);
        assert_eq!(parse_time("2021-11-02T09:45:59 Mars"), None);
    }
}
