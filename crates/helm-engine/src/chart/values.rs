//! Helm's values coalescing (pkg/chartutil/coalesce.go): user values over chart defaults,
//! `null` deleting a default, maps merging key by key, each subchart's section coalesced
//! with its own defaults, and `global` copied down from parent to subchart.

use serde_json::{Map, Value as Json};

use super::load::Chart;

/// `CoalesceValues`: `user` over the chart's defaults; a user `null` removes a default.
pub fn coalesce_values(
    chart: &Chart,
    user: &Map<String, Json>,
) -> Result<Map<String, Json>, String> {
    let mut dest = user.clone();
    coalesce(chart, &mut dest, false)?;
    Ok(dest)
}

/// `MergeValues`: the same, but nulls are kept (used for import-values).
pub fn merge_values(chart: &Chart) -> Result<Map<String, Json>, String> {
    let mut dest = Map::new();
    coalesce(chart, &mut dest, true)?;
    Ok(dest)
}

fn coalesce(chart: &Chart, dest: &mut Map<String, Json>, merge: bool) -> Result<(), String> {
    coalesce_chart_values(chart, dest, merge);
    coalesce_deps(chart, dest, merge)
}

fn coalesce_deps(chart: &Chart, dest: &mut Map<String, Json>, merge: bool) -> Result<(), String> {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut section = match dest.remove(&name) {
            None => Map::new(),
            Some(Json::Object(map)) => map,
            Some(other) => return Err(format!("type mismatch on {name}: {other}")),
        };
        coalesce_globals(&mut section, dest);
        coalesce(sub, &mut section, merge)?;
        dest.insert(name, Json::Object(section));
    }
    Ok(())
}

/// Copies the parent's `global` into the subchart's section; the parent's entries win.
fn coalesce_globals(dest: &mut Map<String, Json>, parent: &Map<String, Json>) {
    let mut dest_globals = match dest.get("global") {
        None => Map::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return,
    };
    let src_globals = match parent.get("global") {
        None => Map::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return,
    };
    for (key, value) in src_globals {
        match (&value, dest_globals.get(&key)) {
            (Json::Object(table), None) => {
                dest_globals.insert(key, Json::Object(table.clone()));
            }
            (Json::Object(table), Some(Json::Object(existing))) => {
                let mut merged = table.clone();
                coalesce_tables(&mut merged, existing, true);
                dest_globals.insert(key, Json::Object(merged));
            }
            (Json::Object(_), Some(_)) => {}
            (_, Some(Json::Object(_))) => {}
            _ => {
                dest_globals.insert(key, value);
            }
        }
    }
    dest.insert("global".to_string(), Json::Object(dest_globals));
}

/// A chart's defaults under `dest`, which wins.
fn coalesce_chart_values(chart: &Chart, dest: &mut Map<String, Json>, merge: bool) {
    for (key, default) in &chart.values {
        match dest.get_mut(key) {
            None => {
                dest.insert(key.clone(), default.clone());
            }
            Some(Json::Null) if !merge => {
                dest.remove(key);
            }
            Some(Json::Object(user_table)) => {
                if let Json::Object(default_table) = default {
                    coalesce_tables(user_table, default_table, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// `coalesceTablesFullKey`: `src` fills in `dst`, recursively; unless merging, a null in
/// `dst` deletes the key.
pub fn coalesce_tables(dst: &mut Map<String, Json>, src: &Map<String, Json>, merge: bool) {
    for (key, value) in src {
        match dst.get_mut(key) {
            Some(Json::Null) if !merge => {
                dst.remove(key);
            }
            None => {
                dst.insert(key.clone(), value.clone());
            }
            Some(Json::Object(dst_table)) => {
                if let Json::Object(src_table) = value {
                    coalesce_tables(dst_table, src_table, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// `MergeTables`-style merge where `dst` wins and nulls stay: for import-values.
pub fn merge_tables(dst: &mut Map<String, Json>, src: &Map<String, Json>) {
    coalesce_tables(dst, src, true);
}

/// `Values.Table("a.b")`: the map at a dotted path.
pub fn table<'a>(values: &'a Map<String, Json>, path: &str) -> Option<&'a Map<String, Json>> {
    let mut current = values;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        current = current.get(part)?.as_object()?;
    }
    Some(current)
}

/// `PathValue("a.b")`: the value at a dotted path.
pub fn path_value<'a>(values: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (table(values, parent)?, last),
        None => (values, path),
    };
    parent.get(last)
}

/// A map with `value` at the dotted `path` (`pathToMap`).
pub fn path_to_map(path: &str, value: Map<String, Json>) -> Map<String, Json> {
    let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
    let mut current = value;
    for part in parts.iter().rev() {
        let mut outer = Map::new();
        outer.insert((*part).to_string(), Json::Object(current));
        current = outer;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chart(values: Json) -> Chart {
        Chart {
            metadata: json!({"name": "c", "version": "1.0.0"}),
            values: values.as_object().cloned().unwrap(),
            templates: Default::default(),
            files: Default::default(),
            dependencies: Vec::new(),
            schema: None,
        }
    }

    #[test]
    fn user_values_win_and_null_deletes() {
        let c = chart(json!({"a": 1, "b": {"x": 1, "y": 2}, "c": 3}));
        let user = json!({"a": 5, "b": {"y": null, "z": 3}, "c": null, "d": null});
        let out = coalesce_values(&c, user.as_object().unwrap()).unwrap();
        assert_eq!(
            Json::Object(out),
            json!({"a": 5, "b": {"x": 1, "z": 3}, "d": null})
        );
    }
}
