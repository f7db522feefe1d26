//! The data dictionary: column, type, nullable, comment, and which columns partition the table.

use leptos::prelude::*;

use crate::contract::TableMeta;

#[component]
pub fn Dictionary(meta: TableMeta) -> impl IntoView {
    let n = meta.columns.len();
    view! {
        <details class="rounded-xl border border-slate-200 bg-white shadow-sm">
            <summary class="cursor-pointer px-4 py-3 font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                {format!("Data dictionary · {n} column{}", if n == 1 { "" } else { "s" })}
            </summary>
            <div class="overflow-x-auto border-t border-slate-100">
                <table class="min-w-full text-sm">
                    <thead class="bg-slate-50 text-left text-slate-600">
                        <tr>
                            <th scope="col" class="px-4 py-2 font-medium">"Column"</th>
                            <th scope="col" class="px-4 py-2 font-medium">"Type"</th>
                            <th scope="col" class="px-4 py-2 font-medium">"Nullable"</th>
                            <th scope="col" class="px-4 py-2 font-medium">"Comment"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {meta.columns.into_iter().map(|c| view! {
                            <tr>
                                <th scope="row" class="px-4 py-2 text-left font-mono font-normal">
                                    {c.name}
                                    {c.partition.then(|| view! { <span class="ml-2 rounded bg-indigo-50 px-1.5 py-0.5 font-sans text-xs text-indigo-700">"partition"</span> })}
                                </th>
                                <td class="px-4 py-2 font-mono text-slate-700">{c.type_name}{c.zone.map(|z| format!(" ({z})"))}</td>
                                <td class="px-4 py-2">{if c.nullable { "yes" } else { "no" }}</td>
                                <td class="px-4 py-2 text-slate-600">{c.comment.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
}
