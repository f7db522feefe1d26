//! The download bar: the current view (filters, order, columns) as a file, saying first what
//! the file will hold. Small views download at once; large ones (or uncounted ones) are
//! prepared as background exports on `/exports`. Below, the view as a refreshable Power Query.

use leptos::prelude::*;

use crate::components::form_token::FormToken;
use crate::components::thousands;
use crate::contract::grammar::TableQuery;
use crate::contract::power_query::m_query;
use crate::contract::{PartnerLimits, TableMeta};

const BUTTON: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
const PRIMARY: &str = "rounded-lg bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-emerald-400";

#[component]
pub fn Downloads(
    meta: TableMeta,
    query: TableQuery,
    count: Option<u64>,
    exact: bool,
    description: String,
    /// The columns the view shows, in order (the file's columns).
    shown: Vec<String>,
    public_url: String,
    job_rows: u64,
    limits: PartnerLimits,
) -> impl IntoView {
    // The file is the whole view: no page, no facets.
    let view = TableQuery { facets: Vec::new(), size: None, count_all: false, chart: None, ..query.first_page() }.to_query_string(false);
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
    let in_background = !(exact && count.is_some_and(|n| n <= job_rows));
    // What the partner's organisation may download, said before a download is refused.
    let refusal = limits.refusal(count, exact);
    let jobs_left = limits.jobs_left.filter(|_| in_background);
    let buttons = match (&refusal, jobs_left) {
        (Some(why), _) => {
            view! { <p class="max-w-md text-sm text-amber-800" role="note" data-testid="download-refused">{why.clone()}</p> }.into_any()
        }
        (None, Some(0)) => {
            let why = match limits.limits.max_export_jobs_per_day.unwrap_or_default() {
                0 => "Your organisation may not start export jobs.".to_string(),
                max => format!(
                    "Your organisation may start {max} export job{} in 24 hours, and has started {}.",
                    if max == 1 { "" } else { "s" },
                    if max == 1 { "it" } else { "them all" }
                ),
            };
            view! {
                <p class="max-w-md text-sm text-amber-800" role="note" data-testid="download-refused">
                    {format!("{why} Narrow the view to at most {} rows to download it directly, or come back later.", thousands(job_rows))}
                </p>
            }
            .into_any()
        }
        (None, _) if in_background => view! { <JobForms meta=meta.clone() view=view.clone()/> }.into_any(),
        (None, _) => view! { <DirectLinks meta=meta.clone() view=view.clone()/> }.into_any(),
    };
    let jobs_note = jobs_left.filter(|n| *n > 0 && refusal.is_none()).map(|n| view! {
        <p class="text-sm text-slate-600" data-testid="jobs-left">{format!("Your organisation may start {n} more export job{} in the next 24 hours.", if n == 1 { "" } else { "s" })}</p>
    });
    let in_background = in_background && refusal.is_none() && jobs_left != Some(0);
    let columns: Vec<_> = shown.iter().filter_map(|name| meta.column(name).cloned()).collect();
    let m = m_query(&format!("{public_url}{}/export.csv", meta.api_href()), &view, &columns, None);
    view! {
        <section class="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="downloads-title">
            <div class="flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
                <div>
                    <h2 id="downloads-title" class="text-sm font-semibold text-slate-700">"Download this view"</h2>
                    <p class="text-sm text-slate-600" data-testid="download-scope">{what}</p>
                    {refusal.is_none().then_some(warning)}
                    {jobs_note}
                    {in_background.then(|| view! {
                        <p class="text-sm text-slate-600">"Large views are prepared in the background: follow the progress on " <a class="font-medium text-indigo-700 underline" href="/exports">"Your exports"</a> "."</p>
                    })}
                </div>
                {buttons}
            </div>
            // Power Query downloads the view too: not offered where the download is refused.
            {refusal.is_none().then(|| view! {
            <details data-testid="power-query" class="group rounded-lg border border-slate-200 px-3 py-2">
                <summary class="cursor-pointer text-sm font-medium text-slate-700">"Refresh in Excel (Power Query)"</summary>
                <div class="mt-2 space-y-2 text-sm text-slate-600">
                    <p>
                        "In Excel: Data → Get Data → From Other Sources → Blank Query → Advanced Editor, paste this, put your access token in the first line, then Close & Load. "
                        "Data → Refresh All fetches this view again. Create a token on " <a class="font-medium text-indigo-700 underline" href="/connect">"Connect your tools"</a> "."
                    </p>
                    <p id="power-query-title" class="font-medium text-slate-700">"Power Query (M) for this view"</p>
                    // A <pre>, not a <textarea>: its text is escaped like any other (filter values
                    // come from the URL), and it can be selected and copied.
                    <pre id="power-query-m" tabindex="0" aria-labelledby="power-query-title"
                        class="max-h-72 overflow-auto whitespace-pre rounded-lg border border-slate-300 bg-slate-50 p-2 font-mono text-xs text-slate-800"><code>{m.clone()}</code></pre>
                </div>
            </details>
            })}
        </section>
    }
}

/// Links that download the view at once.
#[component]
fn DirectLinks(meta: TableMeta, view: String) -> impl IntoView {
    let href = |dialect: &str| {
        let sep = if view.is_empty() { "" } else { "&" };
        format!("{}/export.csv?{view}{sep}_dialect={dialect}", meta.api_href())
    };
    let xlsx = format!("{}/export.xlsx{}{view}", meta.api_href(), if view.is_empty() { "" } else { "?" });
    view! {
        <div class="flex flex-wrap gap-2">
            <a class=PRIMARY href=xlsx download>"Excel (.xlsx)"</a>
            <a class=BUTTON href=href("excel") download>"CSV for Excel"</a>
            <a class=BUTTON href=href("excel-eu") download title="Semicolons and decimal commas, for German and other European Excel">"CSV for Excel (EU)"</a>
            <a class=BUTTON href=href("plain") download>"CSV"</a>
        </div>
    }
}

/// Forms that start background exports of the view.
#[component]
fn JobForms(meta: TableMeta, view: String) -> impl IntoView {
    let hidden = move || {
        view! {
            <FormToken/>
            <input type="hidden" name="share" value=meta.share.clone()/>
            <input type="hidden" name="schema" value=meta.schema.clone()/>
            <input type="hidden" name="table" value=meta.name.clone()/>
            <input type="hidden" name="view" value=view.clone()/>
        }
    };
    view! {
        <div class="flex flex-wrap items-end gap-3">
            <form method="post" action="/exports">
                {hidden()}
                <input type="hidden" name="format" value="xlsx"/>
                <button type="submit" class=PRIMARY>"Prepare Excel file"</button>
            </form>
            <form method="post" action="/exports" class="flex items-end gap-2">
                {hidden()}
                <input type="hidden" name="format" value="csv"/>
                <div>
                    <label for="job-dialect" class="block text-xs font-medium text-slate-600">"CSV for"</label>
                    <select id="job-dialect" name="dialect" class="rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm">
                        <option value="excel">"Excel"</option>
                        <option value="excel-eu">"Excel (EU: ; and decimal commas)"</option>
                        <option value="plain">"other programs (plain)"</option>
                    </select>
                </div>
                <button type="submit" class=BUTTON>"Prepare CSV"</button>
            </form>
        </div>
    }
}
