//! Digests and random values. Random functions work, but each call is logged as a warning
//! naming the template: their output changes on every render, so `orch diff` always shows
//! a change for the objects that use them. What Sprig draws from crypto/rand (passwords,
//! tokens, UUIDs) comes from the operating system's CSPRNG here too; `randInt` and
//! `shuffle`, math/rand in Sprig, need no more.

use rand_core::{OsRng, RngCore};
use sha1::Digest;

use super::{Funcs, Param, int_arg, str_arg, string_bytes};
use crate::exec::Exec;
use crate::value::Value;

use Param::{Int, Str, StrBytes};

pub fn register(r: &mut Funcs) {
    r.add("sha1sum", &[StrBytes], |_, a| {
        Ok(Value::str(hex(&sha1::Sha1::digest(string_bytes(&a, 0)))))
    });
    r.add("sha256sum", &[StrBytes], |_, a| {
        Ok(Value::str(hex(&sha2::Sha256::digest(string_bytes(&a, 0)))))
    });
    r.add("sha512sum", &[StrBytes], |_, a| {
        Ok(Value::str(hex(&sha2::Sha512::digest(string_bytes(&a, 0)))))
    });
    r.add("adler32sum", &[StrBytes], |_, a| {
        Ok(Value::str(adler32(string_bytes(&a, 0)).to_string()))
    });
    r.add("uuidv4", &[], |x, _| {
        warn_random(x, "uuidv4");
        Ok(Value::str(uuid_v4()))
    });
    r.add("randAlphaNum", &[Int], |x, a| {
        random_string(x, "randAlphaNum", &a, ALNUM)
    });
    r.add("randAlpha", &[Int], |x, a| {
        random_string(x, "randAlpha", &a, &ALNUM[10..])
    });
    r.add("randNumeric", &[Int], |x, a| {
        random_string(x, "randNumeric", &a, &ALNUM[..10])
    });
    r.add("randAscii", &[Int], |x, a| {
        warn_random(x, "randAscii");
        let s: String = (0..int_arg(&a, 0).max(0))
            .map(|_| (32 + secure_below(95) as u8) as char)
            .collect();
        Ok(Value::str(s))
    });
    r.add("randBytes", &[Int], |x, a| {
        warn_random(x, "randBytes");
        use base64::Engine;
        let mut bytes = vec![0u8; usize::try_from(int_arg(&a, 0)).unwrap_or(0)];
        OsRng.fill_bytes(&mut bytes);
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    r.add("bcrypt", &[Str], |x, a| {
        warn_random(x, "bcrypt");
        Ok(Value::str(bcrypt_hash(str_arg(&a, 0))))
    });
    r.add("htpasswd", &[Str, Str], |x, a| {
        warn_random(x, "htpasswd");
        let user = str_arg(&a, 0);
        if user.contains(':') {
            return Ok(Value::str(format!("invalid username: {user}")));
        }
        Ok(Value::str(format!(
            "{user}:{}",
            bcrypt_hash(str_arg(&a, 1))
        )))
    });
    r.add("randInt", &[Int, Int], |x, a| {
        warn_random(x, "randInt");
        let (min, max) = (int_arg(&a, 0), int_arg(&a, 1));
        if max <= min {
            return Err("invalid argument to Int63n".into());
        }
        Ok(Value::Int(fastrand::i64(min..max)))
    });
    r.add("shuffle", &[Str], |x, a| {
        warn_random(x, "shuffle");
        let mut chars: Vec<char> = str_arg(&a, 0).chars().collect();
        fastrand::shuffle(&mut chars);
        Ok(Value::str(chars.into_iter().collect::<String>()))
    });
}

const ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn warn_random(exec: &mut Exec<'_>, function: &str) {
    exec.warn_unstable(function);
}

fn random_string(
    exec: &mut Exec<'_>,
    name: &str,
    args: &[Value],
    alphabet: &[u8],
) -> Result<Value, super::CallError> {
    warn_random(exec, name);
    let s: String = (0..int_arg(args, 0).max(0))
        .map(|_| alphabet[secure_below(alphabet.len() as u32) as usize] as char)
        .collect();
    Ok(Value::str(s))
}

/// A uniform number below `n` from the OS's CSPRNG (rejection sampling, so no bias).
fn secure_below(n: u32) -> u32 {
    let zone = u32::MAX - u32::MAX % n;
    loop {
        let x = OsRng.next_u32();
        if x < zone {
            return x % n;
        }
    }
}

/// Go's `bcrypt.GenerateFromPassword` at the default cost: a `$2a$10$` hash, salted
/// at random.
fn bcrypt_hash(password: &str) -> String {
    match bcrypt::hash_with_result(password, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    b << 16 | a
}

fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[6] = bytes[6] & 0x0f | 0x40;
    bytes[8] = bytes[8] & 0x3f | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
