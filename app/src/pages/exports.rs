//! `/exports`: the partner's background exports with their progress. The list refreshes itself
//! while a job runs (every two seconds once hydrated; a meta refresh without JavaScript), and it
//! survives reloads: the jobs live on the server.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{bytes, not_ready, readable_time, thousands, transport_error, Loading, Notice};
use crate::contract::grammar::encode;
use crate::contract::{get_exports, ExportJobView, Loaded};

#[component]
pub fn ExportsPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let running = RwSignal::new(true);
    let jobs = Resource::new(move || tick.get(), |_| get_exports());
    // Effects run only in the browser: ask again every two seconds while a job runs.
    Effect::new(move |_| {
        let poll = move || {
            if running.get_untracked() {
                tick.update(|t| *t += 1);
            }
        };
        if let Ok(handle) = set_interval_with_handle(poll, Duration::from_secs(2)) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <Transition fallback=|| view! { <Loading what="your exports"/> }>
            {move || Suspend::new(async move {
                match jobs.await {
                    Ok(Loaded::Ready(v)) => {
                        running.set(v.jobs.iter().any(ExportJobView::is_unfinished));
                        view! { <Jobs jobs=v.jobs csrf=v.csrf/> }.into_any()
                    }
                    Ok(other) => not_ready(other),
                    Err(_) => transport_error(),
                }
            })}
        </Transition>
    }
}

fn error_text(code: &str) -> &'static str {
    match code {
        "form" => "The form had expired. Please try again.",
        "notfound" => "There is no such table or export, or it is not shared with you.",
        "view" => "This view could not be exported: check its filters on the table page.",
        "downloads_off" => "Downloads are turned off for your organisation. You can still browse and filter the data; ask your contact at the data provider to turn them on.",
        "daily_limit" => "Your organisation has started as many export jobs as it may in 24 hours. Download a smaller view directly from the table page, or try again later.",
        _ => "The export could not be started just now. Please try again in a minute.",
    }
}

#[component]
fn Jobs(jobs: Vec<ExportJobView>, csrf: String) -> impl IntoView {
    let query = use_query_map();
    let error = query.read_untracked().get("error").map(|c| error_text(&c));
    let running = jobs.iter().any(ExportJobView::is_unfinished);
    let list = if jobs.is_empty() {
        view! {
        <leptos_meta::Title text="Your exports"/>
            <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center text-slate-600" data-testid="no-jobs">
                "You have no exports. Large views offer \u{201c}Prepare Excel file\u{201d} and \u{201c}Prepare CSV\u{201d} on their table page."
            </div>
        }
        .into_any()
    } else {
        view! {
            <ul data-testid="jobs" class="space-y-3">
                {jobs.into_iter().map(|job| view! { <Job job csrf=csrf.clone()/> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        // Without JavaScript the page reloads itself while something runs.
        {running.then(|| view! { <noscript><meta http-equiv="refresh" content="3"/></noscript> })}
        <div class="space-y-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">"Your exports"</h1>
                <p class="mt-1 text-slate-600">"Large views are written here in the background. Finished files can be downloaded until they expire."</p>
            </div>
            {error.map(|e| view! { <Notice tone="error">{e}</Notice> })}
            {list}
        </div>
    }
}

#[component]
fn Job(job: ExportJobView, csrf: String) -> impl IntoView {
    let total = job.rows_total;
    let progress = match total {
        Some(t) => format!("{} of {} rows", thousands(job.rows_written), thousands(t)),
        None => format!("{} rows", thousands(job.rows_written)),
    };
    let (status, badge) = match job.status.as_str() {
        "queued" => ("Waiting to start", "bg-slate-100 text-slate-700"),
        "running" => ("Writing", "bg-sky-100 text-sky-800"),
        "done" => ("Ready", "bg-emerald-100 text-emerald-800"),
        "failed" => ("Failed", "bg-red-100 text-red-800"),
        "cancelled" => ("Cancelled", "bg-slate-200 text-slate-700"),
        _ => ("Expired", "bg-amber-100 text-amber-800"),
    };
    let label_id = format!("job-{}-title", job.id);
    let action = format!("/exports/{}/cancel", encode(&job.id));
    let unfinished = job.is_unfinished();
    let done = job.status == "done";
    let download = done.then(|| format!("/api/v1/exports/{}/file", encode(&job.id)));
    let size = job.bytes.map(bytes).unwrap_or_default();
    let what = if job.description.is_empty() { "every row".to_string() } else { job.description.clone() };
    view! {
        <li id=format!("job-{}", job.id) data-job-id=job.id.clone() class="space-y-2 rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id=label_id.clone() class="font-semibold">
                    <a class="hover:underline" href=job.view_href.clone()>{job.table.clone()}</a>
                    <span class="ml-2 font-normal text-slate-600">{job.kind()}</span>
                </h2>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}") data-testid="job-status">{status}</span>
            </div>
            <p class="text-sm text-slate-600">{what}{format!(" · started {}", job.created_at)}</p>
            {(unfinished || done).then(|| view! {
                <div class="flex items-center gap-3">
                    <progress class="h-2 w-full max-w-md" aria-labelledby=label_id.clone()
                        value=job.rows_written.to_string() max=total.map(|t| t.max(1).to_string())></progress>
                    <span class="text-sm text-slate-600" data-testid="job-progress">{progress}</span>
                </div>
            })}
            {job.error.clone().filter(|_| job.status == "failed").map(|e| view! { <Notice tone="error">{e}</Notice> })}
            <div class="flex flex-wrap items-center gap-3">
                {download.map(|href| view! {
                    <a href=href download class="rounded-lg bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-emerald-400">"Download"</a>
                    <span class="text-sm text-slate-600">{format!("{size} · until {}", job.expires_at.as_deref().map(readable_time).unwrap_or_default())}</span>
                })}
                {(unfinished || done).then(|| view! {
                    <form method="post" action=action>
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
                            {if done { "Delete file" } else { "Cancel" }}
                        </button>
                    </form>
                })}
            </div>
        </li>
    }
}
