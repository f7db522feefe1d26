//! A ready-to-paste Power Query (M) that loads a table view into Excel from its CSV export, so
//! the partner's sheet refreshes with one click. The base URL stays static and the view goes in
//! `Query=[…]`: Power BI and Excel refuse to refresh sources whose URL is built dynamically.

use super::grammar::{decode_pairs, TypeClass};
use super::views::ColumnView;

/// What the token line says until the partner pastes theirs.
pub const TOKEN_PLACEHOLDER: &str = "<paste your access token>";

/// The M query for `csv_url` (absolute, without query) and `view` (the table page's grammar),
/// typing the CSV's `columns`; `token` fills the token line when the page knows it.
pub fn m_query(csv_url: &str, view: &str, columns: &[ColumnView], token: Option<&str>) -> String {
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in decode_pairs(view).into_iter().filter(|(k, _)| k != "_dialect") {
        match params.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => params.push((key, vec![value])),
        }
    }
    params.push(("_dialect".into(), vec!["plain".into()]));
    let fields: Vec<String> = params
        .iter()
        .map(|(k, values)| match values.as_slice() {
            [one] => format!("#{} = {}", text(k), text(one)),
            many => format!("#{} = {{{}}}", text(k), many.iter().map(|v| text(v)).collect::<Vec<_>>().join(", ")),
        })
        .collect();
    let types: Vec<String> = columns.iter().map(|c| format!("{{{}, {}}}", text(&c.name), m_type(c))).collect();
    format!(
        "let\n    // Your access token from the portal's Connect page. Anyone with this workbook can use it.\n    \
         Token = {token},\n    \
         Source = Web.Contents(\n        {url},\n        [Query = [{fields}], Headers = [Authorization = \"Bearer \" & Token]]\n    ),\n    \
         Csv = Csv.Document(Source, [Delimiter = \",\", Encoding = 65001, QuoteStyle = QuoteStyle.Csv]),\n    \
         Promoted = Table.PromoteHeaders(Csv, [PromoteAllScalars = true]),\n    \
         Typed = Table.TransformColumnTypes(Promoted, {{{types}}}, \"en-US\")\nin\n    Typed",
        token = text(token.unwrap_or(TOKEN_PLACEHOLDER)),
        url = text(csv_url),
        fields = fields.join(", "),
        types = types.join(", "),
    )
}

/// The Power Query type a column's plain CSV text parses into.
fn m_type(c: &ColumnView) -> &'static str {
    match c.class {
        TypeClass::Integer => "Int64.Type",
        TypeClass::Decimal | TypeClass::Float => "type number",
        TypeClass::Boolean => "type logical",
        TypeClass::Date => "type date",
        TypeClass::Timestamp if c.zone.is_some() => "type datetimezone",
        TypeClass::Timestamp => "type datetime",
        TypeClass::Text | TypeClass::Binary | TypeClass::Nested => "type text",
    }
}

/// An M text literal: quotes doubled, control characters and `#(` escaped.
fn text(value: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\"\""),
            '#' if chars.peek() == Some(&'(') => out.push_str("#(#)"),
            '\r' => out.push_str("#(cr)"),
            '\n' => out.push_str("#(lf)"),
            '\t' => out.push_str("#(tab)"),
            c if c.is_control() => out.push_str(&format!("#({:04X})", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, class: TypeClass, zone: Option<&str>) -> ColumnView {
        ColumnView {
            name: name.into(),
            type_name: String::new(),
            class,
            nullable: true,
            comment: None,
            partition: false,
            zone: zone.map(String::from),
        }
    }

    #[test]
    fn the_view_goes_in_the_query_record() {
        let m = m_query(
            "https://p.example/api/v1/shares/s/schemas/d/tables/t/export.csv",
            "country=DE&units__gt=3&_col=a&_col=b",
            &[],
            Some("dss_x"),
        );
        assert!(m.contains(r#"Token = "dss_x","#), "{m}");
        assert!(
            m.contains(
                r#"Web.Contents(
        "https://p.example/api/v1/shares/s/schemas/d/tables/t/export.csv","#
            ),
            "{m}"
        );
        assert!(m.contains(r##"[Query = [#"country" = "DE", #"units__gt" = "3", #"_col" = {"a", "b"}, #"_dialect" = "plain"]"##), "{m}");
    }

    #[test]
    fn columns_get_their_types() {
        let cols = [
            column("units", TypeClass::Integer, None),
            column("at", TypeClass::Timestamp, Some("UTC")),
            column("day", TypeClass::Date, None),
        ];
        let m = m_query("u", "", &cols, None);
        assert!(m.contains(r#"{{"units", Int64.Type}, {"at", type datetimezone}, {"day", type date}}"#), "{m}");
        assert!(m.contains(TOKEN_PLACEHOLDER));
    }

    #[test]
    fn text_is_escaped_for_m() {
        assert_eq!(text(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(text("a\nb\tc"), r#""a#(lf)b#(tab)c""#);
        assert_eq!(text("#(lf)"), r##""#(#)(lf)""##);
    }
}
