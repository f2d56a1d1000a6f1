//! The crate as an embedder uses it: parse named templates, add functions and data of its
//! own, execute, and read errors as Go prints them.

use std::any::Any;
use std::collections::BTreeMap;
use std::rc::Rc;

use gotemplate::funcs::{Param, str_arg};
use gotemplate::object::{GoObject, Method, Object};
use gotemplate::{CallError, Exec, Funcs, TemplateSet, Value};

fn parse(funcs: &Funcs, files: &[(&str, &str)]) -> TemplateSet {
    let mut set = TemplateSet::default();
    for (name, src) in files {
        set.add_file(name, src, &|f| funcs.contains(f))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    set
}

fn run(funcs: &Funcs, src: &str, data: serde_json::Value) -> Result<String, String> {
    let set = parse(funcs, &[("t", src)]);
    let mut exec = Exec::new(&set, funcs, &());
    exec.execute("t", &Value::from_json(&data))
        .map_err(|e| match e {
            CallError::Template(e) => e.to_string(),
            CallError::Message(m) | CallError::Required(m) => m,
        })
}

#[test]
fn sprig_and_go_builtins() {
    let funcs = Funcs::sprig();
    let out = run(
        &funcs,
        r#"{{ range $i, $n := .names }}{{ if $i }},{{ end }}{{ $n | upper | quote }}{{ end }} {{ printf "%05.1f|%x|%v" 3.14159 255 .missing }} {{ list 3 1 2 | sortAlpha | join "-" }} {{ b64enc "hi" }} {{ sha256sum "x" | trunc 8 }}"#,
        serde_json::json!({ "names": ["a", "b"] }),
    );
    assert_eq!(
        out.unwrap(),
        r#""A","B" 003.1|ff|<nil> 1-2-3 aGk= 2d711642"#
    );
}

#[test]
fn env_is_left_to_the_embedder() {
    let funcs = Funcs::sprig();
    let mut set = TemplateSet::default();
    let err = set
        .add_file("t", r#"{{ env "HOME" }}"#, &|f| funcs.contains(f))
        .unwrap_err();
    assert_eq!(err.template, "t");
    assert_eq!(err.line, 1);
    assert_eq!(err.message, r#"function "env" not defined"#);
}

/// What an embedder's function reads through `Exec::host`.
struct Environment {
    name: &'static str,
}

#[test]
fn embedder_functions_see_the_embedders_data() {
    let mut funcs = Funcs::sprig();
    funcs.add("environment", &[], |x, _| {
        let env = x
            .host::<Environment>()
            .ok_or_else(|| CallError::Message("no environment".into()))?;
        Ok(Value::str(env.name))
    });
    funcs.add("shout", &[Param::Str], |_, a| {
        Ok(Value::str(format!("{}!", str_arg(&a, 0))))
    });
    let set = parse(&funcs, &[("t", r#"{{ environment | shout }}"#)]);
    let host = Environment { name: "staging" };
    let mut exec = Exec::new(&set, &funcs, &host);
    assert_eq!(exec.execute("t", &Value::Nil).unwrap(), "staging!");

    let mut without = Exec::new(&set, &funcs, &());
    let err = match without.execute("t", &Value::Nil) {
        Err(CallError::Template(e)) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(err.starts_with("template: t:1:"), "{err}");
    assert!(
        err.ends_with(
            r#": executing "t" at <environment>: error calling environment: no environment"#
        ),
        "{err}"
    );
}

/// A Go map type of the embedder's with one method, as Helm's `.Files`.
#[derive(Debug)]
struct Registry(BTreeMap<String, String>);

impl GoObject for Registry {
    fn type_name(&self) -> String {
        "main.Registry".into()
    }
    fn kind_name(&self) -> &'static str {
        "map"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(
            self.0
                .get(name)
                .map_or(Value::Nil, |v| Value::str(v.as_str())),
        )
    }
    fn method(&self, name: &str) -> Option<Method> {
        (name == "Count").then_some(Method {
            params: &[],
            call: |object, _| {
                let registry: &Registry = object.embedded().expect("a Registry");
                Ok(Value::Int(registry.0.len() as i64))
            },
        })
    }
    fn map_entries(&self) -> Option<BTreeMap<String, Value>> {
        Some(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::str(v.as_str())))
                .collect(),
        )
    }
    fn go_string(&self) -> String {
        format!("{:?}", self.0)
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!(self.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[test]
fn embedded_objects_have_fields_methods_and_range() {
    let funcs = Funcs::sprig();
    let registry = Registry(BTreeMap::from([
        ("web".to_string(), "1.2".to_string()),
        ("db".to_string(), "15".to_string()),
    ]));
    let mut data = BTreeMap::new();
    data.insert(
        "R".to_string(),
        Value::Object(Rc::new(Object::Embedded(Box::new(registry)))),
    );
    let set = parse(
        &funcs,
        &[(
            "t",
            r#"{{ .R.web }} [{{ .R.nothing }}] {{ .R.Count }} {{ range $k, $v := .R }}{{ $k }}={{ $v }};{{ end }} {{ printf "%T" .R }}"#,
        )],
    );
    let mut exec = Exec::new(&set, &funcs, &());
    assert_eq!(
        exec.execute("t", &Value::map(data)).unwrap(),
        "1.2 [<no value>] 2 db=15;web=1.2; main.Registry"
    );
}

#[test]
fn named_templates_and_template_source_at_run_time() {
    let funcs = Funcs::sprig();
    let set = parse(
        &funcs,
        &[
            ("helpers", r#"{{ define "greet" }}hello {{ . }}{{ end }}"#),
            ("main", r#"{{ template "greet" "world" }}"#),
        ],
    );
    let mut exec = Exec::new(&set, &funcs, &());
    assert_eq!(exec.execute("main", &Value::Nil).unwrap(), "hello world");
    assert_eq!(
        exec.include("greet", &Value::str("you")).unwrap(),
        "hello you"
    );
    let out = exec.run_source(
        "inline",
        r#"{{ define "x" }}X{{ end }}{{ template "x" }}{{ include_me }}"#,
        &Value::Nil,
    );
    // A function the table lacks is a parse error of the source given at run time.
    match out {
        Err(CallError::Template(e)) => {
            assert_eq!(e.template, "inline");
            assert_eq!(e.message, r#"function "include_me" not defined"#);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        exec.run_source(
            "inline",
            r#"{{ define "x" }}X{{ end }}{{ template "x" }}"#,
            &Value::Nil
        )
        .unwrap(),
        "X"
    );
}

#[test]
fn errors_name_template_line_and_column_as_go() {
    let funcs = Funcs::sprig();
    let mut set = TemplateSet::default();
    let err = set
        .add_file("deploy.yaml", "a: 1\nb: {{ .x \n", &|f| funcs.contains(f))
        .unwrap_err();
    assert_eq!(err.template, "deploy.yaml");
    assert_eq!(err.line, 2);
    assert!(
        err.to_string().starts_with("template: deploy.yaml:2:"),
        "{err}"
    );

    let out = run(&funcs, "ok\n{{ .a.b.c }}", serde_json::json!({ "a": 1 })).unwrap_err();
    assert!(out.starts_with("template: t:2:"), "{out}");
    assert!(
        out.contains(r#": executing "t" at <.a.b.c>: can't evaluate field b in type "#),
        "{out}"
    );
}

#[test]
fn unsupported_functions_parse_and_fail_with_the_embedders_reason() {
    let mut funcs = Funcs::sprig();
    funcs.unsupported(&["frobnicate"], "not here");
    funcs.explain_unsupported("use the other engine");
    let out = run(&funcs, r#"{{ frobnicate 1 }}"#, serde_json::Value::Null);
    let err = out.unwrap_err();
    assert!(
        err.ends_with(
            r#"executing "t" at <frobnicate 1>: error calling frobnicate: use the other engine"#
        ),
        "{err}"
    );
}
