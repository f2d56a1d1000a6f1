//! values.schema.json validation: the JSON Schema keywords charts use (types, required,
//! properties, items, enums, bounds, patterns, combinators). Reports every violation.

use serde_json::Value as Json;

pub fn validate(schema: &Json, values: &Json) -> Result<(), String> {
    let mut errors = Vec::new();
    check(schema, values, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.iter().map(|e| format!("- {e}\n")).collect())
    }
}

fn check(schema: &Json, value: &Json, at: &str, errors: &mut Vec<String>) {
    let Json::Object(schema) = schema else { return };
    let place = if at.is_empty() {
        "(root)".to_string()
    } else {
        at.to_string()
    };
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Json::String(t) => vec![t.as_str()],
            Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|t| has_type(value, t)) {
            errors.push(format!(
                "{place}: Invalid type. Expected: {}, given: {}",
                allowed.join(", "),
                type_of(value)
            ));
            return;
        }
    }
    if let Some(Json::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        errors.push(format!(
            "{place}: {place} must be one of the following: {}",
            options
                .iter()
                .map(Json::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        errors.push(format!("{place}: {place} does not match: {expected}"));
    }
    check_combinators(schema, value, at, &place, errors);
    match value {
        Json::Object(map) => check_object(schema, map, at, &place, errors),
        Json::Array(items) => check_array(schema, items, at, &place, errors),
        Json::String(s) => check_string(schema, s, &place, errors),
        Json::Number(n) => check_number(schema, n.as_f64().unwrap_or(0.0), &place, errors),
        _ => {}
    }
}

fn check_combinators(
    schema: &serde_json::Map<String, Json>,
    value: &Json,
    at: &str,
    place: &str,
    errors: &mut Vec<String>,
) {
    let passes = |s: &Json| {
        let mut sub = Vec::new();
        check(s, value, at, &mut sub);
        sub.is_empty()
    };
    if let Some(Json::Array(all)) = schema.get("allOf") {
        for s in all {
            check(s, value, at, errors);
        }
    }
    if let Some(Json::Array(any)) = schema.get("anyOf")
        && !any.iter().any(passes)
    {
        errors.push(format!(
            "{place}: Must validate at least one schema (anyOf)"
        ));
    }
    if let Some(Json::Array(one)) = schema.get("oneOf")
        && one.iter().filter(|s| passes(s)).count() != 1
    {
        errors.push(format!(
            "{place}: Must validate one and only one schema (oneOf)"
        ));
    }
    if let Some(not) = schema.get("not")
        && passes(not)
    {
        errors.push(format!("{place}: Must not validate the schema (not)"));
    }
}

fn check_object(
    schema: &serde_json::Map<String, Json>,
    map: &serde_json::Map<String, Json>,
    at: &str,
    place: &str,
    errors: &mut Vec<String>,
) {
    if let Some(Json::Array(required)) = schema.get("required") {
        for key in required.iter().filter_map(Json::as_str) {
            if !map.contains_key(key) {
                errors.push(format!("{place}: {key} is required"));
            }
        }
    }
    let properties = schema.get("properties").and_then(Json::as_object);
    for (key, item) in map {
        let child = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        match properties.and_then(|p| p.get(key)) {
            Some(sub) => check(sub, item, &child, errors),
            None => match schema.get("additionalProperties") {
                Some(Json::Bool(false)) => {
                    errors.push(format!("{place}: Additional property {key} is not allowed"))
                }
                Some(sub @ Json::Object(_)) => check(sub, item, &child, errors),
                _ => {}
            },
        }
    }
}

fn check_array(
    schema: &serde_json::Map<String, Json>,
    items: &[Json],
    at: &str,
    place: &str,
    errors: &mut Vec<String>,
) {
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{at}.{i}"), errors);
        }
    }
    let bound = |k: &str| schema.get(k).and_then(Json::as_u64);
    if bound("minItems").is_some_and(|m| (items.len() as u64) < m) {
        errors.push(format!(
            "{place}: Array must have at least {} items",
            bound("minItems").unwrap_or(0)
        ));
    }
    if bound("maxItems").is_some_and(|m| (items.len() as u64) > m) {
        errors.push(format!(
            "{place}: Array must have at most {} items",
            bound("maxItems").unwrap_or(0)
        ));
    }
}

fn check_string(
    schema: &serde_json::Map<String, Json>,
    s: &str,
    place: &str,
    errors: &mut Vec<String>,
) {
    let len = s.chars().count() as u64;
    if schema
        .get("minLength")
        .and_then(Json::as_u64)
        .is_some_and(|m| len < m)
    {
        errors.push(format!(
            "{place}: String length must be greater than or equal to {}",
            schema["minLength"]
        ));
    }
    if schema
        .get("maxLength")
        .and_then(Json::as_u64)
        .is_some_and(|m| len > m)
    {
        errors.push(format!(
            "{place}: String length must be less than or equal to {}",
            schema["maxLength"]
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Json::as_str)
        && regex::Regex::new(pattern).is_ok_and(|re| !re.is_match(s))
    {
        errors.push(format!("{place}: Does not match pattern '{pattern}'"));
    }
}

fn check_number(
    schema: &serde_json::Map<String, Json>,
    n: f64,
    place: &str,
    errors: &mut Vec<String>,
) {
    let bound = |k: &str| schema.get(k).and_then(Json::as_f64);
    if bound("minimum").is_some_and(|m| n < m) {
        errors.push(format!(
            "{place}: Must be greater than or equal to {}",
            schema["minimum"]
        ));
    }
    if bound("maximum").is_some_and(|m| n > m) {
        errors.push(format!(
            "{place}: Must be less than or equal to {}",
            schema["maximum"]
        ));
    }
    if bound("exclusiveMinimum").is_some_and(|m| n <= m) {
        errors.push(format!(
            "{place}: Must be greater than {}",
            schema["exclusiveMinimum"]
        ));
    }
    if bound("exclusiveMaximum").is_some_and(|m| n >= m) {
        errors.push(format!(
            "{place}: Must be less than {}",
            schema["exclusiveMaximum"]
        ));
    }
}

fn has_type(value: &Json, t: &str) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => true,
    }
}

fn type_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
