//! `google.protobuf.Struct` ↔ JSON for free-form fields (profile preferences,
//! parameters, music data, audit data, metric dimensions), with
//! the contract's limits: at most 16 KiB of JSON and 8 levels of nesting;
//! NaN and infinities (which JSON cannot hold) are refused.

use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};

use crate::error::FieldViolation;

/// Largest JSON document accepted, in bytes.
pub const MAX_BYTES: usize = 16 * 1024;
/// Deepest nesting accepted (the top-level object is level 1).
pub const MAX_DEPTH: usize = 8;

/// Converts a client's `Struct` into JSON, checking the limits.
pub fn struct_to_json(field: &str, value: &Struct) -> Result<serde_json::Value, FieldViolation> {
    let json = object(field, value, 1)?;
    let size = serde_json::to_vec(&json).map(|bytes| bytes.len()).unwrap_or(usize::MAX);
    if size > MAX_BYTES {
        return Err(FieldViolation::new(field, "must be at most 16 KiB of JSON"));
    }
    Ok(json)
}

fn too_deep(field: &str) -> FieldViolation {
    FieldViolation::new(field, "must be nested at most 8 levels deep")
}

fn object(field: &str, value: &Struct, depth: usize) -> Result<serde_json::Value, FieldViolation> {
    if depth > MAX_DEPTH {
        return Err(too_deep(field));
    }
    let mut map = serde_json::Map::new();
    for (key, item) in &value.fields {
        map.insert(key.clone(), scalar(field, item, depth)?);
    }
    Ok(serde_json::Value::Object(map))
}

fn scalar(field: &str, value: &Value, depth: usize) -> Result<serde_json::Value, FieldViolation> {
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(*n)
            .map(serde_json::Value::Number)
            .ok_or_else(|| FieldViolation::new(field, "numbers must be finite"))?,
        Some(Kind::StructValue(s)) => object(field, s, depth + 1)?,
        Some(Kind::ListValue(list)) => {
            if depth + 1 > MAX_DEPTH {
                return Err(too_deep(field));
            }
            let items: Result<Vec<_>, _> = list.values.iter().map(|v| scalar(field, v, depth + 1)).collect();
            serde_json::Value::Array(items?)
        }
    })
}

/// Converts stored JSON back to a `Struct` (a non-object is wrapped as
/// `{"value": …}`, which the API never stores).
pub fn json_to_struct(json: &serde_json::Value) -> Struct {
    json_into_struct(json.clone())
}

/// [`json_to_struct`], taking the JSON apart: its strings and keys move
/// into the `Struct` instead of being copied (GetContent's music_data is
/// thousands of them).
pub fn json_into_struct(json: serde_json::Value) -> Struct {
    match json {
        serde_json::Value::Object(map) => {
            Struct { fields: map.into_iter().map(|(k, v)| (k, json_into_value(v))).collect() }
        }
        other => Struct { fields: [("value".to_owned(), json_into_value(other))].into_iter().collect() },
    }
}

fn json_into_value(json: serde_json::Value) -> Value {
    let kind = match json {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(items) => {
            Kind::ListValue(ListValue { values: items.into_iter().map(json_into_value).collect() })
        }
        object @ serde_json::Value::Object(_) => Kind::StructValue(json_into_struct(object)),
    };
    Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> serde_json::Value {
        (1..depth).fold(json!({"leaf": 1}), |inner, _| json!({ "n": inner }))
    }

    #[test]
    fn json_round_trips_within_the_limits() {
        let value = json!({"years_playing": 4.0, "instruments": ["piano", "guitar"], "reads": true, "x": null});
        let back = struct_to_json("preferences", &json_to_struct(&value));
        assert_eq!(back.ok(), Some(value));
        assert!(struct_to_json("preferences", &json_to_struct(&nested(8))).is_ok());
        assert!(struct_to_json("preferences", &json_to_struct(&nested(9))).is_err());
        let big = json!({"text": "x".repeat(MAX_BYTES)});
        assert!(struct_to_json("preferences", &json_to_struct(&big)).is_err());
        let nan = Struct { fields: [("n".into(), Value { kind: Some(Kind::NumberValue(f64::NAN)) })].into() };
        assert!(struct_to_json("preferences", &nan).is_err());
    }
}
