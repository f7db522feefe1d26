//! Forms several console pages share: grants with their revoke buttons, the grant picker, the
//! activation-link form, the typed delete confirmation and the property editor.

use leptos::prelude::*;

use super::{FieldError, FormBase};
use crate::components::ui::{BUTTON, DANGER, FIELD, LABEL, PRIMARY};
use crate::contract::grammar::encode;

/// One granted share (on a recipient's page) or recipient (on a share's page).
pub struct Granted {
    pub name: String,
    pub href: String,
    pub revoke: String,
}

impl Granted {
    /// The grant of `share` to `recipient`, shown as `shown` and linked to `href`.
    pub fn new(shown: &str, href: String, share: &str, recipient: &str) -> Self {
        Self { name: shown.to_string(), href, revoke: format!("/admin/shares/{}/grants/{}/revoke", encode(share), encode(recipient)) }
    }
}

/// The grants with a revoke button each; `back` is where each revoke returns to.
pub fn grant_list(items: Vec<Granted>, csrf: &str, back: &str, empty: &'static str) -> AnyView {
    if items.is_empty() {
        return view! { <p class="text-slate-600">{empty}</p> }.into_any();
    }
    view! {
        <ul class="space-y-1">
            {items.into_iter().map(|g| view! {
                <li class="flex items-center gap-3">
                    <a class="text-indigo-700 hover:underline" href=g.href>{g.name.clone()}</a>
                    <form method="post" action=g.revoke>
                        <FormBase csrf=csrf.to_string() back=back.to_string()/>
                        <button type="submit" class=DANGER aria-label=format!("Revoke {}", g.name)>"Revoke"</button>
                    </form>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A select of what may still be granted, posted to `action` as `field` (nothing when empty).
pub fn grant_form(action: String, field: &'static str, label: &'static str, options: Vec<String>, csrf: &str) -> AnyView {
    if options.is_empty() {
        return ().into_any();
    }
    let id = format!("grant-{field}");
    view! {
        <form method="post" action=action class="mt-3 flex items-end gap-2">
            <FormBase csrf=csrf.to_string()/>
            <div><label for=id.clone() class=LABEL>{label}</label>
                <select id=id name=field class=FIELD>
                    {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select></div>
            <button type="submit" class=BUTTON>"Grant"</button>
        </form>
    }
    .into_any()
}

/// Creates an activation link for `recipient` (valid 1, 3 or 7 days); `back` shows it once.
pub fn activation_link_form(recipient: &str, csrf: &str, back: Option<String>) -> AnyView {
    view! {
        <form method="post" action=format!("/admin/recipients/{}/activation-link", encode(recipient)) class="flex items-end gap-2">
            <FormBase csrf=csrf.to_string() back=back.unwrap_or_default()/>
            <div><label for="ttl" class=LABEL>"Link valid for"</label>
                <select id="ttl" name="ttl_hours" class=FIELD>
                    <option value="24">"1 day"</option><option value="72" selected=true>"3 days"</option><option value="168">"7 days"</option>
                </select><FieldError field="ttlHours"/></div>
            <button type="submit" class=PRIMARY>"Create activation link"</button>
        </form>
    }
    .into_any()
}

/// Deleting asks for the name typed again; `consequence` says what goes with it.
pub fn delete_form(action: String, name: &str, consequence: &str, button: &'static str, csrf: &str) -> AnyView {
    view! {
        <form method="post" action=action class="flex flex-wrap items-end gap-2">
            <FormBase csrf=csrf.to_string()/>
            <div><label for="confirm" class=LABEL>{format!("Type {name} to confirm: {consequence}")}</label>
                <input id="confirm" name="confirm" autocomplete="off" class=FIELD/><FieldError field="confirm"/></div>
            <button type="submit" class=DANGER>{button}</button>
        </form>
    }
    .into_any()
}

/// Name/value rows for properties (a recipient's or a share's), with two empty rows to add more;
/// the server reads them as `prop_key_N` / `prop_value_N`.
pub fn properties_editor(properties: &std::collections::BTreeMap<String, String>, legend: &'static str) -> AnyView {
    let rows: Vec<(String, String)> =
        properties.clone().into_iter().chain([(String::new(), String::new()), (String::new(), String::new())]).collect();
    view! {
        <fieldset>
            <legend class=LABEL>{legend}</legend>
            {rows.into_iter().enumerate().map(|(i, (k, value))| view! {
                <div class="mt-1 grid grid-cols-2 gap-2">
                    <div><label for=format!("prop-key-{i}") class="sr-only">{format!("Property {} name", i + 1)}</label>
                        <input id=format!("prop-key-{i}") name=format!("prop_key_{i}") value=k placeholder="name" class=FIELD/></div>
                    <div><label for=format!("prop-value-{i}") class="sr-only">{format!("Property {} value", i + 1)}</label>
                        <input id=format!("prop-value-{i}") name=format!("prop_value_{i}") value=value placeholder="value" class=FIELD/></div>
                </div>
            }).collect_view()}
            <FieldError field="properties"/>
        </fieldset>
    }
    .into_any()
}
