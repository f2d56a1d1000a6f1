//! The functions templates can call: Go's builtins, Sprig's, and Helm's, each with its Go
//! signature so arguments are checked and converted as Go would.
//!
//! Helm removes Sprig's `env` and `expandenv`; functions Helm has but this renderer does not
//! implement are registered as "unsupported" so that a chart using one fails with a clear
//! error instead of Go's "not defined".

mod builtin;
mod convert;
mod crypto;
mod dicts;
mod encoding;
mod helm;
mod lists;
mod math;
mod paths;
mod regex;
pub mod semver;
mod strings;
pub mod time;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use dicts::MUTATING;

use super::exec::{CallError, Exec};
use super::value::Value;

/// A parameter's Go type, as far as argument checking needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`
    Any,
    Str,
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
            Param::Str => "string",
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
    pub call: Body,
}

/// Builds the registry: each family adds its functions.
pub struct Registry {
    funcs: HashMap<&'static str, Func>,
}

impl Registry {
    pub fn add(&mut self, name: &'static str, params: &'static [Param], call: Body) {
        self.insert(name, params, None, call);
    }

    pub fn variadic(
        &mut self,
        name: &'static str,
        params: &'static [Param],
        rest: Param,
        call: Body,
    ) {
        self.insert(name, params, Some(rest), call);
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
                call: |_, _| Err("and/or are evaluated by the executor".into()),
            },
        );
    }
}

fn registry() -> &'static HashMap<&'static str, Func> {
    static REGISTRY: OnceLock<HashMap<&'static str, Func>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Registry { funcs: HashMap::new() };
        registry.lazy("and");
        registry.lazy("or");
        builtin::register(&mut registry);
        strings::register(&mut registry);
        lists::register(&mut registry);
        dicts::register(&mut registry);
        math::register(&mut registry);
        paths::register(&mut registry);
        time::register(&mut registry);
        convert::register(&mut registry);
        encoding::register(&mut registry);
        crypto::register(&mut registry);
        regex::register(&mut registry);
        semver::register(&mut registry);
        helm::register(&mut registry);
        for name in UNSUPPORTED {
            registry.funcs.entry(name).or_insert(Func {
                params: &[],
                variadic: Some(Param::Any),
                lazy: false,
                call: |_, _| Err("this function is not supported by orch's native renderer; use --renderer helm".into()),
            });
        }
        registry.funcs
    })
}

/// Sprig and Helm functions not implemented natively: parse, then fail when called.
const UNSUPPORTED: &[&str] = &[
    "genPrivateKey",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "buildCustomCert",
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
    "fromToml",
];

pub fn lookup(name: &str) -> Option<&'static Func> {
    registry().get(name)
}

/// Whether a name is a function, for the parser's check.
pub fn exists(name: &str) -> bool {
    registry().contains_key(name)
}

/// Argument helpers shared by the families. Callers' signatures guarantee the types.
pub fn str_arg(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or_default()
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
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Nil => "<nil>".into(),
        other => super::gofmt::sprint_value(other),
    }
}
