//! Go's `text/template` language: lexing and parsing into trees, and the set of named
//! templates that `template`, `include` and `tpl` look up.

pub mod ast;
mod lex;
mod number;
mod parse;

// Filled and looked up by name for every template of a chart: a fast hash, not SipHash.
use foldhash::HashMap;
use std::fmt;
use std::sync::Arc;

pub use number::parse_number;

use ast::List;

/// A parse or execution error at a place in a template file.
#[derive(Debug, Clone)]
pub struct TemplateError {
    pub template: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The chart's own message (`required`), shown as Helm shows it, without Go's context.
    pub from_chart: bool,
}

impl TemplateError {
    pub fn at(template: &str, src: &str, pos: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(src, pos);
        TemplateError {
            template: template.to_string(),
            line,
            column,
            message: message.into(),
            from_chart: false,
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_chart {
            return write!(
                f,
                "execution error at ({}:{}:{}): {}",
                self.template, self.line, self.column, self.message
            );
        }
        write!(
            f,
            "template: {}:{}:{}: {}",
            self.template, self.line, self.column, self.message
        )
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src.as_bytes()[..pos];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, pos - line_start + 1)
}

/// One named template: its body and the file it came from, for positions in errors.
#[derive(Debug)]
pub struct Tree {
    pub name: String,
    /// The source file the body was parsed from, and that file's text.
    pub file: String,
    pub src: Arc<str>,
    pub list: Arc<List>,
}

/// Named templates: every file of a chart (and its subcharts) by path, plus every
/// `define`d name. Immutable once built, so renders on several threads share it.
#[derive(Debug, Default, Clone)]
pub struct TemplateSet {
    trees: HashMap<String, Arc<Tree>>,
}

/// A file parsed on its own, to be added to sets: parsing many files can run in parallel,
/// adding them must keep their order. Its trees are shared, so one parse serves every set
/// it is added to, under whatever name each set gives the file.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    src: Arc<str>,
    defines: HashMap<String, Arc<List>>,
    root: Arc<List>,
}

impl ParsedFile {
    /// Parses `src`; `name` is the file's name in the errors.
    pub fn parse(
        name: &str,
        src: &str,
        has_function: &dyn Fn(&str) -> bool,
    ) -> Result<ParsedFile, TemplateError> {
        let parsed = parse::parse(name, src, has_function)?;
        let mut defines: HashMap<String, List> = HashMap::default();
        for (define, list) in parsed.defines {
            parse::add_define(&mut defines, define, list);
        }
        Ok(ParsedFile {
            src: Arc::from(src),
            defines: defines
                .into_iter()
                .map(|(define, list)| (define, Arc::new(list)))
                .collect(),
            root: Arc::new(parsed.root),
        })
    }
}

impl TemplateSet {
    /// Parses `src` as the file `name`; its defines replace earlier ones of the same name.
    pub fn add_file(
        &mut self,
        name: &str,
        src: &str,
        has_function: &dyn Fn(&str) -> bool,
    ) -> Result<(), TemplateError> {
        self.add_parsed(name, &ParsedFile::parse(name, src, has_function)?);
        Ok(())
    }

    /// Adds a parsed file as the file `name`; its defines replace earlier ones of the same
    /// name.
    pub fn add_parsed(&mut self, name: &str, file: &ParsedFile) {
        for (define, list) in &file.defines {
            if list_is_empty(list) && self.trees.contains_key(define) {
                continue;
            }
            self.insert(define.clone(), name, &file.src, list);
        }
        if !(list_is_empty(&file.root) && self.trees.contains_key(name)) {
            self.insert(name.to_string(), name, &file.src, &file.root);
        }
    }

    fn insert(&mut self, name: String, file: &str, src: &Arc<str>, list: &Arc<List>) {
        let tree = Tree {
            name: name.clone(),
            file: file.to_string(),
            src: src.clone(),
            list: list.clone(),
        };
        self.trees.insert(name, Arc::new(tree));
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Tree>> {
        self.trees.get(name)
    }

    /// Every tree's body, for static checks over the whole set.
    pub fn trees(&self) -> impl Iterator<Item = &Arc<Tree>> {
        self.trees.values()
    }
}

fn list_is_empty(list: &List) -> bool {
    list.iter()
        .all(|n| matches!(n, ast::Node::Text(t) if t.trim().is_empty()))
}
