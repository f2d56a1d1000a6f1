//! `toToml`, in the layout of BurntSushi/toml's encoder: plain keys first, then tables,
//! sub-tables indented two spaces per level.

use gotemplate::value::Value;

/// `toToml`: a map as a TOML document; any other value as a TOML value. A nil is an error,
/// as it makes the Go encoder panic; a list holding nil yields the encoder's message.
pub fn to_toml(value: &Value) -> Result<String, String> {
    if value.is_nil() {
        return Err("reflect: call of reflect.Value.Type on zero Value".into());
    }
    if has_nil_element(value) {
        return Ok("toml: cannot encode array with nil element".into());
    }
    let Some(entries) = value.map_entries() else {
        return Ok(scalar(value));
    };
    let mut out = String::new();
    write_table(&mut out, &[], &entries.into_iter().collect::<Vec<_>>());
    Ok(out)
}

fn has_nil_element(value: &Value) -> bool {
    match value {
        Value::List(items) => items.iter().any(|i| i.is_nil() || has_nil_element(i)),
        Value::Map(entries) => entries.borrow().values().any(has_nil_element),
        _ => false,
    }
}

fn is_table(value: &Value) -> bool {
    matches!(value, Value::Map(_))
}

fn write_table(out: &mut String, path: &[String], entries: &[(String, Value)]) {
    let indent = "  ".repeat(path.len().saturating_sub(1));
    let key_indent = if path.is_empty() {
        String::new()
    } else {
        "  ".repeat(path.len())
    };
    for (key, value) in entries.iter().filter(|(_, v)| !is_table(v) && !v.is_nil()) {
        out.push_str(&format!(
            "{key_indent}{} = {}\n",
            quote_key(key),
            scalar(value)
        ));
    }
    for (key, value) in entries.iter().filter(|(_, v)| is_table(v)) {
        let mut sub = path.to_vec();
        sub.push(quote_key(key));
        let child_indent = if path.is_empty() {
            indent.clone()
        } else {
            "  ".repeat(path.len())
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{child_indent}[{}]\n", sub.join(".")));
        let inner: Vec<(String, Value)> = value
            .map_entries()
            .unwrap_or_default()
            .into_iter()
            .collect();
        write_table(out, &sub, &inner);
    }
}

fn quote_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        quote(key)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
        Value::Float(f) => f.to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            format!("[{}]", parts.join(", "))
        }
        other => quote(&gotemplate::funcs::strval(other)),
    }
}
