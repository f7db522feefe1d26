//! Legacy SQL `predicateHints` (`col op literal`, `col IS [NOT] NULL`), which Tableau's "SQL
//! filter" sends. Column types come from the table schema. Unparseable hints are skipped.

use std::collections::HashMap;

use super::{Cmp, Expr, Value, ValueType};

/// All hints AND-ed; `None` when none could be understood.
pub fn parse_all(hints: &[String], column_types: &HashMap<String, String>) -> Option<Expr> {
    let parsed: Vec<Expr> = hints.iter().filter_map(|h| parse(h, column_types)).collect();
    match parsed.len() {
        0 => None,
        1 => parsed.into_iter().next(),
        _ => Some(Expr::And(parsed)),
    }
}

pub fn parse(hint: &str, column_types: &HashMap<String, String>) -> Option<Expr> {
    let hint = hint.trim();
    let upper = hint.to_ascii_uppercase();
    if let Some(col) = upper.strip_suffix(" IS NOT NULL") {
        let column = column_name(&hint[..col.len()], column_types)?;
        return Some(Expr::Not(Box::new(Expr::IsNull { column })));
    }
    if let Some(col) = upper.strip_suffix(" IS NULL") {
        return Some(Expr::IsNull { column: column_name(&hint[..col.len()], column_types)? });
    }
    // Longest operators first, so `<=` is not read as `<`.
    for (token, cmp, negate) in [
        ("<>", Cmp::Eq, true),
        ("!=", Cmp::Eq, true),
        (">=", Cmp::Ge, false),
        ("<=", Cmp::Le, false),
        ("=", Cmp::Eq, false),
        (">", Cmp::Gt, false),
        ("<", Cmp::Lt, false),
    ] {
        let Some((left, right)) = hint.split_once(token) else { continue };
        let column = column_name(left, column_types)?;
        let value_type = ValueType::parse(column_types.get(&column)?)?;
        let value = Value::parse(value_type, &literal(right)?)?;
        let e = Expr::Compare { column, cmp, value, value_type };
        return Some(if negate { Expr::Not(Box::new(e)) } else { e });
    }
    None
}

fn column_name(text: &str, column_types: &HashMap<String, String>) -> Option<String> {
    let name = text.trim().trim_matches('`');
    column_types.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// `'text'` (with `''` escapes), a number, or `true`/`false`; `date '…'`/`timestamp '…'` too.
fn literal(text: &str) -> Option<String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let text = ["date ", "timestamp "].iter().find_map(|p| lower.starts_with(p).then(|| text[p.len()..].trim())).unwrap_or(text);
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        // A lone quote inside means more than one literal (`'a' OR x = 'b'`): not a simple hint.
        if inner.replace("''", "").contains('\'') {
            return None;
        }
        return Some(inner.replace("''", "'"));
    }
    (!text.is_empty() && !text.contains(char::is_whitespace)).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> HashMap<String, String> {
        HashMap::from([("date".into(), "date".into()), ("units".into(), "long".into()), ("country".into(), "string".into())])
    }

    #[test]
    fn reads_the_protocol_examples() {
        let e = parse_all(&["date >= '2021-01-01'".into(), "date <= '2021-01-31'".into()], &types()).unwrap();
        let Expr::And(parts) = e else { panic!("expected and") };
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parse("units<>3", &types()).unwrap(),
            Expr::Not(Box::new(Expr::Compare { column: "units".into(), cmp: Cmp::Eq, value: Value::Int(3), value_type: ValueType::Long }))
        );
        assert_eq!(
            parse("COUNTRY = 'O''Brien'", &types()).unwrap(),
            Expr::Compare { column: "country".into(), cmp: Cmp::Eq, value: Value::Str("O'Brien".into()), value_type: ValueType::String }
        );
        assert_eq!(parse("country is not null", &types()).unwrap(), Expr::Not(Box::new(Expr::IsNull { column: "country".into() })));
    }

    #[test]
    fn skips_what_it_cannot_read() {
        for bad in [
            "nosuch = 1",
            "units = 'abc'",
            "units LIKE 3",
            "units = 1 OR 1 = 1",
            "country = 'US' OR country = 'FR'",
            "date = '2021-01-01' OR date = '2021-01-02'",
            "date = '2021-01-01x'",
            "",
        ] {
            assert_eq!(parse(bad, &types()), None, "{bad}");
        }
        assert_eq!(parse_all(&["garbage".into()], &types()), None);
    }
}
