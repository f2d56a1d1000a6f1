//! `toYaml` as Helm has it: `sigs.k8s.io/yaml.Marshal`, i.e. JSON encoding, decoding that
//! JSON as YAML, then go-yaml v2's emitter: keys in its natural order (`a2` before `a10`),
//! sequences not indented under keys, strings quoted only when they would not read back as
//! strings, long plain strings folded after column 80, multi-line strings as `|` blocks.

use std::cmp::Ordering;

use super::parse::{Resolved, is_timestamp, resolve_plain};
use super::scalar::{Analysis, escape, needs_escape};
use gotemplate::gofmt::format_float;
use gotemplate::value::Value;

/// go-yaml's preferred line width.
const BEST_WIDTH: usize = 80;

/// A value after the JSON round trip.
enum Node {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// `toYaml`: the YAML text without its final newline (only that one: a `|+` string's own
/// trailing lines stay).
pub fn to_yaml(value: &Value) -> String {
    json_to_yaml(&value.to_json())
}

/// JSON data as `toYaml` writes it: go-yaml v2's YAML, which quotes what YAML 1.1 readers
/// (kubectl, Helm) would take for another type (`"yes"`, `"0755"`).
pub fn json_to_yaml(json: &serde_json::Value) -> String {
    emit(&to_node(json, true))
}

/// [`json_to_yaml`] with each map's keys in the order they come, as go-yaml writes a Go
/// struct's fields.
pub fn json_to_yaml_in_order(json: &serde_json::Value) -> String {
    emit(&to_node(json, false))
}

fn emit(node: &Node) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
    };
    emitter.node(node, -1, false);
    let mut out = emitter.out;
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// `sort`: keys in go-yaml's order for a map; else as they come.
fn to_node(json: &serde_json::Value, sort: bool) -> Node {
    use serde_json::Value as J;
    match json {
        J::Null => Node::Null,
        J::Bool(b) => Node::Bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Node::Int(i.to_string());
            }
            if let Some(u) = n.as_u64() {
                return Node::Int(u.to_string());
            }
            let f = n.as_f64().unwrap_or(0.0);
            // encoding/json writes integral floats below 1e21 without a point, and YAML then
            // reads them back as integers when they fit.
            if f.fract() == 0.0 && f.abs() < 1e21 {
                let text = gotemplate::json::format_json_float(f).unwrap_or_default();
                if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() {
                    return Node::Int(text);
                }
            }
            Node::Float(f)
        }
        J::String(s) => Node::Str(s.clone()),
        J::Array(items) => Node::Seq(items.iter().map(|item| to_node(item, sort)).collect()),
        J::Object(entries) => {
            let mut pairs: Vec<(String, Node)> = entries
                .iter()
                .map(|(k, v)| (k.clone(), to_node(v, sort)))
                .collect();
            if sort {
                stable_sort(&mut pairs, |a, b| key_order(&a.0, &b.0) == Ordering::Less);
            }
            Node::Map(pairs)
        }
    }
}

/// A merge sort that, unlike the standard library's, accepts an inconsistent `less`:
/// go-yaml's key order is not a total order for some mixes of digits, letters and
/// punctuation. (Go's result for those depends on map iteration order, so it varies from
/// run to run in helm too; for every consistent case the order is the same.)
fn stable_sort<T>(items: &mut Vec<T>, less: impl Fn(&T, &T) -> bool + Copy) {
    if items.len() <= 1 {
        return;
    }
    let mut right = items.split_off(items.len() / 2);
    stable_sort(items, less);
    stable_sort(&mut right, less);
    let mut left = std::mem::take(items).into_iter().peekable();
    let mut right = right.into_iter().peekable();
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let next = if less(r, l) {
            right.next()
        } else {
            left.next()
        };
        items.extend(next);
    }
    items.extend(left);
    items.extend(right);
}

/// libyaml's simple keys: at most 128 bytes, on one line.
fn is_simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// go-yaml v2's `keyList.Less` for string keys: letters after other characters, digit runs
/// compared as numbers.
pub fn key_order(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                if ar[j - 1] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
                j -= 1;
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        if c == '\n' {
            self.column = 0;
        } else {
            self.column += 1;
        }
    }

    fn put_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn write_indent(&mut self, indent: i32) {
        let indent = indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put('\n');
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.put_str(text);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// Emits `node` inside a container indented at `indent` (-1 at the root).
    /// `in_mapping`: the node is a mapping's value (so a sequence is not indented).
    fn node(&mut self, node: &Node, indent: i32, in_mapping: bool) {
        match node {
            Node::Map(entries) if !entries.is_empty() => {
                let inner = if indent < 0 { 0 } else { indent + 2 };
                for (key, value) in entries {
                    self.write_indent(inner);
                    if is_simple_key(key) {
                        self.scalar(key, Style::for_string(key), inner, true);
                        self.indicator(":", false, false, false);
                    } else {
                        // libyaml writes long or multi-line keys as `? key` / `: value`.
                        self.indicator("?", true, false, true);
                        self.scalar(key, Style::for_string(key), inner, false);
                        self.write_indent(inner);
                        self.indicator(":", true, false, true);
                    }
                    self.node(value, inner, true);
                }
            }
            Node::Seq(items) if !items.is_empty() => {
                let indentless = in_mapping && !self.indention;
                let inner = if indent < 0 {
                    0
                } else if indentless {
                    indent
                } else {
                    indent + 2
                };
                for item in items {
                    self.write_indent(inner);
                    self.indicator("-", true, false, true);
                    self.node(item, inner, false);
                }
            }
            Node::Map(_) => self.indicator("{}", true, false, false),
            Node::Seq(_) => self.indicator("[]", true, false, false),
            Node::Null => self.scalar("null", Style::Plain, indent, false),
            Node::Bool(b) => self.scalar(
                if *b { "true" } else { "false" },
                Style::Plain,
                indent,
                false,
            ),
            Node::Int(text) => self.scalar(text, Style::Plain, indent, false),
            Node::Float(f) => {
                let text = match format_float(*f).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    other => other.to_string(),
                };
                self.scalar(&text, Style::Plain, indent, false);
            }
            Node::Str(s) => self.scalar(s, Style::for_string(s), indent, false),
        }
    }

    /// A scalar with go-yaml's style choice; `indent` is its container's.
    fn scalar(&mut self, value: &str, wanted: Style, container: i32, simple_key: bool) {
        let indent = if container < 0 { 2 } else { container + 2 };
        let analysis = Analysis::of(value);
        let mut style = wanted;
        if simple_key && analysis.multiline {
            style = Style::Double;
        }
        if style == Style::Plain
            && (!analysis.block_plain_allowed || value.is_empty() && simple_key)
        {
            style = Style::Single;
        }
        if style == Style::Single && !analysis.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!analysis.block_allowed || simple_key) {
            style = Style::Double;
        }
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.plain(value, indent, allow_breaks),
            Style::Single => self.single_quoted(value, indent, allow_breaks),
            Style::Double => self.double_quoted(value, indent, allow_breaks),
            Style::Literal => self.literal(value, indent),
        }
    }

    fn plain(&mut self, value: &str, indent: i32, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, value: &str, indent: i32, allow_breaks: bool) {
        self.indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let breakable = i > 0 && i + 1 < chars.len() && chars[i + 1] != ' ';
                if allow_breaks && !spaces && self.column > BEST_WIDTH && breakable {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("'", false, false, false);
    }

    fn double_quoted(&mut self, value: &str, indent: i32, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if needs_escape(c) {
                self.put_str(&escape(c));
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                {
                    self.write_indent(indent);
                    if chars[i + 1] == ' ' {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
    }

    fn literal(&mut self, value: &str, indent: i32) {
        self.indicator("|", true, false, false);
        if value.starts_with([' ', '\n']) {
            self.indicator("2", false, false, false);
        }
        let chomp = if !value.ends_with('\n') {
            Some("-")
        } else if value == "\n" || value.ends_with("\n\n") {
            Some("+")
        } else {
            None
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false, false, false);
        }
        self.put('\n');
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if c == '\n' {
                self.put('\n');
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
    }
}

impl Style {
    /// go-yaml v2's `stringv`: block style for multi-line text, plain if the text reads
    /// back as a string, else double-quoted.
    fn for_string(s: &str) -> Style {
        if s.contains('\n') {
            return Style::Literal;
        }
        let is_str =
            matches!(resolve_plain(s), Resolved::Str(_)) && !is_timestamp(s) && !is_base60_float(s);
        if is_str { Style::Plain } else { Style::Double }
    }
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && rest.iter().all(|p| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse::from_yaml;

    fn yaml(src: &str) -> String {
        to_yaml(&Value::from_json(&from_yaml(src).unwrap()))
    }

    #[test]
    fn emits_like_go_yaml_v2() {
        assert_eq!(
            yaml("b: 1\na: [x, z]\nc: {}\n"),
            "a:\n- x\n- z\nb: 1\nc: {}"
        );
        assert_eq!(
            yaml("k: 'true'\ne: ''\nm: \"a\\nb\"\n"),
            "e: \"\"\nk: \"true\"\nm: |-\n  a\n  b"
        );
        assert_eq!(yaml("l:\n- a: 1\n  b: 2\n"), "l:\n- a: 1\n  b: 2");
        assert_eq!(yaml("a10: 1\na2: 2\n"), "a2: 2\na10: 1");
        assert_eq!(yaml("s: 'a: b'\nt: \"x\\ty\"\n"), "s: 'a: b'\nt: \"x\\ty\"");
        assert_eq!(
            yaml("d: '2001-12-14'\nf: 1.5\n"),
            "d: \"2001-12-14\"\nf: 1.5"
        );
    }
}
