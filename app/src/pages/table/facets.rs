//! Facets: the most frequent values of a column in the filtered view, each a link that toggles
//! the filter `column = value`.

use leptos::prelude::*;

use crate::components::thousands;
use crate::contract::grammar::{Filter, Op, TableQuery};
use crate::contract::{Cell, Facet};

#[component]
pub fn Facets(base: String, query: TableQuery, facets: Vec<Facet>) -> impl IntoView {
    if facets.is_empty() {
        return ().into_any();
    }
    view! {
        <div class="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
            {facets.into_iter().map(|facet| {
                let close = format!("{base}{}", query.toggling_facet(&facet.column).href_suffix());
                view! {
                    <section class="rounded-xl border border-slate-200 bg-white p-3 shadow-sm" aria-label=format!("Facet {}", facet.column)>
                        <div class="flex items-center justify-between">
                            <h3 class="font-mono text-sm font-semibold">{facet.column.clone()}</h3>
                            <a href=close class="text-xs text-slate-500 hover:text-slate-900" aria-label=format!("Remove facet {}", facet.column)>"✕"</a>
                        </div>
                        <ul class="mt-2 max-h-56 space-y-0.5 overflow-y-auto text-sm">
                            {facet.values.into_iter().map(|v| {
                                let (label, href, selected) = match v.value.filter_text() {
                                    Some(text) => {
                                        let shown = super::grid::display_text(&v.value);
                                        let selected = query.has_exact(&facet.column, &text);
                                        (shown, format!("{base}{}", query.toggling_exact(&facet.column, &text).href_suffix()), selected)
                                    }
                                    None => {
                                        let f = Filter { column: facet.column.clone(), op: Op::IsNull, value: "1".into() };
                                        ("null".to_string(), format!("{base}{}", query.with_filter(f).href_suffix()), false)
                                    }
                                };
                                let is_null = matches!(v.value, Cell::Null);
                                view! {
                                    <li>
                                        <a href=href aria-pressed=if selected { "true" } else { "false" }
                                            class=if selected { "flex justify-between rounded bg-indigo-50 px-2 py-0.5 font-medium text-indigo-800" } else { "flex justify-between rounded px-2 py-0.5 hover:bg-slate-50" }>
                                            <span class:italic=is_null class:text-slate-400=is_null class="truncate">{if selected { format!("✓ {label}") } else { label }}</span>
                                            <span class="ml-2 tabular-nums text-slate-500">{thousands(v.count)}</span>
                                        </a>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {facet.truncated.then(|| view! { <p class="mt-1 text-xs text-slate-500">"Showing the most frequent values."</p> })}
                    </section>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}
