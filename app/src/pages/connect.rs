//! `/connect`: connect Power BI, Tableau, pandas, Spark or a refreshable Excel sheet. The partner
//! creates a named token per tool, rotates or revokes it, downloads the `.share` file, and follows
//! guides filled in with their own endpoint and a real table of theirs.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::form_token::FormToken;
use crate::components::ui::{CopyButton, CODE, FIELD, PRIMARY};
use crate::components::{not_ready, readable_time, transport_error, Loading, Notice};
use crate::contract::grammar::encode;
use crate::contract::power_query::{m_query, TOKEN_PLACEHOLDER};
use crate::contract::{get_connect, ConnectView, IssuedView, Loaded, TokenRow};

#[component]
pub fn ConnectPage() -> impl IntoView {
    let query = use_query_map();
    let issued = move || (query.read().get("issued"), query.read().get("client"));
    let page = Resource::new(issued, |(issued, client)| get_connect(issued, client));
    view! {
        <Transition fallback=|| view! { <Loading what="your connection details"/> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Loaded::Ready(v)) => view! { <Connect v/> }.into_any(),
                    Ok(other) => not_ready(other),
                    Err(_) => transport_error(),
                }
            })}
        </Transition>
    }
}

fn error_text(code: &str, v: &ConnectView) -> String {
    match code {
        "name" => "Give it a name of 1 to 60 characters, such as \"Power BI refresh\" or \"Nightly orders load\".".into(),
        "days" => format!("A token can be valid for 1 to {} days.", v.max_days),
        "limit" => format!("You can have at most {} active tokens. Revoke one you no longer use first.", v.max_active),
        "client_limit" => format!("You can have at most {} active OAuth clients. Revoke one you no longer use first.", v.max_active),
        "form" => "The form had expired. Please try again.".into(),
        "revoked" => "That token is no longer active. Create a new one instead.".into(),
        "overlap_hours" => "Choose how long the old token or secret keeps working.".into(),
        "webhook_name" => "Give the webhook a name of 1 to 60 characters, such as \"Orders pipeline\".".into(),
        "webhook_url" => "The webhook URL must be an https:// address of a public receiver, and you can have at most 10 webhooks.".into(),
        "webhook_gone" => "That webhook no longer exists.".into(),
        _ => "That did not work just now. Please try again in a minute.".into(),
    }
}

#[component]
fn Connect(v: ConnectView) -> impl IntoView {
    let query = use_query_map();
    let error = query.read_untracked().get("error").map(|code| error_text(&code, &v));
    let revoked = query.read_untracked().get("revoked");
    let client_revoked = revoked.as_deref() == Some("client");
    let revoked = revoked.is_some() && !client_revoked;
    let active = v.tokens.iter().filter(|t| t.status == "active").count();
    let policy = format!("At most {} active tokens, each valid for up to {} days. You have {active} active.", v.max_active, v.max_days);
    let token_for_guides = v.issued.as_ref().map(|i| i.token.clone());
    view! {
        <leptos_meta::Title text="Connect your tools"/>
        <div class="space-y-6">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">"Connect your tools"</h1>
                <p class="mt-1 max-w-3xl text-slate-600">
                    "Power BI, Tableau, pandas, Spark and Excel read your data directly over Delta Sharing. "
                    "Create one token per tool, so you can replace or revoke one without breaking the others."
                </p>
            </div>
            {error.map(|e| view! { <Notice tone="error">{e}</Notice> })}
            {revoked.then(|| view! { <Notice tone="success">"The token was revoked. Tools using it can no longer read your data."</Notice> })}
            {client_revoked.then(|| view! { <Notice tone="success">"The OAuth client was revoked. Its secret and its access tokens no longer work."</Notice> })}
            {query.read_untracked().get("webhook").and_then(|w| match w.as_str() {
                "added" => Some("The webhook was added. Copy its signing secret to your receiver, then send a test event."),
                "pinged" => Some("A test event is on its way; its delivery shows below in a few seconds (reload)."),
                "removed" => Some("The webhook was removed."),
                _ => None,
            }).map(|m| view! { <Notice tone="success">{m}</Notice> })}
            {v.issued_client.clone().map(|issued| view! { <NewClient issued/> })}
            {v.issued.clone().map(|issued| view! { <NewToken issued endpoint=v.endpoint.clone()/> })}
            <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="endpoint-title">
                <h2 id="endpoint-title" class="font-semibold">"Your endpoint"</h2>
                <label for="endpoint" class="mt-2 block text-sm font-medium text-slate-700">"Delta Sharing server URL"</label>
                <div class="mt-1 flex gap-2">
                    <input id="endpoint" readonly value=v.endpoint.clone() class=FIELD/>
                    <CopyButton target="endpoint"/>
                </div>
            </section>
            <section class="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="tokens-title">
                <h2 id="tokens-title" class="font-semibold">"Your tokens"</h2>
                <p class="text-sm text-slate-600">{policy}</p>
                <Tokens tokens=v.tokens.clone()/>
                <CreateForm max_days=v.max_days/>
            </section>
            <Pipelines v=v.clone()/>
            <Webhooks hooks=v.webhooks.clone()/>
            <Guides v=v.clone() token=token_for_guides/>
        </div>
    }
}

/// Pipelines without long-lived tokens: OAuth clients of the portal, or the partner's own
/// identity provider where the data provider set that up.
#[component]
fn Pipelines(v: ConnectView) -> impl IntoView {
    let active = v.clients.iter().filter(|c| c.status == "active").count();
    let policy = format!("At most {} active clients, each valid for up to {} days. You have {active} active.", v.max_active, v.max_days);
    view! {
        <section id="pipelines" class="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="pipelines-title">
            <h2 id="pipelines-title" class="font-semibold">"Pipelines without long-lived tokens"</h2>
            <p class="max-w-3xl text-sm text-slate-600">
                "An OAuth client holds a client id and secret; your pipeline exchanges them at the token endpoint for an access token that lives an hour. "
                "The official Delta Sharing clients (pandas, Spark) do that themselves from the version-2 profile you download here."
            </p>
            <p class="text-sm text-slate-700">"Token endpoint: " <code class="break-all">{v.token_endpoint.clone()}</code></p>
            <p class="text-sm text-slate-600">{policy}</p>
            <Clients clients=v.clients.clone()/>
            <form method="post" action="/connect/clients" class="grid gap-3 border-t border-slate-100 pt-3 sm:grid-cols-[2fr_auto] sm:items-end">
                <FormToken/>
                <div>
                    <label for="client-name" class="block text-sm font-medium text-slate-700">"Pipeline name"</label>
                    <input id="client-name" name="name" required maxlength="60" placeholder="Nightly orders load" class=FIELD/>
                </div>
                <div>
                    <button type="submit" class=PRIMARY>"Create OAuth client"</button>
                </div>
            </form>
            {(!v.federation.is_empty()).then(|| view! { <Federation profiles=v.federation.clone()/> })}
        </section>
    }
}

#[component]
fn Clients(clients: Vec<crate::contract::ClientSummary>) -> impl IntoView {
    if clients.is_empty() {
        return view! { <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600">"You have no OAuth clients yet. Create one per pipeline."</p> }.into_any();
    }
    view! {
        <div class="relative overflow-x-auto">
            <table data-testid="clients" class="w-full text-left text-sm">
                <thead class="text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="py-2 pr-4">"Pipeline"</th>
                        <th scope="col" class="py-2 pr-4">"Client id"</th>
                        <th scope="col" class="py-2 pr-4">"Last token"</th>
                        <th scope="col" class="py-2 pr-4">"Expires"</th>
                        <th scope="col" class="py-2 pr-4">"Status"</th>
                        <th scope="col" class="py-2"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {clients.into_iter().map(|c| {
                        let base = format!("/connect/clients/{}", encode(&c.id));
                        let select_id = format!("client-overlap-{}", c.id);
                        let active = c.status == "active";
                        view! {
                            <tr data-client-id=c.client_id.clone() class="align-top">
                                <td class="py-2 pr-4 font-medium">{c.name.clone()}</td>
                                <td class="py-2 pr-4"><code class="break-all">{c.client_id.clone()}</code></td>
                                <td class="py-2 pr-4 whitespace-nowrap">{c.last_used_at.as_deref().map_or_else(|| "never".into(), readable_time)}</td>
                                <td class="py-2 pr-4 whitespace-nowrap">{c.expires_at.as_deref().map_or_else(|| "never".into(), readable_time)}</td>
                                <td class="py-2 pr-4"><span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-800" data-testid="client-status">{c.status.clone()}</span></td>
                                <td class="py-2">
                                    {active.then(|| view! {
                                        <div class="flex flex-wrap gap-2">
                                            <details class="relative">
                                                <summary class="cursor-pointer rounded-lg border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-50">"New secret…"</summary>
                                                <form method="post" action=format!("{base}/rotate") class="mt-2 space-y-2 rounded-lg border border-slate-200 bg-white p-3 shadow">
                                                    <FormToken/>
                                                    <label for=select_id.clone() class="block text-sm font-medium text-slate-700">"Old secret"</label>
                                                    <select id=select_id.clone() name="overlap_hours" class="rounded-lg border border-slate-300 px-2 py-1 text-sm">
                                                        <option value="0">"stops now"</option>
                                                        <option value="24" selected>"works 24 more hours"</option>
                                                        <option value="168">"works 7 more days"</option>
                                                    </select>
                                                    <button type="submit" class=PRIMARY>"Issue new secret"</button>
                                                </form>
                                            </details>
                                            <form method="post" action=format!("{base}/revoke")>
                                                <FormToken/>
                                                <button type="submit" class="rounded-lg border border-red-300 px-3 py-1 text-sm font-medium text-red-700 hover:bg-red-50">"Revoke"</button>
                                            </form>
                                        </div>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A client created or rotated just now: its secret and profile, shown once.
#[component]
fn NewClient(issued: crate::contract::IssuedClientView) -> impl IntoView {
    let href = format!("data:application/json;charset=utf-8,{}", encode(&issued.profile));
    view! {
        <section id="new-client" class="space-y-3 rounded-xl border border-emerald-300 bg-emerald-50 p-4" aria-labelledby="new-client-title">
            <h2 id="new-client-title" class="font-semibold text-emerald-900">{format!("OAuth client \u{201c}{}\u{201d}", issued.client.name)}</h2>
            <p class="text-sm text-emerald-900">"Copy the secret or download the profile now: it is shown only this once."</p>
            <label for="new-client-id" class="block text-sm font-medium text-slate-700">"Client id"</label>
            <div class="flex gap-2">
                <input id="new-client-id" readonly value=issued.client.client_id.clone() class=FIELD spellcheck="false"/>
                <CopyButton target="new-client-id"/>
            </div>
            <label for="new-client-secret" class="block text-sm font-medium text-slate-700">"Client secret"</label>
            <div class="flex gap-2">
                <input id="new-client-secret" readonly value=issued.client_secret.clone() class=FIELD spellcheck="false"/>
                <CopyButton target="new-client-secret"/>
            </div>
            <a data-testid="download-client-profile" download="pipeline.share" href=href class=PRIMARY>"Download pipeline.share"</a>
        </section>
    }
}

/// Profiles that use the partner's own identity provider.
#[component]
fn Federation(profiles: Vec<crate::contract::FederationProfile>) -> impl IntoView {
    view! {
        <div class="space-y-3 border-t border-slate-100 pt-3">
            <h3 class="font-semibold">"With your own identity provider"</h3>
            <p class="max-w-3xl text-sm text-slate-600">
                "Your data provider accepts tokens of your identity provider: register a client there and put its id and secret into this profile. "
                "No secret of ours is involved."
            </p>
            {profiles.into_iter().enumerate().map(|(i, p)| {
                let id = format!("federation-profile-{i}");
                let href = format!("data:application/json;charset=utf-8,{}", encode(&p.profile));
                view! {
                    <div class="space-y-2 rounded-lg border border-slate-200 p-3">
                        <p class="text-sm font-medium">{p.name.clone()}</p>
                        <ul class="text-sm text-slate-700">
                            <li>"Issuer: " <code class="break-all">{p.issuer.clone()}</code></li>
                            <li>"Audience to request: " <code class="break-all">{p.audiences.join(", ")}</code></li>
                            <li>{format!("Your pipeline is recognised by the claim `{}`: ", p.subject_claim)} <code class="break-all">{p.subject_values.join(", ")}</code></li>
                        </ul>
                        <pre id=id.clone() tabindex="0" aria-label="Profile for your identity provider" class=CODE><code>{p.profile.clone()}</code></pre>
                        <a download="pipeline.share" href=href class="text-sm font-medium text-indigo-700 underline">"Download this profile"</a>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

/// The token created just now, shown once, with its `.share` file.
#[component]
fn NewToken(issued: IssuedView, endpoint: String) -> impl IntoView {
    let href = format!("data:application/json;charset=utf-8,{}", encode(&issued.profile));
    let expires = issued.expires.as_deref().map(|e| format!(" It is valid until {}.", readable_time(e))).unwrap_or_default();
    view! {
        <section id="new-token-panel" class="space-y-3 rounded-xl border border-emerald-300 bg-emerald-50 p-4" aria-labelledby="new-token-title">
            <h2 id="new-token-title" class="font-semibold text-emerald-900">{format!("Your new token \u{201c}{}\u{201d}", issued.name)}</h2>
            <p class="text-sm text-emerald-900">{format!("Copy it or download the credential file now: it is shown only this once.{expires}")}</p>
            <label for="new-token" class="block text-sm font-medium text-slate-700">"Access token"</label>
            <div class="flex gap-2">
                <input id="new-token" readonly value=issued.token.clone() class=FIELD spellcheck="false"/>
                <CopyButton target="new-token"/>
            </div>
            <p class="text-sm text-slate-700">"Endpoint: " <code>{endpoint}</code></p>
            <a data-testid="download-profile" download="config.share" href=href class=PRIMARY>"Download config.share"</a>
        </section>
    }
}

#[component]
fn Tokens(tokens: Vec<TokenRow>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600">"You have no tokens yet. Create one below for each tool you use."</p> }.into_any();
    }
    view! {
        // `relative`: the screen-reader-only header cell is positioned inside the scroller, not
        // beside it (it would widen the page on a phone).
        <div class="relative overflow-x-auto">
            <table data-testid="tokens" class="w-full text-left text-sm">
                <thead class="text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="py-2 pr-4">"Name"</th>
                        <th scope="col" class="py-2 pr-4">"Created"</th>
                        <th scope="col" class="py-2 pr-4">"Last used"</th>
                        <th scope="col" class="py-2 pr-4">"Expires"</th>
                        <th scope="col" class="py-2 pr-4">"Status"</th>
                        <th scope="col" class="py-2"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {tokens.into_iter().map(|t| view! { <TokenLine t/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn TokenLine(t: TokenRow) -> impl IntoView {
    let badge = match t.status.as_str() {
        "active" => "rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800",
        "expired" => "rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800",
        _ => "rounded-full bg-slate-200 px-2 py-0.5 text-xs font-medium text-slate-700",
    };
    let active = t.status == "active";
    let base = format!("/connect/tokens/{}", encode(&t.id));
    let select_id = format!("overlap-{}", t.id);
    let warn = t.this_browser.then_some("This browser signed in with this token: revoking it signs you out.");
    view! {
        <tr data-token-id=t.id.clone() class="align-top">
            <td class="py-2 pr-4 font-medium">
                {t.name.clone()}
                {t.this_browser.then(|| view! { <span class="ml-2 rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-700">"this browser"</span> })}
            </td>
            <td class="py-2 pr-4 whitespace-nowrap">{readable_time(&t.created)}</td>
            <td class="py-2 pr-4 whitespace-nowrap">{t.last_used.as_deref().map_or_else(|| "never".into(), readable_time)}</td>
            <td class="py-2 pr-4 whitespace-nowrap">{t.expires.as_deref().map_or_else(|| "never".into(), readable_time)}</td>
            <td class="py-2 pr-4"><span class=badge data-testid="token-status">{t.status.clone()}</span></td>
            <td class="py-2">
                {active.then(|| view! {
                    <div class="flex flex-wrap gap-2">
                        <details class="relative">
                            <summary class="cursor-pointer rounded-lg border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-50">"Rotate…"</summary>
                            <form method="post" action=format!("{base}/rotate") class="mt-2 space-y-2 rounded-lg border border-slate-200 bg-white p-3 shadow">
                                <FormToken/>
                                <label for=select_id.clone() class="block text-sm font-medium text-slate-700">"Old token"</label>
                                <select id=select_id.clone() name="overlap_hours" class="rounded-lg border border-slate-300 px-2 py-1 text-sm">
                                    <option value="0">"stops now"</option>
                                    <option value="1">"works 1 more hour"</option>
                                    <option value="24" selected>"works 24 more hours"</option>
                                    <option value="168">"works 7 more days"</option>
                                </select>
                                <button type="submit" class=PRIMARY>"Rotate now"</button>
                            </form>
                        </details>
                        <details class="relative">
                            <summary class="cursor-pointer rounded-lg border border-red-300 px-3 py-1 text-sm font-medium text-red-700 hover:bg-red-50">"Revoke…"</summary>
                            <form method="post" action=format!("{base}/revoke") class="mt-2 space-y-2 rounded-lg border border-slate-200 bg-white p-3 shadow">
                                <FormToken/>
                                <p class="text-sm text-slate-600">"Tools using this token stop working at once."</p>
                                {warn.map(|w| view! { <p class="text-sm font-medium text-amber-800">{w}</p> })}
                                <button type="submit" class="rounded-lg bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800">"Revoke this token"</button>
                            </form>
                        </details>
                    </div>
                })}
            </td>
        </tr>
    }
}

#[component]
fn CreateForm(max_days: u32) -> impl IntoView {
    view! {
        <form method="post" action="/connect/tokens" class="grid gap-3 border-t border-slate-100 pt-3 sm:grid-cols-[2fr_1fr_auto] sm:items-end">
            <FormToken/>
            <div>
                <label for="token-name" class="block text-sm font-medium text-slate-700">"Token name"</label>
                <input id="token-name" name="name" required maxlength="60" placeholder="Power BI refresh" class=FIELD aria-describedby="token-name-help"/>
                <p id="token-name-help" class="mt-1 text-xs text-slate-500">"What the token is for, so you can tell them apart."</p>
            </div>
            <div>
                <label for="token-days" class="block text-sm font-medium text-slate-700">"Valid for (days)"</label>
                <input id="token-days" name="days" type="number" min="1" max=max_days.to_string() placeholder=max_days.to_string() class=FIELD/>
                <p class="mt-1 text-xs text-slate-500">{format!("Up to {max_days}.")}</p>
            </div>
            <div class="pb-5">
                <button type="submit" class=PRIMARY>"Create token"</button>
            </div>
        </form>
    }
}

/// Step-by-step guides with this partner's endpoint and one of their tables.
#[component]
fn Guides(v: ConnectView, token: Option<String>) -> impl IntoView {
    let Some(example) = v.example.clone() else {
        return view! { <Notice tone="info">"No table is shared with you yet; the guides appear once one is."</Notice> }.into_any();
    };
    let table = example.qualified();
    let token_text = token.clone().unwrap_or_else(|| TOKEN_PLACEHOLDER.to_string());
    let pandas = format!("# pip install delta-sharing\nimport delta_sharing\n\ndf = delta_sharing.load_as_pandas(\"config.share#{table}\")\nprint(df.head())");
    let spark = format!(
        "# spark-shell / pyspark --packages io.delta:delta-sharing-spark_2.12:3.1.0\ndf = spark.read.format(\"deltaSharing\").load(\"config.share#{table}\")\ndf.show()"
    );
    let m = m_query(&example.csv_url, "", &example.columns, token.as_deref());
    let summary = "cursor-pointer font-semibold";
    let guide = "rounded-xl border border-slate-200 bg-white p-4 shadow-sm";
    view! {
        <section class="space-y-3" aria-labelledby="guides-title">
            <h2 id="guides-title" class="text-lg font-semibold">"Guides"</h2>
            <details class=guide open>
                <summary class=summary>"Power BI"</summary>
                <ol class="mt-2 list-decimal space-y-1 pl-5 text-sm text-slate-700">
                    <li>"Home → Get Data → More… → search " <strong>"Delta Sharing"</strong> " → Connect."</li>
                    <li>"Delta Sharing Server URL: " <code class="break-all">{v.endpoint.clone()}</code></li>
                    <li>"Advanced options → Row limit: Power BI reads at most 1,000,000 rows unless you raise it."</li>
                    <li>"Authentication: Key (bearer token) → paste " <code class="break-all">{token_text.clone()}</code> " → Connect."</li>
                    <li>"In the navigator, tick " <code>{table.clone()}</code> " → Load."</li>
                </ol>
            </details>
            <details class=guide>
                <summary class=summary>"Tableau"</summary>
                <ol class="mt-2 list-decimal space-y-1 pl-5 text-sm text-slate-700">
                    <li>"Create a token above and download its " <code>"config.share"</code> "."</li>
                    <li>"Connect → To a Server → " <strong>"Delta Sharing by Databricks"</strong> "."</li>
                    <li>"Upload Share file: choose " <code>"config.share"</code> " (or enter the endpoint and the bearer token)."</li>
                    <li>"Pick " <code>{table.clone()}</code> "; a row limit keeps extracts small."</li>
                </ol>
            </details>
            <details class=guide>
                <summary class=summary>"pandas"</summary>
                <pre class=CODE><code>{pandas}</code></pre>
            </details>
            <details class=guide>
                <summary class=summary>"Spark"</summary>
                <pre class=CODE><code>{spark}</code></pre>
            </details>
            <details class=guide>
                <summary class=summary>"Excel (refreshable, Power Query)"</summary>
                <p class="mt-2 text-sm text-slate-700">
                    "Data → Get Data → From Other Sources → Blank Query → Advanced Editor, paste, Close & Load. Data → Refresh All fetches the rows again. "
                    "Every table page has the same query for the view you filtered."
                </p>
                <p id="connect-power-query-title" class="mt-2 text-sm font-medium text-slate-700">{format!("Power Query (M) for {table}")}</p>
                <pre id="connect-power-query" tabindex="0" aria-labelledby="connect-power-query-title" class=CODE><code>{m}</code></pre>
            </details>
        </section>
    }
    .into_any()
}

/// Webhooks: the portal POSTs events (a delivery ready or failed) to the partner's receiver,
/// signed with the webhook's secret; each webhook's latest deliveries are its log.
#[component]
fn Webhooks(hooks: Vec<crate::contract::WebhookView>) -> impl IntoView {
    view! {
        <section id="webhooks" class="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title" class="font-semibold">"Webhooks"</h2>
            <p class="max-w-3xl text-sm text-slate-600">
                "When a scheduled delivery of one of your saved views is ready (or failed), the portal POSTs JSON to each webhook: "
                <code>"delivery.ready"</code>" with the file's API address, or "<code>"delivery.failed"</code>" with the reason. "
                "Check "<code>"X-Portal-Signature: t=…,v1=…"</code>": the HMAC-SHA256, with the webhook's secret, of the time, a dot and the body. "
                "Failed deliveries are tried again after 30 seconds, 2, 8 and 32 minutes."
            </p>
            {if hooks.is_empty() {
                view! { <p class="text-sm text-slate-600">"No webhooks yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100" data-testid="webhooks">
                        {hooks.into_iter().map(|h| view! { <WebhookLine h/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <form method="post" action="/connect/webhooks" class="grid gap-3 border-t border-slate-100 pt-3 sm:grid-cols-[1fr_2fr_auto] sm:items-end">
                <FormToken/>
                <div>
                    <label for="webhook-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                    <input id="webhook-name" name="name" required maxlength="60" placeholder="Orders pipeline" class=FIELD/>
                </div>
                <div>
                    <label for="webhook-url" class="block text-sm font-medium text-slate-700">"Receiver URL"</label>
                    <input id="webhook-url" name="url" type="url" required placeholder="https://pipelines.partner.example/portal-events" class=FIELD spellcheck="false"/>
                </div>
                <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50">"Add webhook"</button>
            </form>
        </section>
    }
}

#[component]
fn WebhookLine(h: crate::contract::WebhookView) -> impl IntoView {
    let secret_id = format!("webhook-secret-{}", h.id);
    view! {
        <li id=format!("webhook-{}", h.id) class="space-y-2 py-3">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div class="min-w-0">
                    <p class="font-medium">{h.name.clone()}</p>
                    <p class="break-all font-mono text-xs text-slate-600">{h.url.clone()}</p>
                </div>
                <div class="flex gap-2">
                    <form method="post" action=format!("/connect/webhooks/{}/test", h.id)>
                        <FormToken/>
                        <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">"Send a test event"<span class="sr-only">{format!(" to {}", h.name)}</span></button>
                    </form>
                    <form method="post" action=format!("/connect/webhooks/{}/remove", h.id)>
                        <FormToken/>
                        <button type="submit" class="rounded-lg border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50">"Remove"<span class="sr-only">{format!(" {}", h.name)}</span></button>
                    </form>
                </div>
            </div>
            <details>
                <summary class="cursor-pointer text-sm font-medium text-indigo-700">"Signing secret"</summary>
                <div class="mt-1 flex gap-2">
                    <label for=secret_id.clone() class="sr-only">{format!("Signing secret of {}", h.name)}</label>
                    <input id=secret_id.clone() readonly value=h.secret.clone().unwrap_or_default() class=FIELD spellcheck="false"/>
                    <CopyButton target=secret_id.clone()/>
                </div>
            </details>
            {if h.deliveries.is_empty() {
                view! { <p class="text-sm text-slate-600">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <table class="min-w-full text-left text-sm" data-testid="webhook-log">
                        <caption class="sr-only">{format!("Latest deliveries to {}", h.name)}</caption>
                        <thead class="text-slate-600"><tr>
                            <th scope="col" class="py-1 pr-4">"Event"</th><th scope="col" class="py-1 pr-4">"Status"</th>
                            <th scope="col" class="py-1 pr-4">"Tries"</th><th scope="col" class="py-1 pr-4">"Queued"</th><th scope="col" class="py-1">"Last error"</th>
                        </tr></thead>
                        <tbody>
                            {h.deliveries.into_iter().map(|d| view! {
                                <tr class="border-t border-slate-100">
                                    <td class="py-1 pr-4 font-mono text-xs">{d.event}</td>
                                    <td class="py-1 pr-4">{d.status}</td>
                                    <td class="py-1 pr-4">{d.attempts}</td>
                                    <td class="py-1 pr-4">{crate::components::readable_time(&d.created_at)}</td>
                                    <td class="py-1 text-xs text-slate-600">{d.error.unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </li>
    }
}
