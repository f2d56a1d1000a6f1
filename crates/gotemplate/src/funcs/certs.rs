//! Sprig's keys and certificates: `genPrivateKey`, `genCA`, `genSelfSignedCert`,
//! `genSignedCert` (and their `WithKey` forms) and `buildCustomCert`, as Sprig builds them
//! with Go's crypto/x509: RSA 2048 keys in PKCS#1 PEM, serials of 128 random bits, the
//! validity from now, Sprig's key usages. Keys come from the operating system's CSPRNG;
//! like every random function, each call is flagged (see `crypto`).

use std::net::IpAddr;
use std::rc::Rc;

use base64::Engine;
use p256::pkcs8::EncodePrivateKey as _;
use rand_core::{OsRng, RngCore};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};

use super::{Funcs, Param, int_arg, str_arg};
use crate::exec::CallError;
use crate::object::{Field, Object, Struct};
use crate::value::Value;

use Param::{Any, Int, Str};

pub fn register(r: &mut Funcs) {
    r.add("genPrivateKey", &[Str], |x, a| {
        x.warn_unstable("genPrivateKey");
        Ok(Value::str(private_key(str_arg(&a, 0))))
    });
    r.add("genCA", &[Str, Int], |x, a| {
        x.warn_unstable("genCA");
        ca(&a, rsa_key(2048)?)
    });
    r.add("genCAWithKey", &[Str, Int, Str], |x, a| {
        x.warn_unstable("genCAWithKey");
        ca(&a, parse_key(str_arg(&a, 2))?)
    });
    r.add("genSelfSignedCert", &[Str, Any, Any, Int], |x, a| {
        x.warn_unstable("genSelfSignedCert");
        let key = rsa_key(2048)?;
        leaf(&a, key, None)
    });
    r.add(
        "genSelfSignedCertWithKey",
        &[Str, Any, Any, Int, Str],
        |x, a| {
            x.warn_unstable("genSelfSignedCertWithKey");
            let key = parse_key(str_arg(&a, 4))?;
            leaf(&a, key, None)
        },
    );
    r.add("genSignedCert", &[Str, Any, Any, Int, Any], |x, a| {
        x.warn_unstable("genSignedCert");
        let key = rsa_key(2048)?;
        leaf(&a, key, Some(&a[4]))
    });
    r.add(
        "genSignedCertWithKey",
        &[Str, Any, Any, Int, Any, Str],
        |x, a| {
            x.warn_unstable("genSignedCertWithKey");
            let key = parse_key(str_arg(&a, 5))?;
            leaf(&a, key, Some(&a[4]))
        },
    );
    r.add("buildCustomCert", &[Str, Str], |_, a| {
        custom(str_arg(&a, 0), str_arg(&a, 1))
    });
}

/// A private key both as the PEM a template gets and as rcgen's signing key.
struct Key {
    pem: String,
    pair: KeyPair,
}

fn failed(what: &str, error: impl std::fmt::Display) -> CallError {
    CallError::Message(format!("{what}: {error}"))
}

fn rsa_key(bits: usize) -> Result<Key, CallError> {
    let key = rsa::RsaPrivateKey::new(&mut OsRng, bits)
        .map_err(|e| failed("error generating RSA key", e))?;
    rsa_pair(&key)
}

fn rsa_pair(key: &rsa::RsaPrivateKey) -> Result<Key, CallError> {
    use rsa::pkcs8::EncodePrivateKey;
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|e| failed("error encoding RSA key", e))?;
    let pem = key
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| failed("error encoding RSA key", e))?;
    let pair = KeyPair::try_from(pkcs8.as_bytes()).map_err(|e| failed("error loading key", e))?;
    Ok(Key {
        pem: pem.to_string(),
        pair,
    })
}

/// `genPrivateKey`: what Sprig writes for each key type, or its message for others.
fn private_key(kind: &str) -> String {
    let pem = match kind {
        "rsa" => rsa::RsaPrivateKey::new(&mut OsRng, 4096)
            .ok()
            .and_then(|key| key.to_pkcs1_pem(LineEnding::LF).ok())
            .map(|pem| pem.to_string()),
        "ecdsa" => Some(pem::encode(&pem::Pem::new(
            "EC PRIVATE KEY",
            sec1_der(&p256::SecretKey::random(&mut OsRng)),
        ))),
        "ed25519" => {
            // Go's x509.MarshalPKCS8PrivateKey: version 0, the Ed25519 OID, the seed.
            let mut der = vec![
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
                0x04, 0x20,
            ];
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            der.extend_from_slice(&seed);
            Some(pem::encode(&pem::Pem::new("PRIVATE KEY", der)))
        }
        "dsa" => return "DSA keys are not supported by orch's native renderer".into(),
        other => return format!("Unknown type {other}"),
    };
    pem.map(|p| p.replace("\r\n", "\n"))
        .unwrap_or_else(|| format!("failed to generate a {kind} key"))
}

/// Go's x509.MarshalECPrivateKey of a P-256 key: SEC1 with the curve's OID and the public
/// point, which the `sec1` encoding of the p256 crate leaves out.
fn sec1_der(key: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let public = key.public_key().to_encoded_point(false);
    let mut der = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
    der.extend_from_slice(&key.to_bytes());
    // [0] namedCurve prime256v1, [1] the uncompressed public point as a BIT STRING.
    der.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0xa1, 0x44, 0x03,
        0x42, 0x00,
    ]);
    der.extend_from_slice(public.as_bytes());
    der
}

/// A key a template passes in (`...WithKey`): PKCS#1 RSA, SEC1 EC or PKCS#8, as Sprig's
/// `parsePrivateKeyPEM` reads them.
fn parse_key(text: &str) -> Result<Key, CallError> {
    let block = pem::parse(text)
        .map_err(|_| CallError::Message("error parsing private key: no PEM data found".into()))?;
    let pkcs8 = match block.tag() {
        "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(block.contents())
            .map_err(|e| failed("error parsing private key", e))
            .and_then(|key| {
                use rsa::pkcs8::EncodePrivateKey;
                key.to_pkcs8_der()
                    .map_err(|e| failed("error encoding key", e))
            })?
            .as_bytes()
            .to_vec(),
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(block.contents())
            .map_err(|e| failed("error parsing private key", e))?
            .to_pkcs8_der()
            .map_err(|e| failed("error encoding key", e))?
            .as_bytes()
            .to_vec(),
        "PRIVATE KEY" => block.contents().to_vec(),
        other => {
            return Err(CallError::Message(format!(
                "error parsing private key: unsupported key type {other:?}"
            )));
        }
    };
    let pair = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| failed("error loading key", e))?;
    Ok(Key {
        pem: text.to_string(),
        pair,
    })
}

/// Sprig's certificate template: a random 128-bit serial, the common name, valid from now
/// for `days`.
fn params(cn: &str, days: i64) -> Result<CertificateParams, CallError> {
    let mut params = CertificateParams::default();
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    // A positive INTEGER, as Go's rand.Int(2^128) is.
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now;
    params.not_after = now
        .checked_add(time::Duration::seconds(days.saturating_mul(86_400)))
        .ok_or_else(|| CallError::Message(format!("a validity of {days} days is out of range")))?;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    Ok(params)
}

fn certificate(cert: String, key: String) -> Value {
    Value::Object(Rc::new(Object::Struct(Struct {
        type_name: "sprig.certificate",
        fields: vec![
            Field::new("Cert", "Cert", Value::str(cert)),
            Field::new("Key", "Key", Value::str(key)),
        ],
        stringer: None,
    })))
}

fn ca(args: &[Value], key: Key) -> Result<Value, CallError> {
    let mut params = params(str_arg(args, 0), int_arg(args, 1))?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    let cert = params
        .self_signed(&key.pair)
        .map_err(|e| failed("error creating certificate", e))?;
    Ok(certificate(cert.pem(), key.pem))
}

/// `genSelfSignedCert` and `genSignedCert`: (cn, ips, dns names, days[, ca]).
fn leaf(args: &[Value], key: Key, ca: Option<&Value>) -> Result<Value, CallError> {
    let mut params = params(str_arg(args, 0), int_arg(args, 3))?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Go writes DNS names before IP addresses.
    for name in strings(&args[2]) {
        let name = name
            .try_into()
            .map_err(|e| failed("error adding DNS name", e))?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    for ip in strings(&args[1]) {
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| CallError::Message(format!("error parsing ip: {ip}")))?;
        params.subject_alt_names.push(SanType::IpAddress(ip));
    }
    let cert = match ca {
        None => params.self_signed(&key.pair),
        Some(ca) => {
            let (ca_cert, ca_key) = ca_parts(ca)?;
            let ca_key = parse_key(&ca_key)?;
            let issuer = Issuer::from_ca_cert_pem(&ca_cert, ca_key.pair)
                .map_err(|e| failed("error parsing CA certificate", e))?;
            params.use_authority_key_identifier_extension = true;
            params.signed_by(&key.pair, &issuer)
        }
    }
    .map_err(|e| failed("error creating certificate", e))?;
    Ok(certificate(cert.pem(), key.pem))
}

/// The `Cert` and `Key` of a certificate value (what `genCA` returned).
fn ca_parts(ca: &Value) -> Result<(String, String), CallError> {
    let field = |name: &str| match ca {
        Value::Object(object) => object
            .field(name)
            .and_then(|v| v.as_str().map(str::to_string)),
        Value::Map(map) => map
            .borrow()
            .get(name)
            .and_then(|v| v.as_str().map(str::to_string)),
        _ => None,
    };
    match (field("Cert"), field("Key")) {
        (Some(cert), Some(key)) => Ok((cert, key)),
        _ => Err(CallError::Message(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            ca.type_name()
        ))),
    }
}

/// IPs or DNS names as a template gives them: a list (of anything printable), or nil.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items.iter().map(super::strval).collect(),
        _ => Vec::new(),
    }
}

/// `buildCustomCert`: a certificate from base64 PEM, checked as Sprig checks it.
fn custom(cert: &str, key: &str) -> Result<Value, CallError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64
        .decode(cert)
        .map_err(|_| CallError::Message("unable to decode base64 certificate".into()))?;
    let key = b64
        .decode(key)
        .map_err(|_| CallError::Message("unable to decode base64 private key".into()))?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    match pem::parse(&cert) {
        Ok(block) if block.tag() == "CERTIFICATE" => {}
        _ => return Err(CallError::Message("unable to decode certificate".into())),
    }
    parse_key(&key)?;
    Ok(certificate(cert, key))
}
