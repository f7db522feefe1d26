//! The outcome of a console form travels in the redirect's query (`notice`, or `error` and
//! `field`) with `sig`, a MAC by the portal's key over the message and the admin session it is
//! meant for. A page shows only a message the portal wrote for this browser's session: a crafted
//! link (`?notice=Pay now at evil.example`) shows nothing.

use app::contract::FormOutcome;

use crate::storage::UrlSigner;

const PURPOSE: &str = "console-outcome";

/// The query parameters that carry `outcome` to the admin session `owner` (its cookie's hash).
pub fn params(signer: &UrlSigner, owner: &str, outcome: &FormOutcome) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (name, value) in [("notice", &outcome.notice), ("error", &outcome.error), ("field", &outcome.field)] {
        if let Some(value) = value {
            out.push((name, value.clone()));
        }
    }
    if !out.is_empty() {
        out.push(("sig", mac(signer, owner, outcome)));
    }
    out
}

/// The outcome in a page's query, if the portal wrote it for `owner`; else none at all.
pub fn read(signer: &UrlSigner, owner: &str, query: Option<&str>) -> FormOutcome {
    let mut found = FormOutcome::default();
    let mut sig = None;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "notice" => found.notice = Some(value.into_owned()),
            "error" => found.error = Some(value.into_owned()),
            "field" => found.field = Some(value.into_owned()),
            "sig" => sig = Some(value.into_owned()),
            _ => {}
        }
    }
    match sig {
        Some(sig) if !owner.is_empty() && signer.verify_mac(PURPOSE, &fields(owner, &found), &sig) => found,
        _ => FormOutcome::default(),
    }
}

fn mac(signer: &UrlSigner, owner: &str, o: &FormOutcome) -> String {
    signer.mac(PURPOSE, &fields(owner, o))
}

fn fields(owner: &str, o: &FormOutcome) -> String {
    let part = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_string(), |v| format!("+{v}"));
    format!("{owner}\n{}\n{}\n{}", part(&o.notice), part(&o.error), part(&o.field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(params: &[(&str, String)]) -> String {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish()
    }

    #[test]
    fn only_outcomes_written_for_this_session_are_read() {
        let signer = UrlSigner::with_key(&[7; 32], "http://h", 60);
        let outcome = FormOutcome { error: Some("type x to confirm".into()), field: Some("confirm".into()), notice: None };
        let q = query(&params(&signer, "session-a", &outcome));
        assert_eq!(read(&signer, "session-a", Some(&q)), outcome);
        assert_eq!(read(&signer, "session-b", Some(&q)), FormOutcome::default(), "another session's link shows nothing");
        assert_eq!(read(&signer, "", Some(&q)), FormOutcome::default());
        let forged = q.replace("type+x", "Pay+now+at+evil.example");
        assert_eq!(read(&signer, "session-a", Some(&forged)), FormOutcome::default());
        let moved = q.replace("field=confirm", "field=name");
        assert_eq!(read(&signer, "session-a", Some(&moved)), FormOutcome::default(), "the field is signed too");
        assert_eq!(read(&signer, "session-a", Some("notice=Pay%20now%20at%20evil.example")), FormOutcome::default());
    }
}
