//! Go's `text/template` in Rust, with Go's `fmt` and the Sprig function library: what
//! Helm's charts and helmfile's state files are written in.
//!
//! The crate knows nothing of Helm or Kubernetes. An embedder parses its files into a
//! [`TemplateSet`], builds a [`Funcs`] table ([`Funcs::sprig`] plus its own functions),
//! and runs templates with an [`Exec`] on a data [`Value`]:
//!
//! ```
//! use gotemplate::{Exec, Funcs, TemplateSet, Value};
//!
//! let funcs = Funcs::sprig();
//! let mut set = TemplateSet::default();
//! set.add_file("greeting", r#"{{ .name | upper | printf "hello, %s" }}"#, &|f| funcs.contains(f))
//!     .unwrap();
//! let data = Value::from_json(&serde_json::json!({ "name": "orch" }));
//! let mut exec = Exec::new(&set, &funcs, &());
//! assert_eq!(exec.execute("greeting", &data).unwrap(), "hello, ORCH");
//! ```
//!
//! Values follow Go's dynamic types (`int`, `int64` and `float64` differ, maps are shared
//! and mutable), and errors read as Go prints them: `template: NAME:LINE:COL: ...`.

pub mod exec;
pub mod funcs;
pub mod gofmt;
pub mod json;
pub mod object;
pub mod template;
pub mod value;

pub use exec::{CallError, Exec};
pub use funcs::Funcs;
pub use template::{TemplateError, TemplateSet};
pub use value::Value;
