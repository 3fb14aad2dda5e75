//! Stored JSON → `google.protobuf.Struct` for the API (`parameters`,
//! `music_data`, `metadata`). Only output: clients never send a Struct to
//! content, so no input limits are needed here.

use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};

/// Converts stored JSON to a `Struct` (a non-object is wrapped as
/// `{"value": …}`, which the service never stores).
pub fn to_struct(json: &serde_json::Value) -> Struct {
    match json {
        serde_json::Value::Object(map) => {
            Struct { fields: map.iter().map(|(k, v)| (k.clone(), to_value(v))).collect() }
        }
        other => Struct { fields: [("value".to_owned(), to_value(other))].into_iter().collect() },
    }
}

fn to_value(json: &serde_json::Value) -> Value {
    let kind = match json {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(ListValue { values: items.iter().map(to_value).collect() }),
        serde_json::Value::Object(_) => Kind::StructValue(to_struct(json)),
    };
    Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_json_becomes_a_struct() {
        let s = to_struct(&serde_json::json!({"a": [1, {"b": "c"}], "d": null, "e": true}));
        assert_eq!(s.fields.len(), 3);
        let Some(Kind::ListValue(list)) = s.fields.get("a").and_then(|v| v.kind.clone()) else { panic!("a is a list") };
        assert_eq!(list.values.len(), 2);
    }
}
