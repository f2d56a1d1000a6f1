//! Sprig's certificate functions, checked with `openssl`: what Sprig's Go code produces
//! (subjects, SANs, key usages, CA constraints, key formats), and a chain that verifies.

use std::path::Path;
use std::process::Command;

use gotemplate::{Exec, Funcs, TemplateSet, Value};

fn render(src: &str) -> String {
    let funcs = Funcs::sprig();
    let mut set = TemplateSet::default();
    set.add_file("t", src, &|f| funcs.contains(f)).unwrap();
    Exec::new(&set, &funcs, &())
        .execute("t", &Value::Nil)
        .unwrap()
}

fn openssl(args: &[&str], dir: &Path) -> String {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (hack/cluster/build.sh installs it)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_ca_signs_a_server_certificate_that_verifies() {
    let out = render(concat!(
        r#"{{- $ca := genCA "orch-ca" 365 }}"#,
        r#"{{- $cert := genSignedCert "web" (list "10.0.0.1") (list "web.example" "web") 30 $ca }}"#,
        r#"{{ $ca.Cert }}@{{ $ca.Key }}@{{ $cert.Cert }}@{{ $cert.Key }}@{{ printf "%T" $ca }}"#,
    ));
    let parts: Vec<&str> = out.split('@').collect();
    let [ca, ca_key, cert, key, type_name] = parts[..] else {
        panic!("{out}")
    };
    assert_eq!(type_name, "sprig.certificate");
    assert!(
        ca_key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "{ca_key}"
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("ca.pem", ca), ("cert.pem", cert), ("key.pem", key)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }

    let ca_text = openssl(&["x509", "-in", "ca.pem", "-noout", "-text"], dir.path());
    for expected in [
        "Subject: CN = orch-ca",
        "Public-Key: (2048 bit)",
        "CA:TRUE",
        "Digital Signature, Key Encipherment, Certificate Sign",
        "TLS Web Server Authentication, TLS Web Client Authentication",
        "sha256WithRSAEncryption",
    ] {
        assert!(ca_text.contains(expected), "{expected}:\n{ca_text}");
    }
    let cert_text = openssl(&["x509", "-in", "cert.pem", "-noout", "-text"], dir.path());
    for expected in [
        "Issuer: CN = orch-ca",
        "Subject: CN = web",
        "CA:FALSE",
        "DNS:web.example, DNS:web, IP Address:10.0.0.1",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(cert_text.contains(expected), "{expected}:\n{cert_text}");
    }
    assert!(
        openssl(&["verify", "-CAfile", "ca.pem", "cert.pem"], dir.path()).contains("cert.pem: OK")
    );
    // The key is the certificate's.
    let modulus = |args: &[&str]| openssl(args, dir.path());
    assert_eq!(
        modulus(&["x509", "-in", "cert.pem", "-noout", "-modulus"]),
        modulus(&["rsa", "-in", "key.pem", "-noout", "-modulus"])
    );
}

#[test]
fn self_signed_certificates_and_private_keys_in_sprigs_formats() {
    let out = render(concat!(
        r#"{{- $self := genSelfSignedCert "self" nil (list "self.example") 10 }}"#,
        r#"{{ $self.Cert }}@{{ genPrivateKey "ecdsa" }}@{{ genPrivateKey "ed25519" }}@{{ genPrivateKey "nope" }}"#,
    ));
    let parts: Vec<&str> = out.split('@').collect();
    let [cert, ec, ed, unknown] = parts[..] else {
        panic!("{out}")
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("self.pem", cert), ("ec.pem", ec), ("ed.pem", ed)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let text = openssl(&["x509", "-in", "self.pem", "-noout", "-text"], dir.path());
    assert!(
        text.contains("Issuer: CN = self") && text.contains("DNS:self.example"),
        "{text}"
    );
    assert!(ec.starts_with("-----BEGIN EC PRIVATE KEY-----\n"), "{ec}");
    // Go's SEC1 encoding names the curve; 121 bytes of DER.
    let ec_text = openssl(&["ec", "-in", "ec.pem", "-noout", "-text"], dir.path());
    assert!(ec_text.contains("ASN1 OID: prime256v1"), "{ec_text}");
    assert_eq!(ec.len(), 227);
    assert!(ed.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{ed}");
    assert!(openssl(&["pkey", "-in", "ed.pem", "-noout", "-text"], dir.path()).contains("ED25519"));
    assert_eq!(unknown, "Unknown type nope");
}

#[test]
fn build_custom_cert_takes_base64_pem_and_refuses_garbage() {
    let out = render(concat!(
        r#"{{- $ca := genCA "x" 1 }}"#,
        r#"{{- $c := buildCustomCert ($ca.Cert | b64enc) ($ca.Key | b64enc) }}"#,
        r#"{{ eq $c.Cert $ca.Cert }} {{ eq $c.Key $ca.Key }}"#,
    ));
    assert_eq!(out, "true true");
    let funcs = Funcs::sprig();
    let mut set = TemplateSet::default();
    set.add_file(
        "t",
        r#"{{ buildCustomCert "bm90IGEgY2VydA==" "" }}"#,
        &|f| funcs.contains(f),
    )
    .unwrap();
    let err = match Exec::new(&set, &funcs, &()).execute("t", &Value::Nil) {
        Err(gotemplate::CallError::Template(e)) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(err.ends_with("unable to decode certificate"), "{err}");
}
