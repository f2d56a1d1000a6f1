//! Values trees with Helm's semantics: how layers merge and how `--set` paths write.
//!
//! Layers merge as Helm merges several `-f` files: maps merge key by key, anything else
//! (lists, scalars, `null`) replaces. A `null` is kept, so that Helm, coalescing the result
//! with the chart's defaults, removes that default exactly as it would with the files apart.

use serde_json::{Map, Value};

/// Merges `overlay` into `base`.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing @ Value::Object(_)) if value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// One step of a `--set` path: `a.b[2]` is `Key(a), Key(b), Index(2)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// One `path=value` assignment of a `--set` expression or a release's `set` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub path: Vec<PathStep>,
    pub value: Value,
}

impl Assignment {
    /// Writes the value at its path, creating maps and padding lists with `null` as Helm does.
    pub fn apply(&self, root: &mut Value) {
        let mut node = root;
        for step in &self.path {
            node = match step {
                PathStep::Key(key) => {
                    if !node.is_object() {
                        *node = Value::Object(Map::new());
                    }
                    let map = node.as_object_mut().expect("made a map above");
                    map.entry(key.clone()).or_insert(Value::Null)
                }
                PathStep::Index(index) => {
                    if !node.is_array() {
                        *node = Value::Array(Vec::new());
                    }
                    let list = node.as_array_mut().expect("made a list above");
                    if list.len() <= *index {
                        list.resize(index + 1, Value::Null);
                    }
                    &mut list[*index]
                }
            };
        }
        *node = self.value.clone();
    }
}

/// The largest list index a path may use, as Helm's: `a[100000000]=1` would otherwise pad
/// a list with a hundred million nulls.
pub const MAX_INDEX: usize = 65536;
/// The most steps a path may have. Values files cannot nest deeper (the YAML parser's
/// limit), and every values tree is walked recursively, so neither may `--set`.
pub const MAX_PATH_STEPS: usize = super::yaml::MAX_DEPTH;

/// Parses a key path: dots separate keys, `\.` is a literal dot, `[n]` indexes a list.
pub fn parse_path(text: &str) -> Result<Vec<PathStep>, String> {
    let steps = parse_steps(text)?;
    if steps.len() > MAX_PATH_STEPS {
        return Err(format!(
            "the path has {} levels; values nest at most {MAX_PATH_STEPS} deep",
            steps.len()
        ));
    }
    Ok(steps)
}

fn parse_steps(text: &str) -> Result<Vec<PathStep>, String> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = text.chars().peekable();
    // True right after `]`, where a key may not follow without a dot.
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => key.push(escaped),
                None => return Err("path ends with a lone `\\`".into()),
            },
            '.' => {
                if key.is_empty() && !after_index {
                    return Err(format!("empty key in path `{text}`"));
                }
                if !key.is_empty() {
                    steps.push(PathStep::Key(std::mem::take(&mut key)));
                }
                after_index = false;
            }
            '[' => {
                if !key.is_empty() {
                    steps.push(PathStep::Key(std::mem::take(&mut key)));
                } else if steps.is_empty() {
                    return Err(format!("path `{text}` starts with an index"));
                }
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(c) => digits.push(c),
                        None => return Err(format!("`[` without `]` in `{text}`")),
                    }
                }
                let index = digits
                    .parse::<usize>()
                    .map_err(|_| format!("`[{digits}]` in `{text}` is not a list index"))?;
                if index > MAX_INDEX {
                    return Err(format!(
                        "list index {index} is greater than the maximum, {MAX_INDEX}"
                    ));
                }
                steps.push(PathStep::Index(index));
                after_index = true;
            }
            c if after_index => {
                return Err(format!(
                    "expected `.` or `[` after `]` in `{text}`, found `{c}`"
                ));
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        steps.push(PathStep::Key(key));
    } else if !after_index {
        return Err(format!("empty key in path `{text}`"));
    }
    Ok(steps)
}

/// Helm's typing of a `--set` value: booleans, null and base-10 integers without a
/// leading zero are typed; everything else, floats included, stays a string.
pub fn typed_value(text: &str) -> Value {
    if text.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if text.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else if text.eq_ignore_ascii_case("null") {
        Value::Null
    } else if text == "0" {
        Value::from(0)
    } else if !text.starts_with('0') {
        text.parse::<i64>()
            .map_or_else(|_| Value::String(text.to_string()), Value::from)
    } else {
        Value::String(text.to_string())
    }
}

/// Parses a `--set` expression with Helm's syntax: `a=1,b.c=x,list={a,b}`; `\,` and `\=`
/// escape.
pub fn parse_set_expression(expression: &str) -> Result<Vec<Assignment>, String> {
    split_unescaped(expression, ',', true)
        .into_iter()
        .map(|pair| {
            let (path, value) = split_once_unescaped(&pair, '=')
                .ok_or_else(|| format!("`{pair}` is not of the form key=value"))?;
            let value = match value.strip_prefix('{').map(|v| v.strip_suffix('}')) {
                Some(Some("")) => Value::Array(Vec::new()),
                Some(Some(items)) => Value::Array(
                    split_unescaped(items, ',', false)
                        .iter()
                        .map(|item| typed_value(&unescape(item)))
                        .collect(),
                ),
                // As Helm: a value starting with `{` is a list (write `\{` for the character).
                Some(None) => return Err(format!("the list `{value}` does not end with `}}`")),
                None => typed_value(&unescape(value)),
            };
            Ok(Assignment {
                path: parse_path(path)?,
                value,
            })
        })
        .collect()
}

/// Splits on `separator` outside `{...}` (when `braces`) and not after a backslash; keeps
/// escapes for the next stage.
fn split_unescaped(text: &str, separator: char, braces: bool) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '{' if braces => {
                depth += 1;
                current.push(c);
            }
            '}' if braces => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            c if c == separator && depth == 0 => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn split_once_unescaped(text: &str, separator: char) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == separator && !escaped => return Some((&text[..i], &text[i + 1..])),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Renders a YAML scalar as the string Go's `fmt` would give, which helmfile passes to
/// `helm --set`.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Looks up a dotted path (no escapes) in a values tree.
pub fn lookup<'v>(root: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted
        .split('.')
        .try_fold(root, |node, key| node.as_object()?.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(layers: &[Value]) -> Value {
        let mut base = Value::Object(Map::new());
        for layer in layers {
            merge(&mut base, layer.clone());
        }
        base
    }

    #[test]
    fn maps_merge_deeply_and_lists_replace() {
        let out = merged(&[
            json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"}),
            json!({"a": {"c": [3], "e": true}}),
        ]);
        assert_eq!(out, json!({"a": {"b": 1, "c": [3], "e": true}, "d": "x"}));
    }

    #[test]
    fn null_replaces_and_is_kept_for_helm_to_remove_defaults() {
        let out = merged(&[json!({"a": {"b": 1}}), json!({"a": null})]);
        assert_eq!(out, json!({"a": null}));
        let out = merged(&[json!({"a": null}), json!({"a": {"b": 1}})]);
        assert_eq!(out, json!({"a": {"b": 1}}));
    }

    #[test]
    fn a_map_replaces_a_scalar_and_back() {
        assert_eq!(
            merged(&[json!({"a": 1}), json!({"a": {"b": 2}})]),
            json!({"a": {"b": 2}})
        );
        assert_eq!(
            merged(&[json!({"a": {"b": 2}}), json!({"a": 1})]),
            json!({"a": 1})
        );
    }

    #[test]
    fn set_values_are_typed_as_helm_types_them() {
        assert_eq!(typed_value("true"), json!(true));
        assert_eq!(typed_value("FALSE"), json!(false));
        assert_eq!(typed_value("null"), Value::Null);
        assert_eq!(typed_value("0"), json!(0));
        assert_eq!(typed_value("42"), json!(42));
        assert_eq!(typed_value("-7"), json!(-7));
        assert_eq!(typed_value("007"), json!("007"));
        assert_eq!(typed_value("1.5"), json!("1.5"));
        assert_eq!(typed_value("abc"), json!("abc"));
    }

    #[test]
    fn set_expressions_parse_with_helm_syntax() {
        let mut root = json!({});
        for a in parse_set_expression(r"a.b=1,c={x,y},d\.e=f\,g,list[1].k=v").unwrap() {
            a.apply(&mut root);
        }
        assert_eq!(
            root,
            json!({"a": {"b": 1}, "c": ["x", "y"], "d.e": "f,g", "list": [null, {"k": "v"}]})
        );
    }

    #[test]
    fn set_null_keeps_the_key_as_null() {
        let mut root = json!({"a": {"b": 1}});
        for a in parse_set_expression("a.b=null").unwrap() {
            a.apply(&mut root);
        }
        assert_eq!(root, json!({"a": {"b": null}}));
    }

    #[test]
    fn bad_set_expressions_are_errors() {
        assert!(parse_set_expression("novalue").is_err());
        assert!(parse_set_expression("a..b=1").is_err());
        assert!(parse_set_expression("a[x]=1").is_err());
        assert!(parse_set_expression("=1").is_err());
        assert!(parse_set_expression("[0]=1").is_err());
        assert!(parse_set_expression("a[0=1").is_err());
    }

    #[test]
    fn set_limits_are_helms_and_the_parsers() {
        let error = |e: &str| parse_set_expression(e).unwrap_err();
        assert_eq!(
            error("a[65537]=1"),
            "list index 65537 is greater than the maximum, 65536"
        );
        assert!(parse_set_expression("a[65536]=1").is_ok());
        assert_eq!(error("a={1,2"), "the list `{1,2` does not end with `}`");
        let deep = vec!["k"; MAX_PATH_STEPS + 1].join(".");
        assert_eq!(
            error(&format!("{deep}=1")),
            "the path has 129 levels; values nest at most 128 deep"
        );
        assert!(
            parse_set_expression(&format!("{}=1", vec!["k"; MAX_PATH_STEPS].join("."))).is_ok()
        );
        assert_eq!(
            parse_set_expression(r"a=\{1\,2\}").unwrap()[0].value,
            json!("{1,2}")
        );
    }

    #[test]
    fn lookup_follows_dots() {
        let v = json!({"monitoring": {"enabled": true}});
        assert_eq!(lookup(&v, "monitoring.enabled"), Some(&json!(true)));
        assert_eq!(lookup(&v, "monitoring.missing"), None);
        assert_eq!(lookup(&v, "monitoring.enabled.deeper"), None);
    }

    #[test]
    fn scalars_print_as_go_prints_them() {
        assert_eq!(scalar_text(&json!(3)), "3");
        assert_eq!(scalar_text(&json!(true)), "true");
        assert_eq!(scalar_text(&json!("x")), "x");
    }
}

/// Properties of Helm's merge and `--set`, on generated values and paths.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn object(map: std::collections::BTreeMap<String, Value>) -> Value {
        Value::Object(map.into_iter().collect())
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3i64..3).prop_map(Value::from),
            "[xy]{0,2}".prop_map(Value::from),
            prop::collection::vec((0i64..3).prop_map(Value::from), 0..3).prop_map(Value::Array),
        ]
    }

    /// A values map of any shape; keys come from a small alphabet so that layers meet.
    fn values_map() -> impl Strategy<Value = Value> {
        let tree = leaf().prop_recursive(3, 24, 3, |inner| {
            prop::collection::btree_map("[a-c]", inner, 0..3).prop_map(object)
        });
        prop::collection::btree_map("[a-c]", tree, 0..4).prop_map(object)
    }

    /// A values map whose keys fix their kind: `m*` keys hold maps, the others leaves. Helm's
    /// merge is associative on layers like these, which never swap a map for a scalar.
    fn shaped_map(depth: u32) -> BoxedStrategy<Value> {
        let leaves = prop::collection::btree_map("[a-c]", leaf(), 0..3);
        if depth == 0 {
            return leaves.prop_map(object).boxed();
        }
        let maps = prop::collection::btree_map("m[ab]", shaped_map(depth - 1), 0..3);
        (leaves, maps)
            .prop_map(|(mut leaves, maps)| {
                leaves.extend(maps);
                object(leaves)
            })
            .boxed()
    }

    fn merged(base: &Value, overlay: &Value) -> Value {
        let mut out = base.clone();
        merge(&mut out, overlay.clone());
        out
    }

    /// A key as `--set` writes it: `.`, `[`, `]`, `,`, `=`, braces and `\` escaped.
    fn escape(text: &str, special: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            if special.contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    fn path() -> impl Strategy<Value = Vec<PathStep>> {
        let key = "[a-z0-9_.,=\\[\\]{}\\\\ -]{1,5}".prop_map(PathStep::Key);
        let step = prop_oneof![
            3 => "[a-z0-9_.,=\\[\\]{}\\\\ -]{1,5}".prop_map(PathStep::Key),
            1 => (0usize..20).prop_map(PathStep::Index),
        ];
        (key, prop::collection::vec(step, 0..5)).prop_map(|(first, rest)| {
            let mut steps = vec![first];
            steps.extend(rest);
            steps
        })
    }

    fn path_text(steps: &[PathStep]) -> String {
        let mut text = String::new();
        for step in steps {
            match step {
                PathStep::Key(key) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(&escape(key, ".[],={}\\"));
                }
                PathStep::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        text
    }

    /// Follows `steps` down from `root`.
    fn at<'v>(root: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
        steps.iter().try_fold(root, |node, step| match step {
            PathStep::Key(key) => node.get(key),
            PathStep::Index(index) => node.get(index),
        })
    }

    proptest! {
        #[test]
        fn merging_a_map_with_itself_changes_nothing(a in values_map()) {
            prop_assert_eq!(merged(&a, &a), a);
        }

        #[test]
        fn an_empty_layer_changes_nothing(a in values_map()) {
            let empty = Value::Object(Map::new());
            prop_assert_eq!(merged(&a, &empty), a.clone());
            prop_assert_eq!(merged(&empty, &a), a);
        }

        #[test]
        fn applying_a_layer_twice_is_applying_it_once(a in values_map(), b in values_map()) {
            let once = merged(&a, &b);
            prop_assert_eq!(merged(&once, &b), once);
        }

        #[test]
        fn merge_is_associative_when_layers_agree_on_shape(
            a in shaped_map(2), b in shaped_map(2), c in shaped_map(2)
        ) {
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        }

        /// Helm's rule, key by key: the overlay's lists, scalars and nulls replace (a null
        /// stays, for Helm to drop the chart's default); maps merge; the rest is the base's.
        #[test]
        fn each_key_follows_helms_rule(a in values_map(), b in values_map()) {
            let out = merged(&a, &b);
            let (a, b, out) = (a.as_object().unwrap(), b.as_object().unwrap(), out.as_object().unwrap());
            for (key, value) in out {
                match (a.get(key), b.get(key)) {
                    (Some(base @ Value::Object(_)), Some(over @ Value::Object(_))) => {
                        prop_assert_eq!(value, &merged(base, over));
                    }
                    (_, Some(over)) => prop_assert_eq!(value, over),
                    (Some(base), None) => prop_assert_eq!(value, base),
                    (None, None) => prop_assert!(false, "{key} came from nowhere"),
                }
            }
            prop_assert!(a.keys().chain(b.keys()).all(|key| out.contains_key(key)));
        }

        #[test]
        fn set_expressions_parse_back_to_their_path_and_value(
            steps in path(), raw in "[a-z0-9 .,={}\\\\-]{0,8}"
        ) {
            let expression = format!("{}={}", path_text(&steps), escape(&raw, "\\,{}"));
            let parsed = parse_set_expression(&expression).map_err(TestCaseError::fail)?;
            prop_assert_eq!(parsed, vec![Assignment { path: steps, value: typed_value(&raw) }]);
        }

        #[test]
        fn an_applied_assignment_is_found_at_its_path(
            root in values_map(), steps in path(), value in leaf()
        ) {
            let assignment = Assignment { path: steps.clone(), value: value.clone() };
            let mut once = root;
            assignment.apply(&mut once);
            prop_assert_eq!(at(&once, &steps), Some(&value));
            let mut twice = once.clone();
            assignment.apply(&mut twice);
            prop_assert_eq!(twice, once);
        }

        #[test]
        fn comma_separated_assignments_parse_in_order(
            parts in prop::collection::vec((path(), "[a-z0-9]{0,4}"), 1..5)
        ) {
            let expression: Vec<String> = parts
                .iter()
                .map(|(steps, raw)| format!("{}={raw}", path_text(steps)))
                .collect();
            let parsed = parse_set_expression(&expression.join(",")).map_err(TestCaseError::fail)?;
            let expected: Vec<Assignment> = parts
                .into_iter()
                .map(|(path, raw)| Assignment { path, value: typed_value(&raw) })
                .collect();
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,24}") {
            let _ = parse_set_expression(&text);
            let _ = parse_path(&text);
        }
    }
}
