//! The rows table: sticky header with a menu per column (sort, hide, facet), horizontal scroll,
//! and cells rendered by type: numbers right-aligned, timestamps with their zone in the header,
//! nulls distinct from empty text, long values truncated with the full value one click away.

use leptos::prelude::*;

use crate::contract::grammar::{TableQuery, TypeClass};
use crate::contract::{Cell, Grid, TableMeta};

/// Characters of text shown before the rest folds away.
const TRUNCATE_AT: usize = 80;

#[component]
pub fn RowsTable(meta: TableMeta, base: String, query: TableQuery, grid: Grid) -> impl IntoView {
    view! {
        <div class="max-h-[70vh] overflow-auto rounded-xl border border-slate-200 bg-white shadow-sm" tabindex="0" aria-label="Rows">
            <table class="min-w-full border-separate border-spacing-0 text-sm" data-testid="rows">
                <thead>
                    <tr>
                        {grid.columns.iter().map(|name| {
                            let column = meta.column(name).cloned();
                            view! { <HeaderCell name=name.clone() column base=base.clone() query=query.clone()/> }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {grid.rows.into_iter().map(|row| view! {
                        <tr class="odd:bg-white even:bg-slate-50/60 hover:bg-indigo-50/40">
                            {row.into_iter().map(|cell| view! { <CellView cell/> }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn HeaderCell(name: String, column: Option<crate::contract::ColumnView>, base: String, query: TableQuery) -> impl IntoView {
    let numeric = column.as_ref().is_some_and(|c| c.class.is_numeric());
    let sortable = column.as_ref().is_some_and(|c| c.class.is_orderable());
    let facetable = column.as_ref().is_some_and(|c| !matches!(c.class, TypeClass::Nested | TypeClass::Binary));
    let zone = column.as_ref().and_then(|c| c.zone.clone());
    let type_name = column.as_ref().map(|c| c.type_name.clone()).unwrap_or_default();
    let sorted = query.sort.as_ref().filter(|s| s.column == name).map(|s| if s.descending { " ↓" } else { " ↑" });
    let aria_sort = match query.sort.as_ref().filter(|s| s.column == name) {
        Some(s) if s.descending => "descending",
        Some(_) => "ascending",
        None => "none",
    };
    let link = |q: TableQuery| format!("{base}{}", q.href_suffix());
    let item = "block px-3 py-1.5 hover:bg-slate-100 focus:bg-slate-100 focus:outline-none";
    let faceted = query.facets.iter().any(|f| f == &name);
    // A choice closes the menu (client-side navigation keeps the header's elements).
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move |_| {
        if let Some(details) = menu.get() {
            let _ = details.remove_attribute("open");
        }
    };
    view! {
        <th scope="col" aria-sort=aria_sort
            class=if numeric { "sticky top-0 z-10 border-b border-slate-200 bg-slate-100 px-3 py-2 text-right font-medium" } else { "sticky top-0 z-10 border-b border-slate-200 bg-slate-100 px-3 py-2 text-left font-medium" }>
            <details node_ref=menu class="relative inline-block text-left">
                <summary class="cursor-pointer list-none whitespace-nowrap rounded px-1 hover:bg-slate-200 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    aria-label=format!("Column {name} menu")>
                    <span class="font-mono">{name.clone()}</span>
                    {zone.map(|z| view! { <span class="ml-1 text-xs font-normal text-slate-500">{format!("({z})")}</span> })}
                    <span class="text-indigo-700">{sorted}</span>
                    <span class="ml-1 text-xs text-slate-400" aria-hidden="true">"▾"</span>
                </summary>
                <div on:click=close class="absolute left-0 z-20 mt-1 w-48 rounded-lg border border-slate-200 bg-white py-1 text-left text-sm font-normal shadow-lg">
                    <p class="px-3 py-1 font-mono text-xs text-slate-500">{type_name}</p>
                    {sortable.then(|| view! {
                        <a class=item href=link(query.with_sort(&name, false))>"Sort ascending"</a>
                        <a class=item href=link(query.with_sort(&name, true))>"Sort descending"</a>
                    })}
                    <a class=item href=link(query.hiding(&name))>"Hide this column"</a>
                    {(facetable && !faceted).then(|| view! { <a class=item href=link(query.toggling_facet(&name))>"Facet by this"</a> })}
                </div>
            </details>
        </th>
    }
}

/// A cell's text as shown: timestamps without the `T`/`Z` (the header names the zone).
pub fn display_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => "null".into(),
        Cell::Timestamp(t) => t.replacen('T', " ", 1).trim_end_matches('Z').to_string(),
        other => other.filter_text().unwrap_or_default(),
    }
}

#[component]
fn CellView(cell: Cell) -> impl IntoView {
    let td = "border-b border-slate-100 px-3 py-1.5 align-top";
    match &cell {
        Cell::Null => view! {
            <td class=td><span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs italic text-slate-400" title="no value (null)">"null"</span></td>
        }
        .into_any(),
        Cell::Text(s) if s.is_empty() => view! {
            <td class=td><span class="text-xs text-slate-400" title="empty text">"(empty)"</span></td>
        }
        .into_any(),
        Cell::Int(_) | Cell::Float(_) | Cell::Decimal(_) => view! {
            <td class=format!("{td} whitespace-nowrap text-right tabular-nums")>{display_text(&cell)}</td>
        }
        .into_any(),
        Cell::Date(_) | Cell::Timestamp(_) | Cell::Bool(_) => view! {
            <td class=format!("{td} whitespace-nowrap tabular-nums")>{display_text(&cell)}</td>
        }
        .into_any(),
        Cell::Text(_) | Cell::Json(_) | Cell::Binary(_) => {
            let text = display_text(&cell);
            let mono = !matches!(cell, Cell::Text(_));
            if text.chars().count() <= TRUNCATE_AT {
                view! { <td class=format!("{td} whitespace-nowrap") class:font-mono=mono>{text}</td> }.into_any()
            } else {
                let short: String = text.chars().take(TRUNCATE_AT).collect();
                view! {
                    <td class=format!("{td} max-w-md") class:font-mono=mono>
                        <details>
                            <summary class="cursor-pointer" title="Show the full value">{format!("{short}…")}</summary>
                            <div class="mt-1 whitespace-pre-wrap break-words">{text}</div>
                        </details>
                    </td>
                }
                .into_any()
            }
        }
    }
}
