//! The parse tree of a Go template, as `text/template/parse` builds it.

use std::fmt;
use std::sync::Arc;

/// A field, variable or function name, shared by every use of it in a file: a chart's
/// templates name `.Values` and `include` tens of thousands of times.
pub type Name = Arc<str>;

/// A list of nodes: a template body or the branch of a control structure.
pub type List = Vec<Node>;

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    /// `{{ pipeline }}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    // Boxed: a node is mostly text, and every node is as big as the biggest kind.
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    /// `{{ template "name" pipeline }}` (and the call half of `block`).
    Template {
        pos: usize,
        name: String,
        pipe: Option<Box<Pipe>>,
    },
    Break,
    Continue,
}

/// `if`, `with` and `range`: a pipeline, a body and an optional `else` body. `else if` and
/// `else with` are an `else` whose body is one nested `If`/`With`.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    /// Variables declared (`:=`) or assigned (`=`) by the pipeline.
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub enum Arg {
    /// `.A.B`
    Field(Vec<Name>),
    /// `$x.A.B`: the variable, then fields.
    Variable(Name, Vec<Name>),
    /// `(pipeline).A.B` or `fn.A`: a term followed by fields.
    Chain(Box<Arg>, Vec<Name>),
    Dot,
    Nil,
    Bool(bool),
    Number(Box<Number>),
    Str(String),
    /// A function name.
    Ident(Name),
    Pipe(Box<Pipe>),
}

/// A numeric constant with every interpretation Go's parser found valid for its text.
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub float: Option<f64>,
    /// Untyped constants become `float64` when their text says so (`1.0`, `1e3`).
    pub looks_float: bool,
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.is_assign { "=" } else { ":=" }
            )?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                arg => write!(f, "{arg}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field(fields) => {
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Variable(name, fields) => {
                f.write_str(name)?;
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Chain(term, fields) => {
                match term.as_ref() {
                    Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                    term => write!(f, "{term}")?,
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Dot => f.write_str("."),
            Arg::Nil => f.write_str("nil"),
            Arg::Bool(b) => write!(f, "{b}"),
            Arg::Number(n) => f.write_str(&n.text),
            Arg::Str(s) => write!(f, "{s:?}"),
            Arg::Ident(name) => f.write_str(name),
            Arg::Pipe(pipe) => write!(f, "{pipe}"),
        }
    }
}
