//! The functions templates can call: Go's builtins and Sprig's, each with its Go signature
//! so arguments are checked and converted as Go would. Embedders add their own to a
//! [`Funcs`] (Helm its `include`, `tpl`, `required`, `lookup`; helmfile its `env`, `exec`).
//!
//! Sprig's `env` and `expandenv` read the process environment, so they are left to the
//! embedder (Helm removes them). Sprig functions not implemented here are registered as
//! "unsupported", so that a template using one fails with a clear error instead of Go's
//! "not defined".

mod builtin;
mod certs;
mod convert;
mod crypto;
mod dicts;
mod encoding;
mod lists;
mod math;
mod paths;
mod regex;
pub mod semver;
mod strings;
pub mod time;

// Looked up on every call a template makes: a fast hash, not SipHash.
use foldhash::HashMap;

pub use dicts::MUTATING;

use super::exec::{CallError, Exec};
use super::value::Value;

/// A parameter's Go type, as far as argument checking needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`
    Any,
    Str,
    /// A `string` whose bytes the function encodes (`b64enc`, the digests): a binary
    /// string arrives as its bytes, where `Str` gets its lossy text.
    StrBytes,
    /// Go `int`
    Int,
    Float,
    Bool,
    /// `map[string]interface{}` (and Helm's `chartutil.Values`)
    Map,
}

impl Param {
    pub fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str | Param::StrBytes => "string",
            Param::Int => "int",
            Param::Float => "float64",
            Param::Bool => "bool",
            Param::Map => "map[string]interface {}",
        }
    }
}

pub type Body = fn(&mut Exec<'_>, Vec<Value>) -> Result<Value, CallError>;

pub struct Func {
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    /// `and`/`or`: arguments are evaluated by the executor, lazily.
    pub lazy: bool,
    /// Why a function that parses cannot be called (see [`Funcs::unsupported`]).
    pub unsupported: Option<&'static str>,
    pub call: Body,
}

/// A function table: what templates parsed against it may call. Build it once
/// ([`Funcs::sprig`], then the embedder's [`Funcs::add`]s) and share it between threads.
pub struct Funcs {
    funcs: HashMap<&'static str, Func>,
}

impl Funcs {
    /// Go's builtins and the Sprig library.
    pub fn sprig() -> Funcs {
        let mut funcs = Funcs {
            funcs: HashMap::default(),
        };
        funcs.lazy("and");
        funcs.lazy("or");
        builtin::register(&mut funcs);
        strings::register(&mut funcs);
        lists::register(&mut funcs);
        dicts::register(&mut funcs);
        math::register(&mut funcs);
        paths::register(&mut funcs);
        time::register(&mut funcs);
        convert::register(&mut funcs);
        encoding::register(&mut funcs);
        crypto::register(&mut funcs);
        certs::register(&mut funcs);
        regex::register(&mut funcs);
        semver::register(&mut funcs);
        funcs.unsupported(UNSUPPORTED, "this function is not supported");
        funcs
    }

    /// Adds (or replaces) a function taking exactly `params`.
    pub fn add(&mut self, name: &'static str, params: &'static [Param], call: Body) {
        self.insert(name, params, None, call);
    }

    /// Adds a function taking `params`, then any number of `rest`.
    pub fn variadic(
        &mut self,
        name: &'static str,
        params: &'static [Param],
        rest: Param,
        call: Body,
    ) {
        self.insert(name, params, Some(rest), call);
    }

    /// Registers names that templates may use but that fail with `why` when called, so a
    /// template using one gets that instead of Go's "not defined". A name that has a
    /// function keeps it.
    pub fn unsupported(&mut self, names: &[&'static str], why: &'static str) {
        for name in names {
            self.funcs.entry(name).or_insert(Func {
                params: &[],
                variadic: Some(Param::Any),
                lazy: false,
                unsupported: Some(why),
                call: |_, _| Err("unsupported".into()),
            });
        }
    }

    /// Gives every unsupported function the reason `why`: the embedder knows what to do
    /// instead.
    pub fn explain_unsupported(&mut self, why: &'static str) {
        for func in self.funcs.values_mut() {
            if func.unsupported.is_some() {
                func.unsupported = Some(why);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }

    /// Whether a name is a function, for the parser's check.
    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    fn insert(
        &mut self,
        name: &'static str,
        params: &'static [Param],
        variadic: Option<Param>,
        call: Body,
    ) {
        self.funcs.insert(
            name,
            Func {
                params,
                variadic,
                lazy: false,
                unsupported: None,
                call,
            },
        );
    }

    fn lazy(&mut self, name: &'static str) {
        self.funcs.insert(
            name,
            Func {
                params: &[Param::Any],
                variadic: Some(Param::Any),
                lazy: true,
                unsupported: None,
                call: |_, _| Err("and/or are evaluated by the executor".into()),
            },
        );
    }
}

/// Sprig functions not implemented natively: parse, then fail when called.
const UNSUPPORTED: &[&str] = &[
    "derivePassword",
    "encryptAES",
    "decryptAES",
    "getHostByName",
    "call",
    "dateModify",
    "mustDateModify",
    "date_modify",
    "must_date_modify",
    "ago",
    "durationRound",
];

/// Argument helpers shared by the families. Callers' signatures guarantee the types.
pub fn str_arg(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or_default()
}

/// A string argument's bytes: a binary string's own, for the functions that encode bytes.
pub fn string_bytes(args: &[Value], i: usize) -> &[u8] {
    args.get(i)
        .and_then(Value::string_bytes)
        .unwrap_or_default()
}

pub fn int_arg(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n) | Value::Int64(n)) => *n,
        _ => 0,
    }
}

/// Sprig's `strval`: strings as they are, bytes as text, others as `%v`.
pub fn strval(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::BinaryStr(b) | Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Nil => "<nil>".into(),
        other => crate::gofmt::sprint_value(other),
    }
}
