//! Partners' pipelines as admins govern them: OAuth clients (create, rotate, revoke) and
//! federation policies (add, remove) of a recipient. Each action checks the admin governs the
//! recipient and is audited; a client's secret is returned once and never logged.

use app::contract::{FederationPolicyView, IssuedClientView, RecipientDetail};

use super::recipients::detail_of;
use super::{recipient_for, record, views, Admin, Change};
use crate::auth::oauth_clients::IssuedClient;
use crate::catalog::{now_ms, FederationPolicy, Recipient};
use crate::error::{PortalError, Result};
use crate::Services;

/// The most audiences or subject values one policy may list, and the longest of each.
const MAX_LIST: usize = 20;
const MAX_TEXT: usize = 300;

/// A new client (its secret is in the answer, once; show it with [`issued_view`]).
pub async fn create_client(s: &Services, admin: &Admin, recipient: &str, name: &str) -> Result<IssuedClient> {
    let r = recipient_for(s, admin, recipient).await?;
    let issued = s.credentials.create_client(&r, name, false).await;
    audited(s, admin, &r, "createOAuthClient", issued, |i| i.client.client_id.clone()).await
}

pub async fn rotate_client(s: &Services, admin: &Admin, recipient: &str, id: &str, overlap_hours: u32) -> Result<IssuedClient> {
    let r = recipient_for(s, admin, recipient).await?;
    let issued = s.credentials.rotate_client(&r, id, overlap_hours, false).await;
    audited(s, admin, &r, "rotateOAuthClient", issued, |i| i.client.client_id.clone()).await
}

pub async fn revoke_client(s: &Services, admin: &Admin, recipient: &str, id: &str) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, recipient).await?;
    let revoked = s.credentials.revoke_client(&r, id).await;
    audited(s, admin, &r, "revokeOAuthClient", revoked, |c| c.client_id.clone()).await?;
    detail_of(s, &r).await
}

pub async fn add_policy(s: &Services, admin: &Admin, recipient: &str, view: FederationPolicyView) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, recipient).await?;
    let added = async {
        let policy = checked_policy(&r.id, view)?;
        // A token admitted for two recipients would be refused: the first policy keeps working.
        let overlapping = s.catalog.federation_policies_of_issuer(&policy.issuer).await?.into_iter().any(|(other, _)| {
            other.recipient_id != policy.recipient_id
                && other.subject_claim == policy.subject_claim
                && other.audiences.iter().any(|a| policy.audiences.contains(a))
                && other.subject_values.iter().any(|v| policy.subject_values.contains(v))
        });
        if overlapping {
            return Err(PortalError::Conflict(
                "another recipient's federation policy already admits these tokens (same issuer, audience and subject); a token can act as one recipient only".into(),
            ));
        }
        s.catalog.insert_federation_policy(&policy).await?;
        Ok(policy)
    }
    .await;
    audited(s, admin, &r, "addFederationPolicy", added, |p| format!("{} {} ({})", p.id, p.issuer, p.name)).await?;
    detail_of(s, &r).await
}

pub async fn remove_policy(s: &Services, admin: &Admin, recipient: &str, id: &str) -> Result<RecipientDetail> {
    let r = recipient_for(s, admin, recipient).await?;
    let removed = s.catalog.delete_federation_policy(&r.id, id).await.map(|()| id.to_string());
    audited(s, admin, &r, "removeFederationPolicy", removed, Clone::clone).await?;
    detail_of(s, &r).await
}

/// The client just created or rotated, as the API and the console show it once.
pub fn issued_view(s: &Services, issued: &IssuedClient) -> IssuedClientView {
    let profile = s.credentials.client_profile(issued);
    IssuedClientView {
        client: views::client(&issued.client, now_ms()),
        client_secret: issued.secret.clone(),
        profile: serde_json::to_string_pretty(&profile).unwrap_or_default(),
    }
}

/// Writes the action's audit line (naming what it touched, or the refusal's status).
async fn audited<T>(
    s: &Services,
    admin: &Admin,
    r: &Recipient,
    action: &str,
    outcome: Result<T>,
    object: impl Fn(&T) -> String,
) -> Result<T> {
    let (what, status) = match &outcome {
        Ok(done) => (object(done), 200),
        Err(e) => (String::new(), e.status().as_u16()),
    };
    let mut change = Change::new(action, if what.is_empty() { r.name.clone() } else { format!("{}/{what}", r.name) });
    change.recipient = Some(r.name.clone());
    change.team_id = Some(r.team_id.clone());
    record(s, admin, change, status).await;
    outcome
}

/// A policy as an admin typed it, checked: nothing is stored unless all of it is good.
fn checked_policy(recipient_id: &str, view: FederationPolicyView) -> Result<FederationPolicy> {
    let name = view.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(PortalError::field("name", "give the policy a name of 1 to 60 characters, such as \"Acme Entra ID pipelines\""));
    }
    let issuer = checked_issuer(view.issuer.trim())?;
    let list = |field: &'static str, values: Vec<String>, what: &str| -> Result<Vec<String>> {
        let values: Vec<String> = values.iter().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() || values.len() > MAX_LIST || values.iter().any(|v| v.len() > MAX_TEXT || v.chars().any(char::is_control)) {
            return Err(PortalError::field(field, format!("give 1 to {MAX_LIST} {what}, each at most {MAX_TEXT} characters")));
        }
        Ok(values)
    };
    let audiences = list("audiences", view.audiences, "audiences (the `aud` the partner's tokens carry, e.g. api://partner-data-portal)")?;
    let subject_values = list("subjectValues", view.subject_values, "allowed values of the subject claim")?;
    let subject_claim = view.subject_claim.trim();
    if subject_claim.is_empty()
        || subject_claim.len() > 100
        || !subject_claim.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
    {
        return Err(PortalError::field(
            "subjectClaim",
            "name the claim that identifies the partner's pipeline, such as sub, azp, appid or groups",
        ));
    }
    let scope = view.scope.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if scope.as_ref().is_some_and(|s| s.len() > MAX_TEXT || s.chars().any(char::is_control)) {
        return Err(PortalError::field("scope", format!("the scope can be at most {MAX_TEXT} characters")));
    }
    Ok(FederationPolicy::new(recipient_id, name.into(), issuer, audiences, subject_claim.into(), subject_values, scope))
}

/// An issuer is an `https` URL (plain `http` only on this machine, for tests and local
/// providers), written exactly as its tokens' `iss` (a trailing slash matters). Addresses of
/// private, link-local or local networks are refused: the portal fetches from the issuer, and
/// must not be pointed at its own network's services (a cloud's metadata endpoint). A host name
/// is not resolved here.
fn checked_issuer(issuer: &str) -> Result<String> {
    let bad = || {
        PortalError::field(
            "issuer",
            "the issuer is the https URL the partner's tokens name in `iss`, such as https://login.microsoftonline.com/<tenant>/v2.0",
        )
    };
    let url = url::Url::parse(issuer).map_err(|_| bad())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => {
            if ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() {
                return Err(bad());
            }
            ip.is_loopback()
        }
        Some(url::Host::Ipv6(ip)) => {
            let local = (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80;
            if local || ip.is_unspecified() || ip.is_multicast() {
                return Err(bad());
            }
            ip.is_loopback()
        }
        None => return Err(bad()),
    };
    let scheme_ok = match url.scheme() {
        "https" => !loopback,
        "http" => loopback,
        _ => false,
    };
    if !scheme_ok || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad());
    }
    Ok(issuer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(issuer: &str) -> FederationPolicyView {
        FederationPolicyView {
            name: "Acme pipelines".into(),
            issuer: issuer.into(),
            audiences: vec![" api://portal ".into(), "".into()],
            subject_claim: "azp".into(),
            subject_values: vec!["pipeline-1".into()],
            ..Default::default()
        }
    }

    #[test]
    fn policies_are_checked_before_they_are_stored() {
        let r = "r1";
        let p = checked_policy(r, view("https://login.example/tenant/v2.0")).unwrap();
        assert_eq!(p.audiences, vec!["api://portal".to_string()]);
        checked_policy(r, view("http://127.0.0.1:9000")).unwrap();
        for bad in [
            "http://login.example",
            "ftp://x",
            "not a url",
            "https://u:p@login.example",
            "https://login.example/?x=1",
            "https://169.254.169.254/latest",
            "https://10.0.0.5/realms/x",
            "https://[fd00::1]/",
            "https://127.0.0.1/",
        ] {
            assert!(matches!(checked_policy(r, view(bad)), Err(PortalError::Field { field: "issuer", .. })), "{bad}");
        }
        let mut no_audience = view("https://login.example");
        no_audience.audiences = vec![" ".into()];
        assert!(matches!(checked_policy(r, no_audience), Err(PortalError::Field { field: "audiences", .. })));
        let mut bad_claim = view("https://login.example");
        bad_claim.subject_claim = "a b".into();
        assert!(matches!(checked_policy(r, bad_claim), Err(PortalError::Field { field: "subjectClaim", .. })));
    }
}
