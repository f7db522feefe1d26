//! `/admin/shares/:name/preview?table=schema.table&as=recipient`: the first rows of a table as
//! a chosen recipient sees them (their grant and their row scope).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{section, show, AdminNav, Outcome};
use crate::components::ui::{BUTTON, FIELD, LABEL};
use crate::components::{thousands, Loading};
use crate::contract::grammar::encode;
use crate::contract::{get_admin_preview, AdminPreviewView};

#[component]
pub fn AdminPreviewPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || {
        let (table, as_recipient) = query.with(|q| (q.get("table").unwrap_or_default(), q.get("as")));
        (params.read().get("name").unwrap_or_default(), table, as_recipient)
    };
    let page = Resource::new(args, |(share, table, as_recipient)| get_admin_preview(share, table, as_recipient));
    view! {
        <Transition fallback=|| view! { <Loading what="the preview"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Preview v/> }.into_any()) })}
        </Transition>
    }
}

#[component]
fn Preview(v: AdminPreviewView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let title = match &v.recipient {
        Some(r) => format!("{}.{} as {r} sees it", v.share, v.table),
        None => format!("{}.{}", v.share, v.table),
    };
    let count =
        [v.count.map(|n| format!("{} rows for this recipient", thousands(n))), Some(v.description.clone()).filter(|d| !d.is_empty())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <p class="text-sm text-slate-600"><a class="text-indigo-700 hover:underline" href=format!("/admin/shares/{}", encode(&v.share))>{v.share.clone()}</a> " / preview"</p>
        <h1 class="mb-4 mt-1 text-2xl font-semibold">{title}</h1>
        <form method="get" class="mb-4 flex flex-wrap items-end gap-2">
            <input type="hidden" name="table" value=v.table.clone()/>
            <div><label for="as" class=LABEL>"Preview as"</label>
                <select id="as" name="as" class=FIELD>
                    {v.recipients.iter().map(|r| view! { <option value=r.clone() selected=v.recipient.as_deref() == Some(r.as_str())>{r.clone()}</option> }).collect_view()}
                </select></div>
            <button type="submit" class=BUTTON disabled=v.recipients.is_empty()>"Show"</button>
        </form>
        {section("Rows", "rows", match v.problem.clone() {
            Some(problem) => view! { <p class="text-slate-700">{problem}</p> }.into_any(),
            None => view! {
                <p class="mb-2 text-sm text-slate-600">{count}</p>
                <div class="overflow-x-auto"><table class="min-w-full text-left text-sm">
                    <thead class="text-slate-600"><tr>{v.columns.iter().map(|c| view! { <th scope="col" class="py-1 pr-4">{c.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>{v.rows.iter().map(|r| view! {
                        <tr class="border-t border-slate-100">{r.iter().map(|c| view! { <td class="whitespace-nowrap py-1 pr-4">{c.clone()}</td> }).collect_view()}</tr>
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any(),
        })}
    }
}
