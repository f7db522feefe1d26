//! `/`: the partner's catalog, granted shares → schemas → tables, with each table's figures.
//! The search box is a GET form (`?q=`) that narrows the list on the server; once hydrated it
//! narrows as you type.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::saved_views::{SavedNotice, SavedViewList};
use crate::components::{bytes, not_ready, readable_time, thousands, transport_error, Loading};
use crate::contract::{get_catalog, CatalogView, Loaded, TableSummary};

#[component]
pub fn HomePage() -> impl IntoView {
    let catalog = Resource::new(|| (), |_| get_catalog());
    let query = use_query_map();
    let search = RwSignal::new(query.get_untracked().get("q").unwrap_or_default());
    view! {
        <Suspense fallback=|| view! { <Loading what="your data"/> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Ok(Loaded::Ready(c)) => view! { <Catalog catalog=c search/> }.into_any(),
                    Ok(other) => not_ready(other),
                    Err(_) => transport_error(),
                }
            })}
        </Suspense>
    }
}

fn matches(t: &TableSummary, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    needle.is_empty()
        || [&t.share, &t.schema, &t.name].iter().any(|s| s.to_lowercase().contains(&needle))
        || t.comment.as_ref().is_some_and(|c| c.to_lowercase().contains(&needle))
}

#[component]
fn Catalog(catalog: CatalogView, search: RwSignal<String>) -> impl IntoView {
    let total: usize = catalog.shares.iter().flat_map(|s| &s.schemas).map(|s| s.tables.len()).sum();
    if total == 0 {
        return view! {
            <section class="rounded-xl border border-dashed border-slate-300 bg-white p-10 text-center">
                <h1 class="text-xl font-semibold">"No data is shared with you yet"</h1>
                <p class="mx-auto mt-2 max-w-md text-slate-600">
                    "When your data provider grants you a share, its tables appear here. Contact them if you expected to see something."
                </p>
            </section>
        }
        .into_any();
    }
    let saved = (!catalog.saved.is_empty()).then(|| {
        let views = catalog.saved.clone();
        view! {
            <section id="saved-views" class="rounded-xl border border-slate-200 bg-white px-5 py-4 shadow-sm" aria-labelledby="saved-views-title">
                <h2 id="saved-views-title" class="text-lg font-semibold">"Your saved views"</h2>
                <SavedViewList views back="/".to_string() with_table=true/>
            </section>
        }
    });
    let catalog = StoredValue::new(catalog);
    view! {
        <div class="space-y-6">
            <SavedNotice/>
            <div class="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Your data"</h1>
                    <p class="mt-1 text-slate-600">{format!("{total} table{} shared with you", if total == 1 { "" } else { "s" })}</p>
                </div>
                <form method="get" action="/" role="search" class="flex gap-2">
                    <label for="q" class="sr-only">"Search tables"</label>
                    <input id="q" name="q" type="search" placeholder="Search tables…" prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))
                        class="w-64 rounded-lg border border-slate-300 px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200"/>
                    <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50">"Search"</button>
                </form>
            </div>
            {saved}
            {move || {
                let needle = search.get();
                let shares = catalog.with_value(|c| c.shares.clone());
                let shown: usize = shares.iter().flat_map(|s| &s.schemas).flat_map(|s| &s.tables).filter(|t| matches(t, &needle)).count();
                if shown == 0 {
                    return view! { <p class="rounded-lg bg-white p-6 text-slate-600">{format!("No table matches “{needle}”.")}</p> }.into_any();
                }
                shares
                    .into_iter()
                    .filter(|s| s.schemas.iter().flat_map(|x| &x.tables).any(|t| matches(t, &needle)))
                    .map(|share| {
                        let needle = needle.clone();
                        view! {
                            <section class="rounded-xl border border-slate-200 bg-white shadow-sm" aria-labelledby=format!("share-{}", share.name)>
                                <header class="border-b border-slate-100 px-5 py-4">
                                    <h2 id=format!("share-{}", share.name) class="text-lg font-semibold">{share.name.clone()}</h2>
                                    {share.comment.clone().map(|c| view! { <p class="text-sm text-slate-600">{c}</p> })}
                                </header>
                                {share.schemas.into_iter().map(|schema| {
                                    let tables: Vec<_> = schema.tables.into_iter().filter(|t| matches(t, &needle)).collect();
                                    (!tables.is_empty()).then(|| view! {
                                        <div class="px-5 py-3">
                                            <h3 class="text-xs font-semibold uppercase tracking-wide text-slate-500">{schema.name}</h3>
                                            <ul class="mt-2 divide-y divide-slate-100">
                                                {tables.into_iter().map(|t| view! { <TableLine t/> }).collect_view()}
                                            </ul>
                                        </div>
                                    })
                                }).collect_view()}
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
    }
    .into_any()
}

#[component]
fn TableLine(t: TableSummary) -> impl IntoView {
    let figures = if let Some(problem) = &t.problem {
        view! { <span class="text-amber-700">{problem.clone()}</span> }.into_any()
    } else {
        let rows = t.rows.map(|r| format!("{} rows", thousands(r))).unwrap_or_else(|| "rows unknown".into());
        let size = t.bytes.map(bytes).unwrap_or_default();
        let updated = match (t.version, &t.updated) {
            (Some(v), Some(at)) => format!("version {v}, updated {}", readable_time(at)),
            (Some(v), None) => format!("version {v}"),
            _ => String::new(),
        };
        let partitions = (!t.partition_columns.is_empty()).then(|| format!("partitioned by {}", t.partition_columns.join(", ")));
        view! {
            <span class="tabular-nums">{rows}</span>
            <span aria-hidden="true">" · "</span><span>{size}</span>
            <span aria-hidden="true">" · "</span><span>{updated}</span>
            {partitions.map(|p| view! { <span aria-hidden="true">" · "</span><span>{p}</span> })}
        }
        .into_any()
    };
    view! {
        <li class="flex flex-col gap-1 py-3 sm:flex-row sm:items-baseline sm:justify-between">
            <div>
                <a href=t.href() class="font-medium text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">{t.name.clone()}</a>
                {t.comment.clone().map(|c| view! { <p class="text-sm text-slate-600">{c}</p> })}
            </div>
            <p class="text-sm text-slate-500">{figures}</p>
        </li>
    }
}
