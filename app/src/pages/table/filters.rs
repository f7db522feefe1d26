//! The filter builder: rows of [column] [operator] [value]. It submits the `_filter_*` fields as
//! a GET form (no JavaScript needed) and the page answers with the canonical `col__op=value` URL.
//! Operators come from the one operator table, narrowed to those that fit the chosen column.

use leptos::prelude::*;

use crate::contract::grammar::{Arity, Filter, Op, TableQuery, OPERATORS};
use crate::contract::{Problem, TableMeta};

#[component]
pub fn FilterBuilder(meta: TableMeta, query: TableQuery, problem: Option<Problem>) -> impl IntoView {
    // Everything but the filters (and the page) rides along as hidden fields.
    let keep: Vec<(String, String)> = TableQuery { filters: Vec::new(), ..query.first_page() }.pairs(false);
    let base = meta.href();
    let meta = StoredValue::new(meta);
    let active = query.filters.clone();
    let extra = RwSignal::new(1usize);
    let describe_problem = problem.clone().filter(|p| p.column.is_some() && !active.iter().any(|f| Some(&f.column) == p.column.as_ref()));
    view! {
        <form method="get" action=base.clone() class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="filters-title">
            <h2 id="filters-title" class="text-sm font-semibold text-slate-700">"Filters"</h2>
            {keep.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
            <div class="mt-2 space-y-2">
                {active.iter().enumerate().map(|(i, f)| {
                    let remove = format!("{base}{}", query.without_filter(i).href_suffix());
                    let message = problem.clone().filter(|p| p.column.as_deref() == Some(f.column.as_str())).map(|p| p.message);
                    view! { <FilterRow meta index=i filter=Some(f.clone()) remove=Some(remove) message/> }
                }).collect_view()}
                {move || (0..extra.get()).map(|j| view! { <FilterRow meta index=active.len() + j filter=None remove=None message=None/> }).collect_view()}
            </div>
            {describe_problem.map(|p| view! { <p role="alert" class="mt-2 text-sm text-red-700">{p.message}</p> })}
            <div class="mt-3 flex flex-wrap gap-2">
                <button type="submit" class="rounded-lg bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-300">"Apply filters"</button>
                <button type="button" on:click=move |_| extra.update(|n| *n += 1)
                    class="rounded-lg border border-slate-300 px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50">"+ Add another filter"</button>
                {(!query.filters.is_empty()).then(|| {
                    let clear = format!("{base}{}", TableQuery { filters: Vec::new(), ..query.first_page() }.href_suffix());
                    view! { <a href=clear class="self-center text-sm text-slate-600 underline hover:text-slate-900">"Clear filters"</a> }
                })}
            </div>
        </form>
    }
}

#[component]
fn FilterRow(
    meta: StoredValue<TableMeta>,
    index: usize,
    filter: Option<Filter>,
    remove: Option<String>,
    message: Option<String>,
) -> impl IntoView {
    let column = RwSignal::new(filter.as_ref().map(|f| f.column.clone()).unwrap_or_default());
    let op = filter.as_ref().map(|f| f.op).unwrap_or(Op::Exact);
    let value = filter.as_ref().filter(|f| f.op.info().arity != Arity::None).map(|f| f.value.clone()).unwrap_or_default();
    let (col_id, op_id, value_id) = (format!("filter-column-{index}"), format!("filter-op-{index}"), format!("filter-value-{index}"));
    let invalid = message.is_some();
    let error_id = format!("filter-error-{index}");
    let select =
        "rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200";
    view! {
        <div class="flex flex-wrap items-center gap-2" data-testid="filter-row">
            <label for=col_id.clone() class="sr-only">{format!("Filter {} column", index + 1)}</label>
            <select id=col_id name="_filter_column" class=select on:change=move |ev| column.set(event_target_value(&ev))>
                <option value="" selected=column.get_untracked().is_empty()>"column…"</option>
                {meta.with_value(|m| m.columns.iter().map(|c| {
                    let selected = c.name == column.get_untracked();
                    view! { <option value=c.name.clone() selected=selected>{c.name.clone()}</option> }
                }).collect_view())}
            </select>
            <label for=op_id.clone() class="sr-only">{format!("Filter {} operator", index + 1)}</label>
            <select id=op_id name="_filter_op" class=select>
                {move || {
                    let class = meta.with_value(|m| m.class_of(&column.get()));
                    OPERATORS.iter().filter(|i| class.is_none_or(|t| i.op.fits(t))).map(|i| {
                        view! { <option value=i.key selected=i.op == op>{i.label}</option> }
                    }).collect_view()
                }}
            </select>
            <label for=value_id.clone() class="sr-only">{format!("Filter {} value", index + 1)}</label>
            <input id=value_id name="_filter_value" type="text" value=value
                placeholder=move || meta.with_value(|m| m.class_of(&column.get()).map(|t| t.expected()).unwrap_or("value"))
                aria-invalid=invalid.then_some("true") aria-describedby=invalid.then(|| error_id.clone())
                class=if invalid { "w-48 rounded-lg border border-red-400 px-2 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-red-200" } else { "w-48 rounded-lg border border-slate-300 px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200" }/>
            {remove.map(|href| view! {
                <a href=href class="rounded-md px-2 py-1 text-sm text-slate-500 hover:bg-slate-100 hover:text-red-700"
                    aria-label=format!("Remove filter {}", index + 1)>"Remove"</a>
            })}
            {message.map(|m| view! { <p id=error_id role="alert" class="basis-full text-sm text-red-700">{m}</p> })}
        </div>
    }
}
