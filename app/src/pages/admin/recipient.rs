//! `/admin/recipients/:name`: one partner: activation links, token rotation and revocation,
//! properties, IP allow-list and single sign-on binding, shares, usage over time, what the
//! partner sees, delete.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::parts::{activation_link_form, delete_form, grant_form, grant_list, properties_editor, Granted};
use super::usage::{audit_of, UsagePanel};
use super::{section, show, AdminNav, FieldError, FormBase, Outcome, StatusBadge};
use crate::components::ui::{CopyButton, BUTTON, DANGER, FIELD, LABEL, PRIMARY};
use crate::components::{bytes, readable_time, thousands, Loading};
use crate::contract::grammar::encode;
use crate::contract::{
    get_admin_recipient, AdminRecipientView, CatalogView, DownloadLimits, IssuedClientView, IssuedLink, RecipientDetail,
};

#[component]
pub fn AdminRecipientPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || (params.read().get("name").unwrap_or_default(), query.read().get("issued"));
    let page = Resource::new(args, |(name, issued)| get_admin_recipient(name, issued));
    view! {
        <Transition fallback=|| view! { <Loading what="the recipient"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Recipient v/> }.into_any()) })}
        </Transition>
    }
}

/// A new activation link, shown once with a copy button.
#[component]
pub fn IssuedLinkView(issued: IssuedLink) -> impl IntoView {
    view! {
        <section id="activation-link" aria-labelledby="activation-link-heading" class="mb-6 rounded-xl border border-emerald-300 bg-emerald-50 p-5">
            <h2 id="activation-link-heading" class="text-lg font-semibold text-emerald-900">"Activation link"</h2>
            <p class="mt-1 text-sm text-emerald-900">{format!("Send this link to the partner. It works once, until {}. It is shown only now.", readable_time(&issued.expires_at))}</p>
            {issued.old_tokens_expire_at.clone().map(|at| view! { <p class="mt-1 text-sm text-emerald-900">{format!("The partner's current tokens stop working at {}.", readable_time(&at))}</p> })}
            <label for="activation-url" class="sr-only">"Activation link"</label>
            <div class="mt-2 flex gap-2">
                <input id="activation-url" readonly value=issued.url.clone() class=FIELD spellcheck="false"/>
                <CopyButton target="activation-url"/>
            </div>
        </section>
    }
}

/// The portal home as the recipient sees it: their shares, schemas and tables.
#[component]
pub fn PartnerSees(sees: CatalogView, name: String) -> impl IntoView {
    let empty = sees.shares.is_empty();
    view! {
        {section(format!("What {name} will see"), "partner-view", view! {
            {if empty {
                view! { <p class="text-slate-600">"Nothing yet: no share is granted, so the portal home is empty for this partner."</p> }.into_any()
            } else {
                view! {
                    <ul class="space-y-2">
                        {sees.shares.into_iter().map(|share| view! {
                            <li>
                                <p class="font-medium">{share.name.clone()}</p>
                                <ul class="ml-4 list-disc text-sm text-slate-700">
                                    {share.schemas.into_iter().flat_map(|schema| schema.tables.into_iter().map(move |t| format!("{}.{}", schema.name, t.name))).map(|t| view! { <li>{t}</li> }).collect_view()}
                                </ul>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        })}
    }
}

#[component]
fn Recipient(v: AdminRecipientView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let r = v.recipient.clone();
    let name = r.summary.name.clone();
    let base = format!("/admin/recipients/{}", encode(&name));
    let csrf = v.session.csrf.clone();
    let oidc = r.summary.oidc.clone().unwrap_or_default();
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <div class="mb-6">
            <p class="text-sm text-slate-600"><a class="text-indigo-700 hover:underline" href="/admin">"Partners"</a> " / recipient"</p>
            <h1 class="mt-1 flex flex-wrap items-center gap-3 text-2xl font-semibold">{name.clone()} <StatusBadge status=r.summary.status.clone()/></h1>
            <p class="mt-1 text-sm text-slate-600">{format!(
                "Team {} · last access {} · {} rows and {} read",
                r.summary.team,
                r.summary.last_access.as_deref().map(readable_time).unwrap_or_else(|| "never".into()),
                thousands(r.summary.rows_read.max(0) as u64),
                bytes(r.summary.bytes_read.max(0) as u64)
            )}</p>
        </div>
        {v.issued.clone().map(|issued| view! { <IssuedLinkView issued/> })}
        {v.issued_client.clone().map(|issued| view! { <IssuedClient issued/> })}
        {section("Access", "access", view! {
            <div class="flex flex-wrap gap-6">
                {activation_link_form(&name, &csrf, None)}
                <form method="post" action=format!("{base}/rotate") class="flex items-end gap-2">
                    <FormBase csrf=csrf.clone()/>
                    <div><label for="overlap" class=LABEL>"Old tokens keep working for"</label>
                        <select id="overlap" name="overlap_hours" class=FIELD>
                            <option value="0">"no time (stop now)"</option><option value="1">"1 hour"</option><option value="24" selected=true>"1 day"</option><option value="168">"7 days"</option>
                        </select><FieldError field="overlapHours"/></div>
                    <button type="submit" class=BUTTON>"Rotate tokens"</button>
                </form>
            </div>
            <h3 class="mt-5 font-medium">"Tokens"</h3>
            {if r.tokens.is_empty() {
                view! { <p class="text-sm text-slate-600">"No tokens yet: the partner gets one by opening an activation link."</p> }.into_any()
            } else {
                view! {
                    <div class="overflow-x-auto"><table class="mt-2 min-w-full text-left text-sm">
                        <thead class="text-slate-600"><tr>
                            <th scope="col" class="py-1 pr-4">"Token"</th><th scope="col" class="py-1 pr-4">"Status"</th><th scope="col" class="py-1 pr-4">"Created"</th>
                            <th scope="col" class="py-1 pr-4">"Expires"</th><th scope="col" class="py-1 pr-4">"Last used"</th><th scope="col" class="py-1"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {r.tokens.clone().into_iter().map(|t| {
                                let active = t.status == "active";
                                view! {
                                    <tr class="border-t border-slate-100">
                                        <td class="py-1 pr-4">{t.name.clone().unwrap_or_else(|| "Unnamed".into())} <span class="ml-2 font-mono text-xs text-slate-500">{t.id.clone()}</span></td>
                                        <td class="py-1 pr-4">{t.status.clone()}</td>
                                        <td class="py-1 pr-4">{readable_time(&t.created_at)}</td>
                                        <td class="py-1 pr-4">{t.expires_at.as_deref().map(readable_time).unwrap_or_else(|| "never".into())}</td>
                                        <td class="py-1 pr-4">{t.last_used_at.as_deref().map(readable_time).unwrap_or_else(|| "never".into())}</td>
                                        <td class="py-1">{active.then(|| view! {
                                            <form method="post" action=format!("{base}/tokens/{}/revoke", t.id)>
                                                <FormBase csrf=csrf.clone()/>
                                                <button type="submit" class=DANGER aria-label=format!("Revoke token {}", t.id)>"Revoke"</button>
                                            </form>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
            <h3 class="mt-5 font-medium">"Activation links"</h3>
            <ul class="text-sm text-slate-700">
                {r.activation_links.clone().into_iter().map(|l| view! { <li>{format!("{} · created {} · expires {}", l.status, readable_time(&l.created_at), readable_time(&l.expires_at))}</li> }).collect_view()}
            </ul>
        })}
        <Pipelines r=r.clone() base=base.clone() csrf=csrf.clone()/>
        {section("Details", "details", view! {
            <form method="post" action=format!("{base}/edit") class="space-y-3">
                <FormBase csrf=csrf.clone()/>
                <div><label for="comment" class=LABEL>"Comment"</label><input id="comment" name="comment" value=r.summary.comment.clone().unwrap_or_default() class=FIELD/></div>
                {properties_editor(&r.summary.properties, "Properties (row scopes refer to them, e.g. partner_id)")}
                <div><label for="ip-allow" class=LABEL>"IP allow-list (CIDRs, comma-separated; empty = any network)"</label>
                    <input id="ip-allow" name="ip_allow" value=r.summary.ip_allow_list.join(", ") class=FIELD/><FieldError field="ipAllowList"/></div>
                <fieldset class="grid gap-2 md:grid-cols-3">
                    <legend class=LABEL>"Single sign-on for the partner's employees (optional)"</legend>
                    <div><label for="oidc-issuer" class="text-sm">"Issuer URL"</label><input id="oidc-issuer" name="oidc_issuer" value=oidc.issuer.clone() class=FIELD/></div>
                    <div><label for="oidc-domain" class="text-sm">"Email domain"</label><input id="oidc-domain" name="oidc_email_domain" value=oidc.email_domain.clone().unwrap_or_default() class=FIELD/></div>
                    <div><label for="oidc-claim" class="text-sm">"or claim (name=value)"</label><input id="oidc-claim" name="oidc_claim" value=oidc.claim.clone().unwrap_or_default() class=FIELD/></div>
                    <FieldError field="oidc"/>
                </fieldset>
                <button type="submit" class=PRIMARY>"Save recipient"</button>
            </form>
        })}
        <Limits limits=r.summary.limits base=base.clone() csrf=csrf.clone()/>
        <Contacts r=r.clone() base=base.clone() csrf=csrf.clone()/>
        {section("Shares", "grants", view! {
            {grant_list(
                r.grants.iter().map(|share| Granted::new(share, format!("/admin/shares/{}", encode(share)), share, &name)).collect(),
                &csrf,
                &base,
                "No share is granted yet.",
            )}
            {grant_form(format!("{base}/grants"), "share", "Grant a share", v.grantable.clone(), &csrf)}
        })}
        <UsagePanel usage=v.usage.clone() whose=name.clone() audit=audit_of(&name)/>
        <PartnerSees sees=v.sees.clone() name=name.clone()/>
        {section("Delete recipient", "delete", delete_form(format!("{base}/delete"), &name, "its tokens stop working and its grants go", "Delete recipient", &csrf))}
    }
}

/// What the partner may download: files at all, rows per file, export jobs a day.
#[component]
fn Limits(limits: DownloadLimits, base: String, csrf: String) -> impl IntoView {
    let text = |n: Option<String>| n.unwrap_or_default();
    section(
        "Downloads",
        "limits",
        view! {
            <p class="text-sm text-slate-600">"Limits on the files this partner takes from the portal (CSV, Excel, export jobs, Power Query). Browsing the data and Delta Sharing clients are not affected; revoke a share to stop those."</p>
            <form method="post" action=format!("{base}/limits") class="mt-3 grid gap-3 md:grid-cols-3">
                <FormBase csrf=csrf.clone()/>
                <div class="flex items-center gap-2 md:col-span-3">
                    <input id="downloads-allowed" type="checkbox" name="downloads_allowed" checked=limits.downloads_allowed class="h-4 w-4"/>
                    <label for="downloads-allowed" class="text-sm">"Downloads allowed"</label>
                </div>
                <div><label for="max-rows" class=LABEL>"Most rows per download (empty = no limit)"</label>
                    <input id="max-rows" name="max_rows" inputmode="numeric" value=text(limits.max_rows_per_download.map(|n| n.to_string())) class=FIELD/>
                    <FieldError field="maxRowsPerDownload"/></div>
                <div><label for="max-jobs" class=LABEL>"Most export jobs per 24 hours (empty = no limit)"</label>
                    <input id="max-jobs" name="max_jobs" inputmode="numeric" value=text(limits.max_export_jobs_per_day.map(|n| n.to_string())) class=FIELD/>
                    <FieldError field="maxExportJobsPerDay"/></div>
                <div class="flex items-end"><button type="submit" class=PRIMARY>"Save download limits"</button></div>
            </form>
        },
    )
}

/// The people the portal e-mails about this recipient's data, and what it sent them lately.
#[component]
fn Contacts(r: RecipientDetail, base: String, csrf: String) -> impl IntoView {
    let contacts = r.contacts.clone();
    let sent = r.notifications.clone();
    section(
        "Contacts and e-mails",
        "contacts",
        view! {
            <p class="text-sm text-slate-600">"Contacts get e-mails when a token or activation link is about to expire, when a table is shared with the partner, and when a scheduled delivery is ready or failed. Each e-mail has a link to stop that kind."</p>
            {if contacts.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"No contacts yet: the portal e-mails nobody about this partner."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 space-y-1 text-sm">
                        {contacts.into_iter().map(|c| {
                            let declined = if c.opted_out.is_empty() { String::new() } else { format!(" · declined: {}", c.opted_out.join(", ")) };
                            view! {
                                <li class="flex flex-wrap items-center gap-3">
                                    <span>{c.name.clone().map(|n| format!("{n} <{}>", c.email)).unwrap_or_else(|| c.email.clone())}{declined}</span>
                                    <form method="post" action=format!("{base}/contacts/{}/remove", encode(&c.id))>
                                        <FormBase csrf=csrf.clone()/>
                                        <button type="submit" class=DANGER aria-label=format!("Remove contact {}", c.email)>"Remove"</button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <form method="post" action=format!("{base}/contacts") class="mt-3 flex flex-wrap items-end gap-2">
                <FormBase csrf=csrf.clone()/>
                <div><label for="contact-email" class=LABEL>"E-mail"</label><input id="contact-email" name="email" type="email" required class=FIELD/><FieldError field="email"/></div>
                <div><label for="contact-name" class=LABEL>"Name (optional)"</label><input id="contact-name" name="contact_name" class=FIELD/></div>
                <button type="submit" class=BUTTON>"Add contact"</button>
            </form>
            <h3 class="mt-5 font-medium">"Latest e-mails"</h3>
            {if sent.is_empty() {
                view! { <p class="text-sm text-slate-600">"None sent yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 space-y-1 text-sm" data-testid="notifications">
                        {sent.into_iter().map(|m| view! {
                            <li>{format!("{} · {} · {} · {}{}", readable_time(&m.created_at), m.to, m.subject, m.status,
                                m.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        },
    )
}

/// A client created just now: its id and secret, shown once, and its profile.
#[component]
fn IssuedClient(issued: IssuedClientView) -> impl IntoView {
    view! {
        <section id="new-client" aria-labelledby="new-client-heading" class="mb-6 rounded-xl border border-emerald-300 bg-emerald-50 p-5">
            <h2 id="new-client-heading" class="text-lg font-semibold text-emerald-900">{format!("OAuth client \u{201c}{}\u{201d}", issued.client.name)}</h2>
            <p class="mt-1 text-sm text-emerald-900">"Send the partner this profile through a safe channel. The secret is shown only now."</p>
            <label for="new-client-profile" class=LABEL>"Version-2 profile (pipeline.share)"</label>
            <div class="mt-2 flex gap-2">
                <textarea id="new-client-profile" readonly rows="8" class=FIELD spellcheck="false">{issued.profile.clone()}</textarea>
                <CopyButton target="new-client-profile"/>
            </div>
        </section>
    }
}

/// The recipient's pipelines: OAuth clients, and federation with the partner's own provider.
#[component]
fn Pipelines(r: RecipientDetail, base: String, csrf: String) -> impl IntoView {
    let clients = r.oauth_clients.clone();
    let policies = r.federation_policies.clone();
    section(
        "Pipelines",
        "pipelines",
        view! {
            <p class="text-sm text-slate-600">"OAuth clients fetch access tokens that live an hour at the portal's token endpoint; federation policies let tokens of the partner's own identity provider in."</p>
            <h3 class="mt-4 font-medium">"OAuth clients"</h3>
            {if clients.is_empty() {
                view! { <p class="text-sm text-slate-600">"No OAuth clients yet."</p> }.into_any()
            } else {
                view! {
                    <div class="overflow-x-auto"><table class="mt-2 min-w-full text-left text-sm">
                        <thead class="text-slate-600"><tr>
                            <th scope="col" class="py-1 pr-4">"Pipeline"</th><th scope="col" class="py-1 pr-4">"Client id"</th><th scope="col" class="py-1 pr-4">"Status"</th>
                            <th scope="col" class="py-1 pr-4">"Last token"</th><th scope="col" class="py-1"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {clients.into_iter().map(|c| {
                                let active = c.status == "active";
                                let (base, csrf) = (base.clone(), csrf.clone());
                                view! {
                                    <tr class="border-t border-slate-100">
                                        <td class="py-1 pr-4">{c.name.clone()}</td>
                                        <td class="py-1 pr-4 font-mono text-xs">{c.client_id.clone()}</td>
                                        <td class="py-1 pr-4">{c.status.clone()}</td>
                                        <td class="py-1 pr-4">{c.last_used_at.as_deref().map(readable_time).unwrap_or_else(|| "never".into())}</td>
                                        <td class="py-1">{active.then(|| view! {
                                            <div class="flex flex-wrap gap-2">
                                                <form method="post" action=format!("{base}/oauth-clients/{}/rotate", encode(&c.id)) class="flex items-center gap-1">
                                                    <FormBase csrf=csrf.clone()/>
                                                    <label for=format!("overlap-{}", c.id) class="sr-only">"Old secret keeps working for"</label>
                                                    <select id=format!("overlap-{}", c.id) name="overlap_hours" class="rounded-lg border border-slate-300 px-2 py-1 text-sm">
                                                        <option value="0">"old secret stops now"</option><option value="24" selected=true>"old secret works 1 day"</option><option value="168">"old secret works 7 days"</option>
                                                    </select>
                                                    <button type="submit" class=BUTTON aria-label=format!("New secret for OAuth client {}", c.client_id)>"New secret"</button>
                                                </form>
                                                <form method="post" action=format!("{base}/oauth-clients/{}/revoke", encode(&c.id))>
                                                    <FormBase csrf=csrf.clone()/>
                                                    <button type="submit" class=DANGER aria-label=format!("Revoke OAuth client {}", c.client_id)>"Revoke"</button>
                                                </form>
                                            </div>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
            <form method="post" action=format!("{base}/oauth-clients") class="mt-3 flex flex-wrap items-end gap-2">
                <FormBase csrf=csrf.clone()/>
                <div><label for="client-name" class=LABEL>"Pipeline name"</label><input id="client-name" name="name" required maxlength="60" placeholder="Nightly orders load" class=FIELD/><FieldError field="name"/></div>
                <button type="submit" class=BUTTON>"Create OAuth client"</button>
            </form>
            <h3 class="mt-5 font-medium">"Federation policies"</h3>
            {if policies.is_empty() {
                view! { <p class="text-sm text-slate-600">"None: only the portal's own tokens and clients act as this recipient."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 space-y-2 text-sm">
                        {policies.into_iter().map(|p| {
                            let (base, csrf) = (base.clone(), csrf.clone());
                            view! {
                                <li class="flex flex-wrap items-center gap-3 rounded-lg border border-slate-200 p-2">
                                    <span><strong>{p.name.clone()}</strong> " · " <code class="break-all">{p.issuer.clone()}</code>
                                        {format!(" · audience {} · {} in {}", p.audiences.join(", "), p.subject_claim, p.subject_values.join(", "))}</span>
                                    <form method="post" action=format!("{base}/federation-policies/{}/remove", encode(&p.id))>
                                        <FormBase csrf=csrf.clone()/>
                                        <button type="submit" class=DANGER aria-label=format!("Remove federation policy {}", p.name)>"Remove"</button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <form method="post" action=format!("{base}/federation-policies") class="mt-3 grid gap-2 md:grid-cols-3">
                <FormBase csrf=csrf.clone()/>
                <div><label for="fed-name" class=LABEL>"Name"</label><input id="fed-name" name="name" required placeholder="Acme Entra ID pipelines" class=FIELD/><FieldError field="name"/></div>
                <div class="md:col-span-2"><label for="fed-issuer" class=LABEL>"Issuer (exactly as in the tokens' iss)"</label><input id="fed-issuer" name="issuer" required placeholder="https://login.microsoftonline.com/<tenant>/v2.0" class=FIELD/><FieldError field="issuer"/></div>
                <div><label for="fed-audiences" class=LABEL>"Audiences (comma-separated)"</label><input id="fed-audiences" name="audiences" required placeholder="api://partner-data-portal" class=FIELD/><FieldError field="audiences"/></div>
                <div><label for="fed-claim" class=LABEL>"Subject claim"</label><input id="fed-claim" name="subject_claim" required value="sub" class=FIELD/><FieldError field="subjectClaim"/></div>
                <div><label for="fed-values" class=LABEL>"Allowed values (comma-separated)"</label><input id="fed-values" name="subject_values" required class=FIELD/><FieldError field="subjectValues"/></div>
                <div class="md:col-span-2"><label for="fed-scope" class=LABEL>"Scope the pipeline requests (optional)"</label><input id="fed-scope" name="scope" placeholder="api://partner-data-portal/.default" class=FIELD/><FieldError field="scope"/></div>
                <div class="flex items-end"><button type="submit" class=BUTTON>"Add federation policy"</button></div>
            </form>
        },
    )
}
