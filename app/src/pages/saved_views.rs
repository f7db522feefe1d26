//! Saved views: the list (home and table pages), the save form of the table page, rename and
//! delete forms, and `/views/{id}`. Every form is a plain POST with a form token that answers
//! with a redirect back to `back` and a `_saved` or `_saved_error` note.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::form_token::FormToken;
use crate::components::ui::{BUTTON, DANGER, FIELD, LABEL};
use crate::components::{not_ready, readable_time, transport_error, Loading, Notice};
use crate::contract::grammar::TableQuery;
use crate::contract::{open_saved_view, SavedViewRow, TableMeta};

pub const MAX_NAME: usize = 80;

/// `/views/{id}`: goes to the saved view's table page (the server answers a redirect).
#[component]
pub fn SavedViewPage() -> impl IntoView {
    let params = use_params_map();
    let opened = Resource::new(move || params.read().get("id").unwrap_or_default(), open_saved_view);
    view! {
        <Suspense fallback=|| view! { <Loading what="the saved view"/> }>
            {move || Suspend::new(async move {
                match opened.await {
                    Ok(other) => not_ready(other),
                    Err(_) => transport_error(),
                }
            })}
        </Suspense>
    }
}

/// What the last saved-view form did, from the page's `_saved` / `_saved_error` note.
#[component]
pub fn SavedNotice() -> impl IntoView {
    let query = use_query_map();
    let done = query.read_untracked().get("_saved").and_then(|code| match code.as_str() {
        "created" => Some("The view was saved. Find it again on this page and under “Your saved views” on the home page."),
        "replaced" => Some("The saved view of that name now shows this view."),
        "renamed" => Some("The saved view was renamed."),
        "deleted" => Some("The saved view was deleted."),
        "delivery" => {
            Some("The delivery is scheduled. Each file is e-mailed to your organisation's contacts and listed under Your exports.")
        }
        "delivery_no_contacts" => Some(
            "The delivery is scheduled. Each file is listed under Your exports; no e-mail goes out, as your organisation has no \
             contact for deliveries yet: ask your data provider to add one.",
        ),
        "delivery_no_mail" => Some("The delivery is scheduled. Each file is listed under Your exports (this portal sends no e-mail)."),
        "delivery_stopped" => Some("The delivery was stopped."),
        _ => None,
    });
    let failed = query.read_untracked().get("_saved_error").map(|code| match code.as_str() {
        "name" => format!("Give the view a name of 1 to {MAX_NAME} characters."),
        "taken" => "You already have a view of that name for this table. Choose another name.".to_string(),
        "limit" => "You have as many saved views as you can keep. Delete one you no longer use first.".to_string(),
        "form" => "The form had expired. Please try again.".to_string(),
        "gone" => "That saved view no longer exists.".to_string(),
        "schedule" | "weekday" | "hour" | "content" | "format" => {
            "That delivery schedule could not be read. Choose again from the lists.".to_string()
        }
        _ => "That did not work just now. Please try again in a minute.".to_string(),
    });
    view! {
        {done.map(|m| view! { <Notice tone="success">{m}</Notice> })}
        {failed.map(|m| view! { <Notice tone="error">{m}</Notice> })}
    }
}

/// The table page's saved views: this table's, the one showing now marked, and a form that
/// saves the current view.
#[component]
pub fn TableSavedViews(meta: TableMeta, query: TableQuery, views: Vec<SavedViewRow>) -> impl IntoView {
    let back = format!("{}{}", meta.href(), query.first_page().href_suffix());
    let showing = views.iter().find(|v| v.shows(&query)).cloned();
    let since_download = showing.as_ref().filter(|_| query.since.is_none()).and_then(|v| since_last_download(&meta, v));
    let current = showing.map(|v| v.name);
    let intro = match &current {
        Some(name) => format!("You are looking at your saved view “{name}”."),
        None if views.is_empty() => "Save this view (its filters, order and columns) to come back to it in one click.".to_string(),
        None => "Save this view, or open one you saved.".to_string(),
    };
    view! {
        <section id="saved-views" class="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="saved-views-title">
            <h2 id="saved-views-title" class="text-sm font-semibold text-slate-700">"Saved views"</h2>
            <p class="text-sm text-slate-600">{intro}</p>
            {since_download}
            {(!views.is_empty()).then(|| view! { <SavedViewList views=views.clone() back=back.clone() with_table=false current=query.clone()/> })}
            <form method="post" action="/views" class="flex flex-col gap-2 sm:flex-row sm:items-end">
                <FormToken/>
                <input type="hidden" name="share" value=meta.share.clone()/>
                <input type="hidden" name="schema" value=meta.schema.clone()/>
                <input type="hidden" name="table" value=meta.name.clone()/>
                <input type="hidden" name="view" value=query.saved().to_query_string(false)/>
                <input type="hidden" name="back" value=back.clone()/>
                <div class="sm:w-80">
                    <label for="saved-view-name" class=LABEL>"Name"</label>
                    <input id="saved-view-name" name="name" required maxlength=MAX_NAME.to_string() value=current.unwrap_or_default()
                        placeholder="Germany, last 30 days" class=FIELD/>
                </div>
                <button type="submit" class=BUTTON>"Save this view"</button>
            </form>
        </section>
    }
}

/// What changed since the partner last downloaded the saved view being shown.
fn since_last_download(meta: &TableMeta, v: &SavedViewRow) -> Option<AnyView> {
    let last = v.last_download.as_ref()?;
    let when = readable_time(&last.at);
    if last.version >= meta.latest_version {
        let text = format!("You downloaded this view at the latest version ({}) on {when}: nothing new since.", last.version);
        return Some(view! { <p class="text-sm text-slate-600" data-testid="since-download">{text}</p> }.into_any());
    }
    let newer = match last.version + 1 {
        first if first == meta.latest_version => format!("version {first}"),
        first => format!("versions {first} to {}", meta.latest_version),
    };
    let text = format!("New since your last download (version {}, {when}): {newer}.", last.version);
    if !meta.change_feed {
        let text = format!("{text} This table does not offer its changes: download the view again for the latest rows.");
        return Some(view! { <p class="text-sm text-slate-600" data-testid="since-download">{text}</p> }.into_any());
    }
    let href = v.changes_href()?;
    Some(
        view! {
            <p class="text-sm text-slate-700" data-testid="since-download">
                {text}" "
                <a href=href class="font-medium text-indigo-700 underline">{format!("Show the changes since version {}", last.version)}</a>
            </p>
        }
        .into_any(),
    )
}

/// Saved views, each a link to its table page with rename and delete forms. `current`: the view
/// the page shows (the table page), to mark the saved view that shows the same.
#[component]
pub fn SavedViewList(
    views: Vec<SavedViewRow>,
    back: String,
    with_table: bool,
    #[prop(optional)] current: Option<TableQuery>,
) -> impl IntoView {
    view! {
        <ul class="divide-y divide-slate-100" data-testid="saved-views">
            {views.into_iter().map(|v| {
                let showing = current.as_ref().is_some_and(|q| v.shows(q));
                view! { <SavedViewLine v back=back.clone() with_table showing/> }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn SavedViewLine(v: SavedViewRow, back: String, with_table: bool, showing: bool) -> impl IntoView {
    let rename_id = format!("rename-{}", v.id);
    let table = with_table.then(|| format!("{} · {}.{}", v.table, v.share, v.schema));
    view! {
        <li class="flex flex-col gap-2 py-2 sm:flex-row sm:items-start sm:justify-between">
            <div class="min-w-0">
                <a href=v.href() aria-current=showing.then_some("true")
                    class="font-medium text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                    {v.name.clone()}
                </a>
                {showing.then(|| view! { <span class="ml-2 rounded bg-indigo-50 px-1.5 py-0.5 text-xs font-medium text-indigo-800">"showing"</span> })}
                <p class="text-xs text-slate-500">
                    {table.map(|t| view! { <span>{t}</span><span aria-hidden="true">" · "</span> })}
                    {format!("saved {}", readable_time(&v.updated))}
                    {v.last_download.as_ref().map(|d| format!(" · last downloaded at version {}, {}", d.version, readable_time(&d.at)))}
                </p>
                {v.delivery.as_ref().map(|d| view! {
                    <p class="text-xs text-emerald-800" data-testid="delivery">{format!("Delivered: {}", d.describe())}
                        {d.next_at.as_deref().map(|at| format!(" · next {}", readable_time(at)))}</p>
                })}
            </div>
            <div class="flex flex-wrap items-start gap-2">
                <details class="group">
                    <summary class=format!("{BUTTON} cursor-pointer list-none")>"Rename"<span class="sr-only">{format!(" {}", v.name)}</span></summary>
                    <form method="post" action=format!("/views/{}/rename", v.id) class="mt-2 flex items-end gap-2">
                        <FormToken/>
                        <input type="hidden" name="back" value=back.clone()/>
                        <div>
                            <label for=rename_id.clone() class=LABEL>"New name"</label>
                            <input id=rename_id name="name" required maxlength=MAX_NAME.to_string() value=v.name.clone() class=FIELD/>
                        </div>
                        <button type="submit" class=BUTTON>"Rename"</button>
                    </form>
                </details>
                <DeliveryForm v=v.clone() back=back.clone()/>
                <form method="post" action=format!("/views/{}/delete", v.id)>
                    <FormToken/>
                    <input type="hidden" name="back" value=back/>
                    <button type="submit" class=DANGER>"Delete"<span class="sr-only">{format!(" {}", v.name)}</span></button>
                </form>
            </div>
        </li>
    }
}

/// Schedules (or stops) the delivery of a saved view: a plain form inside a `<details>`.
#[component]
fn DeliveryForm(v: SavedViewRow, back: String) -> impl IntoView {
    let id = |what: &str| format!("delivery-{what}-{}", v.id);
    let current = v.delivery.clone();
    let is = move |field: &str, value: &str| {
        current.as_ref().is_some_and(|d| match field {
            "schedule" => d.schedule == value,
            "weekday" => d.weekday.as_deref() == Some(value),
            "content" => d.content == value,
            "format" => match value {
                "xlsx" => d.format == "xlsx",
                dialect => d.format == "csv" && d.dialect.as_deref() == Some(dialect),
            },
            _ => false,
        })
    };
    let hour = v.delivery.as_ref().map_or(6, |d| d.hour);
    let scheduled = v.delivery.is_some();
    view! {
        <details class="group">
            <summary class=format!("{BUTTON} cursor-pointer list-none")>{if scheduled { "Delivery" } else { "Deliver" }}<span class="sr-only">{format!(" {}", v.name)}</span></summary>
            <form method="post" action=format!("/views/{}/delivery", v.id) class="mt-2 grid gap-2 sm:w-[30rem] sm:grid-cols-2">
                <FormToken/>
                <input type="hidden" name="back" value=back.clone()/>
                <div><label for=id("schedule") class=LABEL>"When"</label>
                    <select id=id("schedule") name="schedule" class=FIELD>
                        <option value="daily" selected=is("schedule", "daily")>"Every day"</option>
                        <option value="weekly" selected=is("schedule", "weekly")>"Every week"</option>
                        <option value="version" selected=is("schedule", "version")>"On every new version of the table"</option>
                    </select></div>
                <div><label for=id("weekday") class=LABEL>"Day (weekly)"</label>
                    <select id=id("weekday") name="weekday" class=FIELD>
                        {crate::contract::WEEKDAYS.iter().map(|d| {
                            let label: String = d[..1].to_uppercase() + &d[1..];
                            view! { <option value=*d selected=is("weekday", d)>{label}</option> }
                        }).collect_view()}
                    </select></div>
                <div><label for=id("hour") class=LABEL>"Hour (UTC)"</label>
                    <select id=id("hour") name="hour" class=FIELD>
                        {(0..24u32).map(|h| view! { <option value=h.to_string() selected={h == hour}>{format!("{h:02}:00")}</option> }).collect_view()}
                    </select></div>
                <div><label for=id("content") class=LABEL>"What"</label>
                    <select id=id("content") name="content" class=FIELD>
                        <option value="full" selected=is("content", "full")>"The whole view"</option>
                        <option value="changes" selected=is("content", "changes")>"Changes since the last delivery"</option>
                    </select></div>
                <div><label for=id("format") class=LABEL>"As"</label>
                    <select id=id("format") name="format" class=FIELD>
                        <option value="xlsx" selected=is("format", "xlsx")>"Excel (.xlsx)"</option>
                        <option value="csv" selected=is("format", "excel")>"CSV for Excel"</option>
                    </select></div>
                <div class="flex items-end gap-2">
                    <button type="submit" class=BUTTON>{if scheduled { "Change delivery" } else { "Schedule delivery" }}</button>
                </div>
            </form>
            {scheduled.then(|| view! {
                <form method="post" action=format!("/views/{}/delivery/delete", v.id) class="mt-2">
                    <FormToken/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <button type="submit" class=DANGER>"Stop delivery"<span class="sr-only">{format!(" of {}", v.name)}</span></button>
                </form>
            })}
        </details>
    }
}
