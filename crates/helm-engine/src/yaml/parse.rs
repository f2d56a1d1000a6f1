//! YAML as Helm reads it (`sigs.k8s.io/yaml` over go-yaml v2): YAML 1.1 scalars (`yes`,
//! `on`, `y` are booleans; `0755` is octal), merge keys, anchors, and then the JSON round
//! trip that turns every key into a string and leaves numbers as JSON numbers.

use std::collections::HashMap;

use super::libyaml::{Event, ParseError, Parser, Style};
use serde_json::{Map, Number, Value as Json};

/// A decoded YAML node, before the JSON conversion.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub struct Scalar {
    pub text: String,
    /// Quoted and block scalars are strings whatever their text.
    pub plain: bool,
    pub tag: Option<String>,
}

/// The first document of `text` as JSON, as `sigs.k8s.io/yaml.Unmarshal` would give it;
/// `Json::Null` for an empty document.
pub fn from_yaml(text: &str) -> Result<Json, String> {
    let node = first_document(text)?;
    node.map_or(Ok(Json::Null), |n| to_json(&n))
}

/// The first document of `text`, undecoded, as go-yaml's `Unmarshal` reads it: parsed by
/// libyaml, and only up to that document's end.
pub fn first_document(text: &str) -> Result<Option<Node>, String> {
    read_first(text, |_| None)
}

/// The first document of `text`, read event by event to its end, or until `enough` takes
/// from the builder all that is wanted of it: the rest is then not read at all.
fn read_first(
    text: &str,
    mut enough: impl FnMut(&mut Builder) -> Option<Node>,
) -> Result<Option<Node>, String> {
    let mut builder = Builder::default();
    let mut parser = Parser::new(text.as_bytes());
    loop {
        let (event, line) = parser.next().map_err(|e| go_error(&e))?;
        match event {
            Event::DocumentEnd | Event::StreamEnd => break,
            event => builder.on_event(event, line)?,
        }
        if let Some(node) = enough(&mut builder) {
            return Ok(Some(node));
        }
    }
    Ok(builder.documents.into_iter().next())
}

/// What identifies the object a manifest holds, as [`from_yaml`] would give it, read only as
/// far as needed: the top-level keys up to the last of `apiVersion`, `kind` and `metadata`,
/// stopping there. A CRD's `spec` is megabytes of schema that listing or printing a
/// manifest never needs. Whatever does not start as a map is read whole.
pub fn head_from_yaml(text: &str) -> Result<Json, String> {
    const HEAD: [&str; 3] = ["apiVersion", "kind", "metadata"];
    let head = read_first(text, |builder| {
        let [(Node::Map(entries), _)] = builder.stack.as_slice() else {
            return None;
        };
        // A merge key could bring any of them in again.
        let complete = builder.keys[0].is_none()
            && HEAD
                .iter()
                .all(|wanted| entries.iter().any(|(key, _)| is_key(key, wanted)))
            && !entries.iter().any(|(key, _)| is_key(key, "<<"));
        complete.then(|| builder.stack.pop().expect("the top-level map").0)
    })?;
    head.map_or(Ok(Json::Null), |node| to_json(&node))
}

fn is_key(node: &Node, name: &str) -> bool {
    matches!(node, Node::Scalar(scalar) if scalar.text == name)
}

/// go-yaml's wording, `yaml: line N: PROBLEM`, with its line numbers: the problem's line
/// counts from 1 for the scanner's errors and from 0 for the parser's, else the context's.
fn go_error(error: &ParseError) -> String {
    let line = match (error.problem_line, error.from_scanner) {
        (0, _) => error.context_line,
        (line, true) => line + 1,
        (line, false) => line,
    };
    let problem = match error.problem.as_str() {
        "" => "unknown problem parsing YAML content",
        problem => problem,
    };
    match line {
        0 => format!("yaml: {problem}"),
        line => format!("yaml: line {line}: {problem}"),
    }
}

/// Deeper than this, a document is refused rather than recursed into (go-yaml stops at
/// 10000; manifests and values files are a few dozen deep, and the JSON conversion
/// recurses on ordinary thread stacks).
const MAX_DEPTH: usize = 1000;
/// Nodes that aliases may copy in one document: go-yaml refuses "excessive aliasing" too,
/// so a few lines of anchors cannot make gigabytes ("billion laughs").
const MAX_ALIASED_NODES: usize = 1_000_000;

#[derive(Default)]
struct Builder {
    documents: Vec<Node>,
    stack: Vec<(Node, Option<String>)>,
    keys: Vec<Option<Node>>,
    /// Each anchored node, and how many nodes it holds.
    anchors: HashMap<String, (Node, usize)>,
    aliased_nodes: usize,
}

fn node_count(node: &Node) -> usize {
    match node {
        Node::Scalar(_) => 1,
        Node::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        Node::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| node_count(k) + node_count(v))
                .sum::<usize>()
        }
    }
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: Option<String>) {
        if let Some(anchor) = anchor {
            let count = node_count(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        let Some((parent, _)) = self.stack.last_mut() else {
            self.documents.push(node);
            return;
        };
        match parent {
            Node::Seq(items) => items.push(node),
            Node::Map(entries) => {
                let key_slot = self.keys.last_mut().expect("a map has a key slot");
                match key_slot.take() {
                    None => *key_slot = Some(node),
                    Some(key) => entries.push((key, node)),
                }
            }
            Node::Scalar(_) => unreachable!("scalars are never on the stack"),
        }
    }

    fn deeper(&self, line: u64) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!(
                "yaml: line {}: exceeded max depth of {MAX_DEPTH}",
                line + 1
            ));
        }
        Ok(())
    }

    fn on_event(&mut self, event: Event, line: u64) -> Result<(), String> {
        match event {
            Event::Scalar {
                anchor,
                tag,
                value,
                style,
            } => {
                let node = Node::Scalar(Scalar {
                    text: value,
                    plain: style == Style::Plain,
                    tag,
                });
                self.push_value(node, anchor);
            }
            Event::SequenceStart { anchor } => {
                self.deeper(line)?;
                self.stack.push((Node::Seq(Vec::new()), anchor));
            }
            Event::MappingStart { anchor } => {
                self.deeper(line)?;
                self.stack.push((Node::Map(Vec::new()), anchor));
                self.keys.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, anchor)) = self.stack.pop() {
                    if matches!(node, Node::Map(_)) {
                        self.keys.pop();
                    }
                    self.push_value(node, anchor);
                }
            }
            Event::Alias { anchor } => match self.anchors.get(&anchor).cloned() {
                Some((node, count)) => {
                    self.aliased_nodes += count;
                    if self.aliased_nodes > MAX_ALIASED_NODES {
                        return Err("yaml: document contains excessive aliasing".into());
                    }
                    self.push_value(node, None);
                }
                None => {
                    return Err(format!(
                        "yaml: line {}: unknown anchor '{anchor}' referenced",
                        line + 1
                    ));
                }
            },
            _ => {}
        }
        Ok(())
    }
}

/// A scalar's value under go-yaml v2's resolution rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

pub fn resolve(scalar: &Scalar) -> Resolved {
    let tag = scalar.tag.as_deref().map(|t| {
        t.trim_start_matches("tag:yaml.org,2002:")
            .trim_start_matches("!!")
    });
    match tag {
        Some("str") => return Resolved::Str(scalar.text.clone()),
        // An explicit type resolves quoted text too (`!!int "42"` is 42).
        Some("int" | "float" | "bool" | "null") => {
            let resolved = resolve_plain(&scalar.text);
            let fits = matches!(
                (tag, &resolved),
                (Some("int"), Resolved::Int(_) | Resolved::Uint(_))
                    | (Some("float"), Resolved::Float(_))
                    | (Some("bool"), Resolved::Bool(_))
                    | (Some("null"), Resolved::Null)
            );
            if fits {
                return resolved;
            }
            if let (Some("float"), Resolved::Int(i)) = (tag, &resolved) {
                return Resolved::Float(*i as f64);
            }
        }
        Some("binary") => {
            return Resolved::Str(decode_binary(&scalar.text));
        }
        _ => {}
    }
    if !scalar.plain {
        return Resolved::Str(scalar.text.clone());
    }
    resolve_plain(&scalar.text)
}

fn decode_binary(text: &str) -> String {
    use base64::Engine;
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|_| text.to_string())
}

/// go-yaml v2's `resolve` for an untagged plain scalar.
pub fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.'
        && let Ok(f) = text.parse::<f64>()
    {
        return Resolved::Float(f);
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Resolved::Str(text.to_string());
    }
    if is_timestamp(text) {
        return Resolved::Str(text.to_string());
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(n) = parse_int_base0(&plain) {
        return n;
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Resolved::Float(f);
    }
    if let Some(bits) = plain.strip_prefix("0b")
        && let Ok(i) = i64::from_str_radix(bits, 2)
    {
        return Resolved::Int(i);
    }
    if let Some(bits) = plain.strip_prefix("-0b")
        && let Ok(i) = i64::from_str_radix(bits, 2)
    {
        return Resolved::Int(-i);
    }
    Resolved::Str(text.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`.
fn parse_int_base0(s: &str) -> Option<Resolved> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, body) = if let Some(rest) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        return 0i64.checked_sub_unsigned(magnitude).map(Resolved::Int);
    }
    Some(i64::try_from(magnitude).map_or(Resolved::Uint(magnitude), Resolved::Int))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() && !frac.is_empty() || !int.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// YAML timestamps in the forms go-yaml v2 tries (`2006-1-2`, `2006-1-2 15:4:5.999`, and
/// with `T`, a zone `Z` or `±07:00`): they decode as strings into `interface{}`, but a
/// string in one of these forms is quoted when encoded.
pub fn is_timestamp(s: &str) -> bool {
    let Some((date, time)) = split_date(s) else {
        return false;
    };
    if !valid_date(date) {
        return false;
    }
    let Some(separator) = time.chars().next() else {
        return true;
    };
    let time = &time[1..];
    match separator {
        ' ' => clock(time).is_some_and(str::is_empty),
        'T' | 't' => clock(time).is_some_and(|zone| {
            zone == "Z" || {
                let b = zone.as_bytes();
                b.len() == 6
                    && matches!(b[0], b'+' | b'-')
                    && digits(&zone[1..3])
                    && b[3] == b':'
                    && digits(&zone[4..])
            }
        }),
        _ => false,
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-M-D` and what follows it.
fn split_date(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let end = s[5..].find(['T', 't', ' ']).map_or(s.len(), |i| i + 5);
    Some((&s[..end], &s[end..]))
}

fn valid_date(date: &str) -> bool {
    let mut parts = date.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let short = |p: &str| (1..=2).contains(&p.len()) && digits(p);
    if !(short(month) && short(day)) {
        return false;
    }
    let (year, month, day): (i32, u32, u32) = (
        year.parse().unwrap_or(0),
        month.parse().unwrap_or(0),
        day.parse().unwrap_or(0),
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `15:4:5` with an optional fraction; returns what follows.
fn clock(s: &str) -> Option<&str> {
    let mut rest = s;
    for (i, max) in [23u32, 59, 59].iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(':')?;
        }
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=2).contains(&len) || rest[..len].parse::<u32>().ok()? > *max {
            return None;
        }
        rest = &rest[len..];
    }
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = &fraction[len..];
    }
    Some(rest)
}

/// The JSON form: keys become strings, numbers stay numbers, merge keys (`<<`) merge.
pub fn to_json(node: &Node) -> Result<Json, String> {
    match node {
        Node::Scalar(scalar) => Ok(match resolve(scalar) {
            Resolved::Null => Json::Null,
            Resolved::Bool(b) => Json::Bool(b),
            Resolved::Int(i) => Json::Number(i.into()),
            Resolved::Uint(u) => Json::Number(u.into()),
            Resolved::Float(f) => Json::Number(Number::from_f64(f).ok_or_else(|| {
                let text = gotemplate::gofmt::format_float(f);
                format!("error converting YAML to JSON: json: unsupported value: {text}")
            })?),
            Resolved::Str(s) => Json::String(s),
        }),
        Node::Seq(items) => Ok(Json::Array(
            items.iter().map(to_json).collect::<Result<_, _>>()?,
        )),
        Node::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                if is_merge_key(key) {
                    merge_into(&mut map, value)?;
                }
            }
            for (key, value) in entries {
                if !is_merge_key(key) {
                    map.insert(key_string(key)?, to_json(value)?);
                }
            }
            Ok(Json::Object(map))
        }
    }
}

fn is_merge_key(key: &Node) -> bool {
    matches!(key, Node::Scalar(s) if s.plain && s.text == "<<")
}

fn merge_into(map: &mut Map<String, Json>, value: &Node) -> Result<(), String> {
    let sources: Vec<&Node> = match value {
        Node::Seq(items) => items.iter().collect(),
        other => vec![other],
    };
    for source in sources {
        if let Json::Object(entries) = to_json(source)? {
            for (k, v) in entries {
                map.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

/// sigs.k8s.io/yaml's key conversion: scalars as their text; a null key is an error.
fn key_string(key: &Node) -> Result<String, String> {
    Ok(match key {
        Node::Scalar(scalar) => match resolve(scalar) {
            Resolved::Null => {
                return Err(format!(
                    "error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: {:?}",
                    scalar.text
                ));
            }
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Uint(u) => u.to_string(),
            Resolved::Float(f) => gotemplate::gofmt::format_float(f),
            Resolved::Str(s) => s,
        },
        other => {
            gotemplate::gofmt::sprint_value(&gotemplate::value::Value::from_json(&to_json(other)?))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_read_up_to_the_last_identifying_field() {
        // What follows `metadata` is not read: a CRD's schema, or here text that is not YAML.
        let head = head_from_yaml(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  mode: 0755\ndata: [unclosed\n",
        )
        .unwrap();
        assert_eq!(
            head,
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "mode": 493}})
        );
        assert!(from_yaml("kind: a\napiVersion: v1\nmetadata: {}\ndata: [unclosed\n").is_err());
        // Fields before the last of the three are kept; a document without them is read whole.
        let head = head_from_yaml("data: {x: 1}\nkind: a\nmetadata: {}\napiVersion: v1\nmore: 2\n")
            .unwrap();
        assert_eq!(head["data"], serde_json::json!({"x": 1}));
        assert!(head.get("more").is_none());
        assert_eq!(head_from_yaml("kind: a\nmore: 2\n").unwrap()["more"], 2);
        assert_eq!(head_from_yaml("- a\n").unwrap(), serde_json::json!(["a"]));
        assert_eq!(head_from_yaml("# nothing\n").unwrap(), Json::Null);
    }

    #[test]
    fn a_merge_key_makes_a_head_read_whole() {
        let head = head_from_yaml(
            "base: &b {kind: Old}\n<<: *b\napiVersion: v1\nkind: New\nmetadata: {}\nrest: 1\n",
        )
        .unwrap();
        assert_eq!(
            head,
            from_yaml(
                "base: &b {kind: Old}\n<<: *b\napiVersion: v1\nkind: New\nmetadata: {}\nrest: 1\n"
            )
            .unwrap()
        );
    }

    #[test]
    fn yaml_1_1_scalars() {
        let json =
            from_yaml("a: yes\nb: 0755\nc: 1e3\nd: '1'\nn: 1\ne: 2001-12-14\nf: 1_000\n").unwrap();
        assert_eq!(json["a"], Json::Bool(true));
        assert_eq!(json["b"], serde_json::json!(493));
        assert_eq!(json["c"], serde_json::json!(1000.0));
        assert_eq!(json["d"], serde_json::json!("1"));
        assert_eq!(json["false"], serde_json::json!(1));
        assert_eq!(json["e"], serde_json::json!("2001-12-14"));
        assert_eq!(json["f"], serde_json::json!(1000));
    }

    #[test]
    fn aliases_and_nesting_cannot_blow_up() {
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            laughs.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert_eq!(
            from_yaml(&laughs).unwrap_err(),
            "yaml: document contains excessive aliasing"
        );
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(
            from_yaml(&deep)
                .unwrap_err()
                .contains("exceeded max depth of 1000")
        );
        assert!(from_yaml(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).is_ok());
    }

    #[test]
    fn merge_keys_and_anchors() {
        let json = from_yaml("base: &b {x: 1, z: 2}\nc:\n  <<: *b\n  z: 3\n").unwrap();
        assert_eq!(json["c"], serde_json::json!({"x": 1, "z": 3}));
    }
}
