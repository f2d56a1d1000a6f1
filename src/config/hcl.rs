//! helmfile's HCL environment values (`*.hcl` files among an environment's `values`).
//!
//! The HCL files of one `values` list are read together, and what they define merges over
//! the list's other entries, as helmfile merges it last. A file holds `values { … }` blocks,
//! whose attributes are helmfile values (`hv.name` to one another, across the files; a
//! name is defined once), and at most one `locals { … }` block (`local.name`, that file's
//! own). Each expression is evaluated once the values it reads are: in dependency order,
//! whatever order the files write them in.

use std::path::{Path, PathBuf};

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Expression, Map as HclMap, Structure, Value as HclValue};
use serde_json::Value;

use super::error::{ConfigError, Location};
use super::source;

/// One attribute of a `values` or `locals` block, and the file it is in.
struct Definition {
    file: usize,
    name: String,
    expression: Expression,
}

/// The values the HCL `files` define, as a map.
pub fn render(files: &[PathBuf]) -> Result<Value, ConfigError> {
    let mut values: Vec<Definition> = Vec::new();
    let mut locals: Vec<Vec<Definition>> = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let (file_values, file_locals) = read(path, index)?;
        for definition in file_values {
            if let Some(first) = values.iter().find(|d| d.name == definition.name) {
                return Err(invalid(
                    path,
                    format!(
                        "`{}` is defined twice: here and in {}",
                        definition.name,
                        files[first.file].display()
                    ),
                ));
            }
            values.push(definition);
        }
        locals.push(file_locals);
    }
    // The functions are declared once; each evaluation adds the variables to a copy.
    let functions = context();
    let mut file_locals = Vec::new();
    for (index, definitions) in locals.into_iter().enumerate() {
        let evaluated = evaluate(definitions, |known, _| {
            let mut context = functions.clone();
            context.declare_var("local", HclValue::Object(known.clone()));
            context
        })
        .map_err(|(_, name, why)| invalid(&files[index], format!("local.{name}: {why}")))?;
        file_locals.push(HclValue::Object(evaluated));
    }
    // Each value sees the values known so far, and its own file's locals.
    let evaluated = evaluate(values, |known, definition| {
        let mut context = functions.clone();
        context.declare_var("hv", HclValue::Object(known.clone()));
        context.declare_var("local", file_locals[definition.file].clone());
        context
    })
    .map_err(|(file, name, why)| invalid(&files[file], format!("hv.{name}: {why}")))?;
    serde_json::to_value(HclValue::Object(evaluated))
        .map_err(|e| invalid(&files[0], format!("values: {e}")))
}

/// A file's `values` and `locals` definitions.
fn read(path: &Path, index: usize) -> Result<(Vec<Definition>, Vec<Definition>), ConfigError> {
    let text = source::read_text(path)?;
    let body = hcl::parse(&text).map_err(|e| invalid(path, e.to_string()))?;
    let mut values = Vec::new();
    let mut locals = Vec::new();
    let mut locals_blocks = 0;
    for structure in body.into_iter() {
        let Structure::Block(block) = structure else {
            return Err(invalid(
                path,
                "an attribute outside a block: values go in `values { … }`".to_string(),
            ));
        };
        let target = match block.identifier.as_str() {
            "values" => &mut values,
            "locals" => {
                locals_blocks += 1;
                if locals_blocks > 1 {
                    return Err(invalid(
                        path,
                        "a file has one `locals` block at most".into(),
                    ));
                }
                &mut locals
            }
            other => {
                return Err(invalid(
                    path,
                    format!("unknown block `{other}`; expected values or locals"),
                ));
            }
        };
        for structure in block.body.into_iter() {
            let Structure::Attribute(attribute) = structure else {
                return Err(invalid(
                    path,
                    "a block inside a values or locals block".into(),
                ));
            };
            target.push(Definition {
                file: index,
                name: attribute.key.to_string(),
                expression: attribute.expr,
            });
        }
    }
    Ok((values, locals))
}

/// Evaluates `definitions` in dependency order: each round evaluates what it can with what
/// is known (`context` makes a definition's context from it); a round that evaluates none
/// fails with the first one left: its file, name and error.
fn evaluate(
    mut pending: Vec<Definition>,
    context: impl Fn(&HclMap<String, HclValue>, &Definition) -> Context<'static>,
) -> Result<HclMap<String, HclValue>, (usize, String, String)> {
    let mut known = HclMap::new();
    while !pending.is_empty() {
        let mut evaluated = Vec::new();
        let mut first_failure = None;
        for definition in std::mem::take(&mut pending) {
            match definition
                .expression
                .evaluate(&context(&known, &definition))
            {
                Ok(value) => evaluated.push((definition.name, value)),
                Err(error) => {
                    first_failure.get_or_insert_with(|| error.to_string());
                    pending.push(definition);
                }
            }
        }
        if evaluated.is_empty() {
            let first = &pending[0];
            let why = first_failure.unwrap_or_default();
            return Err((first.file, first.name.clone(), why));
        }
        known.extend(evaluated);
    }
    Ok(known)
}

fn invalid(path: &Path, message: String) -> ConfigError {
    ConfigError::Invalid {
        at: Location::new(path, 0, 0),
        message,
    }
}

/// The context every expression has: helmfile's functions (those of HCL's standard library
/// that files use).
fn context() -> Context<'static> {
    let mut context = Context::new();
    context.declare_func(
        "merge",
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(merge),
    );
    context.declare_func(
        "concat",
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(concat),
    );
    context.declare_func(
        "join",
        FuncDef::builder()
            .param(ParamType::String)
            .param(ParamType::Any)
            .build(join),
    );
    context.declare_func(
        "length",
        FuncDef::builder().param(ParamType::Any).build(length),
    );
    context.declare_func(
        "lower",
        FuncDef::builder().param(ParamType::String).build(|args| {
            Ok(HclValue::from(
                args[0].as_str().unwrap_or_default().to_lowercase(),
            ))
        }),
    );
    context.declare_func(
        "upper",
        FuncDef::builder().param(ParamType::String).build(|args| {
            Ok(HclValue::from(
                args[0].as_str().unwrap_or_default().to_uppercase(),
            ))
        }),
    );
    context
}

fn merge(args: FuncArgs) -> Result<HclValue, String> {
    let mut merged = HclMap::new();
    for arg in args.iter() {
        match arg {
            HclValue::Object(map) => merged.extend(map.clone()),
            HclValue::Null => {}
            other => return Err(format!("merge: not an object: {other}")),
        }
    }
    Ok(HclValue::Object(merged))
}

fn concat(args: FuncArgs) -> Result<HclValue, String> {
    let mut joined = Vec::new();
    for arg in args.iter() {
        match arg {
            HclValue::Array(items) => joined.extend(items.iter().cloned()),
            other => return Err(format!("concat: not a list: {other}")),
        }
    }
    Ok(HclValue::Array(joined))
}

fn join(args: FuncArgs) -> Result<HclValue, String> {
    let separator = args[0].as_str().unwrap_or_default();
    let HclValue::Array(items) = &args[1] else {
        return Err("join: the second argument is not a list".into());
    };
    let texts: Vec<String> = items
        .iter()
        .map(|item| match item {
            HclValue::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect();
    Ok(HclValue::from(texts.join(separator)))
}

fn length(args: FuncArgs) -> Result<HclValue, String> {
    Ok(HclValue::from(match &args[0] {
        HclValue::Array(items) => items.len(),
        HclValue::Object(map) => map.len(),
        HclValue::String(text) => text.chars().count(),
        other => return Err(format!("length: {other} has none")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(texts: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let paths = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let path = dir.path().join(format!("v{i}.hcl"));
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        (dir, paths)
    }

    #[test]
    fn values_evaluate_in_dependency_order_across_files_with_their_own_locals() {
        let (_dir, paths) = files(&[
            "locals {\n  x = \"one\"\n}\nvalues {\n  a = \"${hv.b}-${local.x}\"\n}\n",
            "locals {\n  x = \"two\"\n}\nvalues {\n  b = local.x\n  n = length([hv.a, hv.b])\n}\n",
        ]);
        let values = render(&paths).unwrap();
        assert_eq!(
            values,
            serde_json::json!({"a": "two-one", "b": "two", "n": 2})
        );
    }

    #[test]
    fn a_name_defined_twice_or_values_that_need_each_other_are_errors() {
        let (_dir, paths) = files(&["values {\n  a = 1\n}\n", "values {\n  a = 2\n}\n"]);
        let err = render(&paths).unwrap_err().to_string();
        assert!(
            err.contains("v1.hcl") && err.contains("`a` is defined twice"),
            "{err}"
        );
        let (_dir, paths) = files(&["values {\n  a = hv.b\n  b = hv.a\n}\n"]);
        let err = render(&paths).unwrap_err().to_string();
        assert!(err.contains("hv.a:"), "{err}");
        let (_dir, paths) = files(&["variable \"x\" {}\n"]);
        let err = render(&paths).unwrap_err().to_string();
        assert!(err.contains("unknown block `variable`"), "{err}");
    }
}
