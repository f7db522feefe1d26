//! The download bar: the current view (filters, order, columns) as a file, saying first what
//! the file will hold.

use leptos::prelude::*;

use crate::components::thousands;
use crate::contract::grammar::TableQuery;
use crate::contract::TableMeta;

#[component]
pub fn Downloads(meta: TableMeta, query: TableQuery, count: Option<u64>, exact: bool, description: String) -> impl IntoView {
    // The file is the whole view: no page, no facets.
    let view = TableQuery { facets: Vec::new(), size: None, count_all: false, ..query.first_page() }.to_query_string(false);
    let href = |dialect: &str| {
        let sep = if view.is_empty() { "" } else { "&" };
        format!("{}/export.csv?{view}{sep}_dialect={dialect}", meta.api_href())
    };
    let xlsx = format!("{}/export.xlsx{}{view}", meta.api_href(), if view.is_empty() { "" } else { "?" });
    // Excel holds 1,048,575 data rows per sheet; larger files continue on more sheets.
    let many = count.is_some_and(|n| n > 1_048_575);
    let warning = many.then(|| view! {
        <p class="text-sm text-amber-700" role="note">"More rows than one Excel sheet holds: the workbook continues on Data (2), Data (3)… CSV has no limit."</p>
    });
    let rows = match (count, exact) {
        (Some(n), true) => format!("{} row{}", thousands(n), if n == 1 { "" } else { "s" }),
        (Some(n), false) => format!("more than {} rows", thousands(n)),
        (None, _) => "every row".to_string(),
    };
    let what = if description.is_empty() { format!("All {rows}") } else { format!("{rows} {description}") };
    let link = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
    view! {
        <section class="flex flex-col gap-2 rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:flex-row sm:items-center sm:justify-between" aria-labelledby="downloads-title">
            <div>
                <h2 id="downloads-title" class="text-sm font-semibold text-slate-700">"Download this view"</h2>
                <p class="text-sm text-slate-600" data-testid="download-scope">{what}</p>
                {warning}
            </div>
            <div class="flex flex-wrap gap-2">
                <a class="rounded-lg bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-emerald-400" href=xlsx download>"Excel (.xlsx)"</a>
                <a class=link href=href("excel") download>"CSV for Excel"</a>
                <a class=link href=href("excel-eu") download title="Semicolons and decimal commas, for German and other European Excel">"CSV for Excel (EU)"</a>
                <a class=link href=href("plain") download>"CSV"</a>
            </div>
        </section>
    }
}
