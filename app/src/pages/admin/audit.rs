//! `/admin/audit`: every partner read and admin action, filtered by recipient, share, action
//! and time (a GET form, so filters live in the URL), with a CSV download of the same view.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{section, show, AdminNav, FieldError, Outcome};
use crate::components::ui::{BUTTON, FIELD, LABEL, PRIMARY};
use crate::components::{readable_time, Loading};
use crate::contract::{get_admin_audit, AdminAuditView, AuditQuery};

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| AuditQuery {
            recipient: q.get("recipient"),
            share: q.get("share"),
            action: q.get("action"),
            from: q.get("from"),
            to: q.get("to"),
        })
    };
    let page = Resource::new(filters, get_admin_audit);
    view! {
        <Transition fallback=|| view! { <Loading what="the audit log"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Audit v/> }.into_any()) })}
        </Transition>
    }
}

#[component]
fn Audit(v: AdminAuditView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let q = v.query.clone();
    let csv = format!("/admin/audit.csv?{}", q.to_query_string());
    let field = |id: &'static str, label: &'static str, name: &'static str, value: Option<String>, hint: &'static str| {
        view! {
            <div><label for=id class=LABEL>{label}</label><input id=id name=name value=value.unwrap_or_default() placeholder=hint class=FIELD/><FieldError field=name/></div>
        }
    };
    let events = v.events.clone();
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <h1 class="mb-4 text-2xl font-semibold">"Audit log"</h1>
        {section("Filter", "filters", view! {
            <form method="get" action="/admin/audit" class="grid gap-3 md:grid-cols-5">
                {field("f-recipient", "Recipient", "recipient", q.recipient.clone(), "any")}
                {field("f-share", "Share", "share", q.share.clone(), "any")}
                {field("f-action", "Action (or prefix, e.g. admin.)", "action", q.action.clone(), "any")}
                {field("f-from", "From", "from", q.from.clone(), "2026-11-01")}
                {field("f-to", "To", "to", q.to.clone(), "2026-11-30")}
                <div class="flex gap-2 md:col-span-5">
                    <button type="submit" class=PRIMARY>"Show events"</button>
                    <a href="/admin/audit" class=BUTTON>"Clear filters"</a>
                    <a href=csv class=BUTTON download="">"Download CSV"</a>
                </div>
            </form>
        })}
        {section(format!("{} events (newest first)", events.len()), "events", view! {
            {if events.is_empty() {
                view! { <p class="text-slate-600">"No events match these filters."</p> }.into_any()
            } else {
                view! {
                    <div class="overflow-x-auto"><table class="min-w-full text-left text-sm">
                        <thead class="text-slate-600"><tr>
                            <th scope="col" class="py-1 pr-3">"When (UTC)"</th><th scope="col" class="py-1 pr-3">"Who"</th><th scope="col" class="py-1 pr-3">"Action"</th>
                            <th scope="col" class="py-1 pr-3">"Object"</th><th scope="col" class="py-1 pr-3">"Status"</th><th scope="col" class="py-1 pr-3 text-right">"Rows"</th>
                            <th scope="col" class="py-1 pr-3 text-right">"Bytes"</th><th scope="col" class="py-1 pr-3">"From"</th><th scope="col" class="py-1">"Detail"</th>
                        </tr></thead>
                        <tbody>
                            {events.into_iter().map(|e| view! {
                                <tr class="border-t border-slate-100 align-top">
                                    <td class="whitespace-nowrap py-1 pr-3">{readable_time(&e.at)}</td>
                                    <td class="py-1 pr-3">{e.actor.clone()}</td>
                                    <td class="py-1 pr-3 font-mono text-xs">{e.action.clone()}</td>
                                    <td class="py-1 pr-3">{e.object.clone().unwrap_or_default()}</td>
                                    <td class="py-1 pr-3">{e.status}</td>
                                    <td class="py-1 pr-3 text-right tabular-nums">{e.rows.map(|n| n.to_string()).unwrap_or_default()}</td>
                                    <td class="py-1 pr-3 text-right tabular-nums">{e.bytes.map(|n| n.to_string()).unwrap_or_default()}</td>
                                    <td class="py-1 pr-3">{e.client_ip.clone().unwrap_or_default()}</td>
                                    <td class="min-w-64 max-w-md break-words py-1 font-mono text-xs text-slate-600">{e.detail.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        })}
    }
}
