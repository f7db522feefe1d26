//! `/admin/onboard`: the five onboarding steps in one flow: share, tables, recipient, grant,
//! activation link. The URL carries the step and what was chosen so far, so every step is a
//! plain page and a reload (or no JavaScript) loses nothing.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::parts::activation_link_form;
use super::recipient::{IssuedLinkView, PartnerSees};
use super::share::{AddTableForm, TableCard};
use super::{section, show, AdminNav, FieldError, FormBase, Outcome, TeamSelect};
use crate::components::ui::{BUTTON, FIELD, LABEL, PRIMARY};
use crate::components::Loading;
use crate::contract::grammar::encode;
use crate::contract::{get_admin_onboard, AdminOnboardView};

const STEPS: [&str; 5] = ["Share", "Tables", "Recipient", "Grant", "Activation link"];

#[component]
pub fn AdminOnboardPage() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        query.with(|q| (q.get("step").and_then(|s| s.parse().ok()).unwrap_or(1u8), q.get("share"), q.get("recipient"), q.get("issued")))
    };
    let page = Resource::new(args, |(step, share, recipient, issued)| get_admin_onboard(step, share, recipient, issued));
    view! {
        <Transition fallback=|| view! { <Loading what="the onboarding steps"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Onboard v/> }.into_any()) })}
        </Transition>
    }
}

fn step_url(step: u8, share: &str, recipient: &str) -> String {
    format!("/admin/onboard?step={step}&share={}&recipient={}", encode(share), encode(recipient))
}

#[component]
fn Onboard(v: AdminOnboardView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let share = v.share.as_ref().map(|s| s.name.clone()).unwrap_or_default();
    let recipient = v.recipient.as_ref().map(|r| r.summary.name.clone()).unwrap_or_default();
    let csrf = v.session.csrf.clone();
    let here = step_url(v.step, &share, &recipient);
    let body = match v.step {
        1 => view! {
            {section("1. Share", "step", view! {
                <p class="text-slate-600">"A share groups the tables a partner reads. Pick one, or create a new one."</p>
                <form method="get" action="/admin/onboard" class="mt-3 flex flex-wrap items-end gap-2">
                    <input type="hidden" name="step" value="2"/>
                    <div><label for="pick-share" class=LABEL>"Existing share"</label>
                        <select id="pick-share" name="share" class=FIELD>
                            {v.shares.iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                        </select></div>
                    <button type="submit" class=BUTTON disabled=v.shares.is_empty()>"Use this share"</button>
                </form>
                <form method="post" action="/admin/shares" class="mt-5 grid gap-3 md:grid-cols-3">
                    <FormBase csrf=csrf.clone() back=here.clone()/>
                    <input type="hidden" name="wizard" value="2"/>
                    <div><label for="new-share-name" class=LABEL>"New share name"</label><input id="new-share-name" name="name" required class=FIELD/><FieldError field="name"/></div>
                    <div><label for="new-share-comment" class=LABEL>"Comment"</label><input id="new-share-comment" name="comment" class=FIELD/></div>
                    <div><TeamSelect teams=v.teams.clone() id="new-share-team"/></div>
                    <div><button type="submit" class=PRIMARY>"Create share and continue"</button></div>
                </form>
            })}
        }.into_any(),
        2 => view! {
            {section(format!("2. Tables of {share}"), "step", view! {
                {match &v.share {
                    Some(detail) if !detail.tables.is_empty() => view! {
                        <ul class="mb-4 divide-y divide-slate-100">
                            {detail.tables.iter().map(|t| view! { <li class="py-2"><TableCard t=t.clone()/></li> }).collect_view()}
                        </ul>
                    }.into_any(),
                    _ => view! { <p class="mb-4 text-slate-600">"No tables yet. Add one by its location; its schema is shown once it is validated."</p> }.into_any(),
                }}
                <AddTableForm share=share.clone() csrf=csrf.clone() locations=v.locations.clone() platform=v.session.team.is_none() back=here.clone()/>
                <a href=step_url(3, &share, &recipient) class=format!("{PRIMARY} mt-4 inline-block")>"Continue to the recipient"</a>
            })}
        }.into_any(),
        3 => view! {
            {section("3. Recipient", "step", view! {
                <p class="text-slate-600">"The partner: its properties (such as partner_id) decide which rows scoped tables show it."</p>
                <form method="get" action="/admin/onboard" class="mt-3 flex flex-wrap items-end gap-2">
                    <input type="hidden" name="step" value="4"/>
                    <input type="hidden" name="share" value=share.clone()/>
                    <div><label for="pick-recipient" class=LABEL>"Existing recipient"</label>
                        <select id="pick-recipient" name="recipient" class=FIELD>
                            {v.recipients.iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                        </select></div>
                    <button type="submit" class=BUTTON disabled=v.recipients.is_empty()>"Use this recipient"</button>
                </form>
                <form method="post" action="/admin/recipients" class="mt-5 grid gap-3 md:grid-cols-2">
                    <FormBase csrf=csrf.clone() back=here.clone()/>
                    <input type="hidden" name="wizard" value="4"/>
                    <input type="hidden" name="wizard_share" value=share.clone()/>
                    <div><label for="new-recipient-name" class=LABEL>"Recipient name"</label><input id="new-recipient-name" name="name" required class=FIELD/><FieldError field="name"/></div>
                    <div><label for="new-recipient-comment" class=LABEL>"Comment"</label><input id="new-recipient-comment" name="comment" class=FIELD/></div>
                    <div><label for="new-recipient-properties" class=LABEL>"Properties (one name=value per line: partner_id, country, tier…)"</label>
                        <textarea id="new-recipient-properties" name="properties" rows="3" class=FIELD></textarea><FieldError field="properties"/></div>
                    <div><label for="new-recipient-ip" class=LABEL>"IP allow-list (CIDRs, comma-separated; empty = any network)"</label>
                        <input id="new-recipient-ip" name="ip_allow" class=FIELD/><FieldError field="ipAllowList"/></div>
                    <div><TeamSelect teams=v.teams.clone() id="new-recipient-team"/></div>
                    <div class="flex items-end"><button type="submit" class=PRIMARY>"Create recipient and continue"</button></div>
                </form>
            })}
        }.into_any(),
        4 => {
            let granted = v.recipient.as_ref().is_some_and(|r| r.grants.contains(&share));
            view! {
                {section("4. Grant", "step", view! {
                    {if granted {
                        view! {
                            <p class="text-slate-700">{format!("{recipient} can already read {share}.")}</p>
                            <a href=step_url(5, &share, &recipient) class=format!("{PRIMARY} mt-3 inline-block")>"Continue to the activation link"</a>
                        }.into_any()
                    } else {
                        view! {
                            <form method="post" action=format!("/admin/shares/{}/grants", encode(&share))>
                                <FormBase csrf=csrf.clone() back=here.clone()/>
                                <input type="hidden" name="recipient" value=recipient.clone()/>
                                <input type="hidden" name="wizard" value="5"/>
                                <button type="submit" class=PRIMARY>{format!("Grant {share} to {recipient}")}</button>
                            </form>
                        }.into_any()
                    }}
                })}
            }.into_any()
        }
        _ => view! {
            <div>
                {v.issued.clone().map(|issued| view! { <IssuedLinkView issued/> })}
                {section("5. Activation link", "step", view! {
                    <p class="text-slate-600">"The partner opens the link once to download their credential file; the same browser is then signed in to the portal."</p>
                    <div class="mt-3">{activation_link_form(&recipient, &csrf, Some(step_url(5, &share, &recipient)))}</div>
                    <a class="mt-3 inline-block text-indigo-700 underline" href=format!("/admin/recipients/{}", encode(&recipient))>{format!("Open {recipient}'s page")}</a>
                })}
                {v.sees.clone().map(|sees| view! { <PartnerSees sees name=recipient.clone()/> })}
            </div>
        }.into_any(),
    };
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <h1 class="mb-4 text-2xl font-semibold">"Onboard a partner"</h1>
        <ol class="mb-6 flex flex-wrap gap-2 text-sm" aria-label="Steps">
            {STEPS.iter().enumerate().map(|(i, label)| {
                let n = i as u8 + 1;
                let current = n == v.step;
                let class = if current { "rounded-full bg-indigo-700 px-3 py-1 font-medium text-white" } else { "rounded-full bg-slate-100 px-3 py-1 text-slate-700" };
                view! { <li class=class aria-current=current.then_some("step")>{format!("{n}. {label}")}</li> }
            }).collect_view()}
        </ol>
        {(!share.is_empty()).then(|| view! { <p class="mb-2 text-sm text-slate-600">{format!("Share: {share}")}{(!recipient.is_empty()).then(|| format!(" · Recipient: {recipient}"))}</p> })}
        {body}
    }
}
