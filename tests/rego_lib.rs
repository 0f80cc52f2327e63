//! Table-driven tests of the shared Rego helpers in `policies/lib/`, evaluated by regorus as the
//! rules evaluate them.

mod common;

use regorus::{Engine, Value};

fn engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_rego_v0(false);
    let dir = common::root().join("policies/lib");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).expect("policies/lib exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|e| e == "rego") {
            engine
                .add_policy_from_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            loaded += 1;
        }
    }
    assert!(loaded > 0, "no helpers in {}", dir.display());
    engine
}

/// The value of a query, or Undefined when it has none.
fn eval(engine: &mut Engine, query: &str) -> Value {
    let results = engine
        .eval_query(query.to_string(), false)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    results
        .result
        .first()
        .and_then(|r| r.expressions.first())
        .map(|e| e.value.clone())
        .unwrap_or(Value::Undefined)
}

#[test]
fn int_or_percent_scales_like_the_controllers() {
    let mut engine = engine();
    // (value, total, round up, expected; None = not a valid int-or-percent)
    let cases: &[(&str, i64, bool, Option<i64>)] = &[
        ("1", 3, false, Some(1)),
        ("0", 3, true, Some(0)),
        (r#""25%""#, 10, false, Some(2)),
        (r#""25%""#, 10, true, Some(3)),
        (r#""25%""#, 1, false, Some(0)),
        (r#""25%""#, 1, true, Some(1)),
        (r#""90%""#, 3, true, Some(3)),
        (r#""90%""#, 3, false, Some(2)),
        (r#""100%""#, 7, false, Some(7)),
        (r#""0%""#, 7, true, Some(0)),
        (r#""150%""#, 2, false, Some(3)),
        // Not percentages: the API server rejects these, the helper has no value for them.
        (r#""25""#, 10, false, None),
        (r#""25.5%""#, 10, false, None),
        (r#""-5%""#, 10, false, None),
        (r#""%""#, 10, false, None),
        ("1.5", 10, false, None),
        ("null", 10, false, None),
    ];
    for &(value, total, round_up, expected) in cases {
        let query = format!("data.seaworthy.lib.intstr.scaled({value}, {total}, {round_up})");
        let got = eval(&mut engine, &query);
        let expected = expected.map_or(Value::Undefined, Value::from);
        assert_eq!(got, expected, "{query}");
    }
}

#[test]
fn whole_means_every_replica() {
    let mut engine = engine();
    for (value, expected) in [
        (r#""100%""#, true),
        (r#""120%""#, true),
        (r#""99%""#, false),
        ("100", false),
        (r#""100""#, false),
    ] {
        let query = format!("data.seaworthy.lib.intstr.whole({value})");
        let got = eval(&mut engine, &query) == Value::from(true);
        assert_eq!(got, expected, "{query}");
    }
}
