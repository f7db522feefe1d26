//! A chart of a view (`_chart…`): its rows grouped by one column, counted or a numeric column
//! summed or averaged, by DataFusion on the same frame as the preview's — the recipient's scope
//! first, then the view's filters — so a chart never shows rows the grid would not.

use app::contract::charts::{ChartData, ChartPoint};
use app::contract::grammar::{ChartKind, ChartSpec, Measure, TypeClass};
use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::datatypes::{DataType, Float64Type};
use deltalake::arrow::util::display::array_value_to_string;
use deltalake::datafusion::functions_aggregate::expr_fn::{avg, count, sum};
use deltalake::datafusion::prelude::{cast, lit, Expr};

use super::exprs::column;
use super::Run;
use crate::error::{PortalError, Result};

/// Bars drawn: the largest values.
const BARS: usize = 25;
/// Points of a line drawn: the first in order.
const POINTS: usize = 2000;

impl Run<'_> {
    pub(super) async fn chart(&self, spec: &ChartSpec) -> Result<ChartData> {
        let x = self.column(&spec.x)?;
        match (spec.kind, x.class) {
            (_, TypeClass::Nested | TypeClass::Binary) => {
                return Err(PortalError::bad_query(&x.name, format!("`{}` ({}) cannot be charted", x.name, x.type_name)));
            }
            (ChartKind::Line, c) if !(c.is_numeric() || matches!(c, TypeClass::Date | TypeClass::Timestamp)) => {
                return Err(PortalError::bad_query(
                    &x.name,
                    format!("a line needs a date, a time or a number along it; `{}` is {}: draw bars instead", x.name, x.type_name),
                ));
            }
            _ => {}
        }
        let measured = match spec.y() {
            None => None,
            Some(y) => {
                let y = self.column(y)?;
                if !y.class.is_numeric() {
                    return Err(PortalError::bad_query(
                        &y.name,
                        format!("`{}` ({}) is not a number to add up or average", y.name, y.type_name),
                    ));
                }
                Some(cast(column(&y.name), DataType::Float64))
            }
        };
        let value: Expr = match (&spec.measure, measured) {
            (Measure::Sum(_), Some(y)) => sum(y),
            (Measure::Avg(_), Some(y)) => avg(y),
            _ => cast(count(lit(1)), DataType::Float64),
        };
        // Times are drawn by day.
        let group = if x.class == TypeClass::Timestamp { cast(column(&x.name), DataType::Date32) } else { column(&x.name) };
        let frame = self.filtered(self.streams(), &self.predicate()?)?.aggregate(vec![group.alias("x")], vec![value.alias("v")])?;
        let (order, keep) = match spec.kind {
            ChartKind::Bar => (vec![column("v").sort(false, false), column("x").sort(true, false)], BARS),
            ChartKind::Line => (vec![column("x").sort(true, false)], POINTS),
        };
        let batches = frame.sort(order)?.limit(0, Some(keep + 1))?.collect().await?;
        let mut points = Vec::new();
        for batch in &batches {
            let (labels, values) = (batch.column(0), batch.column(1).as_primitive::<Float64Type>());
            for i in 0..batch.num_rows() {
                let label = if labels.is_null(i) {
                    "(empty)".to_string()
                } else {
                    array_value_to_string(labels, i).map_err(|e| PortalError::fault("chart labels", e))?
                };
                points.push(ChartPoint { label, value: if values.is_null(i) { 0.0 } else { values.value(i) } });
            }
        }
        let more = points.len() > keep;
        points.truncate(keep);
        Ok(ChartData {
            kind: spec.kind,
            title: spec.title(),
            x: spec.x.clone(),
            measure: spec.measure_words(),
            points,
            more,
            label_every: None,
        })
    }
}
