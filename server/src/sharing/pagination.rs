//! `maxResults` / `pageToken` for the list endpoints. Tokens are opaque keyset cursors bound to
//! the listing they came from; the last page carries no token at all (Spark loops while one is
//! present, even an empty one).

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{PortalError, Result};

/// The reference server's default and maximum page size.
pub const MAX_RESULTS: i64 = 500;

#[derive(Debug)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Vec<String>>,
}

/// Reads the paging parameters; `listing` names what is listed, so a token from another list is refused.
pub fn page_request(params: &HashMap<String, String>, listing: &str) -> Result<PageRequest> {
    let limit =
        match params.get("maxResults") {
            None => MAX_RESULTS,
            Some(v) => v.parse::<i64>().ok().filter(|n| (0..=MAX_RESULTS).contains(n)).ok_or_else(|| {
                PortalError::InvalidParameter(format!("Acceptable values of 'maxResults' are 0 to {MAX_RESULTS}, got `{v}`"))
            })?,
        };
    let after = match params.get("pageToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => Some(decode(token, listing)?),
    };
    Ok(PageRequest { limit, after })
}

pub fn next_token(next: Option<Vec<String>>, listing: &str) -> Option<String> {
    next.map(|keys| {
        let mut parts = vec![listing.to_string()];
        parts.extend(keys);
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&parts).unwrap_or_default())
    })
}

fn decode(token: &str, listing: &str) -> Result<Vec<String>> {
    let invalid = || PortalError::InvalidParameter("invalid pageToken: use the nextPageToken of the previous page".into());
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let mut parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if parts.is_empty() || parts.remove(0) != listing {
        return Err(invalid());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn tokens_round_trip_within_their_listing() {
        let token = next_token(Some(vec!["a".into(), "b".into()]), "tables:1").unwrap();
        let req = page_request(&params(&[("pageToken", &token), ("maxResults", "2")]), "tables:1").unwrap();
        assert_eq!((req.limit, req.after), (2, Some(vec!["a".to_string(), "b".to_string()])));
        assert!(page_request(&params(&[("pageToken", &token)]), "tables:2").is_err());
        assert_eq!(next_token(None, "x"), None);
    }

    #[test]
    fn bad_values_are_400() {
        for (k, v) in
            [("maxResults", "-1"), ("maxResults", "501"), ("maxResults", "ten"), ("pageToken", "%%%"), ("pageToken", "bm90anNvbg")]
        {
            let err = page_request(&params(&[(k, v)]), "shares").err().unwrap();
            assert_eq!(err.status(), 400, "{k}={v}");
        }
        assert_eq!(page_request(&params(&[]), "shares").unwrap().limit, 500);
    }
}
