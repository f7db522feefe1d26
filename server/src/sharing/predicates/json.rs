//! `jsonPredicateHints` (PROTOCOL.md "JSON predicates format") → [`Expr`].
//! Anything malformed, or an op we cannot reason about, yields `None`: no filtering.

use serde_json::Value as Json;

use super::{Cmp, Expr, Value, ValueType};

pub fn parse(text: &str) -> Option<Expr> {
    let json: Json = serde_json::from_str(text).ok()?;
    node(&json)
}

fn node(j: &Json) -> Option<Expr> {
    let op = j.get("op")?.as_str()?;
    let children: Vec<&Json> = j.get("children").and_then(Json::as_array).map(|c| c.iter().collect()).unwrap_or_default();
    Some(match op {
        "and" | "or" => {
            let parsed = children.iter().map(|c| node(c)).collect::<Option<Vec<_>>>()?;
            if parsed.len() < 2 {
                return None;
            }
            if op == "and" {
                Expr::And(parsed)
            } else {
                Expr::Or(parsed)
            }
        }
        "not" => match children.as_slice() {
            [c] => Expr::Not(Box::new(node(c)?)),
            _ => return None,
        },
        "isNull" => match children.as_slice() {
            [c] if c.get("op")?.as_str()? == "column" => Expr::IsNull { column: c.get("name")?.as_str()?.to_string() },
            _ => return None,
        },
        "equal" | "lessThan" | "lessThanOrEqual" | "greaterThan" | "greaterThanOrEqual" => {
            let cmp = match op {
                "equal" => Cmp::Eq,
                "lessThan" => Cmp::Lt,
                "lessThanOrEqual" => Cmp::Le,
                "greaterThan" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            match children.as_slice() {
                [a, b] => compare(a, b, cmp).or_else(|| compare(b, a, cmp.flipped()))?,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// `column <cmp> literal`, when `a` is the column and `b` the literal.
fn compare(a: &Json, b: &Json, cmp: Cmp) -> Option<Expr> {
    if a.get("op")?.as_str()? != "column" || b.get("op")?.as_str()? != "literal" {
        return None;
    }
    let value_type = ValueType::parse(b.get("valueType")?.as_str()?)?;
    let value = Value::parse(value_type, b.get("value")?.as_str()?)?;
    Some(Expr::Compare { column: a.get("name")?.as_str()?.to_string(), cmp, value, value_type })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::sharing::predicates::FileFacts;

    fn facts<'a>(pv: &'a HashMap<String, Option<String>>, stats: Option<&'a Json>) -> FileFacts<'a> {
        static TYPES: std::sync::LazyLock<HashMap<String, String>> = std::sync::LazyLock::new(|| {
            [("birthday", "date"), ("units", "long"), ("ts", "timestamp"), ("price", "double"), ("code", "string")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        });
        FileFacts { partition_values: pv, stats, column_types: &TYPES }
    }

    fn pv(k: &str, v: Option<&str>) -> HashMap<String, Option<String>> {
        HashMap::from([(k.to_string(), v.map(String::from))])
    }

    #[test]
    fn malformed_hints_filter_nothing() {
        for bad in [
            "bad-predicates",
            "{}",
            r#"{"op":"and","children":[]}"#,
            r#"{"op":"like"}"#,
            r#"{"op":"equal","children":[{"op":"column","name":"a","valueType":"int"},{"op":"literal","value":"x","valueType":"int"}]}"#,
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn partition_predicates_are_exact() {
        // The protocol's own example: birthday is not null and = 2020-01-01.
        let e = parse(r#"{"op":"and","children":[{"op":"not","children":[{"op":"isNull","children":[{"op":"column","name":"birthday","valueType":"date"}]}]},{"op":"equal","children":[{"op":"column","name":"birthday","valueType":"date"},{"op":"literal","value":"2020-01-01","valueType":"date"}]}]}"#).unwrap();
        assert!(facts(&pv("birthday", Some("2020-01-01")), None).may_match(&e));
        assert!(!facts(&pv("birthday", Some("2020-01-02")), None).may_match(&e));
        assert!(!facts(&pv("birthday", None), None).may_match(&e));
        // Literal on the left: 5 < units is units > 5.
        let e =
            parse(r#"{"op":"lessThan","children":[{"op":"literal","value":"5","valueType":"int"},{"op":"column","name":"units","valueType":"int"}]}"#).unwrap();
        assert!(facts(&pv("units", Some("6")), None).may_match(&e));
        assert!(!facts(&pv("units", Some("5")), None).may_match(&e));
    }

    #[test]
    fn stats_skip_only_impossible_files() {
        let stats: Json = serde_json::json!({"numRecords": 10, "minValues": {"units": 10, "ts": "2021-04-28T23:33:57.955Z"}, "maxValues": {"units": 20, "ts": "2021-04-28T23:33:57.955Z"}, "nullCount": {"units": 0, "ts": 0}});
        let none = HashMap::new();
        let f = facts(&none, Some(&stats));
        let cmp = |op: &str, v: &str| {
            parse(&format!(
                r#"{{"op":"{op}","children":[{{"op":"column","name":"units","valueType":"long"}},{{"op":"literal","value":"{v}","valueType":"long"}}]}}"#
            ))
            .unwrap()
        };
        for (op, v, keep) in [
            ("equal", "9", false),
            ("equal", "10", true),
            ("equal", "21", false),
            ("lessThan", "10", false),
            ("lessThan", "11", true),
            ("lessThanOrEqual", "9", false),
            ("lessThanOrEqual", "10", true),
            ("greaterThan", "20", false),
            ("greaterThan", "19", true),
            ("greaterThanOrEqual", "21", false),
            ("greaterThanOrEqual", "20", true),
        ] {
            assert_eq!(f.may_match(&cmp(op, v)), keep, "{op} {v}");
        }
        // not(units < 30): all rows are < 30, so none passes.
        let not = Expr::Not(Box::new(cmp("lessThan", "30")));
        assert!(!f.may_match(&not));
        // Timestamp stats are millisecond-truncated: a later microsecond may still be inside.
        let ts = parse(r#"{"op":"equal","children":[{"op":"column","name":"ts","valueType":"timestamp"},{"op":"literal","value":"2021-04-28T23:33:57.955500Z","valueType":"timestamp"}]}"#).unwrap();
        assert!(f.may_match(&ts));
        // No stats, unknown column: keep.
        assert!(facts(&none, None).may_match(&cmp("equal", "1")));
    }

    #[test]
    fn stats_of_another_type_are_not_trusted() {
        // A string column whose stats compare differently as numbers: "10" < "9" as text.
        let stats: Json =
            serde_json::json!({"numRecords": 2, "minValues": {"code": "10"}, "maxValues": {"code": "9"}, "nullCount": {"code": 0}});
        let none = HashMap::new();
        let as_int = parse(
            r#"{"op":"equal","children":[{"op":"column","name":"code","valueType":"int"},{"op":"literal","value":"9","valueType":"int"}]}"#,
        )
        .unwrap();
        assert!(facts(&none, Some(&stats)).may_match(&as_int));
        let unknown =
            parse(r#"{"op":"equal","children":[{"op":"column","name":"nosuch","valueType":"int"},{"op":"literal","value":"9","valueType":"int"}]}"#).unwrap();
        assert!(facts(&none, Some(&stats)).may_match(&unknown));
    }

    #[test]
    fn float_files_with_possible_nan_are_kept_under_not() {
        let stats: Json =
            serde_json::json!({"numRecords": 3, "minValues": {"price": 1.0}, "maxValues": {"price": 5.0}, "nullCount": {"price": 0}});
        let none = HashMap::new();
        let lt =
            parse(r#"{"op":"lessThan","children":[{"op":"column","name":"price","valueType":"double"},{"op":"literal","value":"10","valueType":"double"}]}"#)
                .unwrap();
        assert!(facts(&none, Some(&stats)).may_match(&Expr::Not(Box::new(lt))));
    }
}
