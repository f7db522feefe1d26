//! What `/metrics` reports, in Prometheus' text format: requests by route template and status,
//! their latency, protocol calls, files signed and bytes they cover. Gauges that the catalog
//! knows (export jobs by state, sessions, pool use) are read when scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    protocol: Mutex<BTreeMap<&'static str, u64>>,
    files_signed: AtomicU64,
    bytes_signed: AtomicU64,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Values read from the catalog at scrape time.
pub struct Gauges {
    pub export_jobs: Vec<(String, i64)>,
    pub sessions: i64,
    pub pool_open: u32,
    pub pool_idle: usize,
    pub snapshots: crate::storage::snapshots::SnapshotStats,
}

impl Metrics {
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        *lock(&self.requests).entry((route.to_string(), method.to_string(), status)).or_default() += 1;
        let mut latency = lock(&self.latency);
        let h = latency.entry(route.to_string()).or_default();
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// A Delta Sharing call (`action` as audited); files and bytes of the URLs it signed.
    pub fn protocol_call(&self, action: &'static str, files: Option<i64>, bytes: Option<i64>) {
        if !action.is_empty() {
            *lock(&self.protocol).entry(action).or_default() += 1;
        }
        self.files_signed.fetch_add(files.unwrap_or(0).max(0) as u64, Ordering::Relaxed);
        self.bytes_signed.fetch_add(bytes.unwrap_or(0).max(0) as u64, Ordering::Relaxed);
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        header(&mut out, "portal_http_requests_total", "counter", "HTTP requests by route template, method and status.");
        for ((route, method, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "portal_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
        header(
            &mut out,
            "portal_http_request_duration_seconds",
            "histogram",
            "Time to answer (until the response head; bodies stream on).",
        );
        for (route, h) in lock(&self.latency).iter() {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "portal_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "portal_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "portal_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "portal_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        header(&mut out, "portal_sharing_calls_total", "counter", "Delta Sharing protocol calls by action.");
        for (action, n) in lock(&self.protocol).iter() {
            let _ = writeln!(out, "portal_sharing_calls_total{{action=\"{}\"}} {n}", label(action));
        }
        header(&mut out, "portal_sharing_files_signed_total", "counter", "File URLs handed to partners.");
        let _ = writeln!(out, "portal_sharing_files_signed_total {}", self.files_signed.load(Ordering::Relaxed));
        header(&mut out, "portal_sharing_bytes_signed_total", "counter", "Bytes of the files whose URLs were handed out.");
        let _ = writeln!(out, "portal_sharing_bytes_signed_total {}", self.bytes_signed.load(Ordering::Relaxed));
        header(&mut out, "portal_export_jobs", "gauge", "Export jobs in the catalog by state.");
        for (state, n) in &gauges.export_jobs {
            let _ = writeln!(out, "portal_export_jobs{{state=\"{}\"}} {n}", label(state));
        }
        header(&mut out, "portal_sessions_active", "gauge", "Unexpired partner and admin browser sessions.");
        let _ = writeln!(out, "portal_sessions_active {}", gauges.sessions);
        header(&mut out, "portal_catalog_connections", "gauge", "Catalog pool connections of this replica.");
        let _ = writeln!(out, "portal_catalog_connections{{state=\"open\"}} {}", gauges.pool_open);
        let _ = writeln!(out, "portal_catalog_connections{{state=\"idle\"}} {}", gauges.pool_idle);
        let cache = &gauges.snapshots;
        header(&mut out, "portal_snapshot_cache_requests_total", "counter", "Table opens by how the snapshot was found.");
        for (outcome, n) in [("hit", cache.hits), ("load", cache.loads), ("stream", cache.streamed)] {
            let _ = writeln!(out, "portal_snapshot_cache_requests_total{{outcome=\"{outcome}\"}} {n}");
        }
        header(&mut out, "portal_snapshot_cache_updates_total", "counter", "Cached snapshots brought forward by newer commits.");
        let _ = writeln!(out, "portal_snapshot_cache_updates_total {}", cache.updates);
        header(&mut out, "portal_snapshot_cache_evictions_total", "counter", "Snapshots dropped to stay within the budget.");
        let _ = writeln!(out, "portal_snapshot_cache_evictions_total {}", cache.evictions);
        header(&mut out, "portal_snapshot_cache_entries", "gauge", "Snapshots kept in memory.");
        let _ = writeln!(out, "portal_snapshot_cache_entries {}", cache.entries);
        header(&mut out, "portal_snapshot_cache_bytes", "gauge", "Estimated memory of the kept snapshots.");
        let _ = writeln!(out, "portal_snapshot_cache_bytes {}", cache.bytes);
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value with Prometheus' escapes.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.request("/delta-sharing/shares", "GET", 200, Duration::from_millis(3));
        m.request("/delta-sharing/shares", "GET", 200, Duration::from_millis(30));
        m.protocol_call("listShares", None, None);
        m.protocol_call("queryTable", Some(3), Some(300));
        let text = m.render(&Gauges {
            export_jobs: vec![("done".into(), 2)],
            sessions: 1,
            pool_open: 2,
            pool_idle: 1,
            snapshots: Default::default(),
        });
        assert!(text.contains("portal_http_requests_total{route=\"/delta-sharing/shares\",method=\"GET\",status=\"200\"} 2"));
        assert!(text.contains("portal_http_request_duration_seconds_bucket{route=\"/delta-sharing/shares\",le=\"0.005\"} 1"));
        assert!(text.contains("portal_http_request_duration_seconds_bucket{route=\"/delta-sharing/shares\",le=\"0.05\"} 2"));
        assert!(text.contains("portal_sharing_files_signed_total 3"));
        assert!(text.contains("portal_export_jobs{state=\"done\"} 2"));
    }
}
