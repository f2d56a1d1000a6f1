//! Number and character constants in templates, with Go's literal syntax (`0x1F`, `017`,
//! `1_000`, `1e3`, `'a'`) and the interpretations Go's parser records for each.

use super::ast::Number;
use super::lex::unquote;

/// Go's number literal rules (`strconv.ParseInt/ParseFloat` with base 0).
pub fn parse_number(text: &str) -> Option<Number> {
    let int = parse_go_int(text);
    let float = match int {
        Some(i) => Some(i as f64),
        None => parse_go_float(text),
    };
    if int.is_none() && float.is_some() && !text.contains(['.', 'e', 'E', 'p', 'P']) {
        return None;
    }
    float?;
    let int = int.or_else(|| {
        float
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    });
    let body = text.trim_start_matches(['+', '-']);
    let is_hex = (body.starts_with("0x") || body.starts_with("0X")) && !body.contains(['p', 'P']);
    Some(Number {
        text: text.to_string(),
        int,
        float,
        looks_float: !is_hex && text.contains(['.', 'e', 'E', 'p', 'P']),
    })
}

pub fn parse_char(text: &str) -> Option<Number> {
    let decoded = unquote(text)?;
    let mut chars = decoded.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    Some(Number {
        text: text.to_string(),
        int: Some(c as i64),
        float: Some(c as u32 as f64),
        looks_float: false,
    })
}

fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, body) = if let Some(rest) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || body.starts_with('_') && radix == 10 {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let magnitude = u64::from_str_radix(&clean, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

fn parse_go_float(text: &str) -> Option<f64> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    if clean.contains(['x', 'X']) {
        return parse_hex_float(&clean);
    }
    let body = clean.trim_start_matches(['+', '-']);
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    clean.parse::<f64>().ok()
}

/// `0x1.8p3`: a hex mantissa and a binary exponent.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let body = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))?;
    let (mantissa, exponent) = body.split_once(['p', 'P'])?;
    let exponent: i32 = exponent.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut value = 0f64;
    for c in int.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let value = value * 2f64.powi(exponent);
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_go() {
        let n = parse_number("1e3").unwrap();
        assert!(n.looks_float && n.int == Some(1000));
        assert_eq!(parse_number("0x1F").unwrap().int, Some(31));
        assert_eq!(parse_number("017").unwrap().int, Some(15));
        assert!(parse_number("1x").is_none());
    }
}
