//! Throttling of failed authentications by client address: past `limit` failures in a window,
//! the address is refused with 429 until the window ends.
//!
//! The count lives in the catalog, so every replica sees every replica's failures. A request that
//! presents credentials (a bearer token, a sign-in form, an activation link) asks the catalog
//! before it is checked, so no replica lets a throttled address guess again. What each replica
//! learnt is also kept in memory, which refuses the address's other requests (a session's page
//! loads) without a catalog call.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::catalog::{now_ms, Catalog, FailureWindow};
use crate::error::{PortalError, Result};

/// How long a window lasts: the limit is a number of failures per minute.
pub const WINDOW_MS: i64 = 60_000;
/// Addresses remembered as throttled by one replica at most (each entry is a few dozen bytes);
/// past it the catalog alone decides.
const REMEMBERED: usize = 100_000;

pub struct Throttle {
    catalog: Catalog,
    limit: i64,
    /// Client → when its throttle ends (epoch ms).
    throttled: Mutex<HashMap<String, i64>>,
}

impl Throttle {
    pub fn new(catalog: Catalog, failures_per_minute: u32) -> Self {
        Self { catalog, limit: i64::from(failures_per_minute.max(1)), throttled: Mutex::default() }
    }

    /// Refuses a throttled address. `presents_credentials` requests also ask the catalog (another
    /// replica may have seen the failures); others rely on what this replica knows.
    pub async fn check(&self, ip: IpAddr, presents_credentials: bool) -> Result<()> {
        let client = client_key(ip);
        let now = now_ms();
        if let Some(until) = self.remembered(&client, now) {
            return Err(throttled(until, now));
        }
        if !presents_credentials {
            return Ok(());
        }
        match self.catalog.auth_failures(&client).await {
            Ok(Some(window)) if self.over(window, now) => {
                let until = window.started_at + WINDOW_MS;
                self.remember(client, until, now);
                Err(throttled(until, now))
            }
            Ok(_) => Ok(()),
            // The catalog is down: the credentials cannot be checked either; let that answer.
            Err(e) => {
                tracing::warn!(error = %e, "could not read the failed-authentication count");
                Ok(())
            }
        }
    }

    /// Counts a failed authentication of `ip`.
    pub async fn failed(&self, ip: IpAddr) {
        let client = client_key(ip);
        let now = now_ms();
        match self.catalog.record_auth_failure(&client, now, WINDOW_MS).await {
            Ok(window) if self.over(window, now) => {
                tracing::warn!(client = %client, failures = window.failures, "throttling an address after failed authentications");
                self.remember(client, window.started_at + WINDOW_MS, now);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not count a failed authentication"),
        }
    }

    fn over(&self, window: FailureWindow, now: i64) -> bool {
        window.failures >= self.limit && window.started_at + WINDOW_MS > now
    }

    fn remembered(&self, client: &str, now: i64) -> Option<i64> {
        let map = self.throttled.lock().unwrap_or_else(|e| e.into_inner());
        map.get(client).copied().filter(|until| *until > now)
    }

    fn remember(&self, client: String, until: i64, now: i64) {
        let mut map = self.throttled.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= REMEMBERED {
            map.retain(|_, u| *u > now);
        }
        if map.len() < REMEMBERED {
            map.insert(client, until);
        }
    }
}

fn throttled(until: i64, now: i64) -> PortalError {
    // Whole seconds, rounded up: a client that waits that long is let in.
    let retry_after_secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1).max(1);
    PortalError::Throttled { retry_after_secs }
}

/// The unit counted: an IPv4 address, or an IPv6 /64 (one subscriber's network; counting single
/// IPv6 addresses would let a client change address with every guess).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_of_one_network_count_together() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        assert_eq!(client_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert!(matches!(throttled(10_001, 0), PortalError::Throttled { retry_after_secs: 11 }));
        assert!(matches!(throttled(5, 5), PortalError::Throttled { retry_after_secs: 1 }));
    }
}
