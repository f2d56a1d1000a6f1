//! Go's `fmt` formatting of template values: `%v` printing, `print`, `println`, `printf`.
//!
//! Output must match Go byte for byte, since it lands in manifests: floats print in Go's
//! shortest form (`1e+06`), maps as `map[k:v]`, and a verb that does not fit its argument
//! prints Go's `%!d(string=x)` instead of failing.

use super::value::Value;

/// `%v` of a value, as `{{ value }}` and `print` show it.
pub fn sprint_value(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::Str(s) => out.push_str(s),
        Value::BinaryStr(bytes) => out.push_str(&String::from_utf8_lossy(bytes)),
        Value::Bytes(bytes) => {
            let items: Vec<String> = bytes.iter().map(u8::to_string).collect();
            out.push('[');
            out.push_str(&items.join(" "));
            out.push(']');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push_str("map[");
            for (i, (key, item)) in entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(object) => out.push_str(&object.go_string()),
    }
}

/// `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::Str(_));
        if i > 0 && !is_string && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        write_value(&mut out, arg);
    }
    out
}

/// `fmt.Sprintln`: spaces between all operands, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(sprint_value).collect();
    format!("{}\n", parts.join(" "))
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest digits
/// that round-trip, in exponent form when the exponent is below -4 or at least 6.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (negative, digits, exp) = shortest_digits(f);
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        return format!("{sign}{}", exp_form(&digits, exp));
    }
    format!("{sign}{}", plain_form(&digits, exp))
}

/// Decimal digits (no leading zeros) and base-10 exponent of the shortest representation
/// that round-trips, like Go's `strconv` shortest mode.
pub fn shortest_digits(f: f64) -> (bool, String, i32) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0').to_string();
    let digits = if digits.is_empty() {
        "0".to_string()
    } else {
        digits
    };
    (f < 0.0, digits, exp.parse().unwrap_or(0))
}

fn exp_form(digits: &str, exp: i32) -> String {
    let mut out = digits[..1].to_string();
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let sign = if exp < 0 { '-' } else { '+' };
    out.push_str(&format!("e{sign}{:02}", exp.abs()));
    out
}

pub fn plain_form(digits: &str, exp: i32) -> String {
    if exp < 0 {
        return format!("0.{}{digits}", "0".repeat((-exp - 1) as usize));
    }
    let point = exp as usize + 1;
    if digits.len() <= point {
        format!("{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{}.{}", &digits[..point], &digits[point..])
    }
}

#[derive(Default, Clone)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// `fmt.Sprintf` with Go's verbs and its in-band error strings.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next_arg = 0;
    // Explicit indexes (`%[2]s`) turn off Go's complaint about unused operands.
    let mut reordered = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        read_arg_index(&mut chars, &mut next_arg, &mut reordered);
        spec.width = read_count(&mut chars, args, &mut next_arg);
        if chars.peek() == Some(&'.') {
            chars.next();
            read_arg_index(&mut chars, &mut next_arg, &mut reordered);
            spec.precision = Some(read_count(&mut chars, args, &mut next_arg).unwrap_or(0));
        }
        read_arg_index(&mut chars, &mut next_arg, &mut reordered);
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        out.push_str(&format_one(verb, &spec, arg));
    }
    if !reordered && next_arg < args.len() {
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.type_name(), sprint_value(a)),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// An explicit argument index, `[n]` (1-based), which picks the next operand.
fn read_arg_index(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    next_arg: &mut usize,
    reordered: &mut bool,
) {
    if chars.peek() != Some(&'[') {
        return;
    }
    let mut lookahead = chars.clone();
    lookahead.next();
    let digits: String = lookahead.by_ref().take_while(|c| *c != ']').collect();
    if let Ok(n @ 1..) = digits.parse::<usize>() {
        *chars = lookahead;
        *next_arg = n - 1;
        *reordered = true;
    }
}

fn read_count(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Value],
    next_arg: &mut usize,
) -> Option<usize> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let n = match args.get(*next_arg) {
            Some(Value::Int(i) | Value::Int64(i)) => usize::try_from(*i).ok(),
            _ => None,
        };
        *next_arg += 1;
        return n;
    }
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0) * 10 + d as usize);
        chars.next();
    }
    n
}

/// Go's `badVerb`: the verb, the argument's type, and the argument printed with `%v` and
/// the same width and precision.
fn bad_verb(verb: char, spec: &Spec, arg: &Value) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        arg => format!(
            "%!{verb}({}={})",
            arg.type_name(),
            format_value('v', spec, arg, 1)
        ),
    }
}

/// One `printf` operand, as Go's `printArg`.
fn format_one(verb: char, spec: &Spec, arg: &Value) -> String {
    match (verb, arg) {
        ('T', arg) => pad(arg.type_name(), spec, false),
        ('v', Value::Nil) => pad("<nil>".into(), spec, false),
        (_, Value::Nil) => bad_verb(verb, spec, arg),
        _ => format_value(verb, spec, arg, 0),
    }
}

/// Go's `printValue`: composites apply the verb to each element (map keys included) and
/// the width to each element; nil elements print as `<nil>` whatever the verb.
fn format_value(verb: char, spec: &Spec, value: &Value, depth: usize) -> String {
    match value {
        Value::Nil if depth > 0 => pad("<nil>".into(), spec, false),
        Value::List(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| format_value(verb, spec, item, depth + 1))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(entries) => {
            let parts: Vec<String> = entries
                .borrow()
                .iter()
                .map(|(key, item)| {
                    format!(
                        "{}:{}",
                        format_value(verb, spec, &Value::str(key.as_str()), depth + 1),
                        format_value(verb, spec, item, depth + 1)
                    )
                })
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        Value::Bytes(bytes) if !matches!(verb, 's' | 'q' | 'x' | 'X') => {
            let parts: Vec<String> = bytes
                .iter()
                .map(|b| format_value(verb, spec, &Value::Int(i64::from(*b)), depth + 1))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        scalar => format_scalar(verb, spec, scalar),
    }
}

fn format_scalar(verb: char, spec: &Spec, arg: &Value) -> String {
    let body = match (verb, arg) {
        ('v' | 's', Value::Str(s)) => truncate(s, spec.precision),
        ('v', Value::Float(f)) => match spec.precision {
            None => format_float_g_sign(*f, spec),
            Some(p) => float_sign(*f, spec, g_precision(f.abs(), p.max(1))),
        },
        ('v' | 'd', Value::Int(i) | Value::Int64(i)) => {
            sign(*i, spec, i.unsigned_abs().to_string())
        }
        ('v' | 't', Value::Bool(b)) => b.to_string(),
        ('v' | 's', Value::Object(o)) => o.go_string(),
        ('s', Value::Bytes(b)) => truncate(&String::from_utf8_lossy(b), spec.precision),
        ('q', Value::Str(s)) if spec.plus => quote_ascii(s),
        ('q', Value::Str(s)) => quote(s),
        ('q', Value::Bytes(b)) => quote(&String::from_utf8_lossy(b)),
        ('q', Value::Int(i) | Value::Int64(i)) => quote_rune(*i),
        ('x', Value::Int(i) | Value::Int64(i)) => sign(*i, spec, format!("{:x}", i.unsigned_abs())),
        ('X', Value::Int(i) | Value::Int64(i)) => sign(*i, spec, format!("{:X}", i.unsigned_abs())),
        ('o', Value::Int(i) | Value::Int64(i)) => sign(*i, spec, format!("{:o}", i.unsigned_abs())),
        ('b', Value::Int(i) | Value::Int64(i)) => sign(*i, spec, format!("{:b}", i.unsigned_abs())),
        ('c', Value::Int(i) | Value::Int64(i)) => {
            char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string()
        }
        ('U', Value::Int(i) | Value::Int64(i)) => format!("U+{i:04X}"),
        ('x', Value::Str(s)) => hex(s.as_bytes(), false, spec.space),
        ('X', Value::Str(s)) => hex(s.as_bytes(), true, spec.space),
        ('x', Value::Bytes(b)) => hex(b, false, spec.space),
        ('X', Value::Bytes(b)) => hex(b, true, spec.space),
        ('O', Value::Int(i) | Value::Int64(i)) => {
            sign(*i, spec, format!("0o{:o}", i.unsigned_abs()))
        }
        ('f' | 'F', Value::Float(f)) => float_sign(
            *f,
            spec,
            format!("{:.*}", spec.precision.unwrap_or(6), f.abs()),
        ),
        ('e' | 'E', Value::Float(f)) => {
            let text = exp_precision(f.abs(), spec.precision.unwrap_or(6));
            let text = if verb == 'E' {
                text.to_uppercase()
            } else {
                text
            };
            float_sign(*f, spec, text)
        }
        ('g' | 'G', Value::Float(f)) => {
            let text = match spec.precision {
                None => format_float_g_sign(*f, spec),
                Some(p) => float_sign(*f, spec, g_precision(f.abs(), p.max(1))),
            };
            if verb == 'G' {
                text.to_uppercase()
            } else {
                text
            }
        }
        _ => return bad_verb(verb, spec, arg),
    };
    let numeric = matches!(arg, Value::Int(_) | Value::Int64(_) | Value::Float(_))
        && !matches!(verb, 'c' | 'q' | 'U');
    pad(body, spec, numeric)
}

fn format_float_g_sign(f: f64, spec: &Spec) -> String {
    float_sign(f, spec, format_float(f.abs()))
}

fn float_sign(f: f64, spec: &Spec, magnitude: String) -> String {
    if f.is_sign_negative() {
        format!("-{magnitude}")
    } else if spec.plus {
        format!("+{magnitude}")
    } else if spec.space {
        format!(" {magnitude}")
    } else {
        magnitude
    }
}

fn sign(i: i64, spec: &Spec, magnitude: String) -> String {
    let magnitude = match spec.precision {
        Some(p) if magnitude.len() < p => format!("{}{magnitude}", "0".repeat(p - magnitude.len())),
        _ => magnitude,
    };
    if i < 0 {
        format!("-{magnitude}")
    } else if spec.plus {
        format!("+{magnitude}")
    } else if spec.space {
        format!(" {magnitude}")
    } else {
        magnitude
    }
}

fn exp_precision(f: f64, precision: usize) -> String {
    let text = format!("{f:.precision$e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// `%.Ng`: N significant digits, exponent form when exp < -4 or exp >= N.
fn g_precision(f: f64, precision: usize) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let text = format!("{:.*e}", precision - 1, f);
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if exp < -4 || exp >= precision as i32 {
        exp_form(digits, exp)
    } else {
        plain_form(digits, exp)
    }
}

fn truncate(s: &str, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

/// `%x` of text: two hex digits per byte, separated by spaces with the ` ` flag.
fn hex(bytes: &[u8], upper: bool, spaced: bool) -> String {
    let digits: Vec<String> = bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect();
    digits.join(if spaced { " " } else { "" })
}

fn pad(body: String, spec: &Spec, numeric: bool) -> String {
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.strip_prefix(['-', '+']) {
            Some(rest) => (&body[..1], rest),
            None => ("", body.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else if spec.zero {
        // Go 1.22 pads strings with zeros too.
        format!("{}{body}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// Go's `strconv.QuoteToASCII` (`%+q`): non-ASCII characters as escapes.
fn quote_ascii(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c as u32 {
            0x20..=0x7e => push_escaped(&mut out, c, '"'),
            u if u < 0x10000 && c.is_ascii() => push_escaped(&mut out, c, '"'),
            u if u < 0x10000 => out.push_str(&format!("\\u{u:04x}")),
            u => out.push_str(&format!("\\U{u:08x}")),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

fn quote_rune(i: i64) -> String {
    let c = u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}');
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        c if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if is_go_printable(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// An approximation of Go's `unicode.IsPrint`: letters, marks, numbers, punctuation,
/// symbols and the ASCII space.
pub fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x202a..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xd800..=0xdfff
        | 0xe000..=0xf8ff | 0xfdd0..=0xfdef | 0xfffe | 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go() {
        assert_eq!(format_float(1_000_000.0), "1e+06");
        assert_eq!(format_float(123_456.0), "123456");
        assert_eq!(format_float(1.5), "1.5");
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(0.00001), "1e-05");
        assert_eq!(format_float(1_234_567.0), "1.234567e+06");
    }

    #[test]
    fn printf_verbs() {
        let args = [Value::Float(3.0), Value::str("x")];
        assert_eq!(sprintf("%d %s", &args), "%!d(float64=3) x");
        assert_eq!(sprintf("%s-%s", &[Value::str("a")]), "a-%!s(MISSING)");
        assert_eq!(
            sprintf("%05d|%-3s|", &[Value::Int(42), Value::str("a")]),
            "00042|a  |"
        );
        assert_eq!(sprintf("%.2f", &[Value::Float(1.005)]), "1.00");
        assert_eq!(sprintf("%q", &[Value::str("a\"b")]), "\"a\\\"b\"");
        assert_eq!(sprintf("%v", &[Value::Nil]), "<nil>");
        assert_eq!(sprintf("x", &[Value::Int(1)]), "x%!(EXTRA int=1)");
    }
}
