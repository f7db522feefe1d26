//! "Chart this view": a bar chart of a column's values or a line over a date, a time or a
//! number — counted, or a numeric column summed or averaged — of exactly the rows of the view.
//! A plain GET form (the chart is part of the URL, so it is bookmarkable and saved with the
//! view); the server draws the SVG, so it shows without JavaScript; the figures are also a
//! table for screen readers, and the picture downloads as SVG or PNG.

use leptos::prelude::*;

use crate::components::ui::{BUTTON, FIELD, LABEL};
use crate::components::Notice;
use crate::contract::charts::{figure, svg, ChartData};
use crate::contract::grammar::{ChartKind, Measure, TableQuery, TypeClass};
use crate::contract::{Problem, TableMeta};

#[component]
pub fn ChartPanel(meta: TableMeta, query: TableQuery, chart: Option<Result<ChartData, Problem>>) -> impl IntoView {
    let base = meta.href();
    let plain = TableQuery { chart: None, ..query.first_page() };
    let spec = query.chart.clone();
    let is_kind = |k: ChartKind| spec.as_ref().is_some_and(|s| s.kind == k);
    let agg = spec.as_ref().map_or("count", |s| match s.measure {
        Measure::Count => "count",
        Measure::Sum(_) => "sum",
        Measure::Avg(_) => "avg",
    });
    let x_now = spec.as_ref().map(|s| s.x.clone()).unwrap_or_default();
    let y_now = spec.as_ref().and_then(|s| s.y().map(String::from)).unwrap_or_default();
    let groupable: Vec<String> =
        meta.columns.iter().filter(|c| !matches!(c.class, TypeClass::Nested | TypeClass::Binary)).map(|c| c.name.clone()).collect();
    let numeric: Vec<String> = meta.columns.iter().filter(|c| c.class.is_numeric()).map(|c| c.name.clone()).collect();
    let hidden: Vec<(String, String)> = plain.pairs(false);
    let remove = format!("{base}{}", plain.href_suffix());
    let download = format!("{}/chart{}", meta.api_href(), query.first_page().href_suffix());
    let drawn = chart.map(|c| match c {
        Ok(data) => view! { <Drawn data download=download.clone() remove=remove.clone()/> }.into_any(),
        Err(p) => view! { <Notice tone="error">{format!("This chart cannot be drawn: {}", p.message)}</Notice> }.into_any(),
    });
    view! {
        <section id="chart" class="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="chart-heading">
            <h2 id="chart-heading" class="text-sm font-semibold text-slate-700">"Chart this view"</h2>
            {drawn}
            <form method="get" action=base.clone() class="grid gap-2 sm:grid-cols-5 sm:items-end">
                {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
                <div><label for="chart-kind" class=LABEL>"Chart"</label>
                    <select id="chart-kind" name="_chart" class=FIELD>
                        <option value="bar" selected=is_kind(ChartKind::Bar)>"Bars"</option>
                        <option value="line" selected=is_kind(ChartKind::Line)>"Line"</option>
                    </select></div>
                <div><label for="chart-x" class=LABEL>"By (column)"</label>
                    <select id="chart-x" name="_chart_x" class=FIELD>
                        {groupable.into_iter().map(|c| view! { <option selected={c == x_now} value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select></div>
                <div><label for="chart-agg" class=LABEL>"Measure"</label>
                    <select id="chart-agg" name="_chart_agg" class=FIELD>
                        <option value="count" selected={agg == "count"}>"Number of rows"</option>
                        <option value="sum" selected={agg == "sum"}>"Sum of…"</option>
                        <option value="avg" selected={agg == "avg"}>"Average of…"</option>
                    </select></div>
                <div><label for="chart-y" class=LABEL>"…this number"</label>
                    <select id="chart-y" name="_chart_y" class=FIELD>
                        <option value="">"(for a sum or average)"</option>
                        {numeric.into_iter().map(|c| view! { <option selected={c == y_now} value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select></div>
                <div><button type="submit" class=BUTTON>"Draw chart"</button></div>
            </form>
        </section>
    }
}

/// `download` is the chart's address without its extension (`…/chart?…`); `.svg` and `.png` go
/// before the query.
#[component]
fn Drawn(data: ChartData, download: String, remove: String) -> impl IntoView {
    let (path, query) = download.split_once('?').map_or((download.as_str(), String::new()), |(p, q)| (p, format!("?{q}")));
    let (svg_href, png_href) = (format!("{path}.svg{query}"), format!("{path}.png{query}"));
    let picture = svg(&data);
    let caption = format!(
        "{}: {} value{}{}",
        data.title,
        data.points.len(),
        if data.points.len() == 1 { "" } else { "s" },
        if data.more {
            if data.kind == ChartKind::Bar {
                " (the largest; there are more)"
            } else {
                " (the first; there are more)"
            }
        } else {
            ""
        }
    );
    let rows = data.points.clone();
    let measure = data.measure.clone();
    let x = data.x.clone();
    view! {
        <figure class="space-y-2" data-testid="chart">
            {if rows.is_empty() {
                view! { <p class="text-sm text-slate-600">"No rows to chart: the view is empty."</p> }.into_any()
            } else {
                view! { <div class="overflow-x-auto" inner_html=picture></div> }.into_any()
            }}
            <figcaption class="text-sm text-slate-600">{caption}</figcaption>
        </figure>
        <details>
            <summary class="cursor-pointer text-sm font-medium text-indigo-700">"The chart's figures as a table"</summary>
            <table class="mt-2 text-left text-sm" data-testid="chart-table">
                <thead><tr><th scope="col" class="pr-6">{x}</th><th scope="col" class="text-right">{measure}</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|p| view! { <tr><td class="pr-6">{p.label}</td><td class="text-right tabular-nums">{figure(p.value)}</td></tr> }).collect_view()}
                </tbody>
            </table>
        </details>
        <p class="flex flex-wrap gap-4 text-sm">
            <a class="font-medium text-indigo-700 underline" href=svg_href download>"Download the chart (SVG)"</a>
            <a class="font-medium text-indigo-700 underline" href=png_href download>"Download the chart (PNG)"</a>
            <a class="font-medium text-indigo-700 underline" href=remove>"Remove the chart"</a>
        </p>
    }
}
