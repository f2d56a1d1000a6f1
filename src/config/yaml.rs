//! YAML documents into typed structs, with errors that point at file:line.
//!
//! Parsing goes through `serde_yaml_ng::Value` so YAML merge keys (`<<: *anchor`, common in
//! helmfile files) are applied before the typed pass; that pass loses positions, so a small
//! event walk over the source maps the failing key path back to its line.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use yaml_rust2::parser::{Event, Parser};

use super::error::{ConfigError, Location};

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses one YAML document of `file` (whose text starts at `first_line` of the file)
/// into `T`. An empty document parses as `T::default()`.
pub fn parse_document<T: DeserializeOwned + Default>(
    text: &str,
    file: &Path,
    first_line: usize,
) -> Result<T, ConfigError> {
    let at = |line: usize, column: usize| Location::new(file, first_line + line - 1, column);
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|err| {
        let (line, column) = err.location().map_or((1, 0), |l| (l.line(), l.column()));
        ConfigError::Yaml {
            at: at(line, column),
            message: strip_position(&err.to_string()),
        }
    })?;
    if value.is_null() {
        return Ok(T::default());
    }
    value.apply_merge().map_err(|err| ConfigError::Yaml {
        at: at(1, 0),
        message: strip_position(&err.to_string()),
    })?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let steps: Vec<Step> = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                Segment::Seq { index } => Some(Step::Index(*index)),
                Segment::Map { key } => Some(Step::Key(key.clone())),
                Segment::Enum { .. } | Segment::Unknown => None,
            })
            .collect();
        let (line, column) = locate(text, &steps).unwrap_or((1, 0));
        ConfigError::Yaml {
            at: at(line, column),
            message: describe(&steps, &strip_position(&err.inner().to_string())),
        }
    })
}

/// serde_yaml puts " at line L column C" after its message; the location is shown in
/// front instead. Later positions (", while parsing a map at line ...") stay: they add context.
fn strip_position(message: &str) -> String {
    let Some(start) = message.find(" at line ") else {
        return message.to_string();
    };
    let rest = &message[start + " at line ".len()..];
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix(" column ").unwrap_or(rest);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    format!("{}{rest}", &message[..start])
}

/// Prefixes the key path and turns serde's unknown-field message into one with a suggestion.
fn describe(steps: &[Step], message: &str) -> String {
    let unknown = unknown_field(message);
    // For an unknown key the path ends at that key; the message names it already.
    let steps = match (&unknown, steps.split_last()) {
        (Some((field, _)), Some((Step::Key(last), parent))) if last == field => parent,
        _ => steps,
    };
    let mut path = String::new();
    for step in steps {
        match step {
            Step::Key(key) if path.is_empty() => path.push_str(key),
            Step::Key(key) => {
                path.push('.');
                path.push_str(key);
            }
            Step::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    let message = match unknown {
        Some((field, expected)) => {
            let mut text = format!("unknown key `{field}`");
            if let Some(close) = did_you_mean(&field, &expected) {
                text.push_str(&format!(" (did you mean `{close}`?)"));
            } else if !expected.is_empty() {
                text.push_str(&format!("; expected one of: {}", expected.join(", ")));
            }
            text
        }
        None => message.to_string(),
    };
    if path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((field.to_string(), expected))
}

/// The closest candidate, if it is close enough to be what the user meant.
pub fn did_you_mean<'a>(input: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

/// The 1-based line and column of the deepest node on `steps` that exists in `text`.
/// For a map entry that is the position of its key, which is where users look.
fn locate(text: &str, steps: &[Step]) -> Option<(usize, usize)> {
    let mut parser = Parser::new_from_str(text);
    let mut walker = Walker {
        parser: &mut parser,
        target: steps,
        best: None,
    };
    // Skip StreamStart and DocumentStart, then walk the root node.
    loop {
        let (event, mark) = walker.parser.next_token().ok()?;
        match event {
            Event::StreamStart | Event::DocumentStart => continue,
            Event::StreamEnd => return None,
            _ => {
                walker.best = Some((mark.line(), mark.col() + 1));
                walker.node(event, 0).ok()?;
                return walker.best;
            }
        }
    }
}

/// The line of each item of the top-level sequence under `key` (e.g. each of `releases`).
pub fn item_lines(text: &str, key: &str) -> Vec<usize> {
    enum Frame {
        Map { expect_key: bool },
        Seq,
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root_key: Option<String> = None;
    let mut lines = Vec::new();
    while let Ok((event, mark)) = parser.next_token() {
        let in_target = matches!(stack.as_slice(), [Frame::Map { .. }, Frame::Seq])
            && root_key.as_deref() == Some(key);
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        );
        if in_target && starts_node {
            lines.push(mark.line());
        }
        if let ([Frame::Map { expect_key: true }], Event::Scalar(name, ..)) =
            (stack.as_slice(), &event)
        {
            root_key = Some(name.clone());
        }
        match event {
            Event::StreamEnd => break,
            Event::MappingStart(..) => {
                stack.push(Frame::Map { expect_key: true });
                continue;
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq);
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            Event::Scalar(..) | Event::Alias(..) => {}
            _ => continue,
        }
        // A node just ended: inside a mapping, keys and values alternate.
        if let Some(Frame::Map { expect_key }) = stack.last_mut() {
            *expect_key = !*expect_key;
        }
    }
    lines
}

struct Walker<'p, 't> {
    parser: &'p mut Parser<std::str::Chars<'t>>,
    target: &'p [Step],
    best: Option<(usize, usize)>,
}

impl Walker<'_, '_> {
    /// Consumes the node that starts with `event`; `depth` steps of the target matched so far
    /// (`usize::MAX` once off the target's path).
    fn node(&mut self, event: Event, depth: usize) -> Result<(), ()> {
        let want = self.target.get(depth);
        match event {
            Event::MappingStart(..) => loop {
                let (key, mark) = self.parser.next_token().map_err(|_| ())?;
                let key_at = (mark.line(), mark.col() + 1);
                let name = match &key {
                    Event::MappingEnd => return Ok(()),
                    Event::Scalar(name, ..) => Some(name.clone()),
                    _ => None,
                };
                self.node(key, usize::MAX)?;
                let (value, _) = self.parser.next_token().map_err(|_| ())?;
                let matched = matches!((want, &name), (Some(Step::Key(k)), Some(n)) if k == n);
                if matched {
                    self.best = Some(key_at);
                    self.node(value, depth + 1)?;
                } else {
                    self.node(value, usize::MAX)?;
                }
            },
            Event::SequenceStart(..) => {
                let mut index = 0;
                loop {
                    let (item, mark) = self.parser.next_token().map_err(|_| ())?;
                    if item == Event::SequenceEnd {
                        return Ok(());
                    }
                    if want == Some(&Step::Index(index)) {
                        self.best = Some((mark.line(), mark.col() + 1));
                        self.node(item, depth + 1)?;
                    } else {
                        self.node(item, usize::MAX)?;
                    }
                    index += 1;
                }
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        name: String,
        #[serde(default)]
        count: u32,
    }

    fn error(text: &str) -> String {
        parse_document::<Doc>(text, Path::new("f.yaml"), 1)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_key_points_at_its_line_with_a_suggestion() {
        let text = "items:\n  - name: a\n  - name: b\n    cuont: 3\n";
        assert_eq!(
            error(text),
            "f.yaml:4:5: items[1]: unknown key `cuont` (did you mean `count`?)"
        );
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let text = "items:\n  - name: a\n    count: many\n";
        let message = error(text);
        assert!(message.starts_with("f.yaml:3:"), "{message}");
        assert!(
            message.contains("items[0].count: invalid type"),
            "{message}"
        );
    }

    #[test]
    fn syntax_error_has_a_line() {
        assert_eq!(
            error("items:\n  - name: [a\n"),
            "f.yaml:3:1: did not find expected ',' or ']', while parsing a flow sequence at line 2 column 11"
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let message = error("items:\n  - name: a\n    name: b\n");
        assert!(message.contains("duplicate"), "{message}");
    }

    #[test]
    fn merge_keys_apply() {
        let text = "base: &b {count: 2}\nitems:\n  - <<: *b\n    name: a\n";
        #[derive(Debug, Default, Deserialize)]
        struct WithBase {
            #[serde(default)]
            items: Vec<Item>,
        }
        let doc: WithBase = parse_document(text, Path::new("f.yaml"), 1).unwrap();
        assert_eq!((doc.items[0].name.as_str(), doc.items[0].count), ("a", 2));
    }

    #[test]
    fn lines_are_offset_for_later_documents() {
        let message = parse_document::<Doc>("items: 3\n", Path::new("f.yaml"), 10)
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("f.yaml:10:"), "{message}");
    }

    #[test]
    fn item_lines_finds_each_release() {
        let text = "helmDefaults: {wait: true}\nreleases:\n  - name: a\n    labels: {x: y}\n  - name: b\nother: [1]\n";
        assert_eq!(item_lines(text, "releases"), vec![3, 5]);
    }

    #[test]
    fn empty_document_is_default() {
        let doc: Doc = parse_document("# nothing\n", Path::new("f.yaml"), 1).unwrap();
        assert!(doc.items.is_empty());
    }
}
