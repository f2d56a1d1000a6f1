//! helmfile's `secrets`: sops-encrypted values files of environments and releases. orch
//! runs `sops --decrypt` and reads its output; here a stand-in (`fake-sops`, which drops
//! `ENC ` from the start of each line) plays sops, since what is tested is what orch does
//! with it: when it runs it, how the values layer, and that nothing decrypted is logged.

mod offline;

use offline::{orch, orch_ok, repo};

fn fixture() -> std::path::PathBuf {
    repo().join("tests/fixtures/secrets")
}

fn fake_sops() -> String {
    fixture().join("fake-sops").display().to_string()
}

#[test]
fn secrets_layer_over_values_and_under_set_and_feed_the_environment() {
    let sops = fake_sops();
    let (code, stdout, stderr) = orch(
        &fixture(),
        &[
            "-vv",
            "--sops-binary",
            &sops,
            "template",
            "-f",
            "helmfile.yaml.gotmpl",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "a: values",
        "b: s3cr3t-b",
        "c: set",
        "fromEnvironment: s3cr3t-token",
    ] {
        assert!(stdout.contains(line), "`{line}` missing from:\n{stdout}");
    }
    // Decrypting is shown, once per file; what it decrypted is not, not even with -vv.
    assert_eq!(stderr.matches("decrypting").count(), 2, "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "a secret logged:\n{stderr}");
}

#[test]
fn listing_releases_does_not_decrypt_their_secrets() {
    let stdout = orch_ok(
        &fixture(),
        &[
            "--sops-binary",
            "/nonexistent/sops",
            "list",
            "-f",
            "release-secrets.yaml",
        ],
    );
    assert!(stdout.contains("app"), "{stdout}");
}

#[test]
fn rendering_without_sops_names_the_file_and_what_is_missing() {
    let (code, _, stderr) = orch(
        &fixture(),
        &[
            "--sops-binary",
            "/nonexistent/sops",
            "template",
            "-f",
            "release-secrets.yaml",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("release-secrets.yaml:2"), "{stderr}");
    assert!(stderr.contains("secrets.yaml"), "{stderr}");
    assert!(stderr.contains("needs sops"), "{stderr}");
}

#[test]
fn a_failing_sops_fails_the_command_with_its_message() {
    let (code, stdout, stderr) = orch(
        &fixture(),
        &[
            "--sops-binary",
            "false",
            "template",
            "-f",
            "release-secrets.yaml",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("sops --decrypt failed"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn build_shows_the_state_with_every_secret_value_hidden() {
    let sops = fake_sops();
    let stdout = orch_ok(
        &fixture(),
        &[
            "--sops-binary",
            &sops,
            "build",
            "-f",
            "helmfile.yaml.gotmpl",
        ],
    );
    // The environment's secret, in its values and where the state file renders it.
    assert!(stdout.contains("token: (hidden)"), "{stdout}");
    assert!(stdout.contains("fromEnvironment: (hidden)"), "{stdout}");
    assert!(stdout.contains("- secrets.yaml"), "{stdout}");
    assert!(!stdout.contains("s3cr3t"), "a secret printed:\n{stdout}");
}

#[test]
fn build_hides_repository_passwords() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("helmfile.yaml"),
        "repositories:\n  - name: private\n    url: https://charts.example\n    username: ci\n    password: hunter2\nreleases:\n  - name: app\n    chart: private/app\n",
    )
    .unwrap();
    let stdout = orch_ok(dir.path(), &["build"]);
    assert!(stdout.contains("password: (hidden)"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "a password printed:\n{stdout}");
}
