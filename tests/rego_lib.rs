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

/// `values.digits` and `intstr.percent` stand in for the regexes the rules used before (regorus
/// clones a cached regex on every call, and the clone builds its matcher anew). Each must answer
/// as its regex does, on text at the edges of it: other Unicode digits, signs, spaces, newlines.
#[test]
fn digit_helpers_answer_as_the_regexes_they_replace() {
    let mut engine = engine();
    let texts = [
        "", "0", "8080", "0123", "12a", "a12", " 1", "1 ", "-1", "+1", "1.5", "1e3", "1\n", "\n1",
        "١٢", "１２", "%", "25%", "25%%", "%25", "2 5%", "-5%", "25.5%", "100%\n", "١%",
    ];
    for (helper, pattern, expected_true) in [
        (
            "data.seaworthy.lib.values.digits",
            "^[0-9]+$",
            &["0", "8080", "0123"][..],
        ),
        (
            "data.seaworthy.lib.intstr.percent",
            "^[0-9]+%$",
            &["25%"][..],
        ),
    ] {
        for text in texts {
            let quoted = serde_json::to_string(text).expect("a JSON string");
            let got = eval(&mut engine, &format!("{helper}({quoted})")) == Value::from(true);
            let by_regex = eval(&mut engine, &format!("regex.match(`{pattern}`, {quoted})"))
                == Value::from(true);
            assert_eq!(got, by_regex, "{helper}({quoted}) against {pattern}");
            assert_eq!(got, expected_true.contains(&text), "{helper}({quoted})");
        }
    }
}

/// The names `secret-in-env` takes for credentials: the last word (split at `_`, `.` and `-`,
/// any case) is a credential word and the one before it does not make it a public key. The
/// first test in `secret_env_name` is a cheap necessary condition; it must never turn one away.
#[test]
fn credential_variable_names() {
    let mut engine = engine();
    for (name, expected) in [
        ("DB_PASSWORD", true),
        ("db_password", true),
        ("Db.Secret-", true),
        ("PASSWORD__", true),
        ("GITHUB_TOKEN.", true),
        ("API_KEY", true),
        ("APIKEY", true),
        ("KEY", true),
        ("AWS_CREDENTIALS", true),
        ("MYSQL_PWD", true),
        ("MYPASSWORD", false),
        ("PUBLIC_KEY", false),
        ("SSH_PUB_KEY", false),
        ("PASSWORD_FILE", false),
        ("KEY_ID", false),
        ("SPRING_PROFILES_ACTIVE", false),
        ("", false),
        ("_-.", false),
    ] {
        let quoted = serde_json::to_string(name).expect("a JSON string");
        let got = eval(
            &mut engine,
            &format!("data.seaworthy.lib.secrets.secret_env_name({quoted})"),
        ) == Value::from(true);
        assert_eq!(got, expected, "secret_env_name({quoted})");
    }
}
