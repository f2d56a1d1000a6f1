//! Sprig's date functions with Go's reference-time layouts (`2006-01-02 15:04:05`). Times
//! are Unix timestamps in the machine's time zone, as Go's `time.Local` has them; `now` is
//! flagged like the random functions, since it changes every render.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::{Funcs, Param, str_arg};
use crate::exec::CallError;
use crate::object::Object;
use crate::value::Value;

use Param::{Any, Str};

pub fn register(r: &mut Funcs) {
    r.add("now", &[], |x, _| {
        x.warn_unstable("now");
        Ok(time_value(Zoned::now()))
    });
    r.add("date", &[Str, Any], |_, a| {
        Ok(Value::str(format(&to_time(&a[1], None)?, str_arg(&a, 0))))
    });
    r.add("htmlDate", &[Any], |_, a| {
        Ok(Value::str(format(&to_time(&a[0], None)?, "2006-01-02")))
    });
    for name in ["dateInZone", "date_in_zone"] {
        r.add(name, &[Str, Any, Str], |_, a| {
            let zone = zone(str_arg(&a, 2))?;
            Ok(Value::str(format(
                &to_time(&a[1], Some(zone))?,
                str_arg(&a, 0),
            )))
        });
    }
    r.add("htmlDateInZone", &[Any, Str], |_, a| {
        let zone = zone(str_arg(&a, 1))?;
        Ok(Value::str(format(
            &to_time(&a[0], Some(zone))?,
            "2006-01-02",
        )))
    });
    r.add("unixEpoch", &[Any], |_, a| {
        Ok(Value::str(
            to_time(&a[0], None)?.timestamp().as_second().to_string(),
        ))
    });
    for name in ["toDate", "mustToDate"] {
        r.add(name, &[Str, Str], |_, a| {
            Ok(time_value(parse(str_arg(&a, 0), str_arg(&a, 1))?))
        });
    }
    // Sprig takes seconds as a string or an int64; anything else (a Go int too) is 0.
    r.add("duration", &[Any], |_, a| {
        let seconds = match &a[0] {
            Value::Str(s) => s.parse().unwrap_or(0),
            Value::Int64(n) => *n,
            _ => 0,
        };
        Ok(Value::str(go_duration(seconds)))
    });
}

fn time_value(zoned: Zoned) -> Value {
    Value::Object(std::rc::Rc::new(Object::Time(zoned)))
}

fn zone(name: &str) -> Result<TimeZone, CallError> {
    match name {
        "" | "UTC" => Ok(TimeZone::UTC),
        "Local" => Ok(TimeZone::system()),
        other => TimeZone::get(other)
            .map_err(|e| CallError::Message(format!("unknown time zone {other}: {e}"))),
    }
}

/// Sprig accepts a time, or seconds since the epoch as any integer.
fn to_time(value: &Value, zone: Option<TimeZone>) -> Result<Zoned, CallError> {
    let zone = zone.unwrap_or_else(TimeZone::system);
    match value {
        Value::Object(object) => match object.as_ref() {
            Object::Time(t) => Ok(t.with_time_zone(zone)),
            _ => Ok(Zoned::now().with_time_zone(zone)),
        },
        Value::Int(s) | Value::Int64(s) => Timestamp::from_second(*s)
            .map(|t| t.to_zoned(zone))
            .map_err(|e| CallError::Message(e.to_string())),
        // Sprig formats anything else as the current time.
        _ => Ok(Zoned::now().with_time_zone(zone)),
    }
}

/// Go's `time.Format` with a reference-time layout.
pub fn format(t: &Zoned, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        let (token, text) = next_token(rest, t);
        match token {
            Some(len) => {
                out.push_str(&text);
                rest = &rest[len..];
            }
            None => {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The layout element at the start of `s`, and its rendering.
fn next_token(s: &str, t: &Zoned) -> (Option<usize>, String) {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let month = MONTHS[(t.month() - 1) as usize];
    let weekday = DAYS[t.weekday().to_sunday_zero_offset() as usize];
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = t.offset().seconds();
    let (sign, hours, minutes) = (
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 3600,
        offset.abs() % 3600 / 60,
    );
    let candidates: [(&str, String); 27] = [
        ("January", month.to_string()),
        ("Jan", month[..3].to_string()),
        ("Monday", weekday.to_string()),
        ("Mon", weekday[..3].to_string()),
        (
            "MST",
            t.time_zone()
                .to_offset_info(t.timestamp())
                .abbreviation()
                .to_string(),
        ),
        ("2006", format!("{:04}", t.year())),
        ("-07:00", format!("{sign}{hours:02}:{minutes:02}")),
        ("-0700", format!("{sign}{hours:02}{minutes:02}")),
        ("-07", format!("{sign}{hours:02}")),
        (
            "Z07:00",
            if offset == 0 {
                "Z".into()
            } else {
                format!("{sign}{hours:02}:{minutes:02}")
            },
        ),
        (
            "Z0700",
            if offset == 0 {
                "Z".into()
            } else {
                format!("{sign}{hours:02}{minutes:02}")
            },
        ),
        ("002", format!("{:03}", t.day_of_year())),
        ("01", format!("{:02}", t.month())),
        ("02", format!("{:02}", t.day())),
        ("_2", format!("{:>2}", t.day())),
        ("06", format!("{:02}", t.year() % 100)),
        ("15", format!("{:02}", t.hour())),
        ("03", format!("{hour12:02}")),
        ("04", format!("{:02}", t.minute())),
        ("05", format!("{:02}", t.second())),
        (
            "PM",
            if t.hour() >= 12 {
                "PM".into()
            } else {
                "AM".into()
            },
        ),
        (
            "pm",
            if t.hour() >= 12 {
                "pm".into()
            } else {
                "am".into()
            },
        ),
        ("1", t.month().to_string()),
        ("2", t.day().to_string()),
        ("3", hour12.to_string()),
        ("4", t.minute().to_string()),
        ("5", t.second().to_string()),
    ];
    if let Some(fraction) = fraction(s, t) {
        return fraction;
    }
    for (token, text) in candidates {
        if s.starts_with(token) {
            return (Some(token.len()), text);
        }
    }
    (None, String::new())
}

/// `.000` (fixed digits) and `.999` (trailing zeros dropped) fractional seconds.
fn fraction(s: &str, t: &Zoned) -> Option<(Option<usize>, String)> {
    let rest = s.strip_prefix(['.', ','])?;
    let digit = rest.chars().next().filter(|c| *c == '0' || *c == '9')?;
    let count = rest.chars().take_while(|c| *c == digit).count();
    let nanos = format!("{:09}", t.subsec_nanosecond());
    let mut digits = nanos[..count.min(9)].to_string();
    if digit == '9' {
        digits = digits.trim_end_matches('0').to_string();
        if digits.is_empty() {
            return Some((Some(count + 1), String::new()));
        }
    }
    Some((Some(count + 1), format!("{}{digits}", &s[..1])))
}

/// `toDate`: parses with a Go layout, for the common numeric layouts.
fn parse(layout: &str, value: &str) -> Result<Zoned, CallError> {
    let strftime = layout
        .replace("2006", "%Y")
        .replace("01", "%m")
        .replace("02", "%d")
        .replace("15", "%H")
        .replace("04", "%M")
        .replace("05", "%S")
        .replace("-07:00", "%:z")
        .replace("-0700", "%z")
        .replace("MST", "%Z");
    let with_zone = strftime.contains("%z") || strftime.contains("%:z");
    let parsed = if with_zone {
        Zoned::strptime(&strftime, value).map_err(|e| e.to_string())
    } else {
        jiff::civil::DateTime::strptime(&strftime, value)
            .or_else(|_| {
                jiff::civil::Date::strptime(&strftime, value)
                    .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
            })
            .and_then(|dt| dt.to_zoned(TimeZone::UTC))
            .map_err(|e| e.to_string())
    };
    parsed.map_err(|e| CallError::Message(format!("parsing time {value:?} as {layout:?}: {e}")))
}

/// Go's `time.Duration.String` of whole seconds: `1h2m3s`, `45s`, `0s`.
fn go_duration(seconds: i64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sign}{sec}s"),
        (0, _) => format!("{sign}{m}m{sec}s"),
        _ => format!("{sign}{h}h{m}m{sec}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        let t = Timestamp::from_second(1_700_000_000)
            .unwrap()
            .to_zoned(TimeZone::UTC);
        assert_eq!(
            format(&t, "2006-01-02T15:04:05Z07:00"),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            format(&t, "Jan 2, 2006 at 3:04pm (MST)"),
            "Nov 14, 2023 at 10:13pm (UTC)"
        );
        assert_eq!(
            format(&t, "Monday 20060102150405.000"),
            "Tuesday 20231114221320.000"
        );
        assert_eq!(go_duration(3723), "1h2m3s");
    }
}
