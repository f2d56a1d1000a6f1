//! One chart render: subcharts chosen, values coalesced, every template (parsed when the
//! chart was loaded) put in one set in Helm's order, the non-partial ones executed (in
//! parallel when no template mutates shared maps), and the results returned by template name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::Value as Json;

use crate::NativeError;
use crate::chart::deps::{process_enabled, process_imports};
use crate::chart::load::Chart;
use crate::chart::values::coalesce_values;
use crate::context::{CapabilitiesInfo, ChartScope, Contexts, ReleaseInfo};
use gotemplate::exec::{CallError, Exec};
use gotemplate::template::ast::{Arg, Command, List, Node, Pipe};
use gotemplate::template::{ParsedFile, TemplateError, TemplateSet, Tree};

use crate::funcs::{Host, helm_funcs};

/// A template file of the chart tree: its path there, its parse, and the chart it belongs to.
struct File<'c> {
    name: String,
    parsed: &'c Result<ParsedFile, TemplateError>,
    scope: usize,
}

/// A template file to run, and the chart it belongs to.
pub struct Renderable {
    pub name: String,
    pub scope: usize,
    pub base_path: String,
}

/// The parsed templates of a chart tree, shared by every release that renders it with the
/// same subcharts enabled.
pub struct ParsedSet {
    pub set: TemplateSet,
    /// Whether a template changes maps in place, which rules out parallel rendering.
    pub mutates: bool,
}

/// Parsed template sets by chart and enabled subcharts, for one command's renders.
#[derive(Default)]
pub struct SetCache {
    sets: Mutex<HashMap<String, Arc<ParsedSet>>>,
}

/// A chart prepared for rendering with one release's values.
pub struct Prepared {
    pub chart: Chart,
    pub scopes: Vec<ChartScope>,
    pub parsed: Arc<ParsedSet>,
    /// Non-partial templates, in Helm's render order.
    pub renderables: Vec<Renderable>,
    pub values: Json,
}

/// Selects subcharts, coalesces values and gathers every parsed template into one set.
pub fn prepare(
    mut chart: Chart,
    origin: &str,
    user: &serde_json::Map<String, Json>,
    cache: &SetCache,
) -> Result<Prepared, NativeError> {
    let name = chart.name().to_string();
    let fail = |message: String| NativeError::Chart {
        chart: name.clone(),
        message,
    };
    process_enabled(&mut chart, user, "").map_err(fail)?;
    process_imports(&mut chart).map_err(fail)?;
    let values = coalesce_values(&chart, user).map_err(fail)?;
    validate_schemas(&chart, &values).map_err(|e| {
        fail(format!(
            "values don't meet the specifications of the schema(s) in the following chart(s):\n{e}"
        ))
    })?;
    let mut scopes = Vec::new();
    let mut files = Vec::new();
    collect(
        &chart,
        chart.name().to_string(),
        Vec::new(),
        &mut scopes,
        &mut files,
    );
    sort_templates(&mut files);
    let key = format!(
        "{origin}\n{}",
        scopes
            .iter()
            .map(|s| s.full_path.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let parsed = cached_set(cache, key, &files)?;
    let renderables = files
        .iter()
        .filter(|file| {
            !file
                .name
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .starts_with('_')
        })
        .map(|file| Renderable {
            name: file.name.clone(),
            scope: file.scope,
            base_path: format!("{}/templates", scopes[file.scope].full_path),
        })
        .collect();
    Ok(Prepared {
        chart,
        scopes,
        parsed,
        renderables,
        values: Json::Object(values),
    })
}

fn cached_set(
    cache: &SetCache,
    key: String,
    files: &[File<'_>],
) -> Result<Arc<ParsedSet>, NativeError> {
    if let Some(parsed) = cache
        .sets
        .lock()
        .ok()
        .and_then(|sets| sets.get(&key).cloned())
    {
        return Ok(parsed);
    }
    let mut set = TemplateSet::default();
    for file in files {
        match &file.parsed {
            Ok(parsed) => set.add_parsed(&file.name, parsed),
            // Parsed as `templates/...`; the error names the template as Helm does.
            Err(e) => {
                let e = TemplateError {
                    template: file.name.clone(),
                    ..e.clone()
                };
                return Err(NativeError::Template(e.to_string()));
            }
        }
    }
    let mutates = mutates_shared_maps(&set);
    let parsed = Arc::new(ParsedSet { set, mutates });
    if let Ok(mut sets) = cache.sets.lock() {
        sets.insert(key, parsed.clone());
    }
    Ok(parsed)
}

/// values.schema.json of the chart and of each subchart, against its section of the values.
fn validate_schemas(chart: &Chart, values: &serde_json::Map<String, Json>) -> Result<(), String> {
    let mut errors = String::new();
    if let Some(schema) = &chart.schema
        && let Err(e) = crate::schema::validate(schema, &Json::Object(values.clone()))
    {
        errors.push_str(&format!("{}:\n{e}", chart.name()));
    }
    for sub in &chart.dependencies {
        let section = values
            .get(sub.name())
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        if let Err(e) = validate_schemas(sub, &section) {
            errors.push_str(&e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every chart of the tree and its templates (a library chart contributes only partials).
fn collect<'c>(
    chart: &'c Chart,
    full_path: String,
    values_path: Vec<String>,
    scopes: &mut Vec<ChartScope>,
    files: &mut Vec<File<'c>>,
) {
    let index = scopes.len();
    scopes.push(ChartScope {
        full_path: full_path.clone(),
        metadata: chart.metadata.clone(),
        files: chart.files.clone(),
        values_path: values_path.clone(),
    });
    for sub in &chart.dependencies {
        let mut sub_path = values_path.clone();
        sub_path.push(sub.name().to_string());
        collect(
            sub,
            format!("{full_path}/charts/{}", sub.name()),
            sub_path,
            scopes,
            files,
        );
    }
    for template in chart.templates.iter() {
        let base = template.name.rsplit('/').next().unwrap_or_default();
        if chart.is_library() && !base.starts_with('_') {
            continue;
        }
        files.push(File {
            name: format!("{full_path}/{}", template.name),
            parsed: &template.parsed,
            scope: index,
        });
    }
}

/// Helm's `sortTemplates`: deeper paths first, then reverse lexical order. Later files'
/// `define`s win, so a parent's helpers override a subchart's of the same name.
fn sort_templates(files: &mut [File<'_>]) {
    files.sort_by(|a, b| {
        let depth = |s: &str| s.matches('/').count();
        depth(&b.name)
            .cmp(&depth(&a.name))
            .then_with(|| b.name.cmp(&a.name))
    });
}

/// Runs every renderable template; returns (template name, output) in render order.
pub fn render(
    prepared: &Prepared,
    release: &ReleaseInfo,
    capabilities: &CapabilitiesInfo,
    host: &Host,
) -> Result<Vec<(String, String)>, NativeError> {
    let parallel = prepared.renderables.len() >= 4 && !prepared.parsed.mutates;
    if !parallel {
        return render_batch(prepared, &prepared.renderables, release, capabilities, host);
    }
    let threads = rayon::current_num_threads().max(1);
    let chunk = prepared.renderables.len().div_ceil(threads);
    let batches: Vec<Result<Vec<(String, String)>, NativeError>> = prepared
        .renderables
        .par_chunks(chunk)
        .map(|batch| render_batch(prepared, batch, release, capabilities, host))
        .collect();
    let mut out = Vec::with_capacity(prepared.renderables.len());
    for batch in batches {
        out.extend(batch?);
    }
    Ok(out)
}

fn render_batch(
    prepared: &Prepared,
    batch: &[Renderable],
    release: &ReleaseInfo,
    capabilities: &CapabilitiesInfo,
    host: &Host,
) -> Result<Vec<(String, String)>, NativeError> {
    let contexts = Contexts::new(&prepared.scopes, &prepared.values, release, capabilities);
    let mut exec = Exec::new(&prepared.parsed.set, helm_funcs(), host);
    let mut out = Vec::with_capacity(batch.len());
    for item in batch {
        let dot = contexts.dot_for(item.scope, &item.name, &item.base_path);
        exec.current_file = item.name.clone();
        let text = exec.execute(&item.name, &dot).map_err(|err| match err {
            CallError::Template(e) => NativeError::Template(e.to_string()),
            CallError::Message(m) | CallError::Required(m) => {
                NativeError::Template(format!("{}: {m}", item.name))
            }
        })?;
        // Helm's engine blanks every `<no value>`; nearly all output holds none to look for.
        let text = if memchr::memmem::find(text.as_bytes(), b"<no value>").is_some() {
            text.replace("<no value>", "")
        } else {
            text
        };
        out.push((item.name.clone(), text));
    }
    Ok(out)
}

/// Whether any template calls a function that changes a map in place: then templates must
/// run one after another on one values tree, as in Helm, to see each other's changes.
/// Template text given to `tpl` at run time is not seen here; a `set` inside it that another
/// template depends on is the one case parallel rendering could differ.
fn mutates_shared_maps(set: &TemplateSet) -> bool {
    set.trees()
        .any(|tree: &std::sync::Arc<Tree>| list_mutates(&tree.list))
}

fn list_mutates(list: &List) -> bool {
    list.iter().any(|node| match node {
        Node::Text(_) | Node::Break | Node::Continue => false,
        Node::Action(pipe) => pipe_mutates(pipe),
        Node::If(b) | Node::With(b) | Node::Range(b) => {
            pipe_mutates(&b.pipe)
                || list_mutates(&b.list)
                || b.else_list.as_ref().is_some_and(list_mutates)
        }
        Node::Template { pipe, .. } => pipe.as_deref().is_some_and(pipe_mutates),
    })
}

fn pipe_mutates(pipe: &Pipe) -> bool {
    pipe.cmds
        .iter()
        .any(|cmd: &Command| cmd.args.iter().any(arg_mutates))
}

fn arg_mutates(arg: &Arg) -> bool {
    match arg {
        Arg::Ident(name) => gotemplate::funcs::MUTATING.contains(&&**name),
        Arg::Pipe(pipe) => pipe_mutates(pipe),
        Arg::Chain(term, _) => arg_mutates(term),
        _ => false,
    }
}
