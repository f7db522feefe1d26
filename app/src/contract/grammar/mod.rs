//! The table-view grammar, Datasette's: `col__op=value` filters plus `_sort`, `_col`, `_facet`…
//!
//! [`OPERATORS`] is the one operator table. The filter builder lists its rows, the URL parser
//! reads its keys, the sentence above the grid uses its words, and the server turns each [`Op`]
//! into a DataFusion expression with an exhaustive `match`, so an operator cannot exist in one
//! place and be missing in another.

use serde::{Deserialize, Serialize};

mod chart;
mod operators;
mod query_string;

pub use chart::{ChartKind, ChartSpec, Measure};

pub use operators::{Arity, Op, OpInfo, TypeClass, OPERATORS};
pub use query_string::{decode_pairs, encode};

/// Page size when `_size` is absent, and the most rows one page may ask for.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Facets one view may ask for: each is a grouped scan.
pub const MAX_FACETS: usize = 5;
/// Filters one view may have: each is a predicate over every row scanned.
pub const MAX_FILTERS: usize = 30;
/// The longest value one filter may hold (an `__in` list of many values fits).
pub const MAX_FILTER_VALUE: usize = 2000;

/// One active filter, as written in the URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    /// The raw value text (`"1"` for operators without a value).
    pub value: String,
}

impl Filter {
    /// The list of an `in`/`notin` value: a JSON array (`["a","b,c"]`) or a comma list.
    pub fn list(&self) -> Result<Vec<String>, GrammarError> {
        let v = self.value.trim();
        if v.starts_with('[') {
            let items: Vec<serde_json::Value> = serde_json::from_str(v).map_err(|_| {
                GrammarError(format!("`{}__{}` expects a comma list or a JSON array; got `{v}`", self.column, self.op.info().key))
            })?;
            Ok(items.into_iter().map(|i| i.as_str().map(String::from).unwrap_or_else(|| i.to_string())).collect())
        } else {
            Ok(v.split(',').map(|s| s.trim().to_string()).collect())
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub column: String,
    pub descending: bool,
}

/// Which snapshot to read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AsOf {
    #[default]
    Latest,
    Version(i64),
    /// ISO-8601, as typed.
    Timestamp(String),
}

/// `_since` / `_since_timestamp`: only the rows changed after a version, or at and after a time
/// (the table's change data feed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Since {
    Version(i64),
    /// RFC 3339, as typed.
    Timestamp(String),
}

/// The columns a view of changes adds to the table's own (as the protocol's `/changes` names them).
pub const CHANGE_COLUMNS: [&str; 3] = ["_change_type", "_commit_version", "_commit_timestamp"];

/// A parsed table view: everything the URL says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableQuery {
    pub filters: Vec<Filter>,
    pub sort: Option<Sort>,
    /// `_col`: show only these (in this order); empty means all.
    pub columns: Vec<String>,
    /// `_nocol`: hide these.
    pub hidden: Vec<String>,
    pub size: Option<u32>,
    pub next: Option<String>,
    pub facets: Vec<String>,
    pub as_of: AsOf,
    /// Only the rows changed since then, with the change columns.
    pub since: Option<Since>,
    /// `_net=1`: of the changes, each changed key once, in its latest state (needs `since` and
    /// the table's key columns).
    pub net: bool,
    /// `_chart…`: a chart of the view.
    pub chart: Option<ChartSpec>,
    /// `_count=all`: count every row even when that means a scan.
    pub count_all: bool,
    /// The query came from the filter builder's form (`_filter_*`), not the canonical grammar.
    pub from_form: bool,
}

/// A URL the grammar cannot read; the message names the parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{0}")]
pub struct GrammarError(pub String);

impl TableQuery {
    /// Reads decoded query pairs. Column filters are `col__op=value` (or bare `col=value`, exact);
    /// the filter builder's `_filter_column/_filter_op/_filter_value` triples are read too, so the
    /// form works without JavaScript (the page then redirects to the canonical URL).
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, GrammarError> {
        let mut q = Self::default();
        let (mut form_columns, mut form_ops, mut form_values) = (Vec::new(), Vec::new(), Vec::new());
        let mut as_of = Vec::new();
        let mut since = Vec::new();
        let mut chart: [Option<String>; 4] = Default::default();
        for (k, v) in pairs {
            let (key, value) = (k.as_ref(), v.as_ref());
            match key {
                "_sort" | "_sort_desc" => {
                    if q.sort.is_some() {
                        return Err(GrammarError("give one of `_sort` or `_sort_desc`, once".into()));
                    }
                    if !value.is_empty() {
                        q.sort = Some(Sort { column: value.to_string(), descending: key == "_sort_desc" });
                    }
                }
                "_col" => push_once(&mut q.columns, value),
                "_nocol" => push_once(&mut q.hidden, value),
                "_size" => q.size = Some(parse_size(value)?),
                "_next" => q.next = Some(value.to_string()).filter(|v| !v.is_empty()),
                "_facet" => push_once(&mut q.facets, value),
                "_version" if !value.is_empty() => as_of.push(AsOf::Version(version_number(key, value)?)),
                "_timestamp" if !value.trim().is_empty() => as_of.push(AsOf::Timestamp(value.trim().to_string())),
                "_version" | "_timestamp" => {}
                "_since" if !value.trim().is_empty() => since.push(Since::Version(version_number(key, value)?)),
                "_since_timestamp" if !value.trim().is_empty() => since.push(Since::Timestamp(value.trim().to_string())),
                "_since" | "_since_timestamp" => {}
                "_net" => q.net = flag(key, value)?,
                "_chart" => chart[0] = Some(value.to_string()),
                "_chart_x" => chart[1] = Some(value.to_string()),
                "_chart_y" => chart[2] = Some(value.to_string()),
                "_chart_agg" => chart[3] = Some(value.to_string()),
                "_count" => q.count_all = value == "all",
                "_filter_column" => form_columns.push(value.to_string()),
                "_filter_op" => form_ops.push(value.to_string()),
                "_filter_value" => form_values.push(value.to_string()),
                // Special arguments this portal does not know (Datasette's `_search`, `_shape`…) are
                // ignored, as Datasette does; a column starting with `_` is filtered with `__exact`.
                _ if key.starts_with('_') && !key.contains("__") => {}
                _ => q.filters.push(parse_filter(key, value)),
            }
        }
        if as_of.len() > 1 {
            return Err(GrammarError("give one of `_version` or `_timestamp`, not both".into()));
        }
        q.as_of = as_of.pop().unwrap_or_default();
        if since.len() > 1 {
            return Err(GrammarError("give one of `_since` or `_since_timestamp`, once".into()));
        }
        q.since = since.pop();
        q.chart = ChartSpec::parse(chart[0].as_deref(), chart[1].as_deref(), chart[2].as_deref(), chart[3].as_deref())?;
        if q.net && q.since.is_none() {
            return Err(GrammarError("`_net` gives the net changes since a version: add `_since` or `_since_timestamp`".into()));
        }
        if !form_columns.is_empty() {
            q.from_form = true;
            for (i, column) in form_columns.into_iter().enumerate() {
                let op = form_ops.get(i).map(String::as_str).unwrap_or("exact");
                let value = form_values.get(i).cloned().unwrap_or_default();
                let op = Op::from_key(op).ok_or_else(|| GrammarError(format!("unknown filter operator `{op}`")))?;
                // A blank builder row (no column, or a valued operator with no value) adds nothing.
                if column.is_empty() || (op.info().arity != Arity::None && value.is_empty()) {
                    continue;
                }
                let value = if op.info().arity == Arity::None { "1".to_string() } else { value };
                q.filters.push(Filter { column, op, value });
            }
        }
        if q.facets.len() > MAX_FACETS {
            return Err(GrammarError(format!("at most {MAX_FACETS} `_facet` columns at once")));
        }
        if q.filters.len() > MAX_FILTERS {
            return Err(GrammarError(format!("at most {MAX_FILTERS} filters at once; this view has {}", q.filters.len())));
        }
        if let Some(long) = q.filters.iter().find(|f| f.value.chars().count() > MAX_FILTER_VALUE) {
            return Err(GrammarError(format!("the filter on `{}` is longer than {MAX_FILTER_VALUE} characters", long.column)));
        }
        Ok(q)
    }

    /// Reads a raw query string (`a=1&b__gt=2`), percent- and plus-decoded.
    pub fn parse_query_string(query: &str) -> Result<Self, GrammarError> {
        Self::parse(decode_pairs(query))
    }

    pub fn page_size(&self) -> u32 {
        self.size.unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// The canonical query as decoded pairs; `_next` only when `with_next`.
    pub fn pairs(&self, with_next: bool) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> =
            self.filters.iter().map(|f| (format!("{}__{}", f.column, f.op.info().key), f.value.clone())).collect();
        if let Some(s) = &self.sort {
            pairs.push((if s.descending { "_sort_desc" } else { "_sort" }.into(), s.column.clone()));
        }
        pairs.extend(self.columns.iter().map(|c| ("_col".to_string(), c.clone())));
        pairs.extend(self.hidden.iter().map(|c| ("_nocol".to_string(), c.clone())));
        pairs.extend(self.facets.iter().map(|c| ("_facet".to_string(), c.clone())));
        if let Some(size) = self.size {
            pairs.push(("_size".into(), size.to_string()));
        }
        match &self.as_of {
            AsOf::Latest => {}
            AsOf::Version(v) => pairs.push(("_version".into(), v.to_string())),
            AsOf::Timestamp(t) => pairs.push(("_timestamp".into(), t.clone())),
        }
        match &self.since {
            None => {}
            Some(Since::Version(v)) => pairs.push(("_since".into(), v.to_string())),
            Some(Since::Timestamp(t)) => pairs.push(("_since_timestamp".into(), t.clone())),
        }
        if self.net {
            pairs.push(("_net".into(), "1".into()));
        }
        if let Some(chart) = &self.chart {
            pairs.extend(chart.pairs());
        }
        if self.count_all {
            pairs.push(("_count".into(), "all".into()));
        }
        if with_next {
            if let Some(n) = &self.next {
                pairs.push(("_next".into(), n.clone()));
            }
        }
        pairs
    }

    /// The canonical query string (no leading `?`); `_next` only when `with_next`.
    pub fn to_query_string(&self, with_next: bool) -> String {
        self.pairs(with_next).iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
    }

    pub fn with_filter(&self, filter: Filter) -> Self {
        let mut q = self.first_page();
        q.filters.push(filter);
        q
    }

    pub fn counting_all(&self) -> Self {
        Self { count_all: true, next: None, ..self.clone() }
    }

    /// `?…` for a link, or an empty string for the plain table URL.
    pub fn href_suffix(&self) -> String {
        let q = self.to_query_string(true);
        if q.is_empty() {
            q
        } else {
            format!("?{q}")
        }
    }

    /// A copy that starts from the first page (any change of filters or order restarts paging).
    pub fn first_page(&self) -> Self {
        Self { next: None, from_form: false, count_all: false, ..self.clone() }
    }

    /// What a saved view keeps: filters, sort, columns, facets and page size; not the page, the
    /// version or a count request, so it always opens on the latest data.
    pub fn saved(&self) -> Self {
        Self { as_of: AsOf::Latest, since: None, net: false, ..self.first_page() }
    }

    /// The same view, only the rows changed since `since` (`None`: the whole table again).
    pub fn changed_since(&self, since: Option<Since>) -> Self {
        Self { net: self.net && since.is_some(), since, ..self.first_page() }
    }

    /// The same changes, each changed key once (`net`) or every change.
    pub fn netted(&self, net: bool) -> Self {
        Self { net: net && self.since.is_some(), ..self.first_page() }
    }

    pub fn with_sort(&self, column: &str, descending: bool) -> Self {
        Self { sort: Some(Sort { column: column.into(), descending }), ..self.first_page() }
    }

    pub fn hiding(&self, column: &str) -> Self {
        let mut q = self.first_page();
        q.columns.retain(|c| c != column);
        if !q.hidden.iter().any(|c| c == column) {
            q.hidden.push(column.into());
        }
        q
    }

    pub fn showing_all_columns(&self) -> Self {
        Self { columns: Vec::new(), hidden: Vec::new(), ..self.first_page() }
    }

    pub fn toggling_facet(&self, column: &str) -> Self {
        let mut q = self.first_page();
        if q.facets.iter().any(|c| c == column) {
            q.facets.retain(|c| c != column);
        } else if q.facets.len() < MAX_FACETS {
            q.facets.push(column.into());
        }
        q
    }

    pub fn without_filter(&self, index: usize) -> Self {
        let mut q = self.first_page();
        if index < q.filters.len() {
            q.filters.remove(index);
        }
        q
    }

    /// Adds `column = value`, or removes it when present (a facet value's click).
    pub fn toggling_exact(&self, column: &str, value: &str) -> Self {
        let mut q = self.first_page();
        let before = q.filters.len();
        q.filters.retain(|f| !(f.column == column && f.op == Op::Exact && f.value == value));
        if q.filters.len() == before {
            q.filters.push(Filter { column: column.into(), op: Op::Exact, value: value.into() });
        }
        q
    }

    pub fn has_exact(&self, column: &str, value: &str) -> bool {
        self.filters.iter().any(|f| f.column == column && f.op == Op::Exact && f.value == value)
    }

    pub fn at(&self, as_of: AsOf) -> Self {
        Self { as_of, ..self.first_page() }
    }

    /// Whether a column is shown, given the table's columns in order.
    pub fn shows(&self, column: &str) -> bool {
        (self.columns.is_empty() || self.columns.iter().any(|c| c == column)) && !self.hidden.iter().any(|c| c == column)
    }

    /// `where country = "DE" and units > 3`; empty without filters. `class_of` gives a column's
    /// type so numbers read bare and text quoted.
    pub fn describe(&self, class_of: impl Fn(&str) -> Option<TypeClass>) -> String {
        let parts: Vec<String> = self
            .filters
            .iter()
            .map(|f| {
                let info = f.op.info();
                let quote = |v: &str| {
                    if class_of(&f.column).is_some_and(|t| t.is_numeric() || t == TypeClass::Boolean) {
                        v.to_string()
                    } else {
                        format!("\"{v}\"")
                    }
                };
                match info.arity {
                    Arity::None => format!("{} {}", f.column, info.words),
                    Arity::One => format!("{} {} {}", f.column, info.words, quote(&f.value)),
                    Arity::List => {
                        let items = f.list().unwrap_or_else(|_| vec![f.value.clone()]);
                        format!("{} {} ({})", f.column, info.words, items.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", "))
                    }
                }
            })
            .collect();
        let filters = if parts.is_empty() { String::new() } else { format!("where {}", parts.join(" and ")) };
        let since = match &self.since {
            None => return filters,
            Some(Since::Version(v)) => format!("changed after version {v}"),
            Some(Since::Timestamp(t)) => format!("changed since {t}"),
        };
        let since = if self.net { format!("{since} (net: each key once, latest state)") } else { since };
        if filters.is_empty() {
            since
        } else {
            format!("{since}, {filters}")
        }
    }
}

fn push_once(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

fn parse_filter(key: &str, value: &str) -> Filter {
    // The last `__` splits column and operator, when what follows is an operator; column names
    // may themselves contain `__`.
    if let Some((column, op)) = key.rsplit_once("__") {
        if let Some(op) = Op::from_key(op) {
            return Filter { column: column.to_string(), op, value: value.to_string() };
        }
    }
    Filter { column: key.to_string(), op: Op::Exact, value: value.to_string() }
}

fn parse_size(value: &str) -> Result<u32, GrammarError> {
    if value == "max" {
        return Ok(MAX_PAGE_SIZE);
    }
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
        .ok_or_else(|| GrammarError(format!("`_size` must be a number from 1 to {MAX_PAGE_SIZE}, or `max`; got `{value}`")))
}

/// A yes/no parameter: `1`, `true` or `on`; `0`, `false`, `off` or empty.
fn flag(key: &str, value: &str) -> Result<bool, GrammarError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "" | "0" | "false" | "off" | "no" => Ok(false),
        other => Err(GrammarError(format!("`{key}` is 1 or 0; got `{other}`"))),
    }
}

/// A table version number (0 or more), as `_version` and `_since` take it.
fn version_number(key: &str, value: &str) -> Result<i64, GrammarError> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| GrammarError(format!("`{key}` must be a table version number (0 or more); got `{value}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_round_trips_through_the_url() {
        for info in OPERATORS {
            let q = TableQuery::parse([(format!("my__col__{}", info.key), "v,w".to_string())]).unwrap();
            assert_eq!(q.filters, vec![Filter { column: "my__col".into(), op: info.op, value: "v,w".into() }]);
            assert_eq!(TableQuery::parse_query_string(&q.to_query_string(true)).unwrap(), q);
        }
    }

    #[test]
    fn changes_since_round_trip_and_are_not_part_of_a_saved_view() {
        let q = TableQuery::parse_query_string("country=DE&_since=3&_next=abc").unwrap();
        assert_eq!(q.since, Some(Since::Version(3)));
        assert_eq!(TableQuery::parse_query_string(&q.to_query_string(true)).unwrap(), q);
        assert_eq!(q.saved().to_query_string(false), "country__exact=DE");
        assert_eq!(q.changed_since(None).to_query_string(true), "country__exact=DE");
        assert_eq!(q.describe(|_| None), "changed after version 3, where country = \"DE\"");
        let t = TableQuery::parse_query_string("_since_timestamp=2026-01-01T00:00:00Z").unwrap();
        assert_eq!(t.since, Some(Since::Timestamp("2026-01-01T00:00:00Z".into())));
        assert_eq!(t.describe(|_| None), "changed since 2026-01-01T00:00:00Z");
        for bad in ["_since=-1", "_since=x", "_since=1&_since_timestamp=2026-01-01T00:00:00Z", "_since=1&_since=2"] {
            assert!(TableQuery::parse_query_string(bad).is_err(), "{bad}");
        }
        assert_eq!(TableQuery::parse_query_string("_since=").unwrap().since, None);
        let charted = TableQuery::parse_query_string("country=DE&_chart=bar&_chart_x=sku&_chart_y=revenue&_chart_agg=sum").unwrap();
        let spec = charted.chart.clone().unwrap();
        assert_eq!((spec.kind, spec.x.as_str(), spec.measure.clone()), (ChartKind::Bar, "sku", Measure::Sum("revenue".into())));
        assert_eq!(charted.to_query_string(false), "country__exact=DE&_chart=bar&_chart_x=sku&_chart_y=revenue&_chart_agg=sum");
        assert_eq!(charted.saved().chart, charted.chart, "a saved view keeps its chart");
        assert_eq!(TableQuery::parse_query_string("_chart=line&_chart_x=day").unwrap().chart.unwrap().measure, Measure::Count);
        for bad in [
            "_chart=pie&_chart_x=a",
            "_chart=bar",
            "_chart=bar&_chart_x=a&_chart_agg=sum",
            "_chart=bar&_chart_x=a&_chart_y=b&_chart_agg=max",
        ] {
            assert!(TableQuery::parse_query_string(bad).is_err(), "{bad}");
        }
        let net = TableQuery::parse_query_string("_since=3&_net=1&country=DE").unwrap();
        assert!(net.net);
        assert_eq!(net.to_query_string(false), "country__exact=DE&_since=3&_net=1");
        assert_eq!(net.describe(|_| None), "changed after version 3 (net: each key once, latest state), where country = \"DE\"");
        assert!(!net.saved().net && !net.changed_since(None).net && !net.netted(false).net);
        assert!(!TableQuery::parse_query_string("_since=3&_net=0").unwrap().net);
        for bad in ["_net=1", "_since=3&_net=maybe"] {
            assert!(TableQuery::parse_query_string(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bare_columns_and_unknown_suffixes_are_exact_filters() {
        let q = TableQuery::parse([("country", "DE"), ("a__b", "1")]).unwrap();
        assert_eq!(q.filters[0], Filter { column: "country".into(), op: Op::Exact, value: "DE".into() });
        assert_eq!(q.filters[1], Filter { column: "a__b".into(), op: Op::Exact, value: "1".into() });
    }

    #[test]
    fn special_arguments() {
        let q = TableQuery::parse_query_string(
            "_sort_desc=units&_col=a&_col=b&_col=a&_nocol=c&_size=max&_facet=country&_version=2&_next=abc&_count=all&_search=x&_shape=array",
        )
        .unwrap();
        assert!(q.filters.is_empty(), "unknown special arguments are ignored");
        assert_eq!(q.sort, Some(Sort { column: "units".into(), descending: true }));
        assert_eq!((q.columns.len(), q.hidden.len(), q.size, q.facets.len()), (2, 1, Some(1000), 1));
        assert_eq!((q.as_of.clone(), q.next.as_deref(), q.count_all), (AsOf::Version(2), Some("abc"), true));
        for bad in [
            "_size=0",
            "_size=1001",
            "_size=ten",
            "_version=-1",
            "_version=x",
            "_version=1&_timestamp=2026-01-01T00:00:00Z",
            "_sort=a&_sort_desc=b",
        ] {
            assert!(TableQuery::parse_query_string(bad).is_err(), "{bad}");
        }
        let too_many = (0..=MAX_FACETS).map(|i| format!("_facet=c{i}")).collect::<Vec<_>>().join("&");
        assert!(TableQuery::parse_query_string(&too_many).is_err());
        let filters = |n: usize| (0..n).map(|i| format!("c{i}=1")).collect::<Vec<_>>().join("&");
        assert!(TableQuery::parse_query_string(&filters(MAX_FILTERS)).is_ok());
        assert!(TableQuery::parse_query_string(&filters(MAX_FILTERS + 1)).is_err());
        let long = format!("a={}", "x".repeat(MAX_FILTER_VALUE + 1));
        assert!(TableQuery::parse_query_string(&long).unwrap_err().0.contains("longer than"));
    }

    #[test]
    fn the_form_builder_becomes_canonical_filters() {
        let q = TableQuery::parse_query_string(
            "_filter_column=country&_filter_op=exact&_filter_value=DE&_filter_column=units&_filter_op=gt&_filter_value=3&_filter_column=product&_filter_op=isnull&_filter_value=&_filter_column=&_filter_op=exact&_filter_value=",
        )
        .unwrap();
        assert!(q.from_form);
        assert_eq!(q.to_query_string(false), "country__exact=DE&units__gt=3&product__isnull=1");
        assert!(TableQuery::parse_query_string("_filter_column=a&_filter_op=bogus&_filter_value=1").is_err());
    }

    #[test]
    fn encoding_survives_awkward_values() {
        let value = "a&b=c d+é%";
        let q = TableQuery::parse([("name__contains", value)]).unwrap();
        let again = TableQuery::parse_query_string(&q.to_query_string(false)).unwrap();
        assert_eq!(again.filters[0].value, value);
        assert_eq!(decode_pairs("x=a+b%20c%2"), vec![("x".to_string(), "a b c%2".to_string())]);
    }

    #[test]
    fn lists_read_commas_or_json() {
        let f = |v: &str| Filter { column: "c".into(), op: Op::In, value: v.into() };
        assert_eq!(f("a, b").list().unwrap(), ["a", "b"]);
        assert_eq!(f(r#"["a","b,c",3]"#).list().unwrap(), ["a", "b,c", "3"]);
        assert!(f("[oops").list().is_err());
    }

    #[test]
    fn description_reads_like_a_sentence() {
        let q = TableQuery::parse_query_string("country=DE&units__gt=3&sku__in=A,B&product__isnull=1").unwrap();
        let class = |c: &str| Some(if c == "units" { TypeClass::Integer } else { TypeClass::Text });
        assert_eq!(q.describe(class), r#"where country = "DE" and units > 3 and sku is one of ("A", "B") and product is null"#);
        assert_eq!(TableQuery::default().describe(class), "");
    }

    #[test]
    fn operators_fit_types() {
        assert!(Op::Contains.fits(TypeClass::Text) && !Op::Contains.fits(TypeClass::Integer));
        assert!(Op::Gt.fits(TypeClass::Date) && !Op::Gt.fits(TypeClass::Boolean));
        assert!(Op::Date.fits(TypeClass::Timestamp) && !Op::Date.fits(TypeClass::Text));
        assert!(Op::IsNull.fits(TypeClass::Nested) && !Op::Exact.fits(TypeClass::Nested));
        assert_eq!(TypeClass::of_delta("decimal(10,2)"), TypeClass::Decimal);
        assert_eq!(TypeClass::of_delta("struct"), TypeClass::Nested);
    }

    #[test]
    fn view_changes_restart_paging() {
        let q = TableQuery::parse_query_string("country=DE&_next=tok").unwrap();
        assert_eq!(q.with_sort("units", true).next, None);
        assert_eq!(q.toggling_exact("country", "DE").filters.len(), 0);
        assert_eq!(q.toggling_exact("country", "FR").filters.len(), 2);
        assert_eq!(q.hiding("sku").hidden, ["sku"]);
        assert_eq!(q.toggling_facet("sku").toggling_facet("sku").facets.len(), 0);
    }
}
