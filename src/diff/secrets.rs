//! Secret values never reach diff output: each key's value becomes a placeholder that says
//! only whether it changed, so reviewers see which keys changed and nothing else (no
//! length, no hash prefix).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::normalize::LAST_APPLIED;

/// Shown on both sides for a key whose value did not change, and for keys of a Secret
/// that is only on one side.
pub const HIDDEN: &str = "(hidden)";
/// Shown on the live side for a key whose value changed.
pub const HIDDEN_OLD: &str = "(hidden, old value)";
/// Shown on the desired side for a key whose value changed.
pub const HIDDEN_NEW: &str = "(hidden, new value)";

/// Whether the object's kind is `Secret`, in any API group.
///
/// Only core `v1` Secrets are known to hold credentials in `data`/`stringData`, but a
/// custom kind named Secret very likely does too: masking it costs some review detail,
/// not masking it could print credentials into CI logs.
pub fn is_secret(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Both sides with Secret values replaced by placeholders; objects that are not Secrets
/// come back unchanged.
///
/// A masked Secret shows every key under `data` and has no `stringData`, since that is
/// how the server stores it: a desired side that still uses `stringData` then compares
/// key by key with the live `data` instead of showing every key moved. The
/// last-applied annotation holds a copy of the values, so it is hidden too.
pub fn mask_secrets(
    before: Option<&Value>,
    after: Option<&Value>,
) -> (Option<Value>, Option<Value>) {
    if !before.into_iter().chain(after).any(is_secret) {
        return (before.cloned(), after.cloned());
    }
    let old = before.map(contents).unwrap_or_default();
    let new = after.map(contents).unwrap_or_default();
    // A key on one side only shows as an added or removed line; a plain placeholder is
    // enough there.
    let placeholder = |key: &str, changed: &'static str| match (old.get(key), new.get(key)) {
        (Some(a), Some(b)) if a != b => changed,
        _ => HIDDEN,
    };
    let before = before.map(|object| {
        with_data(
            object,
            old.keys().map(|k| (k.clone(), placeholder(k, HIDDEN_OLD))),
        )
    });
    let after = after.map(|object| {
        with_data(
            object,
            new.keys().map(|k| (k.clone(), placeholder(k, HIDDEN_NEW))),
        )
    });
    (before, after)
}

/// A stored value, compared as the bytes it stands for. Values the server would reject
/// (bad base64, not a string) stay as written so they still compare, just never equal
/// to real bytes.
#[derive(Debug, PartialEq)]
enum Content {
    Bytes(Vec<u8>),
    Unreadable(Value),
}

/// The key -> value map the server would store: `data` decoded, `stringData` merged over it.
fn contents(object: &Value) -> BTreeMap<String, Content> {
    let mut contents = BTreeMap::new();
    for (key, value) in entries(object, "data") {
        let content = value
            .as_str()
            .and_then(|encoded| STANDARD.decode(encoded).ok())
            .map_or_else(|| Content::Unreadable(value.clone()), Content::Bytes);
        contents.insert(key.clone(), content);
    }
    for (key, value) in entries(object, "stringData") {
        let content = match value.as_str() {
            Some(plain) => Content::Bytes(plain.as_bytes().to_vec()),
            None => Content::Unreadable(value.clone()),
        };
        contents.insert(key.clone(), content);
    }
    contents
}

fn entries<'a>(object: &'a Value, field: &str) -> impl Iterator<Item = (&'a String, &'a Value)> {
    object
        .get(field)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

fn with_data<'a>(object: &Value, data: impl Iterator<Item = (String, &'a str)>) -> Value {
    let mut object = object.clone();
    let Some(fields) = object.as_object_mut() else {
        return object;
    };
    let data: Map<String, Value> = data.map(|(k, v)| (k, Value::from(v))).collect();
    fields.remove("stringData");
    if data.is_empty() {
        fields.remove("data");
    } else {
        fields.insert("data".to_string(), Value::Object(data));
    }
    if let Some(last_applied) = fields
        .get_mut("metadata")
        .and_then(|metadata| metadata.get_mut("annotations"))
        .and_then(|annotations| annotations.get_mut(LAST_APPLIED))
    {
        *last_applied = Value::from(HIDDEN);
    }
    object
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encoded(plain: &str) -> String {
        STANDARD.encode(plain)
    }

    #[test]
    fn other_kinds_pass_through() {
        let config = json!({"kind": "ConfigMap", "data": {"password": "visible"}});
        assert_eq!(
            mask_secrets(Some(&config), None),
            (Some(config.clone()), None)
        );
    }

    #[test]
    fn placeholders_say_unchanged_changed_added_removed() {
        let before = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "data": {"same": encoded("a"), "changed": encoded("b"), "gone": encoded("c")},
        });
        let after = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "data": {"same": encoded("a"), "changed": encoded("B")},
            "stringData": {"new": "d"},
        });
        let (before, after) = mask_secrets(Some(&before), Some(&after));
        assert_eq!(
            before.map(|secret| secret["data"].clone()),
            Some(json!({"changed": HIDDEN_OLD, "gone": HIDDEN, "same": HIDDEN}))
        );
        let after = after.unwrap_or_default();
        assert_eq!(
            after["data"],
            json!({"changed": HIDDEN_NEW, "new": HIDDEN, "same": HIDDEN})
        );
        assert_eq!(after.get("stringData"), None);
    }

    #[test]
    fn unreadable_values_are_hidden_and_differ_from_real_ones() {
        // "abc" is not valid base64: it must not equal stringData "abc".
        let before = json!({"kind": "Secret", "data": {"key": "abc", "n": 5}});
        let after = json!({"kind": "Secret", "stringData": {"key": "abc", "n": 5}});
        let (before, after) = mask_secrets(Some(&before), Some(&after));
        let (before, after) = (before.unwrap_or_default(), after.unwrap_or_default());
        assert_eq!(before["data"], json!({"key": HIDDEN_OLD, "n": HIDDEN}));
        assert_eq!(after["data"], json!({"key": HIDDEN_NEW, "n": HIDDEN}));
    }

    #[test]
    fn last_applied_copy_is_hidden() {
        let secret = json!({
            "kind": "Secret",
            "metadata": {"annotations": {LAST_APPLIED: "{\"data\":{\"k\":\"c2VjcmV0\"}}"}},
        });
        let (masked, _) = mask_secrets(Some(&secret), None);
        assert_eq!(
            masked.map(|secret| secret["metadata"]["annotations"].clone()),
            Some(json!({LAST_APPLIED: HIDDEN}))
        );
    }
}
