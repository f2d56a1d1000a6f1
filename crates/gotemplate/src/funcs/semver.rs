//! Sprig's `semver` and `semverCompare`, and the methods of the version objects they return,
//! over `masterminds_semver`.

use super::{Funcs, Param, str_arg};
use crate::object::{Method, Object};
use crate::value::Value;
use masterminds_semver::{Constraints, Version};

use Param::Str;

pub fn register(r: &mut Funcs) {
    r.add("semverCompare", &[Str, Str], |_, a| {
        let constraint = Constraints::parse(str_arg(&a, 0))?;
        let version = Version::parse(str_arg(&a, 1))?;
        Ok(Value::Bool(constraint.check(&version)))
    });
    r.add("semver", &[Str], |_, a| {
        let version = Version::parse(str_arg(&a, 0))?;
        Ok(Value::Object(std::rc::Rc::new(Object::Semver(version))))
    });
}
/// Methods of `*semver.Version` that templates call.
pub fn method(name: &str) -> Option<Method> {
    let call: fn(&Object, &[Value]) -> Result<Value, String> = match name {
        "Major" => |o, _| Ok(Value::Int64(version(o).major as i64)),
        "Minor" => |o, _| Ok(Value::Int64(version(o).minor as i64)),
        "Patch" => |o, _| Ok(Value::Int64(version(o).patch as i64)),
        "Prerelease" => |o, _| Ok(Value::str(version(o).pre.as_str())),
        "Metadata" => |o, _| Ok(Value::str(version(o).metadata.as_str())),
        "Original" => |o, _| Ok(Value::str(version(o).original.as_str())),
        "String" => |o, _| Ok(Value::str(version(o).to_string())),
        _ => return None,
    };
    Some(Method { params: &[], call })
}

fn version(object: &Object) -> &Version {
    match object {
        Object::Semver(v) => v,
        _ => unreachable!("semver methods are only looked up on versions"),
    }
}
