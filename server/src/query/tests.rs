//! The engine on a real Delta table written with deltalake: scope, paging and counts agree.

use std::collections::{BTreeMap, HashSet};

use app::contract::Cell;

use super::Outcome;
use crate::catalog::shares::NewTable;
use crate::catalog::{Recipient, Scope};
use crate::config::Settings;
use crate::demo::data::write_sales_versions;
use crate::error::Result;
use crate::Services;
use app::contract::grammar::TableQuery;

async fn services() -> (Services, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_tests(dir.path());
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.public_url = "http://portal.test".into();
    settings.url_ttl_secs = 60;
    settings.site_root = dir.path().join("site");
    settings.session_ttl_hours = 1;
    settings.query_timeout_secs = 60;
    let s = Services::open(settings).await.unwrap();
    let location = dir.path().join("sales");
    // Three partners, two files each, three versions.
    write_sales_versions(&location, 1500, 2).await.unwrap();
    s.catalog.create_share("s", None).await.unwrap();
    s.catalog
        .add_table(NewTable {
            share: "s",
            schema: "x",
            name: "sales",
            location: &location.to_string_lossy(),
            comment: None,
            history_shared: true,
            scope: Some(Scope { column: "partner_id".into(), property: "partner_id".into() }),
        })
        .await
        .unwrap();
    (s, dir)
}

async fn recipient(s: &Services, name: &str, partner: Option<&str>) -> Recipient {
    let props = partner.map(|p| BTreeMap::from([("partner_id".to_string(), p.to_string())])).unwrap_or_default();
    let r = s.catalog.create_recipient(name, None, props).await.unwrap();
    s.catalog.grant("s", name).await.unwrap();
    r
}

fn text(c: &Cell) -> String {
    c.filter_text().unwrap_or_default()
}

/// A view from its URL query, parsed as the page parses it.
async fn view(s: &Services, r: &Recipient, share: &str, schema: &str, table: &str, query: &str) -> Result<Outcome> {
    super::view(s, r, share, schema, table, TableQuery::parse_query_string(query)).await
}

/// Every row of a view, following `_next` tokens; also returns how many pages it took.
async fn all_rows(s: &Services, r: &Recipient, query: &str) -> (Vec<Vec<Cell>>, usize) {
    let (mut rows, mut pages, mut q) = (Vec::new(), 0, query.to_string());
    loop {
        let grid = view(s, r, "s", "x", "sales", &q).await.unwrap().grid.unwrap();
        rows.extend(grid.rows);
        pages += 1;
        match grid.next {
            Some(next) => q = format!("{query}&_next={next}"),
            None => return (rows, pages),
        }
    }
}

#[tokio::test]
async fn scope_counts_and_paging_agree() {
    let (s, _dir) = services().await;
    let alice = recipient(&s, "alice", Some("P001")).await;
    let outcome = view(&s, &alice, "s", "x", "sales", "_size=1").await.unwrap();
    let from_stats = outcome.grid.unwrap();
    assert!(from_stats.count_exact);
    let counted = view(&s, &alice, "s", "x", "sales", "units__gte=-1&_count=all&_size=1").await.unwrap().grid.unwrap();
    assert_eq!(counted.count, from_stats.count, "log statistics and a full scan agree");

    let (rows, pages) = all_rows(&s, &alice, "_size=400").await;
    assert!(pages > 2);
    assert_eq!(rows.len() as u64, from_stats.count.unwrap());
    assert!(rows.iter().all(|r| text(&r[0]) == "P001"), "only the recipient's partition");
    let ids: HashSet<String> = rows.iter().map(|r| text(&r[1])).collect();
    assert_eq!(ids.len(), rows.len(), "unsorted pages neither overlap nor skip");

    let (sorted, _) = all_rows(&s, &alice, "_sort_desc=units&_size=333").await;
    let units: Vec<i64> = sorted.iter().map(|r| text(&r[6]).parse().unwrap()).collect();
    assert!(units.windows(2).all(|w| w[0] >= w[1]), "order holds across pages");
    let sorted_ids: HashSet<String> = sorted.iter().map(|r| text(&r[1])).collect();
    assert_eq!(sorted_ids, ids);
}

#[tokio::test]
async fn a_recipient_without_the_property_sees_no_rows() {
    let (s, _dir) = services().await;
    let nobody = recipient(&s, "nobody", None).await;
    for q in ["", "partner_id=P001", "_count=all", "_facet=partner_id"] {
        let grid = view(&s, &nobody, "s", "x", "sales", q).await.unwrap().grid.unwrap();
        assert_eq!((grid.count, grid.rows.len()), (Some(0), 0), "{q}");
        assert!(grid.facets.iter().all(|f| f.values.is_empty()));
    }
    let bob = recipient(&s, "bob", Some("P002")).await;
    let grid = view(&s, &bob, "s", "x", "sales", "partner_id=P001&_count=all").await.unwrap().grid.unwrap();
    assert_eq!(grid.count, Some(0), "a filter cannot widen the scope");
    let facet = view(&s, &bob, "s", "x", "sales", "_facet=partner_id").await.unwrap().grid.unwrap();
    assert_eq!(facet.facets[0].values.iter().map(|v| text(&v.value)).collect::<Vec<_>>(), ["P002"]);
}

#[tokio::test]
async fn old_versions_and_bad_views() {
    let (s, _dir) = services().await;
    let alice = recipient(&s, "alice", Some("P001")).await;
    let v0 = view(&s, &alice, "s", "x", "sales", "_version=0").await.unwrap();
    let latest = view(&s, &alice, "s", "x", "sales", "").await.unwrap();
    let newest = latest.meta.version;
    assert!(v0.meta.version == 0 && newest > 0 && v0.meta.latest_version == newest);
    assert_ne!(v0.grid.unwrap().count, latest.grid.unwrap().count);
    assert_eq!(latest.meta.history.first().map(|h| h.version), Some(newest));

    // A bad view still shows the table (its dictionary), with the reason in the grid.
    let bad = view(&s, &alice, "s", "x", "sales", "units__gt=many").await.unwrap();
    assert_eq!(bad.meta.columns.len(), 10);
    let err = bad.grid.unwrap_err();
    assert!(matches!(err, crate::error::PortalError::BadQuery { column: Some(ref c), .. } if c == "units"), "{err}");
    let future = view(&s, &alice, "s", "x", "sales", "_version=99").await.unwrap();
    assert_eq!(future.meta.version, newest);
    assert_eq!(future.grid.unwrap_err().status(), 400);
    assert_eq!(view(&s, &alice, "s", "x", "nope", "").await.err().unwrap().status(), 404);
}

#[tokio::test]
async fn partition_filters_count_and_facet_from_the_log_as_a_scan_would() {
    let (s, _dir) = services().await;
    let everyone = s.catalog.create_recipient("everyone", None, BTreeMap::new()).await.unwrap();
    s.catalog
        .add_table(NewTable {
            share: "s",
            schema: "x",
            name: "all_sales",
            location: &_dir.path().join("sales").to_string_lossy(),
            comment: None,
            history_shared: false,
            scope: None,
        })
        .await
        .unwrap();
    s.catalog.grant("s", "everyone").await.unwrap();
    let grid = |q: String| {
        let (s, r) = (&s, &everyone);
        async move { view(s, r, "s", "x", "all_sales", &q).await.unwrap().grid.unwrap() }
    };
    let facet = |g: &app::contract::Grid| g.facets[0].values.iter().map(|v| (text(&v.value), v.count)).collect::<Vec<_>>();
    for filters in
        ["partner_id=P001", "partner_id__not=P001", "partner_id__in=P001,P003", "partner_id__startswith=P00", "partner_id__gt=P001"]
    {
        // From the log: filters on the partition column only. Scanned: the same plus a filter
        // every row passes, which no partition can answer.
        let logged = grid(format!("{filters}&_facet=partner_id&_size=1")).await;
        let scanned = grid(format!("{filters}&units__gte=-1000000&_count=all&_facet=partner_id&_size=1")).await;
        assert!(logged.count_exact, "{filters}");
        assert_eq!(logged.count, scanned.count, "{filters}");
        assert_eq!(facet(&logged), facet(&scanned), "{filters}");
    }
    // The log can answer this table (every file states its rows), so the views above were
    // answered from it.
    let t = crate::auth::Access::new(&s.catalog, &everyone).table("s", "x", "all_sales").await.unwrap();
    let opened = super::Opened::at(&s, t, crate::storage::At::Latest, None).await.unwrap();
    assert!(super::partitions::frame(&opened.state, &opened.columns).unwrap().is_some());
    let none = grid("partner_id=P999&_facet=partner_id".into()).await;
    assert_eq!((none.count, none.facets[0].values.len()), (Some(0), 0));
}

#[tokio::test]
async fn a_sorted_view_counts_its_rows_in_the_sort_exactly_as_a_count_would() {
    let (s, _dir) = services().await;
    let alice = recipient(&s, "alice", Some("P001")).await;
    for (filters, size) in [("units__gte=2", 10), ("units__lt=3", 7), ("units__gte=-1", 1), ("units__gt=1000000", 5)] {
        let counted = view(&s, &alice, "s", "x", "sales", &format!("{filters}&_count=all&_size=1")).await.unwrap().grid.unwrap();
        let sorted = view(&s, &alice, "s", "x", "sales", &format!("{filters}&_sort_desc=units&_size={size}")).await.unwrap().grid.unwrap();
        assert!(counted.count_exact && sorted.count_exact, "{filters}");
        assert_eq!(sorted.count, counted.count, "{filters}: the sort read every row the filters keep, no more");
        assert_eq!(sorted.rows.len() as u64, counted.count.unwrap().min(size), "{filters}");
        // The second page of the same view reads the same rows.
        if let Some(next) = sorted.next {
            let page = view(&s, &alice, "s", "x", "sales", &format!("{filters}&_sort_desc=units&_size={size}&_next={next}")).await;
            assert_eq!(page.unwrap().grid.unwrap().count, counted.count, "{filters}");
        }
    }
}
