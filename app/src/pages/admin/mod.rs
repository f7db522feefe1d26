//! The admin console: onboard and govern partners. Every page loads through a server function
//! that checks the admin's role and team on the server; every form is a plain POST with the
//! form token, so the console works without JavaScript.

pub mod audit;
pub mod locations;
pub mod login;
pub mod onboard;
pub mod overview;
mod parts;
pub mod preview;
pub mod recipient;
pub mod share;
pub mod teams;
mod usage;

use leptos::prelude::*;

use crate::components::ui::BUTTON;
use crate::components::{transport_error, Card, Notice};
use crate::contract::{AdminSessionView, FormOutcome, Loaded};

/// The console's own navigation, who is signed in, and sign-out.
#[component]
pub fn AdminNav(session: AdminSessionView) -> impl IntoView {
    let scope = match &session.team {
        Some(team) => format!("team {team}"),
        None => "all teams".to_string(),
    };
    view! {
        <div class="mb-6 flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 pb-3">
            <nav aria-label="Admin console" class="flex flex-wrap gap-x-5 gap-y-2 text-sm font-medium">
                <a href="/admin" class="text-indigo-700 hover:underline">"Partners"</a>
                <a href="/admin/onboard" class="text-indigo-700 hover:underline">"Onboard a partner"</a>
                <a href="/admin/audit" class="text-indigo-700 hover:underline">"Audit log"</a>
                <a href="/admin/locations" class="text-indigo-700 hover:underline">"Locations"</a>
                <a href="/admin/teams" class="text-indigo-700 hover:underline">"Teams and API tokens"</a>
            </nav>
            <div class="flex items-center gap-3 text-sm">
                <span class="text-slate-600">{session.actor.clone()} " · " {scope}</span>
                <form method="post" action="/admin/logout">
                    <input type="hidden" name="csrf" value=session.csrf.clone()/>
                    <button type="submit" class=BUTTON>"Sign out of the console"</button>
                </form>
            </div>
        </div>
    }
}

/// Makes the last form's outcome (as the server read and checked it) known to [`Outcome`] and
/// [`FieldError`]; each console page calls it first with its session.
pub fn provide_outcome(session: &AdminSessionView) {
    provide_context(session.outcome.clone());
}

/// The outcome of the last form, announced to screen readers; a field's error is also repeated
/// beside the field ([`FieldError`]).
#[component]
pub fn Outcome() -> impl IntoView {
    let FormOutcome { notice, error, .. } = use_context::<FormOutcome>().unwrap_or_default();
    view! {
        {notice.map(|n| view! { <div class="mb-4"><Notice tone="success">{n}</Notice></div> })}
        {error.map(|e| view! { <div class="mb-4"><Notice tone="error">{format!("Nothing was changed: {e}")}</Notice></div> })}
    }
}

/// The message of a refused form, beside the field it is about.
#[component]
pub fn FieldError(field: &'static str) -> impl IntoView {
    let outcome = use_context::<FormOutcome>().unwrap_or_default();
    let message = if outcome.field.as_deref() == Some(field) { outcome.error } else { None };
    message.map(|m| view! { <p id=format!("{field}-error") class="mt-1 text-sm text-red-700">{m}</p> })
}

/// A page's data, or what to show instead: sign-in, not found, or the failure.
pub fn show<T>(result: Result<Loaded<T>, ServerFnError>, render: impl FnOnce(T) -> AnyView) -> AnyView {
    match result {
        Ok(Loaded::Ready(v)) => render(v),
        Ok(Loaded::SignedOut) => view! {
            <Card title="Sign in to the admin console">
                <p class="text-slate-600">"Your admin session has ended or you are not signed in."</p>
                <a class="mt-4 inline-block font-medium text-indigo-700 underline" href="/admin/login">"Sign in"</a>
            </Card>
        }
        .into_any(),
        Ok(Loaded::NotFound(message)) => view! {
            <Card title="Not found">
                <p class="text-slate-600">{message}</p>
                <a class="mt-4 inline-block font-medium text-indigo-700 underline" href="/admin">"Back to partners"</a>
            </Card>
        }
        .into_any(),
        Ok(Loaded::Failed { message, .. }) => {
            view! { <Card title="Not possible"><p class="text-slate-600">{message}</p></Card> }.into_any()
        }
        Ok(Loaded::Redirect(to)) => view! { <a class="underline" href=to.clone()>{to.clone()}</a> }.into_any(),
        Err(_) => transport_error(),
    }
}

/// A coloured badge for a recipient's status.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let tone = match status.as_str() {
        "activated" => "bg-emerald-100 text-emerald-800",
        "invited" => "bg-sky-100 text-sky-800",
        "expiring" => "bg-amber-100 text-amber-900",
        "expired" | "revoked" => "bg-red-100 text-red-800",
        _ => "bg-slate-100 text-slate-700",
    };
    view! { <span class=format!("inline-block rounded-full px-2 py-0.5 text-xs font-medium {tone}")>{status}</span> }
}

/// A section of a console page with its heading (a function, not a component with children,
/// so the content is built in place and may borrow the page's values).
pub fn section(title: impl Into<String>, id: &str, content: impl IntoView + 'static) -> AnyView {
    let heading = format!("{id}-heading");
    let labelled_by = heading.clone();
    view! {
        <section id=id.to_string() aria-labelledby=labelled_by class="mb-6 rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id=heading class="text-lg font-semibold">{title.into()}</h2>
            <div class="mt-3">{content.into_any()}</div>
        </section>
    }
    .into_any()
}

/// Hidden fields every console form carries: the form token, and where to come back to.
#[component]
pub fn FormBase(csrf: String, #[prop(optional, into)] back: Option<String>) -> impl IntoView {
    view! {
        <input type="hidden" name="csrf" value=csrf/>
        {back.map(|b| view! { <input type="hidden" name="back" value=b/> })}
    }
}

/// A select of teams for a new object (a team admin's only team is preselected).
#[component]
pub fn TeamSelect(teams: Vec<String>, id: &'static str) -> impl IntoView {
    view! {
        <label for=id class=crate::components::ui::LABEL>"Team"</label>
        <select id=id name="team" class=crate::components::ui::FIELD>
            {teams.into_iter().map(|t| view! { <option value=t.clone() selected=t == "default">{t.clone()}</option> }).collect_view()}
        </select>
        <FieldError field="team"/>
    }
}
