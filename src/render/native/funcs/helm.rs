//! Helm's own template functions: `include`, `tpl`, `required`, `lookup`.

use super::{Param, Registry, str_arg};
use crate::render::native::exec::CallError;
use crate::render::native::value::Value;

use Param::{Any, Map, Str};

pub fn register(r: &mut Registry) {
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
        x.host
            .lookup(
                str_arg(&a, 0),
                str_arg(&a, 1),
                str_arg(&a, 2),
                str_arg(&a, 3),
            )
            .map_err(CallError::Message)
    });
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
