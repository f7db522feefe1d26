//! Time travel: a version picker for tables shared with history (a GET form, keeping the view).

use leptos::prelude::*;

use crate::components::readable_time;
use crate::contract::grammar::{AsOf, TableQuery};
use crate::contract::TableMeta;

#[component]
pub fn VersionPicker(meta: TableMeta, query: TableQuery) -> impl IntoView {
    if meta.history.is_empty() {
        return ().into_any();
    }
    let keep: Vec<(String, String)> = query.at(AsOf::Latest).pairs(false);
    let shown = meta.version;
    let latest = meta.latest_version;
    let action = meta.href();
    view! {
        <form method="get" action=action class="flex items-end gap-2">
            {keep.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
            <div>
                <label for="version" class="block text-xs font-medium text-slate-600">"Table version"</label>
                <select id="version" name="_version" class="mt-1 rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm">
                    {meta.history.into_iter().map(|h| {
                        let label = if h.version == latest { format!("v{} (latest) · {}", h.version, readable_time(&h.at)) } else { format!("v{} · {}", h.version, readable_time(&h.at)) };
                        view! { <option value=h.version.to_string() selected=h.version == shown>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">"Show"</button>
        </form>
    }
    .into_any()
}
