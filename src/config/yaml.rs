//! YAML documents into typed structs, with errors that point at file:line.
//!
//! Parsing goes through `serde_yaml_ng::Value` so YAML merge keys (`<<: *anchor`, common in
//! helmfile files) are applied before the typed pass; that pass loses positions, so a small
//! event walk over the source maps the failing key path back to its line.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use super::error::{ConfigError, Location};
use super::source::line_and_column;

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
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
    let value = parse_tree(text, file, first_line)?;
    if value.is_null() {
        return Ok(T::default());
    }
    typed(value, text, file, first_line, &[])
}

/// A node of a document read by [`parse_document`] into a field of this type, to be typed
/// later by [`typed`] (once something else is merged into it).
pub type Node = serde_yaml_ng::Value;

/// A document's tree, merge keys applied and keys made text.
pub fn parse_tree(text: &str, file: &Path, first_line: usize) -> Result<Node, ConfigError> {
    let at = |line: usize, column: usize| Location::new(file, first_line + line - 1, column);
    let mut value: Node =
        serde_yaml_ng::from_str(text).map_err(|err| syntax_error(text, &err, at))?;
    // A merged map may hold `<<` of its own (`operators: {<<: *default, ...}` merged into a
    // release): merged again until none is left, as go-yaml resolves them.
    let mut merges = 0;
    while merges < MAX_MERGE_PASSES && has_merge_key(&value) {
        merges += 1;
        merge(&mut value, text, &at)?;
    }
    stringify_keys(&mut value);
    Ok(value)
}

/// Types `value`, the node at `prefix` of the document `text`: errors point at the line of
/// the failing key where the text has it.
pub fn typed<T: DeserializeOwned>(
    mut value: Node,
    text: &str,
    file: &Path,
    first_line: usize,
    prefix: &[Step],
) -> Result<T, ConfigError> {
    let at = |line: usize, column: usize| Location::new(file, first_line + line - 1, column);
    // A decimal read into a text field (`version: 12.8`) has lost its text once parsed; it
    // is read again as written, as helmfile's Go struct gets it. Each pass fixes one.
    let mut rereads = 0;
    loop {
        let err = match serde_path_to_error::deserialize(&value) {
            Ok(doc) => return Ok(doc),
            Err(err) => err,
        };
        let inner: Vec<Step> = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                Segment::Seq { index } => Some(Step::Index(*index)),
                Segment::Map { key } => Some(Step::Key(key.clone())),
                Segment::Enum { .. } | Segment::Unknown => None,
            })
            .collect();
        let steps: Vec<Step> = prefix
            .iter()
            .cloned()
            .chain(inner.iter().cloned())
            .collect();
        let message = err.inner().to_string();
        if message.contains(super::schema::TEXT_OF_A_DECIMAL_LOST) && rereads < MAX_REREADS {
            let written = written_scalar(text, &steps);
            if let (Some(written), Some(node)) = (written, node_at(&mut value, &inner)) {
                *node = serde_yaml_ng::Value::String(written);
                rereads += 1;
                continue;
            }
        }
        let (line, column) = locate(text, &steps).unwrap_or((1, 0));
        return Err(ConfigError::Yaml {
            at: at(line, column),
            message: describe(&steps, &strip_position(&message)),
        });
    }
}

/// Merges nested deeper than this many levels of `<<` are left to fail as unknown keys.
const MAX_MERGE_PASSES: usize = 20;

/// One pass of `<<` merges over the document.
fn merge(
    value: &mut serde_yaml_ng::Value,
    text: &str,
    at: &impl Fn(usize, usize) -> Location,
) -> Result<(), ConfigError> {
    value.apply_merge().map_err(|err| {
        // The merge error has no position; with one `<<` in the document it is that one.
        let merges: Vec<KeyAt> = keys(text).into_iter().filter(|k| k.key == "<<").collect();
        let (line, column) = match merges.as_slice() {
            [only] => (only.line, only.column),
            _ => (1, 0),
        };
        ConfigError::Yaml {
            at: at(line, column),
            message: format!("`<<`: {}", strip_position(&err.to_string())),
        }
    })
}

/// Whether some map of the document still has a `<<` key.
fn has_merge_key(value: &serde_yaml_ng::Value) -> bool {
    match value {
        serde_yaml_ng::Value::Mapping(map) => map
            .iter()
            .any(|(key, value)| key.as_str() == Some("<<") || has_merge_key(value)),
        serde_yaml_ng::Value::Sequence(items) => items.iter().any(has_merge_key),
        serde_yaml_ng::Value::Tagged(tagged) => has_merge_key(&tagged.value),
        _ => false,
    }
}

/// How many decimals in text fields one document may have read again as written.
const MAX_REREADS: usize = 1000;

/// The node at `steps` of a parsed document.
fn node_at<'v>(
    value: &'v mut serde_yaml_ng::Value,
    steps: &[Step],
) -> Option<&'v mut serde_yaml_ng::Value> {
    steps.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key.as_str()),
        Step::Index(index) => node.get_mut(*index),
    })
}

/// The text of the scalar at `steps` as the document writes it (`12.80` for a number
/// parsed as 12.8); `None` when the path cannot be followed in the text (merged keys).
fn written_scalar(text: &str, steps: &[Step]) -> Option<String> {
    walk_to(text, steps, false)?.scalar
}

/// An error of the YAML parse itself, at the most useful place: for a duplicate key the
/// second occurrence (libyaml points at the map), for an unreadable character its position.
fn syntax_error(
    text: &str,
    err: &serde_yaml_ng::Error,
    at: impl Fn(usize, usize) -> Location,
) -> ConfigError {
    let message = err.to_string();
    if let Some(start) = message.find("duplicate entry")
        && let Some((duplicate, first_line)) = first_duplicate_key(text)
    {
        // What precedes is the map's key path ("environments: ").
        return ConfigError::Yaml {
            at: at(duplicate.line, duplicate.column),
            message: format!(
                "{}duplicate key `{}` (first at line {})",
                &message[..start],
                duplicate.key,
                at(first_line, 0).line
            ),
        };
    }
    if message.starts_with("repetition limit exceeded") {
        return ConfigError::Yaml {
            at: at(1, 0),
            message: "aliases expand into too many nodes (repetition limit exceeded)".into(),
        };
    }
    if message.starts_with("recursion limit exceeded") {
        let (line, column) = err.location().map_or((1, 0), |l| (l.line(), l.column()));
        return ConfigError::Yaml {
            at: at(line, column),
            message: format!(
                "nested more than {MAX_DEPTH} levels deep; orch reads YAML up to that depth"
            ),
        };
    }
    // libyaml's reader errors give a byte offset ("... at position 11") and no mark.
    if let Some((problem, offset)) = message.rsplit_once(" at position ")
        && let Ok(offset) = offset.parse::<usize>()
    {
        let (line, column) = line_and_column(text, offset);
        return ConfigError::Yaml {
            at: at(line, column),
            message: problem.to_string(),
        };
    }
    let (line, column) = err.location().map_or((1, 0), |l| (l.line(), l.column()));
    ConfigError::Yaml {
        at: at(line, column),
        message: strip_position(&message),
    }
}

/// How deep serde_yaml_ng lets a document nest before it stops with "recursion limit
/// exceeded"; every YAML orch reads is bounded by it, so nothing deeper reaches orch's
/// recursive code.
pub const MAX_DEPTH: usize = 128;

/// Helm reads values with Go's YAML, which turns scalar keys into strings (`80: http` is
/// key "80"); serde would reject them, so they are made strings first, as Helm does.
fn stringify_keys(value: &mut serde_yaml_ng::Value) {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Mapping(map) => {
            let needs_change = map
                .keys()
                .any(|k| matches!(k, Yaml::Number(_) | Yaml::Bool(_) | Yaml::Null));
            if needs_change {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(key, value)| {
                        let key = match key {
                            Yaml::Number(n) => Yaml::String(n.to_string()),
                            Yaml::Bool(b) => Yaml::String(b.to_string()),
                            Yaml::Null => Yaml::String("null".into()),
                            other => other,
                        };
                        (key, value)
                    })
                    .collect();
            }
            map.values_mut().for_each(stringify_keys);
        }
        Yaml::Sequence(items) => items.iter_mut().for_each(stringify_keys),
        Yaml::Tagged(tagged) => stringify_keys(&mut tagged.value),
        _ => {}
    }
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
        None if [
            "expected struct ",
            "field identifier",
            "expected u64",
            "expected u32",
        ]
        .iter()
        .any(|jargon| message.contains(jargon)) =>
        {
            plain_type_names(message)
        }
        Some((field, _)) if HELMFILE_KEYS.contains(&field.as_str()) => {
            format!("`{field}` is a helmfile key that orch does not support yet")
        }
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

/// Keys of helmfile 0.166's state files (state, helmDefaults, releases, environments,
/// repositories, hooks): one orch does not read is refused as helmfile's, not as a typo.
const HELMFILE_KEYS: &[&str] = &[
    "adopt",
    "apiVersions",
    "args",
    "atomic",
    "bases",
    "caFile",
    "cascade",
    "certFile",
    "chart",
    "chartPath",
    "charts",
    "cleanupOnFail",
    "commonLabels",
    "condition",
    "context",
    "createNamespace",
    "deleteTimeout",
    "deleteWait",
    "dependencies",
    "devel",
    "diffArgs",
    "directory",
    "disableOpenAPIValidation",
    "disableValidation",
    "disableValidationOnInstall",
    "enableDNS",
    "env",
    "environments",
    "except",
    "file",
    "force",
    "forceGoGetter",
    "forceNamespace",
    "helmBinary",
    "helmDefaults",
    "helmfiles",
    "historyMax",
    "hooks",
    "ignoreMissingGitBranch",
    "inherit",
    "insecureSkipTLSVerify",
    "installed",
    "installedTemplate",
    "jsonPatches",
    "keyFile",
    "keyring",
    "kubeContext",
    "kubeVersion",
    "kustomizeBinary",
    "labels",
    "lockFilePath",
    "managed",
    "missingFileHandler",
    "missingFileHandlerConfig",
    "name",
    "namespace",
    "needs",
    "oci",
    "passCredentials",
    "password",
    "path",
    "postRenderer",
    "postRendererArgs",
    "recreatePods",
    "releases",
    "repositories",
    "reuseValues",
    "secrets",
    "selectors",
    "selectorsInherited",
    "set",
    "setTemplate",
    "skipDeps",
    "skipTLSVerify",
    "strategicMergePatches",
    "suppressDiff",
    "suppressOutputLineRegex",
    "syncArgs",
    "template",
    "templates",
    "timeout",
    "transformers",
    "url",
    "username",
    "value",
    "values",
    "valuesPathPrefix",
    "valuesTemplate",
    "verify",
    "verifyTemplate",
    "version",
    "wait",
    "waitForJobs",
    "waitTemplate",
    "events",
    "command",
    "showlogs",
];

/// serde names the Rust type a map was expected to become ("expected struct ReleaseDoc"),
/// calls a key a "field identifier" and a count "u64"; users wrote YAML.
fn plain_type_names(message: &str) -> String {
    let message = message
        .replace("expected field identifier", "expected a key (a string)")
        .replace("expected u64", "expected a whole number, 0 or more")
        .replace("expected u32", "expected a whole number, 0 or more");
    let mut rest = message.as_str();
    let mut out = String::new();
    while let Some(start) = rest.find("struct ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "struct ".len()..];
        let end = after
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(after.len());
        out.push_str("a map");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
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
    walk_to(text, steps, true)?.best
}

/// Walks the document's root node along `steps`; `None` when the text does not parse.
/// With `mark_root`, the root's own position is the fallback place.
fn walk_to(text: &str, steps: &[Step], mark_root: bool) -> Option<Found> {
    let mut parser = Parser::new_from_str(text);
    let mut walker = Walker {
        parser: &mut parser,
        target: steps,
        best: None,
        scalar: None,
    };
    // Skip StreamStart and DocumentStart, then walk the root node.
    loop {
        let (event, mark) = walker.parser.next_token().ok()?;
        match event {
            Event::StreamStart | Event::DocumentStart => continue,
            Event::StreamEnd => return None,
            _ => {
                if mark_root {
                    walker.best = Some((mark.line(), mark.col() + 1));
                }
                walker.node(event, 0).ok()?;
                return Some(Found {
                    best: walker.best,
                    scalar: walker.scalar,
                });
            }
        }
    }
}

/// What a walk found: the nearest place to the target, and its text if it is a scalar.
struct Found {
    best: Option<(usize, usize)>,
    scalar: Option<String>,
}

/// A scalar key of some map in a document, where it is written.
struct KeyAt {
    /// Which map (numbered in document order) the key belongs to.
    map: usize,
    key: String,
    line: usize,
    column: usize,
}

/// Where a walk over a document is: in a map (the maps numbered in document order, with
/// the key whose value comes next) or in a list.
enum Frame {
    Map {
        id: usize,
        expect_key: bool,
        key: Option<String>,
    },
    Seq,
}

/// Calls `visit` for each node of `text` as it starts, with the frames around it. Stops
/// quietly where `text` does not parse: callers only refine an error already found.
fn walk(text: &str, mut visit: impl FnMut(&[Frame], &Event, Marker)) {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut maps = 0;
    while let Ok((event, mark)) = parser.next_token() {
        if matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        ) {
            visit(&stack, &event, mark);
            if let Some(Frame::Map {
                expect_key: true,
                key,
                ..
            }) = stack.last_mut()
            {
                *key = match &event {
                    Event::Scalar(name, ..) => Some(name.clone()),
                    _ => None,
                };
            }
        }
        match event {
            Event::StreamEnd => break,
            Event::MappingStart(..) => {
                stack.push(Frame::Map {
                    id: maps,
                    expect_key: true,
                    key: None,
                });
                maps += 1;
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
        // A node just ended: inside a map, keys and values alternate.
        if let Some(Frame::Map { expect_key, .. }) = stack.last_mut() {
            *expect_key = !*expect_key;
        }
    }
}

/// The line of each item of the top-level sequence under `key` (e.g. each of `releases`).
pub fn item_lines(text: &str, key: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    walk(text, |stack, _, mark| {
        if let [
            Frame::Map {
                key: Some(root), ..
            },
            Frame::Seq,
        ] = stack
            && root == key
        {
            lines.push(mark.line());
        }
    });
    lines
}

/// Every scalar key of every map in `text`, in document order.
fn keys(text: &str) -> Vec<KeyAt> {
    let mut keys = Vec::new();
    walk(text, |stack, event, mark| {
        if let (
            Some(&Frame::Map {
                id,
                expect_key: true,
                ..
            }),
            Event::Scalar(key, ..),
        ) = (stack.last(), event)
        {
            keys.push(KeyAt {
                map: id,
                key: key.clone(),
                line: mark.line(),
                column: mark.col() + 1,
            });
        }
    });
    keys
}

/// The first key, in document order, that repeats in its map (comparing keys as written),
/// and the line of its first occurrence.
fn first_duplicate_key(text: &str) -> Option<(KeyAt, usize)> {
    let mut seen: HashMap<(usize, String), usize> = HashMap::new();
    keys(text).into_iter().find_map(|at| {
        seen.insert((at.map, at.key.clone()), at.line)
            .map(|first_line| (at, first_line))
    })
}

struct Walker<'p, 't> {
    parser: &'p mut Parser<std::str::Chars<'t>>,
    target: &'p [Step],
    best: Option<(usize, usize)>,
    /// The target's text, when it is a scalar.
    scalar: Option<String>,
}

impl Walker<'_, '_> {
    /// Consumes the node that starts with `event`; `depth` steps of the target matched so far
    /// (`usize::MAX` once off the target's path).
    fn node(&mut self, event: Event, depth: usize) -> Result<(), ()> {
        let want = self.target.get(depth);
        match event {
            Event::MappingStart(..) => {
                // When the target is this map as a list item (a missing field), point at its
                // first key: the parser marks a block map item where its first value starts.
                let mut first = depth == self.target.len()
                    && matches!(self.target.last(), Some(Step::Index(_)));
                loop {
                    let (key, mark) = self.parser.next_token().map_err(|_| ())?;
                    let key_at = (mark.line(), mark.col() + 1);
                    if std::mem::take(&mut first) && key != Event::MappingEnd {
                        self.best = Some(key_at);
                    }
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
                }
            }
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
            Event::Scalar(written, ..) if depth == self.target.len() => {
                self.scalar = Some(written);
                Ok(())
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
    fn duplicate_keys_point_at_the_second_one() {
        assert_eq!(
            error("items:\n  - name: a\n    name: b\n"),
            "f.yaml:3:5: items[0]: duplicate key `name` (first at line 2)"
        );
        assert_eq!(
            error("items: []\nitems: []\n"),
            "f.yaml:2:1: duplicate key `items` (first at line 1)"
        );
    }

    #[test]
    fn messages_name_yaml_types_not_rust_ones() {
        assert_eq!(
            error("items: [3]\n"),
            "f.yaml:1:9: items[0]: invalid type: integer `3`, expected a map"
        );
        assert_eq!(
            error("{[a]: 1}\n"),
            "f.yaml:1:1: invalid type: sequence, expected a key (a string)"
        );
    }

    #[test]
    fn a_bad_merge_points_at_its_merge_key() {
        assert_eq!(
            error("base: &b [1]\nitems:\n  - name: a\n    <<: *b\n"),
            "f.yaml:4:5: `<<`: expected a mapping for merging, but found scalar"
        );
    }

    #[test]
    fn a_negative_count_is_not_a_u64_to_the_user() {
        assert_eq!(
            error("items:\n  - name: a\n    count: -1\n"),
            "f.yaml:3:5: items[0].count: invalid value: integer `-1`, expected a whole number, 0 or more"
        );
    }

    #[test]
    fn a_missing_field_points_at_the_first_key_of_its_map() {
        assert_eq!(
            error("items:\n  - count: 1\n"),
            "f.yaml:2:5: items[0]: missing field `name`"
        );
    }

    #[test]
    fn control_characters_have_a_line_and_column() {
        assert_eq!(
            error("items:\n  - name: \u{1}\n"),
            "f.yaml:2:11: control characters are not allowed"
        );
    }

    #[test]
    fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
        let text = format!("items: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let message = error(&text);
        assert!(
            message.starts_with("f.yaml:1:") && message.contains("nested more than 128 levels"),
            "{message}"
        );
    }

    #[test]
    fn scalar_keys_become_strings_as_in_helm() {
        let value: serde_json::Value = parse_document(
            "80: http\ntrue: t\n~: n\n1.5: f\nnested: {443: https}\n",
            Path::new("v.yaml"),
            1,
        )
        .unwrap();
        assert_eq!(
            value,
            serde_json::json!({"80": "http", "true": "t", "null": "n", "1.5": "f", "nested": {"443": "https"}})
        );
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
