//! Property tests of the protocol's parsers of untrusted text: predicate hints (JSON and SQL) and
//! page tokens. Hints are only hints, but one that skips a file holding a matching row loses the
//! partner data, so the JSON hints are also checked for soundness against real rows.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::{json, Value as Json};

use super::pagination::{next_token, page_request};
use super::predicates::{json as json_hints, sql, FileFacts};

/// A predicate over the long column `x`, as the protocol's JSON writes it.
#[derive(Clone, Debug)]
enum Pred {
    Cmp { op: &'static str, literal: i64, column_first: bool },
    IsNull,
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
}

const OPS: [&str; 5] = ["equal", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual"];

fn pred() -> impl Strategy<Value = Pred> {
    let leaf = prop_oneof![
        (prop::sample::select(&OPS[..]), -20i64..20, any::<bool>()).prop_map(|(op, literal, column_first)| Pred::Cmp {
            op,
            literal,
            column_first
        }),
        Just(Pred::IsNull),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Pred::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Pred::Or),
            inner.prop_map(|p| Pred::Not(Box::new(p))),
        ]
    })
}

fn to_json(p: &Pred) -> Json {
    match p {
        Pred::Cmp { op, literal, column_first } => {
            let column = json!({"op": "column", "name": "x", "valueType": "long"});
            let literal = json!({"op": "literal", "value": literal.to_string(), "valueType": "long"});
            // The literal may come first: `5 < x` is `x > 5`.
            let (op, children) = if *column_first { (*op, vec![column, literal]) } else { (flipped(op), vec![literal, column]) };
            json!({"op": op, "children": children})
        }
        Pred::IsNull => json!({"op": "isNull", "children": [{"op": "column", "name": "x", "valueType": "long"}]}),
        Pred::And(c) => json!({"op": "and", "children": c.iter().map(to_json).collect::<Vec<_>>()}),
        Pred::Or(c) => json!({"op": "or", "children": c.iter().map(to_json).collect::<Vec<_>>()}),
        Pred::Not(c) => json!({"op": "not", "children": [to_json(c)]}),
    }
}

fn flipped(op: &str) -> &'static str {
    match op {
        "lessThan" => "greaterThan",
        "lessThanOrEqual" => "greaterThanOrEqual",
        "greaterThan" => "lessThan",
        "greaterThanOrEqual" => "lessThanOrEqual",
        _ => "equal",
    }
}

/// SQL's three-valued answer for one row (`None` is NULL: the row is not selected).
fn on_row(p: &Pred, x: Option<i64>) -> Option<bool> {
    match p {
        Pred::Cmp { op, literal, .. } => x.map(|x| match *op {
            "equal" => x == *literal,
            "lessThan" => x < *literal,
            "lessThanOrEqual" => x <= *literal,
            "greaterThan" => x > *literal,
            _ => x >= *literal,
        }),
        Pred::IsNull => Some(x.is_none()),
        Pred::And(c) => combine(c.iter().map(|c| on_row(c, x)).collect(), false),
        Pred::Or(c) => combine(c.iter().map(|c| on_row(c, x)).collect(), true),
        Pred::Not(c) => on_row(c, x).map(|b| !b),
    }
}

/// SQL's AND (`decisive` false) and OR (`decisive` true) over three-valued answers.
fn combine(values: Vec<Option<bool>>, decisive: bool) -> Option<bool> {
    if values.contains(&Some(decisive)) {
        Some(decisive)
    } else if values.iter().all(|v| *v == Some(!decisive)) {
        Some(!decisive)
    } else {
        None
    }
}

/// The statistics a writer records for these rows of `x`.
fn stats_of(rows: &[Option<i64>]) -> Json {
    let values: Vec<i64> = rows.iter().flatten().copied().collect();
    let nulls = rows.len() - values.len();
    let mut stats = json!({"numRecords": rows.len(), "nullCount": {"x": nulls}});
    if let (Some(min), Some(max)) = (values.iter().min(), values.iter().max()) {
        stats["minValues"] = json!({"x": min});
        stats["maxValues"] = json!({"x": max});
    }
    stats
}

proptest! {
    #![proptest_config(crate::fuzz_config())]

    /// A file the hint skips holds no row the predicate selects.
    #[test]
    fn fuzz_json_hints_never_skip_a_file_with_a_matching_row(
        p in pred(),
        rows in prop::collection::vec(prop::option::weighted(0.8, -25i64..25), 1..12),
        with_stats in any::<bool>(),
    ) {
        let hint = to_json(&p).to_string();
        let parsed = json_hints::parse(&hint).expect("a well-formed hint parses");
        let stats = stats_of(&rows);
        let types = HashMap::from([("x".to_string(), "long".to_string())]);
        let no_partitions = HashMap::new();
        let facts = FileFacts { partition_values: &no_partitions, stats: with_stats.then_some(&stats), column_types: &types };
        if rows.iter().any(|x| on_row(&p, *x) == Some(true)) {
            prop_assert!(facts.may_match(&parsed), "skipped a file with a matching row: {hint} over {rows:?}");
        }
    }

    /// The same, with `x` a partition column (one value per file).
    #[test]
    fn fuzz_json_hints_on_partition_values_are_exact(p in pred(), x in prop::option::weighted(0.8, -25i64..25)) {
        let parsed = json_hints::parse(&to_json(&p).to_string()).expect("a well-formed hint parses");
        let types = HashMap::from([("x".to_string(), "long".to_string())]);
        let partitions = HashMap::from([("x".to_string(), x.map(|v| v.to_string()))]);
        let facts = FileFacts { partition_values: &partitions, stats: None, column_types: &types };
        if on_row(&p, x) == Some(true) {
            prop_assert!(facts.may_match(&parsed));
        }
    }

    /// Any text, and any JSON, is read or ignored: never a panic, never a stack overflow.
    #[test]
    fn fuzz_json_hints_accept_any_text(text in ".{0,300}", depth in 0usize..3000) {
        let _ = json_hints::parse(&text);
        let nested = format!("{}{}", r#"{"op":"not","children":["#.repeat(depth), "]}".repeat(depth));
        let _ = json_hints::parse(&nested);
    }

    #[test]
    fn fuzz_sql_hints_accept_any_text(hints in prop::collection::vec("[a-z_ ><=!'\"()0-9.-]{0,40}|.{0,40}", 0..5)) {
        let types = HashMap::from([("x".to_string(), "int".to_string()), ("d".to_string(), "date".to_string())]);
        let _ = sql::parse_all(&hints, &types);
    }

    /// A page token continues only the listing it came from, with the keys it carried.
    #[test]
    fn fuzz_page_tokens_round_trip_and_forgeries_are_refused(
        keys in prop::collection::vec(".{0,20}", 1..4),
        listing in "[a-z.]{1,20}",
        other in "[a-z.]{1,20}",
        junk in ".{0,80}",
        max_results in ".{0,8}",
    ) {
        let token = next_token(Some(keys.clone()), &listing).expect("a next page has a token");
        let params = HashMap::from([("pageToken".to_string(), token.clone())]);
        prop_assert_eq!(page_request(&params, &listing).unwrap().after, Some(keys));
        if other != listing {
            prop_assert_eq!(page_request(&params, &other).unwrap_err().status(), 400);
        }
        let forged = HashMap::from([("pageToken".to_string(), junk), ("maxResults".to_string(), max_results)]);
        if let Err(e) = page_request(&forged, &listing) {
            prop_assert_eq!(e.status(), 400);
        }
    }
}
