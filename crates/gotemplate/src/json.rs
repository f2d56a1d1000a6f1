//! Go's `encoding/json` output: sorted keys, `<>&` escaped as `\u003c` (unless raw), floats
//! in `'f'` form between 1e-6 and 1e21, `NaN` an error.

use crate::value::Value;

pub struct JsonOptions {
    pub escape_html: bool,
    /// `json.MarshalIndent` with this indent.
    pub indent: Option<&'static str>,
}

pub fn to_json(value: &Value, options: &JsonOptions) -> Result<String, String> {
    let mut out = String::new();
    write(&mut out, &value.to_json(), options, 0)?;
    Ok(out)
}

fn write(
    out: &mut String,
    json: &serde_json::Value,
    options: &JsonOptions,
    depth: usize,
) -> Result<(), String> {
    use serde_json::Value as J;
    match json {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (None, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&format_json_float(f)?),
            _ => out.push('0'),
        },
        J::String(s) => write_string(out, s, options.escape_html),
        J::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, options, depth + 1);
                write(out, item, options, depth + 1)?;
            }
            newline(out, options, depth);
            out.push(']');
        }
        J::Object(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            // Maps arrive sorted (Go sorts map keys); structs in field order, as Go writes them.
            let keys: Vec<&String> = entries.keys().collect();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, options, depth + 1);
                write_string(out, key, options.escape_html);
                out.push(':');
                if options.indent.is_some() {
                    out.push(' ');
                }
                write(out, &entries[key.as_str()], options, depth + 1)?;
            }
            newline(out, options, depth);
            out.push('}');
        }
    }
    Ok(())
}

fn newline(out: &mut String, options: &JsonOptions, depth: usize) {
    if let Some(indent) = options.indent {
        out.push('\n');
        out.push_str(&indent.repeat(depth));
    }
}

/// `encoding/json`'s float format.
pub fn format_json_float(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err(format!(
            "json: unsupported value: {}",
            crate::gofmt::format_float(f)
        ));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (negative, digits, exp) = crate::gofmt::shortest_digits(f);
        let mut text = String::from(if negative { "-" } else { "" });
        text.push_str(&digits[..1]);
        if digits.len() > 1 {
            text.push('.');
            text.push_str(&digits[1..]);
        }
        text.push_str(&format!(
            "e{}{}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
        return Ok(text);
    }
    // Shortest round-trip digits, as Go writes them: 1.2345678901234567e19 is
    // 12345678901234567000, not the float's exact value.
    let (negative, digits, exp) = crate::gofmt::shortest_digits(f);
    if f == 0.0 {
        return Ok("0".into());
    }
    let sign = if negative { "-" } else { "" };
    Ok(format!("{sign}{}", crate::gofmt::plain_form(&digits, exp)))
}

fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_encoding_json() {
        assert_eq!(format_json_float(1e6).unwrap(), "1000000");
        assert_eq!(format_json_float(1.5).unwrap(), "1.5");
        assert_eq!(format_json_float(1e21).unwrap(), "1e+21");
        assert_eq!(format_json_float(1e-7).unwrap(), "1e-7");
    }
}
