//! Small pieces every page uses: cards, notices, loading and failure states, number formats.

pub mod form_token;
pub mod session_bar;
pub mod ui;

use leptos::prelude::*;

use crate::contract::Loaded;

#[component]
pub fn Card(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <section class="mx-auto max-w-xl rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">{title}</h1>
            <div class="mt-3">{children()}</div>
        </section>
    }
}

/// A coloured message box; `alert` ones are announced by screen readers.
#[component]
pub fn Notice(#[prop(into)] tone: String, children: Children) -> impl IntoView {
    let class = match tone.as_str() {
        "error" => "rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-red-800",
        "success" => "rounded-lg border border-emerald-200 bg-emerald-50 px-4 py-3 text-emerald-800",
        _ => "rounded-lg border border-sky-200 bg-sky-50 px-4 py-3 text-sky-900",
    };
    let role = if tone == "error" { "alert" } else { "status" };
    view! { <div class=class role=role>{children()}</div> }
}

#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <div class="flex items-center gap-3 py-10 text-slate-500" role="status" aria-live="polite">
            <span class="h-4 w-4 animate-spin rounded-full border-2 border-slate-300 border-t-indigo-600"></span>
            {format!("Loading {what}…")}
        </div>
    }
}

/// What a page shows when its data did not come: not found, signed out, or a failure.
pub fn not_ready<T>(loaded: Loaded<T>) -> AnyView {
    match loaded {
        Loaded::Ready(_) => ().into_any(),
        Loaded::Redirect(to) => view! {
            <p class="text-slate-600">"Opening " <a class="underline" href=to.clone()>{to.clone()}</a> "…"</p>
        }
        .into_any(),
        Loaded::SignedOut => view! {
            <Card title="Please sign in">
                <p class="text-slate-600">"Your session has ended."</p>
                <a class="mt-4 inline-block font-medium text-indigo-700 underline" href="/login">"Sign in"</a>
            </Card>
        }
        .into_any(),
        Loaded::NotFound(_) => view! {
            <Card title="Not found">
                <p class="text-slate-600">"There is no table at this address, or it is not shared with you."</p>
                <a class="mt-4 inline-block font-medium text-indigo-700 underline" href="/">"Back to your data"</a>
            </Card>
        }
        .into_any(),
        Loaded::Failed { message, .. } => view! {
            <Card title="Something went wrong">
                <p class="text-slate-600">{message}</p>
            </Card>
        }
        .into_any(),
    }
}

pub fn transport_error() -> AnyView {
    view! {
        <Notice tone="error">"The portal could not be reached. Check your connection and reload the page."</Notice>
    }
    .into_any()
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1536` → `1.5 KB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `2026-11-26T15:30:13.233Z` → `2026-11-26 15:30 UTC` (times the API gives in RFC 3339).
pub fn readable_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) if rfc3339.ends_with('Z') => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// `1 table`, `2 tables`.
pub fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_counts_read_well() {
        assert_eq!(readable_time("2026-11-26T15:30:13.233Z"), "2026-11-26 15:30 UTC");
        assert_eq!(readable_time("never"), "never");
        assert_eq!((plural(1, "table"), plural(3, "recipient")), ("1 table".to_string(), "3 recipients".to_string()));
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
    }
}
