//! `/admin/locations`: external locations. Platform admins create them, grant them to teams,
//! revoke and delete them, and see the tables that lie outside every location; team admins see
//! where their team may add tables.

use leptos::prelude::*;

use super::{section, show, AdminNav, FieldError, FormBase, Outcome};
use crate::components::ui::{BUTTON, DANGER, FIELD, LABEL, PRIMARY};
use crate::components::{readable_time, Loading};
use crate::contract::grammar::encode;
use crate::contract::{get_admin_locations, AdminLocationsView, LocationView};

#[component]
pub fn AdminLocationsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| get_admin_locations());
    view! {
        <Transition fallback=|| view! { <Loading what="locations"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Locations v/> }.into_any()) })}
        </Transition>
    }
}

#[component]
fn Locations(v: AdminLocationsView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let csrf = v.session.csrf.clone();
    let platform = v.session.team.is_none();
    let intro = if platform {
        "A location is a directory or an object-store prefix. Team admins add tables only under the locations granted to their team; platform admins may add tables anywhere the server can read."
    } else {
        "Your team may add tables only under these locations. Ask a platform administrator for another one."
    };
    let list = if v.locations.is_empty() {
        let empty = if platform {
            "No locations yet: team admins cannot add tables until you create one and grant it."
        } else {
            "No location is granted to your team yet, so it cannot add tables."
        };
        view! { <p class="text-slate-600">{empty}</p> }.into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-100">
                {v.locations.clone().into_iter().enumerate().map(|(i, l)| location_item(i, l, platform, &v.teams, &csrf)).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <h1 class="mb-2 text-2xl font-semibold">"Locations"</h1>
        <p class="mb-4 max-w-3xl text-sm text-slate-600">{intro}</p>
        {section("Locations", "locations", list)}
        {platform.then(|| section("Create a location", "create-location", view! {
            <form method="post" action="/admin/locations" class="grid gap-3 md:grid-cols-3">
                <FormBase csrf=csrf.clone()/>
                <div><label for="location-name" class=LABEL>"Name"</label><input id="location-name" name="name" required class=FIELD/><FieldError field="name"/></div>
                <div class="md:col-span-2"><label for="location-url" class=LABEL>"Directory or object-store prefix (s3://bucket/path)"</label>
                    <input id="location-url" name="url" required class=FIELD spellcheck="false"/><FieldError field="url"/></div>
                <div class="md:col-span-2"><label for="location-comment" class=LABEL>"Comment"</label><input id="location-comment" name="comment" class=FIELD/></div>
                <div class="flex items-end"><button type="submit" class=PRIMARY>"Create location"</button></div>
            </form>
        }))}
        {platform.then(|| section("Tables outside every location", "outside", if v.outside.is_empty() {
            view! { <p class="text-slate-600">"Every shared table lies under a location."</p> }.into_any()
        } else {
            view! {
                <p class="mb-2 text-sm text-amber-900">"These tables are still served, but no location covers them: create one that contains them, so their teams' admins govern them like the rest."</p>
                <ul class="divide-y divide-slate-100 text-sm">
                    {v.outside.clone().into_iter().map(|t| view! {
                        <li class="py-2">
                            <a class="font-medium text-indigo-700 hover:underline" href=format!("/admin/shares/{}", encode(&t.share))>{format!("{}.{}", t.share, t.table)}</a>
                            <span class="text-slate-600">{format!(" · team {}", t.team)}</span>
                            <p class="break-all font-mono text-xs text-slate-500">{t.location.clone()}</p>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }))}
    }
}

/// One location: its URL, teams and tables; for platform admins grant, revoke and delete.
fn location_item(i: usize, l: LocationView, platform: bool, teams: &[String], csrf: &str) -> impl IntoView {
    let base = format!("/admin/locations/{}", encode(&l.name));
    let grantable: Vec<String> = teams.iter().filter(|t| !l.teams.contains(t)).cloned().collect();
    let summary = format!(
        "{} · {} · created {} by {}",
        if l.teams.is_empty() { "granted to no team".to_string() } else { format!("teams: {}", l.teams.join(", ")) },
        match l.tables {
            1 => "1 table".to_string(),
            n => format!("{n} tables"),
        },
        readable_time(&l.created_at),
        l.created_by
    );
    let manage = platform.then(|| {
        let csrf = csrf.to_string();
        view! {
            <div class="mt-2 flex flex-wrap items-end gap-4">
                {l.teams.iter().map(|team| view! {
                    <form method="post" action=format!("{base}/grants/{}/revoke", encode(team))>
                        <FormBase csrf=csrf.clone()/>
                        <button type="submit" class=DANGER aria-label=format!("Revoke {} from team {team}", l.name)>{format!("Revoke from {team}")}</button>
                    </form>
                }).collect_view()}
                {(!grantable.is_empty()).then(|| view! {
                    <form method="post" action=format!("{base}/grants") class="flex items-end gap-2">
                        <FormBase csrf=csrf.clone()/>
                        <div><label for=format!("grant-team-{i}") class=LABEL>"Grant to team"</label>
                            <select id=format!("grant-team-{i}") name="team" class=FIELD>
                                {grantable.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                            </select></div>
                        <button type="submit" class=BUTTON>"Grant"</button>
                    </form>
                })}
                <details>
                    <summary class="cursor-pointer text-sm font-medium text-red-700">{format!("Delete {}", l.name)}</summary>
                    <form method="post" action=format!("{base}/delete") class="mt-2 flex flex-wrap items-end gap-2">
                        <FormBase csrf=csrf.clone()/>
                        <div><label for=format!("confirm-{i}") class=LABEL>{format!("Type {} to confirm: its grants go, its tables stay shared", l.name)}</label>
                            <input id=format!("confirm-{i}") name="confirm" autocomplete="off" class=FIELD/></div>
                        <button type="submit" class=DANGER>"Delete location"</button>
                    </form>
                </details>
            </div>
        }
    });
    view! {
        <li class="py-3">
            <p class="font-medium">{l.name.clone()}</p>
            <p class="break-all font-mono text-xs text-slate-600">{l.url.clone()}</p>
            {l.comment.clone().map(|c| view! { <p class="text-sm text-slate-600">{c}</p> })}
            <p class="text-sm text-slate-600">{summary}</p>
            {manage}
        </li>
    }
}
