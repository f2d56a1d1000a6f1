//! The functions Helm's templates call: Sprig's (less `env` and `expandenv`, which Helm
//! removes) and Helm's own: `include`, `tpl`, `required`, `lookup` and the serialization
//! family.

mod encoding;

use std::sync::{Arc, OnceLock};

use gotemplate::exec::{CallError, Exec};
use gotemplate::funcs::{Funcs, Param, str_arg};
use gotemplate::value::{Value, WholeNumbers};

use Param::{Any, Map, Str};

/// How `lookup` reaches the cluster. Given an empty `name` it lists (a `List` object with
/// `items`); an object or list that does not exist is an empty map, as in Helm.
pub trait Lookup: Send + Sync {
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<serde_json::Value, String>;
}

/// What the executor carries for Helm's functions (see [`Exec::host`]).
pub type Host = Arc<dyn Lookup>;

/// `lookup` without a cluster, as in `helm template`: an empty map for every query.
pub struct Offline;

impl Lookup for Offline {
    fn lookup(&self, _: &str, _: &str, _: &str, _: &str) -> Result<serde_json::Value, String> {
        Ok(serde_json::Value::Object(serde_json::Map::new()))
    }
}

/// Helm's function table, built once.
pub fn helm_funcs() -> &'static Funcs {
    static FUNCS: OnceLock<Funcs> = OnceLock::new();
    FUNCS.get_or_init(|| {
        let mut funcs = Funcs::sprig();
        register(&mut funcs);
        encoding::register(&mut funcs);
        funcs.unsupported(&["fromToml"], "unsupported");
        funcs.explain_unsupported(
            "this function is not supported by orch's native renderer; use --renderer helm",
        );
        funcs
    })
}

fn register(r: &mut Funcs) {
    r.add("include", &[Str, Any], |x, a| {
        Ok(Value::str(x.include(str_arg(&a, 0), &a[1])?))
    });
    r.add("tpl", &[Str, Map], |x, a| {
        let src = str_arg(&a, 0);
        let name = template_name(&a[1]).ok_or_else(|| {
            CallError::Message(format!(
                "cannot retrieve Template.Name from values inside tpl function: {src}"
            ))
        })?;
        let rendered = x.run_source(&name, src, &a[1]).map_err(|err| match err {
            CallError::Template(inner) => CallError::Message(format!(
                "error during tpl function execution for {src:?}: {inner}"
            )),
            CallError::Message(message) | CallError::Required(message) => CallError::Message(
                format!("error during tpl function execution for {src:?}: {message}"),
            ),
        })?;
        Ok(Value::str(rendered.replace("<no value>", "")))
    });
    r.add("required", &[Str, Any], |_, a| match &a[1] {
        Value::Nil => Err(required_error(str_arg(&a, 0))),
        Value::Str(s) if s.is_empty() => Err(required_error(str_arg(&a, 0))),
        value => Ok(value.clone()),
    });
    r.add("lookup", &[Str, Str, Str, Str], |x, a| {
        let found = host(x)?
            .lookup(
                str_arg(&a, 0),
                str_arg(&a, 1),
                str_arg(&a, 2),
                str_arg(&a, 3),
            )
            .map_err(CallError::Message)?;
        // As client-go's unstructured decoding hands a live object to templates; values
        // files, by contrast, make every number a float64.
        Ok(Value::from_json_as(&found, WholeNumbers::Int64))
    });
}

fn host<'a>(exec: &Exec<'a>) -> Result<&'a Host, CallError> {
    exec.host::<Host>()
        .ok_or_else(|| CallError::Message("lookup: no cluster connection was given".into()))
}

fn required_error(message: &str) -> CallError {
    CallError::Required(message.to_string())
}

fn template_name(vals: &Value) -> Option<String> {
    let Value::Map(map) = vals else { return None };
    let template = map.borrow().get("Template").cloned()?;
    let Value::Map(template) = template else {
        return None;
    };

    template
        .borrow()
        .get("Name")
        .and_then(|n| n.as_str().map(str::to_string))
}
