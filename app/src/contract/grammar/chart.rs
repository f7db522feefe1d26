//! `_chart`, `_chart_x`, `_chart_y`, `_chart_agg`: a chart of the view, as part of its URL (so a
//! chart is bookmarkable and saved with the view like its filters).

use serde::{Deserialize, Serialize};

use super::GrammarError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// One bar per value of `x` (the largest first).
    Bar,
    /// A line over `x` (a date, a time by day, or a number), in its order.
    Line,
}

/// What each bar or point measures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    Count,
    Sum(String),
    Avg(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSpec {
    pub kind: ChartKind,
    pub x: String,
    pub measure: Measure,
}

impl ChartSpec {
    /// From the four parameters as the URL has them (`None`: no chart asked for).
    pub fn parse(kind: Option<&str>, x: Option<&str>, y: Option<&str>, agg: Option<&str>) -> Result<Option<Self>, GrammarError> {
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => return Ok(None),
            Some("bar") => ChartKind::Bar,
            Some("line") => ChartKind::Line,
            Some(other) => return Err(GrammarError(format!("`_chart` is bar or line; got `{other}`"))),
        };
        let x = x.map(str::trim).filter(|x| !x.is_empty()).ok_or_else(|| GrammarError("a chart needs a column in `_chart_x`".into()))?;
        let y = y.map(str::trim).filter(|y| !y.is_empty());
        let measure = match (agg.map(str::trim).unwrap_or("count"), y) {
            ("count" | "", _) => Measure::Count,
            ("sum", Some(y)) => Measure::Sum(y.to_string()),
            ("avg", Some(y)) => Measure::Avg(y.to_string()),
            ("sum" | "avg", None) => return Err(GrammarError("a sum or an average needs a numeric column in `_chart_y`".into())),
            (other, _) => return Err(GrammarError(format!("`_chart_agg` is count, sum or avg; got `{other}`"))),
        };
        Ok(Some(Self { kind, x: x.to_string(), measure }))
    }

    /// The parameters, in canonical order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("_chart".to_string(), if self.kind == ChartKind::Bar { "bar" } else { "line" }.to_string()),
            ("_chart_x".to_string(), self.x.clone()),
        ];
        match &self.measure {
            Measure::Count => {}
            Measure::Sum(y) | Measure::Avg(y) => {
                pairs.push(("_chart_y".to_string(), y.clone()));
                pairs.push(("_chart_agg".to_string(), if matches!(self.measure, Measure::Sum(_)) { "sum" } else { "avg" }.to_string()));
            }
        }
        pairs
    }

    /// "Sum of revenue", "Rows": what the values are.
    pub fn measure_words(&self) -> String {
        match &self.measure {
            Measure::Count => "Rows".to_string(),
            Measure::Sum(y) => format!("Sum of {y}"),
            Measure::Avg(y) => format!("Average of {y}"),
        }
    }

    /// "Sum of revenue by country", for titles and captions.
    pub fn title(&self) -> String {
        format!("{} by {}", self.measure_words(), self.x)
    }

    /// The measured column, if any.
    pub fn y(&self) -> Option<&str> {
        match &self.measure {
            Measure::Count => None,
            Measure::Sum(y) | Measure::Avg(y) => Some(y),
        }
    }
}
