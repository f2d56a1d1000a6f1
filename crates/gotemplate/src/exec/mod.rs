//! Executes parsed templates with Go's `text/template` semantics: by default with the
//! option Helm sets (`missingkey=zero`, so a missing map key is a nil that prints as
//! `<no value>`), or with `missingkey=error`, as helmfile's final render of a state file.

mod eval;

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use crate::funcs::Funcs;
use crate::gofmt::sprint_value;
use crate::template::ast::{Branch, List, Node};
use crate::template::{TemplateError, TemplateSet, Tree};
use crate::value::Value;

/// Nested template calls allowed: enough for Helm's 1000 nested includes of one name, within
/// a thread stack of 512 MiB (embedders run deep templates on such threads). Go allows
/// 100000.
const MAX_DEPTH: usize = 3_000;
/// Helm's limit on how often one name may be `include`d recursively.
const MAX_INCLUDE: usize = 1000;

/// What a template function can fail with: a message, or an error from a template it ran
/// (`include`, `tpl`), which keeps its own position.
#[derive(Debug)]
pub enum CallError {
    Message(String),
    /// `required`'s message, reported as the chart wrote it.
    Required(String),
    Template(TemplateError),
}

impl From<String> for CallError {
    fn from(message: String) -> Self {
        CallError::Message(message)
    }
}

impl From<&str> for CallError {
    fn from(message: &str) -> Self {
        CallError::Message(message.to_string())
    }
}

/// One thread's executor: the shared template set, plus the templates `tpl` added.
pub struct Exec<'a> {
    base: &'a TemplateSet,
    funcs: &'a Funcs,
    overlays: Vec<TemplateSet>,
    include_counts: HashMap<String, usize>,
    depth: usize,
    /// The file being rendered, named in warnings.
    pub current_file: String,
    /// (file, what) pairs already warned about, to warn once each.
    warned: std::collections::HashSet<(String, String)>,
    host: &'a dyn Any,
    /// Go's `missingkey=error`: a missing map key fails instead of being nil.
    missing_key_is_error: bool,
}

/// Variables of the template body being executed, innermost last.
struct Frame {
    vars: Vec<(String, Value)>,
    tree: Arc<Tree>,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

impl<'a> Exec<'a> {
    /// An executor of `base`'s templates calling `funcs`; `host` is the embedder's data for
    /// its own functions (see [`Exec::host`]).
    pub fn new(base: &'a TemplateSet, funcs: &'a Funcs, host: &'a dyn Any) -> Self {
        Exec {
            base,
            funcs,
            overlays: Vec::new(),
            include_counts: HashMap::new(),
            depth: 0,
            current_file: String::new(),
            warned: Default::default(),
            host,
            missing_key_is_error: false,
        }
    }

    /// Go's `Option("missingkey=error")`, which helmfile sets for its final render: reading
    /// a key a map lacks fails, naming the key, instead of giving nil.
    pub fn missing_key_is_error(mut self, on: bool) -> Self {
        self.missing_key_is_error = on;
        self
    }

    /// The embedder's data given to [`Exec::new`], if it is a `T`.
    pub fn host<T: Any>(&self) -> Option<&'a T> {
        self.host.downcast_ref()
    }

    /// Warns, once per file and function, that `function` renders differently each time,
    /// so an object using it always shows as changed in a diff.
    pub fn warn_unstable(&mut self, function: &str) {
        if self
            .warned
            .insert((self.current_file.clone(), function.to_string()))
        {
            tracing::warn!(
                template = %self.current_file,
                "{}: `{function}` renders a different value each time, so diffs of this object never settle",
                self.current_file
            );
        }
    }

    pub fn lookup_tree(&self, name: &str) -> Option<Arc<Tree>> {
        self.overlays
            .iter()
            .rev()
            .find_map(|set| set.get(name))
            .or_else(|| self.base.get(name))
            .cloned()
    }

    /// Runs the named template with `dot` as its data and `$`.
    pub fn execute(&mut self, name: &str, dot: &Value) -> Result<String, CallError> {
        let (out, error) = self.execute_partial(name, dot);
        match error {
            Some(error) => Err(error),
            None => Ok(out),
        }
    }

    /// Runs the named template, and on failure also returns what it wrote before, as Go's
    /// `Execute` leaves it in its writer (helmfile reads a first pass's output so).
    pub fn execute_partial(&mut self, name: &str, dot: &Value) -> (String, Option<CallError>) {
        let Some(tree) = self.lookup_tree(name) else {
            let message =
                format!("template: no template {name:?} associated with template \"gotpl\"");
            return (String::new(), Some(CallError::Message(message)));
        };
        let mut out = String::new();
        let error = self.run_tree(tree, dot, &mut out).err();
        (out, error)
    }

    /// Helm's `include`: runs a named template into a string, limiting recursion per name.
    pub fn include(&mut self, name: &str, dot: &Value) -> Result<String, CallError> {
        let count = self.include_counts.entry(name.to_string()).or_insert(0);
        if *count > MAX_INCLUDE {
            return Err(format!(
                "unable to execute template: rendering template has a nested reference name: {name}"
            )
            .into());
        }
        *count += 1;
        let result = self.execute(name, dot);
        if let Some(count) = self.include_counts.get_mut(name) {
            *count -= 1;
        }
        result
    }

    /// Helm's `tpl`: parses `src` as the template `name` (with any `define`s it holds, seen
    /// only while it runs) and executes it.
    pub fn run_source(&mut self, name: &str, src: &str, dot: &Value) -> Result<String, CallError> {
        let mut set = TemplateSet::default();
        let funcs = self.funcs;
        set.add_file(name, src, &|name| funcs.contains(name))
            .map_err(CallError::Template)?;
        self.overlays.push(set);
        let result = self.execute(name, dot);
        self.overlays.pop();
        result
    }

    fn run_tree(
        &mut self,
        tree: Arc<Tree>,
        dot: &Value,
        out: &mut String,
    ) -> Result<(), CallError> {
        if self.depth >= MAX_DEPTH {
            return Err(CallError::Message(
                "exceeded maximum template depth (3000)".into(),
            ));
        }
        self.depth += 1;
        let mut frame = Frame {
            vars: vec![("$".to_string(), dot.clone())],
            tree: tree.clone(),
        };
        let result = self.walk_list(&mut frame, dot, &tree.list, out);
        self.depth -= 1;
        result.map(|_| ()).map_err(CallError::Template)
    }

    fn walk_list(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        list: &List,
        out: &mut String,
    ) -> Result<Flow, TemplateError> {
        for node in list {
            match self.walk(frame, dot, node, out)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        node: &Node,
        out: &mut String,
    ) -> Result<Flow, TemplateError> {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Action(pipe) => {
                let value = self.eval_pipeline(frame, dot, pipe)?;
                if pipe.decl.is_empty() {
                    Self::print(&value, out);
                }
            }
            Node::If(branch) => return self.walk_if_with(frame, dot, branch, false, out),
            Node::With(branch) => return self.walk_if_with(frame, dot, branch, true, out),
            Node::Range(branch) => return self.walk_range(frame, dot, branch, out),
            Node::Template { pos, name, pipe } => {
                let data = match pipe {
                    Some(pipe) => self.eval_pipeline(frame, dot, pipe)?,
                    None => Value::Nil,
                };
                let tree = self.lookup_tree(name).ok_or_else(|| {
                    self.error(
                        frame,
                        *pos,
                        &format!("template {name:?}"),
                        format!("template {name:?} not defined"),
                    )
                })?;
                self.run_tree(tree, &data, out)
                    .map_err(|e| self.call_error(frame, *pos, name, e))?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// Go prints an action's value with `fmt`; a nil (a missing key) is `<no value>`.
    fn print(value: &Value, out: &mut String) {
        match value {
            Value::Nil => out.push_str("<no value>"),
            Value::Str(s) => out.push_str(s),
            value => out.push_str(&sprint_value(value)),
        }
    }

    fn walk_if_with(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        branch: &Branch,
        is_with: bool,
        out: &mut String,
    ) -> Result<Flow, TemplateError> {
        let marker = frame.vars.len();
        let value = self.eval_pipeline(frame, dot, &branch.pipe)?;
        let flow = if value.truthy() {
            let new_dot = if is_with { value } else { dot.clone() };
            self.walk_list(frame, &new_dot, &branch.list, out)?
        } else if let Some(else_list) = &branch.else_list {
            self.walk_list(frame, dot, else_list, out)?
        } else {
            Flow::Normal
        };
        frame.vars.truncate(marker);
        Ok(flow)
    }

    fn walk_range(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        branch: &Branch,
        out: &mut String,
    ) -> Result<Flow, TemplateError> {
        let marker = frame.vars.len();
        let value = self.eval_pipeline(frame, dot, &branch.pipe)?;
        // The pipeline's declarations are reassigned on each iteration.
        frame.vars.truncate(marker);
        let items = self.range_items(frame, &branch.pipe, value)?;
        if items.is_empty() {
            if let Some(else_list) = &branch.else_list {
                self.walk_list(frame, dot, else_list, out)?;
            }
            return Ok(Flow::Normal);
        }
        for (key, elem) in items {
            match branch.pipe.decl.len() {
                0 => {}
                1 => frame.vars.push((branch.pipe.decl[0].clone(), elem.clone())),
                _ => {
                    frame.vars.push((branch.pipe.decl[0].clone(), key));
                    frame.vars.push((branch.pipe.decl[1].clone(), elem.clone()));
                }
            }
            let flow = self.walk_list(frame, &elem, &branch.list, out)?;
            frame.vars.truncate(marker);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// (key or index, element) pairs; maps iterate in sorted key order, as Go's do. Go 1.22,
    /// which Helm 3.15 is built with, cannot range over an integer.
    fn range_items(
        &self,
        frame: &Frame,
        pipe: &crate::template::ast::Pipe,
        value: Value,
    ) -> Result<Vec<(Value, Value)>, TemplateError> {
        let indexed = |items: Vec<Value>| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v))
                .collect()
        };
        Ok(match value {
            Value::List(items) => indexed(items.as_ref().clone()),
            Value::Bytes(bytes) => {
                indexed(bytes.iter().map(|b| Value::Int(i64::from(*b))).collect())
            }
            Value::Map(entries) => entries
                .borrow()
                .iter()
                .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                .collect(),
            Value::Nil => Vec::new(),
            Value::Object(object) => match (object.map_entries(), object.list_items()) {
                (Some(entries), _) => entries
                    .into_iter()
                    .map(|(k, v)| (Value::str(k), v))
                    .collect(),
                (None, Some(items)) => indexed(items),
                (None, None) => {
                    return Err(self.error(
                        frame,
                        pipe.pos,
                        &pipe.to_string(),
                        format!("range can't iterate over {}", object.go_string()),
                    ));
                }
            },
            other => {
                return Err(self.error(
                    frame,
                    pipe.pos,
                    &pipe.to_string(),
                    format!("range can't iterate over {}", sprint_value(&other)),
                ));
            }
        })
    }

    /// An error at `pos` in the frame's template, in Go's words:
    /// `NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
    fn error(&self, frame: &Frame, pos: usize, node: &str, message: String) -> TemplateError {
        let tree = &frame.tree;
        TemplateError::at(
            &tree.file,
            &tree.src,
            pos,
            format!("executing {:?} at <{node}>: {message}", tree.name),
        )
    }

    fn required_error(&self, frame: &Frame, pos: usize, message: String) -> TemplateError {
        let tree = &frame.tree;
        let mut error = TemplateError::at(&tree.file, &tree.src, pos, message);
        error.from_chart = true;
        error
    }

    /// Wraps a function's failure; errors from templates it ran keep their own position.
    fn call_error(&self, frame: &Frame, pos: usize, node: &str, err: CallError) -> TemplateError {
        match err {
            CallError::Template(inner) => inner,
            CallError::Message(message) => self.error(frame, pos, node, message),
            CallError::Required(message) => self.required_error(frame, pos, message),
        }
    }
}
