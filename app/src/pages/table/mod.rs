//! `/shares/{share}/{schema}/{table}`: the data dictionary, the filter builder, facets and one
//! page of rows. Every state of the page is its URL (the grammar in `contract::grammar`).

mod chart;
mod dictionary;
mod downloads;
mod facets;
mod filters;
mod grid;
mod history;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};

use super::saved_views::{SavedNotice, TableSavedViews};
use crate::components::{not_ready, thousands, transport_error, Loading, Notice};
use crate::contract::grammar::{AsOf, Since, TableQuery};
use crate::contract::{get_table_view, Grid, Loaded, PartnerLimits, TableView};

#[component]
pub fn TablePage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let key = move || {
        let p = params.read();
        let get = |k: &str| p.get(k).unwrap_or_default();
        (get("share"), get("schema"), get("table"), location.search.get())
    };
    let view = Resource::new(key, |(share, schema, table, query)| get_table_view(share, schema, table, query));
    view! {
        <Transition fallback=|| view! { <Loading what="the table"/> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(Loaded::Ready(v)) => view! { <TableScreen v/> }.into_any(),
                    Ok(other) => not_ready(other),
                    Err(_) => transport_error(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TableScreen(v: TableView) -> impl IntoView {
    let TableView { meta, query, description, grid, public_url, job_rows, saved, limits, chart } = v;
    let title = format!("{} · {}", meta.name, meta.share);
    let base = meta.href();
    let problem = grid.as_ref().err().cloned();
    let old_version = (meta.version != meta.latest_version || query.as_of != AsOf::Latest).then(|| {
        let latest = format!("{base}{}", query.at(AsOf::Latest).href_suffix());
        view! {
            <Notice tone="info">
                {format!("You are viewing version {} of this table (latest is {}). ", meta.version, meta.latest_version)}
                <a class="font-medium underline" href=latest>"Back to the latest version"</a>
            </Notice>
        }
    });
    let changes = query.since.as_ref().map(|since| {
        let whole = format!("{base}{}", query.changed_since(None).href_suffix());
        let what = match since {
            Since::Version(v) => format!("You are looking at the rows changed after version {v}"),
            Since::Timestamp(t) => format!("You are looking at the rows changed since {t}"),
        };
        let keys = meta.key_columns.join(", ");
        // Net changes: each key once, in its latest state (where the provider declared the key).
        let net = if query.net {
            let every = format!("{base}{}", query.netted(false).href_suffix());
            Some(view! { <p class="mt-1">{format!("Net changes: each {keys} once, in its latest state (a delete means it is gone). ")}
                <a class="font-medium underline" href=every>"Show every change"</a></p> }.into_any())
        } else if !meta.key_columns.is_empty() {
            let netted = format!("{base}{}", query.netted(true).href_suffix());
            Some(view! { <p class="mt-1"><a class="font-medium underline" href=netted>{format!("Show net changes: each {keys} once, in its latest state")}</a></p> }.into_any())
        } else {
            None
        };
        view! {
            <Notice tone="info">
                {format!("{what}, up to version {}: one row per change, its kind in _change_type (insert, update_preimage, update_postimage, delete) and its version and time in _commit_version and _commit_timestamp. ", meta.version)}
                <a class="font-medium underline" href=whole>"Back to the whole table"</a>
                {net}
            </Notice>
        }
    });
    view! {
        <leptos_meta::Title text=title/>
        <nav aria-label="Breadcrumb" class="text-sm text-slate-500">
            <ol class="flex flex-wrap items-center gap-1">
                <li><a href="/" class="hover:text-slate-900 hover:underline">"Your data"</a></li>
                <li aria-hidden="true">"›"</li>
                <li>{meta.share.clone()}</li>
                <li aria-hidden="true">"›"</li>
                <li>{meta.schema.clone()}</li>
                <li aria-hidden="true">"›"</li>
                <li aria-current="page" class="font-medium text-slate-900">{meta.name.clone()}</li>
            </ol>
        </nav>
        <div class="mt-2 flex flex-col gap-2 sm:flex-row sm:items-end sm:justify-between">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{meta.name.clone()}</h1>
                {meta.comment.clone().map(|c| view! { <p class="mt-1 max-w-3xl text-slate-600">{c}</p> })}
            </div>
            <history::VersionPicker meta=meta.clone() query=query.clone()/>
        </div>
        <div class="mt-4 space-y-4">
            {old_version}
            {changes}
            <SavedNotice/>
            <dictionary::Dictionary meta=meta.clone()/>
            <filters::FilterBuilder meta=meta.clone() query=query.clone() problem=problem.clone()/>
            <TableSavedViews meta=meta.clone() query=query.clone() views=saved/>
            {grid.is_ok().then(|| view! { <chart::ChartPanel meta=meta.clone() query=query.clone() chart=chart.clone()/> })}
            {match grid {
                Ok(grid) => view! { <Results meta base query description grid public_url job_rows limits/> }.into_any(),
                Err(p) => match p.column {
                    // Shown beside its filter row already.
                    Some(_) => ().into_any(),
                    None => view! { <Notice tone="error">{p.message}</Notice> }.into_any(),
                },
            }}
        </div>
    }
}

#[component]
fn Results(
    meta: crate::contract::TableMeta,
    base: String,
    query: TableQuery,
    description: String,
    grid: Grid,
    public_url: String,
    job_rows: u64,
    limits: PartnerLimits,
) -> impl IntoView {
    let count = match (grid.count, grid.count_exact) {
        (Some(n), true) => format!("{} row{}", thousands(n), if n == 1 { "" } else { "s" }),
        (Some(n), false) => format!("More than {} rows", thousands(n)),
        (None, _) => "Rows not counted (it took too long)".to_string(),
    };
    let count_all = (!grid.count_exact).then(|| {
        let href = format!("{base}{}", query.counting_all().href_suffix());
        view! { <a href=href class="text-sm font-medium text-indigo-700 hover:underline">"Count all"</a> }
    });
    let next = grid.next.clone().map(|token| {
        let mut q = query.clone();
        q.next = Some(token);
        format!("{base}{}", q.href_suffix())
    });
    let first = query.next.is_some().then(|| format!("{base}{}", query.first_page().href_suffix()));
    let hidden = !query.hidden.is_empty() || !query.columns.is_empty();
    let show_all = hidden.then(|| format!("{base}{}", query.showing_all_columns().href_suffix()));
    let empty = grid.rows.is_empty();
    view! {
        <div class="flex flex-wrap items-baseline gap-x-3 gap-y-1">
            <p class="font-medium" aria-live="polite"><span data-testid="row-count">{count}</span>" "<span class="text-slate-600">{description.clone()}</span></p>
            {count_all}
            {show_all.map(|href| view! { <a href=href class="text-sm text-indigo-700 hover:underline">"Show all columns"</a> })}
        </div>
        <downloads::Downloads meta=meta.clone() query=query.clone() count=grid.count exact=grid.count_exact description=description.clone()
            shown=grid.columns.clone() public_url job_rows limits/>
        <facets::Facets base=base.clone() query=query.clone() facets=grid.facets.clone()/>
        {if empty {
            view! {
                <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center text-slate-600">
                    "No rows match these filters."
                </div>
            }.into_any()
        } else {
            view! { <grid::RowsTable meta base=base.clone() query=query.clone() grid/> }.into_any()
        }}
        <nav aria-label="Pages" class="flex items-center justify-between">
            <span>{first.map(|href| view! { <a href=href class="text-sm font-medium text-indigo-700 hover:underline">"← First page"</a> })}</span>
            <span>{next.map(|href| view! {
                <a href=href rel="next" class="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50">"Next page →"</a>
            })}</span>
        </nav>
    }
}
