//! Builtins whose allocation depends on their arguments, bounded when the arguments are only known
//! at evaluation.
//!
//! regorus 0.14 builds `numbers.range(a, b)` and `numbers.range_step(a, b, s)` in one step that
//! neither its instruction count nor its timer can interrupt, reserving the whole array first: with
//! `b` computed from the object (`numbers.range(1, to_number(input...))`) a request can make the
//! process allocate terabytes and abort, or spend seconds past any deadline. regorus offers no limit
//! for it (its memory budget needs its own allocator and still reserves the array in one call), and
//! its RVM cannot call extensions. So:
//!
//! - literal bounds over [`MAX_RANGE_ELEMENTS`] are refused at load (`analysis`);
//! - every interpreter engine gets these two builtins replaced by extensions (the interpreter looks
//!   extensions up before builtins) that compute the same range or, over the limit, fail with a
//!   message naming the call: the rule's `policy-error`, not a crash;
//! - custom rules that reach a call with computed bounds run on the interpreter
//!   (`analysis::Analysis::needs_interpreter`). The built-in rules never call these builtins.

use anyhow::{bail, Result};
use regorus::Value;

use super::PolicyError;

/// Elements one `numbers.range` / `numbers.range_step` call may make. A million numbers take about
/// 30 ms and 50 MB; no rule over Kubernetes objects needs more.
pub const MAX_RANGE_ELEMENTS: u64 = 1_000_000;

/// Bits one `bits.lsh` call may shift by. regorus shifts into a big integer of that many bits in
/// one step: `bits.lsh(1, 4000000000)` is 500 MB, and arithmetic on it more.
pub const MAX_SHIFT_BITS: u64 = 1024;

/// Replaces the argument-sized builtins of an interpreter engine by their bounded versions.
pub(super) fn install(engine: &mut regorus::Engine) -> Result<(), PolicyError> {
    let range = |args: Vec<Value>| -> Result<Value> {
        match args.as_slice() {
            [from, to] => bounded_range("numbers.range", from, to, None),
            _ => Ok(Value::Undefined),
        }
    };
    let range_step = |args: Vec<Value>| -> Result<Value> {
        match args.as_slice() {
            [from, to, step] => bounded_range("numbers.range_step", from, to, Some(step)),
            _ => Ok(Value::Undefined),
        }
    };
    let lsh = |args: Vec<Value>| -> Result<Value> {
        match args.as_slice() {
            [value, shift] => bounded_lsh(value, shift),
            _ => Ok(Value::Undefined),
        }
    };
    engine
        .add_extension("numbers.range".into(), 2, Box::new(range))
        .and_then(|()| engine.add_extension("numbers.range_step".into(), 3, Box::new(range_step)))
        .and_then(|()| engine.add_extension("bits.lsh".into(), 2, Box::new(lsh)))
        .map_err(|e| PolicyError::Compile(format!("cannot bound a builtin: {e}")))
}

/// How many elements a range makes, when its arguments are integers (a step, when given, of at
/// least 1). `None` where regorus makes the call undefined (or fails it, which a non-strict
/// evaluation turns into undefined).
pub fn range_elements(from: f64, to: f64, step: Option<f64>) -> Option<f64> {
    let integer = |n: f64| n.is_finite() && n.fract() == 0.0;
    if !integer(from) || !integer(to) {
        return None;
    }
    let step = match step {
        None => 1.0,
        Some(step) if integer(step) && step >= 1.0 => step,
        Some(_) => return None,
    };
    Some(((to - from).abs() / step).floor() + 1.0)
}

/// `numbers.range(from, to)` or, with a step, `numbers.range_step(from, to, step)`, as regorus
/// computes them, refused over [`MAX_RANGE_ELEMENTS`].
fn bounded_range(name: &str, from: &Value, to: &Value, step: Option<&Value>) -> Result<Value> {
    // A number beyond 2^53 has no exact f64: as a bound it makes a range far over the limit.
    let number = |v: &Value| -> Option<Result<f64>> {
        match v {
            Value::Number(_) => Some(v.as_f64().or_else(|_| {
                bail!("{name}: the bound {v} is too large for a range of at most {MAX_RANGE_ELEMENTS} elements")
            })),
            _ => None,
        }
    };
    let (Some(a), Some(b)) = (number(from), number(to)) else {
        return Ok(Value::Undefined);
    };
    let (a, b) = (a?, b?);
    let s = match step.map(number) {
        None => None,
        Some(Some(s)) => Some(s?),
        Some(None) => return Ok(Value::Undefined),
    };
    let Some(elements) = range_elements(a, b, s) else {
        return Ok(Value::Undefined);
    };
    if elements > MAX_RANGE_ELEMENTS as f64 {
        let args = match s {
            None => format!("{a}, {b}"),
            Some(s) => format!("{a}, {b}, {s}"),
        };
        bail!(
            "{name}({args}) would make {elements} elements, over the limit of \
             {MAX_RANGE_ELEMENTS}: a builtin allocates its whole result at once"
        );
    }
    // Within the limit the bounds are integers well inside i64 (|b - a| < 10^6 and both finite
    // integers representable exactly below 2^53 or else too far apart).
    let (a, b) = (a as i64, b as i64);
    let step = s.map_or(1, |s| s as i64);
    let ascending = b >= a;
    let mut values = Vec::with_capacity(elements as usize);
    let mut v = a;
    loop {
        if (ascending && v > b) || (!ascending && v < b) {
            break;
        }
        values.push(Value::from(v));
        let next = if ascending {
            v.checked_add(step)
        } else {
            v.checked_sub(step)
        };
        match next {
            Some(next) => v = next,
            None => break,
        }
    }
    Ok(Value::from(values))
}

/// `bits.lsh(value, shift)` as regorus computes it, refused for shifts over [`MAX_SHIFT_BITS`].
fn bounded_lsh(value: &Value, shift: &Value) -> Result<Value> {
    let (Value::Number(number), Value::Number(bits)) = (value, shift) else {
        return Ok(Value::Undefined);
    };
    if shift
        .as_f64()
        .map_or(true, |bits| bits > MAX_SHIFT_BITS as f64)
    {
        bail!("bits.lsh({value}, {shift}) shifts over the limit of {MAX_SHIFT_BITS} bits");
    }
    Ok(number.lsh(bits).map_or(Value::Undefined, Value::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(args: &[f64]) -> Result<Value> {
        let args: Vec<Value> = args.iter().map(|&n| Value::from(n)).collect();
        match args.as_slice() {
            [a, b] => bounded_range("numbers.range", a, b, None),
            [a, b, s] => bounded_range("numbers.range_step", a, b, Some(s)),
            _ => unreachable!(),
        }
    }

    fn ints(value: &Value) -> Vec<i64> {
        match value {
            Value::Array(items) => items.iter().map(|v| v.as_i64().expect("integer")).collect(),
            other => panic!("not an array: {other:?}"),
        }
    }

    #[test]
    fn ranges_within_the_limit_are_regorus_ranges() {
        assert_eq!(ints(&range(&[1.0, 4.0]).unwrap()), [1, 2, 3, 4]);
        assert_eq!(ints(&range(&[4.0, 1.0]).unwrap()), [4, 3, 2, 1]);
        assert_eq!(ints(&range(&[-1.0, -1.0]).unwrap()), [-1]);
        assert_eq!(ints(&range(&[0.0, 10.0, 3.0]).unwrap()), [0, 3, 6, 9]);
        assert_eq!(ints(&range(&[10.0, 0.0, 4.0]).unwrap()), [10, 6, 2]);
        assert_eq!(range(&[1.5, 4.0]).unwrap(), Value::Undefined);
        assert_eq!(range(&[1.0, 4.0, 0.0]).unwrap(), Value::Undefined);
        assert_eq!(range(&[1.0, 4.0, -1.0]).unwrap(), Value::Undefined);
        assert_eq!(range(&[1.0, f64::INFINITY]).unwrap(), Value::Undefined);
        let last = MAX_RANGE_ELEMENTS as f64;
        assert_eq!(ints(&range(&[1.0, last]).unwrap()).len(), 1_000_000);
    }

    #[test]
    fn shifts_are_bounded() {
        assert_eq!(
            bounded_lsh(&Value::from(1u64), &Value::from(10u64)).unwrap(),
            Value::from(1024u64)
        );
        let lsh = |v: f64, s: f64| bounded_lsh(&Value::from(v), &Value::from(s));
        assert_eq!(lsh(1.5, 1.0).unwrap(), Value::Undefined);
        assert_eq!(lsh(1.0, -1.0).unwrap(), Value::Undefined);
        assert!(bounded_lsh(&Value::from(1u64), &Value::from(MAX_SHIFT_BITS)).is_ok());
        let error = lsh(1.0, 4e9).unwrap_err().to_string();
        assert!(error.contains("over the limit of 1024 bits"), "{error}");
    }

    #[test]
    fn ranges_over_the_limit_fail_naming_the_call() {
        let error = range(&[1.0, 1e15]).unwrap_err().to_string();
        assert!(
            error.contains("numbers.range(1, 1000000000000000)"),
            "{error}"
        );
        assert!(error.contains("over the limit of 1000000"), "{error}");
        let error = range(&[0.0, 1e12, 2.0]).unwrap_err().to_string();
        assert!(error.starts_with("numbers.range_step("), "{error}");
        assert!(range(&[0.0, MAX_RANGE_ELEMENTS as f64]).is_err());
    }
}
