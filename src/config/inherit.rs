//! helmfile's release templates: a state's `templates`, which a release (or another template)
//! names under `inherit` to take their fields.

use std::collections::BTreeMap;

use serde_yaml_ng::{Mapping, Value};

/// The fields `except` may leave out of a template, as helmfile allows.
const EXCEPTABLE: &[&str] = &[
    "labels",
    "values",
    "valuesTemplate",
    "setTemplate",
    "set",
    "secrets",
];

/// `release` with the templates it inherits merged under it, as helmfile (mergo, overwriting,
/// lists appended) merges them: each template in order, then the release itself. A later
/// field wins unless it is empty as Go sees it (null, false, 0, "", an empty list or map), so
/// a release's `wait: false` leaves a template's `wait: true`; lists are appended (values
/// files: the templates' first); maps are merged key by key.
pub fn resolve(release: Value, templates: &BTreeMap<String, Value>) -> Result<Value, String> {
    resolve_at(release, templates, &mut Vec::new())
}

fn resolve_at(
    mut spec: Value,
    templates: &BTreeMap<String, Value>,
    path: &mut Vec<String>,
) -> Result<Value, String> {
    let Some(map) = spec.as_mapping_mut() else {
        return Ok(spec);
    };
    let Some(inherit) = map.remove("inherit") else {
        return Ok(spec);
    };
    let mut merged = Value::Mapping(Mapping::new());
    for entry in inherit_entries(inherit)? {
        if path.contains(&entry.template) {
            path.push(entry.template);
            return Err(format!(
                "templates inherit in a cycle: {}",
                path.join(" -> ")
            ));
        }
        let Some(template) = templates.get(&entry.template) else {
            let known: Vec<&str> = templates.keys().map(String::as_str).collect();
            return Err(format!(
                "inherit: no template `{}` in this state (its templates: {})",
                entry.template,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        path.push(entry.template.clone());
        let mut source = resolve_at(template.clone(), templates, path)
            .map_err(|e| format!("template `{}`: {e}", entry.template))?;
        path.pop();
        if let Some(fields) = source.as_mapping_mut() {
            for field in &entry.except {
                fields.remove(field.as_str());
            }
        } else {
            return Err(format!(
                "template `{}` is not a map of release fields",
                entry.template
            ));
        }
        overlay(&mut merged, source);
    }
    overlay(&mut merged, spec);
    Ok(merged)
}

/// One `inherit` entry.
struct Inherit {
    template: String,
    except: Vec<String>,
}

/// `inherit` as a list of entries, or helmfile's older single entry.
fn inherit_entries(inherit: Value) -> Result<Vec<Inherit>, String> {
    let items = match inherit {
        Value::Sequence(items) => items,
        single @ Value::Mapping(_) => vec![single],
        other => return Err(format!("inherit: expected a list, not {}", kind(&other))),
    };
    items
        .into_iter()
        .map(|item| {
            let Value::Mapping(fields) = item else {
                return Err(format!(
                    "inherit: each entry is a map with `template`, not {}",
                    kind(&item)
                ));
            };
            let mut entry = Inherit {
                template: String::new(),
                except: Vec::new(),
            };
            for (key, value) in fields {
                match (key.as_str(), value) {
                    (Some("template"), Value::String(name)) => entry.template = name,
                    (Some("except"), Value::Sequence(fields)) => {
                        for field in fields {
                            match field.as_str() {
                                Some(name) if EXCEPTABLE.contains(&name) => {
                                    entry.except.push(name.to_string())
                                }
                                _ => {
                                    return Err(format!(
                                        "inherit: except: `{}` cannot be left out; only {} can",
                                        serde_yaml_ng::to_string(&field).unwrap_or_default().trim(),
                                        EXCEPTABLE.join(", ")
                                    ));
                                }
                            }
                        }
                    }
                    (Some(key @ ("template" | "except")), value) => {
                        return Err(format!("inherit: `{key}` cannot be {}", kind(&value)));
                    }
                    (key, _) => {
                        return Err(format!(
                            "inherit: unknown key `{}`; expected template, except",
                            key.unwrap_or("?")
                        ));
                    }
                }
            }
            if entry.template.is_empty() {
                return Err("inherit: an entry names no `template`".to_string());
            }
            Ok(entry)
        })
        .collect()
}

/// Merges `source` over `target` as mergo does with overwriting and appended lists: a
/// field `target` lacks (a nil pointer in helmfile's Go) takes any value but null or "",
/// `false` too; one it has is replaced only by a non-empty one.
fn overlay(target: &mut Value, source: Value) {
    match (target, source) {
        (Value::Mapping(target), Value::Mapping(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(slot) => overlay(slot, value),
                    None if !(value.is_null() || value.as_str() == Some("")) => {
                        target.insert(key, value);
                    }
                    None => {}
                }
            }
        }
        (Value::Sequence(target), Value::Sequence(source)) => target.extend(source),
        (target, source) => {
            if !is_empty(&source) {
                *target = source;
            }
        }
    }
}

/// Go's zero value, which mergo never copies over a field.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Sequence(items) => items.is_empty(),
        Value::Mapping(map) => map.is_empty(),
        Value::Tagged(_) => false,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    fn templates(text: &str) -> BTreeMap<String, Value> {
        serde_yaml_ng::from_str(text).unwrap()
    }

    /// What helmfile 0.166 `build` prints for the same state.
    #[test]
    fn templates_merge_under_the_release_as_in_helmfile() {
        let templates = templates(
            "base: {namespace: tns, chart: ./c, labels: {a: t, b: t}, values: [t.yaml], wait: true}\n\
             other: {inherit: [template: base], labels: {c: o}, values: [o.yaml]}\n",
        );
        let release = yaml(
            "{name: r1, namespace: rns, labels: {a: r, d: r}, inherit: [template: other], \
             values: [r.yaml], wait: false}",
        );
        let merged = resolve(release, &templates).unwrap();
        let expected = yaml(
            "{namespace: rns, chart: ./c, labels: {a: r, b: t, c: o, d: r}, \
             values: [t.yaml, o.yaml, r.yaml], wait: true, name: r1}",
        );
        assert_eq!(merged, expected);
        // A template's `false` is kept where the release says nothing.
        let off: BTreeMap<String, Value> =
            serde_yaml_ng::from_str("off: {installed: false, chart: ./c}\n").unwrap();
        let merged = resolve(yaml("{name: r3, inherit: [template: off]}"), &off).unwrap();
        assert_eq!(merged, yaml("{installed: false, chart: ./c, name: r3}"));
        let release = yaml("{name: r2, inherit: {template: base, except: [labels, values]}}");
        let merged = resolve(release, &templates).unwrap();
        assert_eq!(
            merged,
            yaml("{namespace: tns, chart: ./c, wait: true, name: r2}")
        );
    }

    #[test]
    fn bad_inheritance_is_an_error_naming_it() {
        let templates = templates("a: {inherit: [template: b]}\nb: {inherit: [template: a]}\n");
        let err = resolve(yaml("{name: r, inherit: [template: a]}"), &templates).unwrap_err();
        assert!(err.contains("cycle: a -> b -> a"), "{err}");
        let err = resolve(yaml("{name: r, inherit: [template: c]}"), &templates).unwrap_err();
        assert!(
            err.contains("no template `c`") && err.contains("a, b"),
            "{err}"
        );
        let err = resolve(
            yaml("{name: r, inherit: [{template: a, except: [chart]}]}"),
            &templates,
        )
        .unwrap_err();
        assert!(err.contains("`chart` cannot be left out"), "{err}");
        let err = resolve(yaml("{name: r, inherit: [{templat: a}]}"), &templates).unwrap_err();
        assert!(err.contains("unknown key `templat`"), "{err}");
    }
}
