//! Lenient deserializers for lists that GoClaw accepts in more than one shape,
//! such as user IDs written as JSON numbers (`[12345]`) instead of strings.
#![forbid(unsafe_code)]

use std::fmt;

use serde::Deserializer;
use serde::de::{self, SeqAccess, Visitor};

/// Deserializes a list whose items may be strings or numbers into strings,
/// like GoClaw's `FlexibleStringSlice` (Telegram user IDs are often numbers).
pub(crate) fn string_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    deserializer.deserialize_seq(StringListVisitor)
}

struct StringListVisitor;

impl<'de> Visitor<'de> for StringListVisitor {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings or numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<StringOrNumber>()? {
            items.push(item.0);
        }
        Ok(items)
    }
}

struct StringOrNumber(String);

impl<'de> de::Deserialize<'de> for StringOrNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringOrNumberVisitor)
    }
}

struct StringOrNumberVisitor;

impl Visitor<'_> for StringOrNumberVisitor {
    type Value = StringOrNumber;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(StringOrNumber(v.to_owned()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(StringOrNumber(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(StringOrNumber(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            return Ok(StringOrNumber(format!("{v:.0}")));
        }
        Ok(StringOrNumber(v.to_string()))
    }
}
