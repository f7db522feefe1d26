//! Shared styles and small controls of forms.

use leptos::prelude::*;

pub const FIELD: &str = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-slate-900 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200";
pub const BUTTON: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
pub const PRIMARY: &str = "rounded-lg bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-300";
pub const DANGER: &str = "rounded-lg border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500";
pub const CODE: &str = "overflow-x-auto rounded-lg bg-slate-900 p-3 font-mono text-xs text-slate-100";
pub const LABEL: &str = "block text-sm font-medium text-slate-700";

/// A button that copies the value of the input `target`. The click is handled by the site's
/// `/copy.js` (a file of the site's own, which the pages' Content-Security-Policy allows, and
/// which works before the page hydrates); without JavaScript the field itself can be selected.
#[component]
pub fn CopyButton(#[prop(into)] target: String) -> impl IntoView {
    view! { <button type="button" class=BUTTON data-copy=target.clone() aria-controls=target>"Copy"</button> }
}
