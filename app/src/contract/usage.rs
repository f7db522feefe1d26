//! Usage over time as admins see it (the overview and each recipient's page): figures per UTC
//! day summed from the audit log, the tables read most, and the charts drawn from them.

use serde::{Deserialize, Serialize};

use super::charts::{ChartData, ChartPoint};
use super::grammar::ChartKind;

/// One UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDay {
    /// `2026-12-03`.
    pub date: String,
    /// Reads of data that succeeded: protocol queries, table pages, downloads, charts.
    pub reads: i64,
    pub rows: i64,
    pub bytes: i64,
    /// Sign-ins and requests refused for their credentials or network.
    pub refused_sign_ins: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableUsageView {
    /// `share.schema.table`.
    pub table: String,
    pub reads: i64,
    pub rows: i64,
    pub bytes: i64,
    /// How many recipients read it.
    pub recipients: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    /// Every day of the period, oldest first; days without events are zeros.
    pub days: Vec<UsageDay>,
    /// The tables read most in the period, most first.
    pub top_tables: Vec<TableUsageView>,
    /// Whether refused sign-ins that name no recipient are counted: only for admins of every
    /// team (a stranger's failed sign-in belongs to no team).
    pub counts_unattributed: bool,
}

/// The figures a usage chart can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageMeasure {
    Reads,
    Rows,
    Bytes,
    RefusedSignIns,
}

impl UsageMeasure {
    pub const ALL: [UsageMeasure; 4] = [Self::Reads, Self::Rows, Self::Bytes, Self::RefusedSignIns];

    fn of(self, day: &UsageDay) -> i64 {
        match self {
            Self::Reads => day.reads,
            Self::Rows => day.rows,
            Self::Bytes => day.bytes,
            Self::RefusedSignIns => day.refused_sign_ins,
        }
    }
}

const BYTE_UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];

impl UsageView {
    /// Nothing happened in the period.
    pub fn is_quiet(&self) -> bool {
        self.days.iter().all(|d| d.reads == 0 && d.rows == 0 && d.bytes == 0 && d.refused_sign_ins == 0)
    }

    /// The period's sum of a measure.
    pub fn total(&self, measure: UsageMeasure) -> i64 {
        self.days.iter().map(|d| measure.of(d)).sum()
    }

    /// A bar per day. Bytes are charted in the unit of the largest day, so the axis ticks read
    /// round (`200 MB`, not `209,715,200`).
    pub fn chart(&self, measure: UsageMeasure) -> ChartData {
        let largest = self.days.iter().map(|d| measure.of(d)).max().unwrap_or(0);
        let (divisor, unit) = match measure {
            UsageMeasure::Bytes => {
                let mut unit = 0;
                while unit + 1 < BYTE_UNITS.len() && largest as f64 >= 1024f64.powi(unit as i32 + 1) {
                    unit += 1;
                }
                (1024f64.powi(unit as i32), BYTE_UNITS[unit])
            }
            _ => (1.0, ""),
        };
        let measure_words = match measure {
            UsageMeasure::Reads => "Reads".to_string(),
            UsageMeasure::Rows => "Rows read".to_string(),
            UsageMeasure::Bytes => format!("Data read ({unit})"),
            UsageMeasure::RefusedSignIns => "Refused sign-ins".to_string(),
        };
        ChartData {
            kind: ChartKind::Bar,
            title: format!("{measure_words} per day"),
            x: "Day (UTC)".into(),
            measure: measure_words,
            points: self.days.iter().map(|d| ChartPoint { label: short_date(&d.date), value: measure.of(d) as f64 / divisor }).collect(),
            more: false,
            // About ten dates on the axis; every day is in the table.
            label_every: Some(self.days.len().div_ceil(10)),
        }
    }
}

/// `2026-12-03` → `3 Dec`, for the chart's axis (the table beside it has the whole date).
fn short_date(date: &str) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut parts = date.split('-').skip(1);
    match (parts.next().and_then(|m| m.parse::<usize>().ok()), parts.next().and_then(|d| d.parse::<u32>().ok())) {
        (Some(month @ 1..=12), Some(day)) => format!("{day} {}", MONTHS[month - 1]),
        _ => date.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, bytes: i64) -> UsageDay {
        UsageDay { date: date.into(), reads: 2, rows: 10, bytes, refused_sign_ins: 0 }
    }

    #[test]
    fn bytes_are_charted_in_the_unit_of_the_largest_day() {
        let usage = UsageView { days: vec![day("2026-12-02", 512 * 1024), day("2026-12-03", 3 * 1024 * 1024)], ..Default::default() };
        let chart = usage.chart(UsageMeasure::Bytes);
        assert_eq!(chart.title, "Data read (MB) per day");
        assert_eq!(chart.points.iter().map(|p| (p.label.as_str(), p.value)).collect::<Vec<_>>(), [("2 Dec", 0.5), ("3 Dec", 3.0)]);
        assert_eq!(usage.total(UsageMeasure::Reads), 4);
        assert!(!usage.is_quiet());
        assert!(UsageView { days: vec![UsageDay { date: "2026-12-03".into(), ..Default::default() }], ..Default::default() }.is_quiet());
    }
}
