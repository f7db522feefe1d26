//! `/admin/shares/:name`: a share's comment, its tables (schema shown, alias, history, scope,
//! preview as a recipient, remove), adding a table by location, grants, and delete.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::parts::{delete_form, grant_form, grant_list, properties_editor, Granted};
use super::{section, show, AdminNav, FieldError, FormBase, Outcome};
use crate::components::ui::{BUTTON, DANGER, FIELD, LABEL, PRIMARY};
use crate::components::{readable_time, Loading};
use crate::contract::grammar::encode;
use crate::contract::{get_admin_share, AdminShareView, TableDetail};

#[component]
pub fn AdminSharePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let page = Resource::new(name, get_admin_share);
    view! {
        <Transition fallback=|| view! { <Loading what="the share"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Share v/> }.into_any()) })}
        </Transition>
    }
}

/// The table-adding form (also the wizard's second step).
#[component]
pub fn AddTableForm(
    share: String,
    csrf: String,
    locations: Vec<String>,
    platform: bool,
    #[prop(optional, into)] back: Option<String>,
) -> impl IntoView {
    let hint = match (platform, locations.is_empty()) {
        (true, _) => "Any directory or bucket the server can read (object stores with the credentials of a [[storage]] entry or the env vars). Tables outside every location are listed on the Locations page.".to_string(),
        (false, true) => "No location is granted to your team yet: ask a platform administrator for one.".to_string(),
        (false, false) => format!("Under a location of your team: {}", locations.join(", ")),
    };
    view! {
        <form method="post" action=format!("/admin/shares/{}/tables", encode(&share)) class="grid gap-3 md:grid-cols-2">
            <FormBase csrf=csrf back=back.unwrap_or_default()/>
            <div><label for="table-schema" class=LABEL>"Schema"</label><input id="table-schema" name="schema" required value="default" class=FIELD/><FieldError field="schema"/></div>
            <div><label for="table-name" class=LABEL>"Table name"</label><input id="table-name" name="name" required class=FIELD/><FieldError field="name"/></div>
            <div class="md:col-span-2"><label for="table-location" class=LABEL>"Location (a path, or an s3://, az:// or gs:// URL of a Delta table)"</label>
                <input id="table-location" name="location" required class=FIELD spellcheck="false" aria-describedby="table-location-hint"/>
                <p id="table-location-hint" class="mt-1 break-all text-xs text-slate-500">{hint}</p><FieldError field="location"/></div>
            <div><label for="table-scope" class=LABEL>"Row scope (COLUMN=PROPERTY, optional)"</label><input id="table-scope" name="scope" placeholder="partner_id=partner_id" class=FIELD/><FieldError field="scope"/></div>
            <div><label for="table-comment" class=LABEL>"Comment"</label><input id="table-comment" name="comment" class=FIELD/></div>
            <div class="flex items-center gap-2"><input id="table-history" type="checkbox" name="history" class="h-4 w-4"/><label for="table-history" class="text-sm">"Share history (time travel and change feed)"</label></div>
            <div><button type="submit" class=PRIMARY>"Add table"</button></div>
        </form>
    }
}

/// A table with its schema as the Delta log has it now.
#[component]
pub fn TableCard(t: TableDetail) -> impl IntoView {
    view! {
        <div>
            <p class="font-medium">{format!("{}.{}", t.schema, t.name)}</p>
            <p class="break-all font-mono text-xs text-slate-500">{t.location.clone()}</p>
            {match t.external_location.clone() {
                Some(l) => view! { <p class="text-xs text-slate-500">{format!("In location {l}")}</p> }.into_any(),
                None => view! { <p class="text-sm text-amber-900">"Outside every location: create a location that contains it (Locations page)."</p> }.into_any(),
            }}
            {t.storage.clone().map(|s| view! { <p class="text-xs text-slate-500">{format!("Read with the credentials of {s}")}</p> })}
            <p class="text-sm text-slate-600">{format!(
                "{} · {}{}",
                if t.history { "history shared" } else { "latest version only" },
                t.scope.clone().map(|s| format!("rows where {s}")).unwrap_or_else(|| "every row".into()),
                if t.key_columns.is_empty() { String::new() } else { format!(" · key {}", t.key_columns.join(", ")) }
            )}</p>
            {match t.problem.clone() {
                Some(p) => view! { <p class="text-sm text-red-700">{format!("Cannot be read now: {p}")}</p> }.into_any(),
                None => view! {
                    <p class="mt-1 text-sm text-slate-700"><span class="sr-only">"Columns: "</span>
                        {t.columns.iter().map(|c| format!("{} {}", c.name, c.type_name)).collect::<Vec<_>>().join(" · ")}
                    </p>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Share(v: AdminShareView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let share = v.share.clone();
    let name = share.name.clone();
    let base = format!("/admin/shares/{}", encode(&name));
    let csrf = v.session.csrf.clone();
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <div class="mb-6">
            <p class="text-sm text-slate-600"><a class="text-indigo-700 hover:underline" href="/admin">"Partners"</a> " / share"</p>
            <h1 class="mt-1 text-2xl font-semibold">{name.clone()}</h1>
            <p class="text-sm text-slate-600">{format!("Team {} · created {}", share.team, readable_time(&share.created_at))}</p>
        </div>
        {section("What recipients read about it", "about", view! {
            <form method="post" action=format!("{base}/edit") class="space-y-3">
                <FormBase csrf=csrf.clone()/>
                <div><label for="share-display-name" class=LABEL>"Display name (tools show it instead of the name)"</label>
                    <input id="share-display-name" name="display_name" maxlength="255" value=share.display_name.clone().unwrap_or_default() class=FIELD/>
                    <FieldError field="displayName"/></div>
                <div><label for="share-comment" class=LABEL>"Comment (shown to recipients)"</label>
                    <input id="share-comment" name="comment" value=share.comment.clone().unwrap_or_default() class=FIELD/>
                    <FieldError field="comment"/></div>
                {properties_editor(&share.properties, "Properties (e.g. owner, region; up to 50)")}
                <button type="submit" class=BUTTON>"Save"</button>
            </form>
        })}
        {section("Tables", "tables", view! {
            {if share.tables.is_empty() {
                view! { <p class="text-slate-600">"No tables yet. Add one below by its location."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {share.tables.clone().into_iter().enumerate().map(|(i, t)| {
                            let qualified = format!("{}.{}", t.schema, t.name);
                            let table_base = format!("{base}/tables/{}", encode(&qualified));
                            let preview = format!("{base}/preview");
                            view! {
                                <li class="py-3">
                                    <TableCard t=t.clone()/>
                                    <details class="mt-2">
                                        <summary class="cursor-pointer text-sm font-medium text-indigo-700">{format!("Edit {qualified}")}</summary>
                                        <form method="post" action=format!("{table_base}/edit") class="mt-2 grid gap-2 md:grid-cols-2">
                                            <FormBase csrf=csrf.clone()/>
                                            <div><label for=format!("alias-{i}") class=LABEL>"Name recipients see (alias)"</label><input id=format!("alias-{i}") name="alias" value=t.name.clone() class=FIELD/></div>
                                            <div><label for=format!("scope-{i}") class=LABEL>"Row scope (COLUMN=PROPERTY, empty = every row)"</label><input id=format!("scope-{i}") name="scope" value=t.scope.clone().unwrap_or_default() class=FIELD/></div>
                                            <div class="md:col-span-2"><label for=format!("location-{i}") class=LABEL>"Table location"</label><input id=format!("location-{i}") name="location" value=t.location.clone() class=FIELD spellcheck="false"/></div>
                                            <div><label for=format!("comment-{i}") class=LABEL>"Comment"</label><input id=format!("comment-{i}") name="comment" value=t.comment.clone().unwrap_or_default() class=FIELD/></div>
                                            <div><label for=format!("keys-{i}") class=LABEL>"Key columns (comma-separated; partners get net changes by them)"</label><input id=format!("keys-{i}") name="key_columns" value=t.key_columns.join(", ") placeholder="order_id" class=FIELD spellcheck="false"/><FieldError field="keyColumns"/></div>
                                            <div class="flex items-center gap-2"><input id=format!("history-{i}") type="checkbox" name="history" checked=t.history class="h-4 w-4"/><label for=format!("history-{i}") class="text-sm">"Share history"</label></div>
                                            <div><button type="submit" class=BUTTON>"Save table"</button></div>
                                        </form>
                                    </details>
                                    <div class="mt-2 flex flex-wrap items-end gap-3">
                                        <form method="get" action=preview class="flex items-end gap-2">
                                            <input type="hidden" name="table" value=qualified.clone()/>
                                            <div><label for=format!("as-{i}") class=LABEL>"Preview as"</label>
                                                <select id=format!("as-{i}") name="as" class=FIELD>
                                                    {share.grants.iter().map(|g| view! { <option value=g.clone()>{g.clone()}</option> }).collect_view()}
                                                </select></div>
                                            <button type="submit" class=BUTTON disabled=share.grants.is_empty()>"Preview rows"</button>
                                        </form>
                                        <form method="post" action=format!("{table_base}/remove")>
                                            <FormBase csrf=csrf.clone()/>
                                            <button type="submit" class=DANGER>{format!("Remove {qualified}")}</button>
                                        </form>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <h3 class="mb-2 mt-4 font-medium">"Add a table"</h3>
            <AddTableForm share=name.clone() csrf=csrf.clone() locations=v.locations.clone() platform=v.session.team.is_none()/>
        })}
        {section("Recipients", "grants", view! {
            {grant_list(
                share.grants.iter().map(|r| Granted::new(r, format!("/admin/recipients/{}", encode(r)), &name, r)).collect(),
                &csrf,
                &base,
                "Not granted to anyone yet.",
            )}
            {grant_form(format!("{base}/grants"), "recipient", "Grant to", v.grantable.clone(), &csrf)}
        })}
        {section("Delete share", "delete", delete_form(format!("{base}/delete"), &name, "its tables and grants go", "Delete share", &csrf))}
    }
}
