//! Usage over time, on the overview (the team's partners) and a recipient's page: a bar chart
//! per measure drawn on the server (no JavaScript), the figures as a table, the most read tables.

use leptos::prelude::*;

use super::section;
use crate::components::{bytes, thousands};
use crate::contract::charts::svg;
use crate::contract::grammar::encode;
use crate::contract::{UsageMeasure, UsageView};

/// `audit` is where the events behind the figures are listed; `whose` says whose reads they are.
#[component]
pub fn UsagePanel(usage: UsageView, whose: String, audit: String) -> impl IntoView {
    let days = usage.days.len();
    let period = format!("the last {days} days (UTC)");
    let n = |v: i64| thousands(v.max(0) as u64);
    let counted = |v: i64, one: &str| format!("{} {one}{}", n(v), if v == 1 { "" } else { "s" });
    let summary = format!(
        "{}, {} and {} read; {} in {period}.",
        counted(usage.total(UsageMeasure::Reads), "read"),
        counted(usage.total(UsageMeasure::Rows), "row"),
        bytes(usage.total(UsageMeasure::Bytes).max(0) as u64),
        counted(usage.total(UsageMeasure::RefusedSignIns), "refused sign-in"),
    );
    let refused_note = if usage.counts_unattributed {
        "Refused sign-ins: wrong or unknown tokens and passwords, revoked or expired tokens, refused networks."
    } else {
        "Refused sign-ins here are revoked or expired tokens of these recipients; failures that name no recipient show to admins of every team."
    };
    let body = if usage.is_quiet() {
        view! { <p class="text-slate-600">{format!("No reads and no refused sign-ins by {whose} in {period}.")}</p> }.into_any()
    } else {
        let charts = UsageMeasure::ALL.map(|m| usage.chart(m));
        let top = usage.top_tables.clone();
        let table_rows = usage.days.iter().rev().cloned().collect::<Vec<_>>();
        view! {
            <p class="text-sm text-slate-700" data-testid="usage-summary">{summary}</p>
            <div class="mt-3 grid gap-4 xl:grid-cols-2">
                // Each picture is titled inside (and named by its <title> for screen readers).
                {charts.into_iter().map(|chart| view! {
                    <figure class="overflow-x-auto" data-testid="usage-chart" inner_html=svg(&chart)></figure>
                }).collect_view()}
            </div>
            <p class="mt-2 text-xs text-slate-500">{refused_note}</p>
            <details class="mt-3">
                <summary class="cursor-pointer text-sm font-medium text-indigo-700">"The figures per day as a table"</summary>
                {figures("usage-table", "Day (UTC)", "Refused sign-ins", table_rows.into_iter().map(|d| {
                    [d.date, n(d.reads), n(d.rows), bytes(d.bytes.max(0) as u64), n(d.refused_sign_ins)]
                }).collect())}
            </details>
            <h3 class="mt-5 font-medium">"Most read tables"</h3>
            {if top.is_empty() {
                view! { <p class="text-sm text-slate-600">{format!("No table was read in {period}.")}</p> }.into_any()
            } else {
                figures("top-tables", "Table", "Recipients", top.into_iter().map(|t| {
                    [t.table, n(t.reads), n(t.rows), bytes(t.bytes.max(0) as u64), n(t.recipients)]
                }).collect())
            }}
        }
        .into_any()
    };
    section(
        format!("Usage, last {days} days"),
        "usage",
        view! {
            {body}
            <p class="mt-3 text-sm"><a class="font-medium text-indigo-700 underline" href=audit>"The events behind these figures (audit log)"</a></p>
        },
    )
}

/// A table of usage figures: what they are of (`first`), reads, rows, data, and `last`.
fn figures(testid: &'static str, first: &'static str, last: &'static str, rows: Vec<[String; 5]>) -> AnyView {
    let headers = [first, "Reads", "Rows read", "Data read", last];
    view! {
        <div class="overflow-x-auto">
            <table class="mt-2 min-w-full text-left text-sm" data-testid=testid>
                <thead class="text-slate-600"><tr>
                    {headers.into_iter().enumerate().map(|(i, h)| view! {
                        <th scope="col" class=if i == 0 { "py-1 pr-4" } else { "py-1 pr-4 text-right" }>{h}</th>
                    }).collect_view()}
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|cells| view! {
                        <tr class="border-t border-slate-100">
                            {cells.into_iter().enumerate().map(|(i, cell)| view! {
                                <td class=if i == 0 { "py-1 pr-4" } else { "py-1 pr-4 text-right tabular-nums" }>{cell}</td>
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The audit log filtered to one recipient.
pub fn audit_of(recipient: &str) -> String {
    format!("/admin/audit?recipient={}", encode(recipient))
}
