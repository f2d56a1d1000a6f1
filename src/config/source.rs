//! Finding releases files and cutting them into YAML documents.

use std::path::{Path, PathBuf};

use super::error::{ConfigError, Location};

/// The releases files to load, in order: `path` itself, or a directory's `*.yaml`,
/// `*.yml` and their `.j2` templates in lexical order. Without `path`, `releases/` in the
/// working directory, else `helmfile.yaml`.
pub fn discover(path: Option<&Path>) -> Result<Vec<PathBuf>, ConfigError> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None if Path::new("releases").is_dir() => PathBuf::from("releases"),
        // helmfile's own lookup order.
        None if Path::new("helmfile.yaml").is_file() => PathBuf::from("helmfile.yaml"),
        None if Path::new("helmfile.yaml.gotmpl").is_file() => {
            PathBuf::from("helmfile.yaml.gotmpl")
        }
        None if Path::new("helmfile.d").is_dir() => PathBuf::from("helmfile.d"),
        None => {
            return Err(ConfigError::NoReleasesFile {
                dir: std::env::current_dir().unwrap_or_default(),
            });
        }
    };
    if !path.is_dir() {
        // Reading it reports a missing file with its path.
        return Ok(vec![path]);
    }
    let entries = std::fs::read_dir(&path).map_err(|e| ConfigError::io(&path, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ConfigError::io(&path, e))?;
        let file = entry.path();
        if file.is_file() && is_releases_file(&file) {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(ConfigError::EmptyDirectory { dir: path });
    }
    files.sort();
    Ok(files)
}

fn is_releases_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".gotmpl") {
        return true;
    }
    let name = name.strip_suffix(".j2").unwrap_or(name);
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// A releases, values or manifest file's text. Binary garbage and other encodings are an
/// error naming the file and where its first non-UTF-8 byte is.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::io(path, e))?;
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.as_bytes();
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, column) = line_and_column(before, valid);
        ConfigError::NotUtf8 {
            at: Location::new(path, line, column),
            byte: bytes[valid],
        }
    })
}

/// The 1-based line and column of byte `offset` of `text`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Whether a file is a minijinja template to render before parsing.
pub fn is_template(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "j2" || ext == "gotmpl")
}

/// Whether a file is one of orch's minijinja templates (`*.j2`).
pub fn is_minijinja(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "j2")
}

/// Whether a file is one of helmfile's Go templates (`*.gotmpl`).
pub fn is_go_template(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "gotmpl")
}

/// `base` joined with `relative`, with `dir/..` pairs removed, so messages show
/// `values/x.yaml` rather than `releases/../values/x.yaml`. Symlinks are not resolved.
pub fn join(base: &Path, relative: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in base.join(relative).components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// One YAML document of a file: its text and the file line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    pub first_line: usize,
    pub text: &'a str,
}

/// Cuts a multi-document YAML stream at its `---` lines. A leading `---` starts the
/// first document rather than making an empty one.
pub fn split_documents(text: &str) -> Vec<Document<'_>> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut first_line = 1;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let is_marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.trim().is_empty() || rest.starts_with(" #"));
        if is_marker {
            if offset > start || !documents.is_empty() {
                documents.push(Document {
                    first_line,
                    text: &text[start..offset],
                });
            }
            start = offset + line.len();
            first_line = index + 2;
        }
        offset += line.len();
    }
    documents.push(Document {
        first_line,
        text: &text[start..],
    });
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_markers_and_keeps_line_numbers() {
        let docs = split_documents("a: 1\n---\nb: 2\nc: 3\n--- # two\nd: 4\n");
        let got: Vec<_> = docs.iter().map(|d| (d.first_line, d.text)).collect();
        assert_eq!(got, vec![(1, "a: 1\n"), (3, "b: 2\nc: 3\n"), (6, "d: 4\n")]);
    }

    #[test]
    fn a_leading_marker_does_not_make_an_empty_document() {
        let docs = split_documents("---\na: 1\n");
        assert_eq!(
            docs,
            vec![Document {
                first_line: 2,
                text: "a: 1\n"
            }]
        );
    }

    #[test]
    fn dashes_inside_text_are_not_markers() {
        assert_eq!(split_documents("a: |\n  ---\nb: ---x\n").len(), 1);
    }

    #[test]
    fn joins_without_parent_hops() {
        assert_eq!(
            join(Path::new("releases"), "../values/a.yaml"),
            Path::new("values/a.yaml")
        );
        assert_eq!(join(Path::new("releases"), "./x"), Path::new("releases/x"));
        assert_eq!(join(Path::new(""), "../up"), Path::new("../up"));
        assert_eq!(join(Path::new("/r"), "/abs/c"), Path::new("/abs/c"));
        assert_eq!(join(Path::new("a"), ".."), Path::new("."));
    }

    #[test]
    fn non_utf8_text_is_an_error_naming_the_file_and_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.yaml");
        std::fs::write(&path, b"a: 1\nb: caf\xe9\n").unwrap();
        let message = read_text(&path).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "{}:2:7: not UTF-8 text (byte 0xe9); orch reads releases and values files as UTF-8",
                path.display()
            )
        );
    }

    #[test]
    fn an_unreadable_file_names_its_cause_once() {
        let error = read_text(Path::new("/nonexistent/x.yaml")).unwrap_err();
        let chain = format!("{:#}", anyhow::Error::from(error));
        assert_eq!(
            chain,
            "/nonexistent/x.yaml: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn recognizes_releases_files() {
        assert!(is_releases_file(Path::new("r/apps.yaml.j2")));
        assert!(is_releases_file(Path::new("r/infra.yml")));
        assert!(!is_releases_file(Path::new("r/README.md")));
        assert!(is_template(Path::new("apps.yaml.j2")));
    }
}
