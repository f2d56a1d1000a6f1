//! Sprig's serialization functions: JSON (`toJson` and its variants, which swallow errors
//! and return "", as templates rely on) and base64/base32.

use base64::Engine;

use super::{Funcs, Param, str_arg, string_bytes};
use crate::json::{JsonOptions, to_json};
use crate::value::Value;

use Param::{Any, Str, StrBytes};

const COMPACT: JsonOptions = JsonOptions {
    escape_html: true,
    indent: None,
};
const RAW: JsonOptions = JsonOptions {
    escape_html: false,
    indent: None,
};
const PRETTY: JsonOptions = JsonOptions {
    escape_html: true,
    indent: Some("  "),
};

pub fn register(r: &mut Funcs) {
    r.add("toJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &COMPACT).unwrap_or_default()))
    });
    r.add("mustToJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &COMPACT)?))
    });
    r.add("toRawJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &RAW).unwrap_or_default()))
    });
    r.add("mustToRawJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &RAW)?))
    });
    r.add("toPrettyJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &PRETTY).unwrap_or_default()))
    });
    r.add("mustToPrettyJson", &[Any], |_, a| {
        Ok(Value::str(to_json(&a[0], &PRETTY)?))
    });
    r.add("b64enc", &[StrBytes], |_, a| {
        Ok(Value::str(b64().encode(string_bytes(&a, 0))))
    });
    r.add("b64dec", &[Str], |_, a| {
        let text = str_arg(&a, 0);
        Ok(match b64().decode(text) {
            Ok(bytes) => Value::go_string(&bytes),
            Err(e) => Value::str(go_base64_error(&e, text.len())),
        })
    });
    r.add("b32enc", &[StrBytes], |_, a| {
        Ok(Value::str(base32_encode(string_bytes(&a, 0))))
    });
    r.add("b32dec", &[Str], |_, a| {
        Ok(match base32_decode(str_arg(&a, 0)) {
            Some(bytes) => Value::go_string(&bytes),
            None => Value::str("illegal base32 data"),
        })
    });
}

fn b64() -> base64::engine::general_purpose::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Go's `CorruptInputError` text: the offset of the bad byte, or of the incomplete group.
fn go_base64_error(error: &base64::DecodeError, len: usize) -> String {
    let offset = match error {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol(offset, _) => *offset,
        _ => len / 4 * 4,
    };
    format!("illegal base64 data at input byte {offset}")
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(BASE32[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = BASE32.iter().position(|&b| b == c)? as u64;
        bits = bits << 5 | v;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}
