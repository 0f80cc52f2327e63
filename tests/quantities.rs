//! `Quantity::parse` against the values `resource.ParseQuantity` in k8s.io/apimachinery gives (the
//! cases of its quantity_test.go and the formats of the Kubernetes documentation), in nano-units:
//! 1 = 1_000_000_000, "1m" = 1_000_000, "1n" = 1.

use regorus::Value;
use seaworthy::quantity::{from_rego, Quantity, QuantityError};

const UNIT: i128 = 1_000_000_000;
const KI: i128 = 1024;
const MI: i128 = 1024 * KI;
const GI: i128 = 1024 * MI;

fn nanos(text: &str) -> i128 {
    match Quantity::parse(text) {
        Ok(q) => q.nanos,
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

#[test]
fn parses_every_kubernetes_format() {
    let cases: &[(&str, i128)] = &[
        // Plain numbers, signs, and the decimal point in every position.
        ("0", 0),
        ("1", UNIT),
        ("+1", UNIT),
        ("-1", -UNIT),
        ("0.5", UNIT / 2),
        (".5", UNIT / 2),
        ("1.", UNIT),
        ("9.01", 9_010_000_000),
        ("0.001", 1_000_000),
        (".001", 1_000_000),
        ("0.00500", 5_000_000),
        ("128974848", 128_974_848 * UNIT),
        // A bare sign or point has no digits: ParseQuantity reads them as zero.
        (".", 0),
        ("-.", 0),
        // Decimal SI suffixes.
        ("1n", 1),
        ("5n", 5),
        ("4u", 4_000),
        ("100m", 100_000_000),
        ("3m", 3_000_000),
        ("1000m", UNIT),
        ("8k", 8_000 * UNIT),
        ("50k", 50_000 * UNIT),
        ("100.035k", 100_035 * UNIT),
        ("0.0005k", UNIT / 2),
        (".0001k", 100_000_000),
        ("129M", 129_000_000 * UNIT),
        ("10.035M", 10_035_000 * UNIT),
        ("6G", 6_000_000_000 * UNIT),
        ("1.G", 1_000_000_000 * UNIT),
        ("5T", 5_000_000_000_000 * UNIT),
        ("2P", 2_000_000_000_000_000 * UNIT),
        ("2.5P", 2_500_000_000_000_000 * UNIT),
        ("1E", 1_000_000_000_000_000_000 * UNIT),
        // Decimal SI values are not capped (only binary ones are).
        ("12E", 12_000_000_000_000_000_000 * UNIT),
        // Binary SI suffixes, whole and fractional.
        ("1Ki", KI * UNIT),
        ("8Ki", 8 * KI * UNIT),
        ("123Mi", 123 * MI * UNIT),
        ("7Mi", 7 * MI * UNIT),
        ("0.5Mi", MI / 2 * UNIT),
        ("1Gi", GI * UNIT),
        ("1.5Gi", 3 * GI / 2 * UNIT),
        ("6Gi", 6 * GI * UNIT),
        ("0.05Gi", 53_687_091_200_000_000),
        ("100.035Ki", 102_435_840_000_000),
        ("5Ti", 5 * 1024 * GI * UNIT),
        ("4Pi", 4 * 1024 * 1024 * GI * UNIT),
        ("3Ei", 3 * 1024 * 1024 * 1024 * GI * UNIT),
        // Decimal exponents, either case, with or without a sign.
        ("1e3", 1_000 * UNIT),
        ("1E3", 1_000 * UNIT),
        ("129e6", 129_000_000 * UNIT),
        ("1e-3", 1_000_000),
        ("1E-3", 1_000_000),
        ("1.3E+6", 1_300_000 * UNIT),
        ("1.2e3", 1_200 * UNIT),
        ("0.5e0", UNIT / 2),
        ("0.5e-2", 5_000_000),
        ("1e-9", 1),
        // Anything finer than 1n rounds up (away from zero) to a whole nano-unit.
        ("0.1n", 1),
        ("0.9n", 1),
        ("3.001n", 4),
        ("1.1E-9", 2),
        ("0.5e-9", 1),
        ("0.0000000001", 1),
        ("0.0000000005", 1),
        ("0.00000000050", 1),
        ("0.00000012345", 124),
        ("0.00000012354", 124),
        ("0.000000000001Ki", 2),
        ("-0.1n", -1),
        ("-3.001n", -4),
        // Zero in every suffix.
        ("0n", 0),
        ("0m", 0),
        ("0Ki", 0),
        ("0M", 0),
        ("0Gi", 0),
        ("-0", 0),
    ];
    let mut wrong = Vec::new();
    for &(text, expected) in cases {
        match Quantity::parse(text) {
            Ok(q) if q.nanos == expected => {}
            Ok(q) => wrong.push(format!("{text:?}: expected {expected}n, got {}n", q.nanos)),
            Err(e) => wrong.push(format!("{text:?}: expected {expected}n, got error {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn caps_binary_quantities_at_the_largest_int64() {
    // ParseQuantity caps BinarySI values at 2^63-1 units (`maxAllowed`).
    let max = i128::from(i64::MAX) * UNIT;
    assert_eq!(nanos("9Ei"), max);
    assert_eq!(nanos("9223372036854775807Ki"), max);
    assert_eq!(nanos("-9Ei"), -max);
    // 7Ei is below the cap and exact.
    assert_eq!(nanos("7Ei"), 7 * 1024 * 1024 * 1024 * GI * UNIT);
}

#[test]
fn compares_across_formats() {
    let equal: &[&[&str]] = &[
        &[
            "1000m",
            "1",
            "1e0",
            "1.0",
            "+1",
            "1000000u",
            "1000000000n",
            "0.001k",
        ],
        &["500m", "0.5", ".5", "5e-1", "0.50000"],
        &["1k", "1000", "1e3", "1E3", "0.001M"],
        // The Kubernetes documentation's example: "roughly the same value" (the first four exactly).
        &["128974848", "123Mi", "128974848000m", "0.128974848G"],
        &["129e6", "129M", "129000000"],
        &["1Mi", "1024Ki", "1048576"],
        &["1Gi", "1024Mi", "1073741824", "1.0Gi"],
        &["1.5Gi", "1536Mi", "1610612736"],
        &["1G", "1000M", "1e9", "1000000000"],
        &["1n", "0.1n", "1e-9", "0.000000001"],
        &["0", "0m", "0Gi", "-0", "0e5", "."],
    ];
    for group in equal {
        let first = nanos(group[0]);
        for text in &group[1..] {
            assert_eq!(nanos(text), first, "{text:?} should equal {:?}", group[0]);
        }
    }
    let less: &[(&str, &str)] = &[
        ("1G", "1Gi"),
        ("1M", "1Mi"),
        ("1k", "1Ki"),
        ("999m", "1"),
        ("512Mi", "1Gi"),
        ("129M", "129000001"),
        ("50m", "100m"),
        ("100Gi", "10000T"),
        ("-1", "0"),
        ("1n", "2n"),
    ];
    for (small, big) in less {
        let (s, b) = (Quantity::parse(small), Quantity::parse(big));
        match (s, b) {
            (Ok(s), Ok(b)) => assert!(s < b, "{small:?} should be less than {big:?}"),
            _ => panic!("{small:?} and {big:?} should parse"),
        }
    }
}

#[test]
fn rejects_what_the_api_server_rejects() {
    let invalid = [
        "", "1x", "1Ki5", "1e", "1E-", "-3.01e-", " 1", "1 ", "1 Gi", "abc", "aoeu", "1.2.3",
        "1.1.M", "1+1.0M", "0.1mi", "0.1am", ".5i", "1i", "-3.01i", "1KI", "1kb", "1GB", "1g",
        "--1", "1e1.5", "0x10",
    ];
    for text in invalid {
        assert!(
            Quantity::parse(text).is_err(),
            "{text:?} should not parse, got {:?}",
            Quantity::parse(text)
        );
    }
    // ParseQuantity's two errors: the shape, and an unknown suffix.
    assert_eq!(Quantity::parse(""), Err(QuantityError::Format));
    assert_eq!(Quantity::parse("1 Gi"), Err(QuantityError::Format));
    assert_eq!(Quantity::parse("1.2.3"), Err(QuantityError::Format));
    assert_eq!(Quantity::parse("1Ki5"), Err(QuantityError::Suffix));
    assert_eq!(Quantity::parse("1e"), Err(QuantityError::Suffix));
    assert_eq!(Quantity::parse("0.1mi"), Err(QuantityError::Suffix));
}

#[test]
fn reads_cpu_as_milli_units_rounded_up() {
    let cases = [
        ("100m", 100),
        ("1", 1000),
        ("0.5", 500),
        ("1n", 1),
        ("1500001u", 1501),
    ];
    for (text, millis) in cases {
        let q = Quantity::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(q.millis(), millis, "{text}");
    }
}

#[test]
fn reads_manifest_values_from_the_engine() {
    // A YAML number is read through its decimal text, as the API server reads a JSON number.
    assert_eq!(
        from_rego(&Value::from(0.5)).map(|q| q.nanos),
        Some(UNIT / 2)
    );
    assert_eq!(from_rego(&Value::from(2)).map(|q| q.nanos), Some(2 * UNIT));
    assert_eq!(
        from_rego(&Value::from(2.0)).map(|q| q.nanos),
        Some(2 * UNIT)
    );
    assert_eq!(
        from_rego(&Value::from(0.1)).map(|q| q.nanos),
        Some(UNIT / 10)
    );
    assert_eq!(from_rego(&Value::from(0)).map(|q| q.nanos), Some(0));
    assert_eq!(
        from_rego(&Value::from(1_073_741_824i64)).map(|q| q.nanos),
        Some(GI * UNIT)
    );
    assert_eq!(
        from_rego(&Value::from("512Mi")).map(|q| q.nanos),
        Some(512 * MI * UNIT)
    );
    assert_eq!(
        from_rego(&Value::from("250m")).map(|q| q.nanos),
        Some(250_000_000)
    );
    // Not quantities: the API server rejects these (or stores nothing for null).
    assert_eq!(from_rego(&Value::from("")), None);
    assert_eq!(from_rego(&Value::from("1GB")), None);
    assert_eq!(from_rego(&Value::Null), None);
    assert_eq!(from_rego(&Value::from(true)), None);
    assert_eq!(from_rego(&Value::Undefined), None);
}

#[test]
fn reads_manifest_strings_with_surrounding_spaces() {
    // Quantity.UnmarshalJSON trims spaces before ParseQuantity (apimachinery's TestJSONWhitespace:
    // `" 1"` and `"1 "` read as 1), so `memory: " 512Mi"` in a manifest is stored as 512Mi.
    assert_eq!(
        from_rego(&Value::from(" 512Mi")).map(|q| q.nanos),
        Some(512 * MI * UNIT)
    );
    assert_eq!(from_rego(&Value::from("1 ")).map(|q| q.nanos), Some(UNIT));
}

#[test]
fn keeps_long_mantissas_exact() {
    // More digits than an i128 holds, scaled back down by the exponent: ParseQuantity works with
    // arbitrary precision and gives 0.1234567890123456789... = 123456790n (rounded up).
    let text = "1234567890123456789012345678901234567890e-40";
    assert_eq!(nanos(text), 123_456_790);
    let text = "0.1234567890123456789012345678901234567890";
    assert_eq!(nanos(text), 123_456_790);
}
