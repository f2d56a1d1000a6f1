//! Sprig's math: integer functions return Go `int64`, the `f` variants `float64` computed
//! in decimal (as Sprig's shopspring/decimal does, so `addf 0.1 0.2` is `0.3`), and the
//! sequence generators return Go `[]int`.

use super::convert::{to_float64, to_int64};
use super::{Funcs, Param, int_arg};
use crate::exec::CallError;
use crate::value::Value;

use Param::{Any, Int};

pub fn register(r: &mut Funcs) {
    r.variadic("add", &[], Any, |_, a| {
        Ok(Value::Int64(
            a.iter().map(to_int64).fold(0i64, i64::wrapping_add),
        ))
    });
    r.add("add1", &[Any], |_, a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))
    });
    r.add("sub", &[Any, Any], |_, a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    r.variadic("mul", &[Any], Any, |_, a| {
        Ok(Value::Int64(
            a.iter().map(to_int64).fold(1i64, i64::wrapping_mul),
        ))
    });
    r.add("div", &[Any, Any], |_, a| int_div(&a, i64::checked_div));
    r.add("mod", &[Any, Any], |_, a| int_div(&a, i64::checked_rem));
    for name in ["max", "biggest"] {
        r.variadic(name, &[Any], Any, |_, a| {
            Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
        });
    }
    r.variadic("min", &[Any], Any, |_, a| {
        Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    r.variadic("addf", &[], Any, |_, a| {
        Ok(Value::Float(decimal_fold(&a, 0.0, Decimal::add)))
    });
    r.add("add1f", &[Any], |_, a| {
        Ok(Value::Float(decimal_fold(
            &[a[0].clone(), Value::Float(1.0)],
            0.0,
            Decimal::add,
        )))
    });
    r.variadic("subf", &[Any], Any, |_, a| {
        Ok(Value::Float(decimal_reduce(&a, Decimal::sub)))
    });
    r.variadic("mulf", &[Any], Any, |_, a| {
        Ok(Value::Float(decimal_fold(&a, 1.0, Decimal::mul)))
    });
    r.variadic("divf", &[Any], Any, |_, a| {
        let floats: Vec<f64> = a.iter().map(to_float64).collect();
        let mut result = floats[0];
        for divisor in &floats[1..] {
            result = decimal_div(result, *divisor)?;
        }
        Ok(Value::Float(result))
    });
    r.variadic("maxf", &[Any], Any, |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::MIN, f64::max),
        ))
    });
    r.variadic("minf", &[Any], Any, |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::MAX, f64::min),
        ))
    });
    r.add("floor", &[Any], |_, a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    r.add("ceil", &[Any], |_, a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    r.variadic("round", &[Any, Int], Param::Float, |_, a| {
        let round_on = match a.get(2) {
            Some(Value::Float(f)) => *f,
            _ => 0.5,
        };
        let pow = 10f64.powi(int_arg(&a, 1) as i32);
        let digit = pow * to_float64(&a[0]);
        let rounded = if digit.fract() >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(rounded / pow))
    });
    r.add("until", &[Int], |_, a| {
        let count = int_arg(&a, 0);
        Ok(int_list(until_step(
            0,
            count,
            if count < 0 { -1 } else { 1 },
        )))
    });
    r.add("untilStep", &[Int, Int, Int], |_, a| {
        Ok(int_list(until_step(
            int_arg(&a, 0),
            int_arg(&a, 1),
            int_arg(&a, 2),
        )))
    });
    r.variadic("seq", &[], Int, |_, a| {
        Ok(Value::str(seq(&a.iter().map(to_int64).collect::<Vec<_>>())))
    });
}

fn int_div(a: &[Value], op: fn(i64, i64) -> Option<i64>) -> Result<Value, CallError> {
    op(to_int64(&a[0]), to_int64(&a[1]))
        .map(Value::Int64)
        .ok_or_else(|| "runtime error: integer divide by zero".into())
}

fn int_list(items: Vec<i64>) -> Value {
    Value::list(items.into_iter().map(Value::Int).collect())
}

pub fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut i = start;
    if stop < start {
        if step >= 0 {
            return out;
        }
        while i > stop {
            out.push(i);
            i += step;
        }
        return out;
    }
    if step <= 0 {
        return out;
    }
    while i < stop {
        out.push(i);
        i += step;
    }
    out
}

/// Sprig's `seq`, like the Unix command: `seq 3`, `seq 2 5`, `seq 0 2 10`.
fn seq(params: &[i64]) -> String {
    let items = match *params {
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step(1, end + inc, inc)
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(start, end + step, step)
        }
        [start, step, end] => {
            let inc = if end < start { -1 } else { 1 };
            if end < start && step > 0 {
                return String::new();
            }
            until_step(start, end + inc, step)
        }
        _ => return String::new(),
    };
    items
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// shopspring/decimal's `Div`: 16 decimal places, rounded half away from zero; dividing
/// by zero is an error.
fn decimal_div(a: f64, b: f64) -> Result<f64, CallError> {
    if b == 0.0 {
        return Err("decimal division by 0".into());
    }
    const PRECISION: u32 = 16;
    let exact = Decimal::from_f64(a)
        .zip(Decimal::from_f64(b))
        .and_then(|(x, y)| {
            // x/y = (xm / 10^xs) / (ym / 10^ys) = xm * 10^(ys - xs + P) / ym, at scale P.
            let shift = i64::from(y.scale) - i64::from(x.scale) + i64::from(PRECISION);
            let (numerator, denominator) = if shift >= 0 {
                (
                    x.mantissa.checked_mul(10i128.checked_pow(shift as u32)?)?,
                    y.mantissa,
                )
            } else {
                (
                    x.mantissa,
                    y.mantissa
                        .checked_mul(10i128.checked_pow((-shift) as u32)?)?,
                )
            };
            let quotient = numerator / denominator;
            let remainder = numerator % denominator;
            let round_up = remainder.checked_mul(2)?.abs() >= denominator.abs();
            let negative = (numerator < 0) != (denominator < 0);
            let mantissa = match (round_up, negative) {
                (true, true) => quotient - 1,
                (true, false) => quotient + 1,
                _ => quotient,
            };
            Some(Decimal {
                mantissa,
                scale: PRECISION,
            })
        });
    Ok(exact.map_or(a / b, Decimal::to_f64))
}

/// An exact decimal: `mantissa * 10^-scale`, from a float's shortest representation.
#[derive(Clone, Copy)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let (negative, digits, exp) = crate::gofmt::shortest_digits(f);
        let mut mantissa: i128 = digits.parse().ok()?;
        let point = exp - (digits.len() as i32 - 1);
        let scale = if point >= 0 {
            mantissa = mantissa.checked_mul(10i128.checked_pow(point as u32)?)?;
            0
        } else {
            (-point) as u32
        };
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    fn rescale(self, scale: u32) -> Option<i128> {
        self.mantissa
            .checked_mul(10i128.checked_pow(scale - self.scale)?)
    }

    fn add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        Some(Decimal {
            mantissa: self.rescale(scale)?.checked_add(other.rescale(scale)?)?,
            scale,
        })
    }

    fn sub(self, other: Decimal) -> Option<Decimal> {
        self.add(Decimal {
            mantissa: -other.mantissa,
            scale: other.scale,
        })
    }

    fn mul(self, other: Decimal) -> Option<Decimal> {
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(other.mantissa)?,
            scale: self.scale + other.scale,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e-{}", self.mantissa, self.scale)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

fn decimal_fold(args: &[Value], init: f64, op: fn(Decimal, Decimal) -> Option<Decimal>) -> f64 {
    let floats: Vec<f64> = args.iter().map(to_float64).collect();
    let exact = Decimal::from_f64(init).and_then(|start| {
        floats
            .iter()
            .try_fold(start, |acc, f| op(acc, Decimal::from_f64(*f)?))
    });
    match exact {
        Some(d) => d.to_f64(),
        None => floats
            .iter()
            .fold(init, |acc, f| if init == 1.0 { acc * f } else { acc + f }),
    }
}

fn decimal_reduce(args: &[Value], op: fn(Decimal, Decimal) -> Option<Decimal>) -> f64 {
    let floats: Vec<f64> = args.iter().map(to_float64).collect();
    let exact = Decimal::from_f64(floats[0]).and_then(|start| {
        floats[1..]
            .iter()
            .try_fold(start, |acc, f| op(acc, Decimal::from_f64(*f)?))
    });
    exact.map_or_else(
        || floats[1..].iter().fold(floats[0], |acc, f| acc - f),
        Decimal::to_f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_arithmetic_is_exact() {
        let args = [Value::Float(0.1), Value::Float(0.2)];
        assert_eq!(decimal_fold(&args, 0.0, Decimal::add), 0.3);
        assert_eq!(
            decimal_fold(&[Value::Float(1.1), Value::Float(3.0)], 1.0, Decimal::mul),
            3.3
        );
    }

    #[test]
    fn seq_counts_like_unix() {
        assert_eq!(seq(&[3]), "1 2 3");
        assert_eq!(seq(&[2, 0]), "2 1 0");
        assert_eq!(seq(&[0, 2, 6]), "0 2 4 6");
    }
}
