//! helm's --post-renderer (helmfile's `postRenderer`): the release's rendered objects, as
//! one stream, through a command; what it prints is what is applied. As in helm, hooks and
//! `crds/` files do not pass through it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::PostRenderer;

use super::manifest::{self, Manifest, Reading};

pub fn run(
    post_renderer: &PostRenderer,
    manifests: &mut Vec<Manifest>,
    base_dir: &Path,
    reading: Reading,
) -> Result<(), String> {
    let command = &post_renderer.command;
    let label = format!("post-renderer {command}");
    // A path is the state file's directory's, whatever directory orch runs in.
    let program = if command.contains('/') {
        std::path::absolute(base_dir.join(command)).map_err(|e| format!("{label}: {e}"))?
    } else {
        PathBuf::from(command)
    };
    let (passing, kept): (Vec<Manifest>, Vec<Manifest>) = std::mem::take(manifests)
        .into_iter()
        .partition(|m| m.hook().is_none() && !is_crds_file(&m.source));
    let mut stream = String::new();
    for manifest in &passing {
        stream.push_str("---\n# Source: ");
        stream.push_str(&manifest.source);
        stream.push('\n');
        stream.push_str(&manifest.text);
        if !manifest.text.ends_with('\n') {
            stream.push('\n');
        }
    }
    // A command from a state file is always shown, as hooks are.
    tracing::warn!("{label} {}", post_renderer.args.join(" "));
    let mut child = Command::new(&program)
        .args(&post_renderer.args)
        .current_dir(if base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base_dir
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{label}: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from a thread, so a command that prints before reading all cannot deadlock.
    let writer = std::thread::spawn(move || stdin.write_all(stream.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{label}: {e}"))?;
    // A command that exits without reading all of its input is its own affair.
    let _ = writer.join();
    if !output.status.success() {
        return Err(format!(
            "{label}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    let printed = String::from_utf8(output.stdout)
        .map_err(|_| format!("{label}: its output is not UTF-8"))?;
    let mut rendered = manifest::split(&printed, &label, reading)?;
    *manifests = kept;
    manifests.append(&mut rendered);
    Ok(())
}

/// Whether a manifest came from a chart's `crds/` directory (`chart/crds/…`), which helm
/// installs apart from the templates.
fn is_crds_file(source: &str) -> bool {
    source.split('/').nth(1) == Some("crds")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifests() -> Vec<Manifest> {
        manifest::split(
            "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n\
             ---\n# Source: c/templates/job.yaml\napiVersion: batch/v1\nkind: Job\n\
             metadata: {name: j, annotations: {helm.sh/hook: pre-install}}\n\
             ---\n# Source: c/crds/crd.yaml\napiVersion: apiextensions.k8s.io/v1\n\
             kind: CustomResourceDefinition\nmetadata: {name: x.example.com}\n",
            "",
            Reading::Whole,
        )
        .unwrap()
    }

    fn shell(script: &str) -> PostRenderer {
        PostRenderer {
            command: "sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    }

    #[test]
    fn the_templates_objects_pass_through_the_command_hooks_and_crds_do_not() {
        let mut rendered = manifests();
        let script =
            "cat; printf -- '---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: added}\\n'";
        run(&shell(script), &mut rendered, Path::new(""), Reading::Whole).unwrap();
        let names: Vec<&str> = rendered
            .iter()
            .map(|m| m.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["j", "x.example.com", "a", "added"]);
        assert_eq!(rendered[2].source, "c/templates/cm.yaml");
        // What the command sees: the one template object; its failure, with its stderr.
        let mut rendered = manifests();
        let counting = shell("grep -c '^kind:' >&2; exit 3");
        let err = run(&counting, &mut rendered, Path::new(""), Reading::Whole).unwrap_err();
        assert!(
            err.contains("exit status: 3") && err.ends_with("\n1"),
            "{err}"
        );
    }
}
