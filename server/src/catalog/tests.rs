//! Catalog behaviour that callers rely on: uniqueness, case-insensitivity, idempotent grants.

use std::collections::BTreeMap;

use super::shares::NewTable;
use super::test_catalog;
use crate::error::PortalError;

fn table<'a>(share: &'a str, name: &'a str) -> NewTable<'a> {
    NewTable { share, schema: "s", name, location: "/x", comment: Some("c"), history_shared: true, scope: None }
}

#[tokio::test]
async fn names_are_unique_case_insensitively() {
    let (cat, _d) = test_catalog().await;
    cat.create_share("Sales", Some("comment")).await.unwrap();
    assert!(matches!(cat.create_share("SALES", None).await, Err(PortalError::Conflict(_))));
    assert_eq!(cat.share("sales").await.unwrap().name, "Sales");
    cat.add_table(table("sales", "Orders")).await.unwrap();
    let err = cat.add_table(table("SALES", "orders")).await.unwrap_err();
    assert!(matches!(err, PortalError::Conflict(_)) && err.to_string().contains("already exists"));
    cat.create_recipient("Acme", None, BTreeMap::new()).await.unwrap();
    assert!(matches!(cat.create_recipient("acme", None, BTreeMap::new()).await, Err(PortalError::Conflict(_))));
    assert!(matches!(cat.create_share("bad name", None).await, Err(PortalError::InvalidParameter(_))));
    assert!(matches!(cat.add_table(table("nope", "t")).await, Err(PortalError::NotFound(_))));
}

#[tokio::test]
async fn grants_are_idempotent_and_revocable() {
    let (cat, _d) = test_catalog().await;
    cat.create_share("s1", None).await.unwrap();
    cat.create_recipient("r1", None, BTreeMap::from([("partner_id".into(), "P1".into())])).await.unwrap();
    assert!(cat.grant("s1", "r1").await.unwrap());
    assert!(!cat.grant("S1", "R1").await.unwrap());
    assert!(cat.revoke("s1", "r1").await.unwrap());
    assert!(!cat.revoke("s1", "r1").await.unwrap());
    assert!(matches!(cat.grant("s1", "ghost").await, Err(PortalError::NotFound(_))));
    assert_eq!(cat.recipient("R1").await.unwrap().properties["partner_id"], "P1");
}

#[tokio::test]
async fn tokens_list_and_revoke_once() {
    let (cat, _d) = test_catalog().await;
    let r = cat.create_recipient("r1", None, BTreeMap::new()).await.unwrap();
    let t = cat.insert_token(&r.id, None, "hash-1", None).await.unwrap();
    assert_eq!(cat.tokens_of("r1").await.unwrap(), vec![t.clone()]);
    cat.revoke_token("r1", &t.id).await.unwrap();
    assert!(matches!(cat.revoke_token("r1", &t.id).await, Err(PortalError::Conflict(_))));
    assert!(matches!(cat.revoke_token("r1", "nope").await, Err(PortalError::NotFound(_))));
    let (record, stored, owner) = cat.token_by_hash("hash-1").await.unwrap().unwrap();
    assert_eq!((record.status(super::now_ms()), stored.as_str(), owner.name.as_str()), (super::TokenStatus::Revoked, "hash-1", "r1"));
    assert!(cat.token_by_hash("hash-2").await.unwrap().is_none());
}

#[tokio::test]
async fn audit_events_read_back_newest_first() {
    let (cat, _d) = test_catalog().await;
    for (at, action) in [(1, "first"), (2, "second")] {
        let e = super::AuditEvent { at, actor: "admin:cli".into(), action: action.into(), status: 200, ..Default::default() };
        cat.record(&e).await.unwrap();
    }
    let events = cat.recent_events(10).await.unwrap();
    assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["second", "first"]);
}

#[tokio::test]
async fn usage_sums_reads_per_day_and_table_within_the_scope() {
    let (cat, _d) = test_catalog().await;
    let other = cat.create_team("other").await.unwrap();
    cat.create_recipient("acme", None, BTreeMap::new()).await.unwrap();
    cat.insert_recipient("globex", &other.id, super::RecipientFields::default()).await.unwrap();
    let day = super::DAY_MS;
    let event = |at: i64, actor: &str, action: &str, object: &str, status: i64, rows: Option<i64>| super::AuditEvent {
        at,
        actor: actor.into(),
        action: action.into(),
        object: Some(object.into()),
        status,
        rows,
        bytes: rows.map(|r| r * 10),
        ..Default::default()
    };
    for e in [
        event(10 * day + 1, "recipient:acme", "queryTable", "sales.s.orders", 200, Some(5)),
        event(10 * day + 2, "recipient:acme", "export.csv", "sales.s.orders", 200, Some(7)),
        event(10 * day + 3, "recipient:acme", "portal.preview", "sales.s.returns", 200, Some(1)),
        // A refused read counts nowhere; listing shares is not a read of data.
        event(10 * day + 4, "recipient:acme", "export.csv", "sales.s.orders", 403, Some(99)),
        event(10 * day + 5, "recipient:acme", "listShares", "", 200, None),
        event(12 * day, "recipient:acme", "queryTable", "sales.s.returns", 200, Some(2)),
        event(12 * day + 1, "anonymous", "portal.signIn", "", 401, None),
        event(12 * day + 2, "recipient:globex", "queryTable", "other.s.stock", 200, Some(3)),
        event(20 * day, "recipient:acme", "queryTable", "sales.s.orders", 200, Some(1000)),
    ] {
        cat.record(&e).await.unwrap();
    }
    let mut stale = event(12 * day + 3, "anonymous", "queryTable", "", 401, None);
    stale.recipient = Some("acme".into());
    cat.record(&stale).await.unwrap();

    let all = super::UsageScope { from_ms: 10 * day, to_ms: 13 * day, ..Default::default() };
    let days = cat.daily_usage(&all).await.unwrap();
    let figures: Vec<_> = days.iter().map(|d| (d.day, d.reads, d.rows, d.bytes, d.refused_sign_ins)).collect();
    assert_eq!(figures, [(10, 3, 13, 130, 0), (12, 2, 5, 50, 2)]);

    let acme = super::UsageScope { recipient: Some("ACME".into()), ..all.clone() };
    let figures: Vec<_> = cat.daily_usage(&acme).await.unwrap().iter().map(|d| (d.day, d.reads, d.refused_sign_ins)).collect();
    assert_eq!(figures, [(10, 3, 0), (12, 1, 1)], "the anonymous failure names no recipient; the stale token does");

    let team = super::UsageScope { team_id: Some(super::DEFAULT_TEAM.into()), ..all.clone() };
    let top = cat.top_tables(&team, 10).await.unwrap();
    let top: Vec<_> = top.iter().map(|t| (t.table.as_str(), t.reads, t.rows, t.recipients)).collect();
    assert_eq!(top, [("sales.s.orders", 2, 12, 1), ("sales.s.returns", 2, 3, 1)], "globex's team and day 20 are outside");
    assert_eq!(cat.top_tables(&team, 1).await.unwrap().len(), 1);
}

fn job<'a>(recipient_id: &'a str) -> super::NewExportJob<'a> {
    super::NewExportJob {
        recipient_id,
        share: "s",
        schema: "d",
        table: "t",
        format: "csv",
        dialect: "excel",
        view: "",
        description: "all rows",
        delivery_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_exports_cannot_pass_the_unfinished_limit() {
    let (cat, _d) = test_catalog().await;
    let r = cat.create_recipient("r1", None, BTreeMap::new()).await.unwrap();
    let tries: Vec<_> = (0..10)
        .map(|_| {
            let (cat, id) = (cat.clone(), r.id.clone());
            tokio::spawn(async move { cat.insert_export_job(&job(&id), 4, None).await })
        })
        .collect();
    let mut queued = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(_) => queued += 1,
            Err(e) => assert!(e.to_string().contains("already have 4 exports"), "{e}"),
        }
    }
    assert_eq!(queued, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_exports_cannot_pass_the_daily_limit_and_finished_jobs_still_count() {
    let (cat, _d) = test_catalog().await;
    let r = cat.create_recipient("r1", None, BTreeMap::new()).await.unwrap();
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (cat, id) = (cat.clone(), r.id.clone());
            tokio::spawn(async move { cat.insert_export_job(&job(&id), 100, Some(3)).await })
        })
        .collect();
    let mut refused = Vec::new();
    for t in tries {
        if let Err(e) = t.await.unwrap() {
            refused.push(e);
        }
    }
    assert_eq!(refused.len(), 5);
    for e in &refused {
        assert_eq!(e.status(), 429, "{e}");
        assert!(e.to_string().contains("may start 3 export jobs in 24 hours"), "{e}");
        assert!(matches!(e, PortalError::QuotaReached { retry_after_secs, .. } if *retry_after_secs > 86_000));
    }
    assert_eq!(cat.export_jobs_started_today(&r.id).await.unwrap(), 3);
    // Cancelling a job does not give its start back.
    let first = cat.export_jobs(&r.id, 10).await.unwrap().remove(0);
    cat.move_export_job(&first.id, &[super::JobStatus::Queued], super::JobStatus::Cancelled, Some("cancelled")).await.unwrap();
    assert_eq!(cat.insert_export_job(&job(&r.id), 100, Some(3)).await.unwrap_err().status(), 429);
    // Another recipient has its own day.
    let other = cat.create_recipient("r2", None, BTreeMap::new()).await.unwrap();
    cat.insert_export_job(&job(&other.id), 100, Some(3)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_never_claim_the_same_job_and_lapsed_leases_are_taken_over() {
    let (cat, _d) = test_catalog().await;
    let r = cat.create_recipient("r1", None, BTreeMap::new()).await.unwrap();
    for _ in 0..6 {
        cat.insert_export_job(&job(&r.id), 10, None).await.unwrap();
    }
    let far = super::now_ms() + 60_000;
    let claims: Vec<_> = (0..10)
        .map(|i| {
            let cat = cat.clone();
            tokio::spawn(async move { cat.claim_export_job(&format!("w{i}"), far, 2).await.unwrap().map(|j| j.id) })
        })
        .collect();
    let mut ids = Vec::new();
    for c in claims {
        ids.extend(c.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each job claimed once: {ids:?}");
    // A worker whose lease lapsed loses the job to another; its heartbeat then fails, so it stops.
    let r2 = cat.create_recipient("r2", None, BTreeMap::new()).await.unwrap();
    let queued = cat.insert_export_job(&job(&r2.id), 10, None).await.unwrap();
    let first = cat.claim_export_job("dead", super::now_ms() - 1, 2).await.unwrap().unwrap();
    assert_eq!(first.id, queued.id);
    let taken = cat.claim_export_job("alive", far, 2).await.unwrap().unwrap();
    assert_eq!(taken.id, queued.id);
    assert!(!cat.renew_export_job(&queued.id, "dead", 10, None, far).await.unwrap());
    assert!(cat.renew_export_job(&queued.id, "alive", 10, None, super::now_ms() - 1).await.unwrap());
    // After two tries a lapsed job is not taken again but failed with the reason given.
    assert!(cat.claim_export_job("third", far, 2).await.unwrap().is_none());
    assert_eq!(cat.fail_lapsed_export_jobs(2, "stopped twice").await.unwrap().len(), 1);
    let failed = cat.export_job(&r2.id, &queued.id).await.unwrap();
    assert_eq!((failed.status, failed.error.as_deref()), (super::JobStatus::Failed, Some("stopped twice")));
}

#[tokio::test]
async fn a_stopping_worker_hands_its_jobs_back_and_chores_have_one_holder() {
    let (cat, _d) = test_catalog().await;
    let r = cat.create_recipient("r1", None, BTreeMap::new()).await.unwrap();
    let queued = cat.insert_export_job(&job(&r.id), 10, None).await.unwrap();
    let far = super::now_ms() + 60_000;
    cat.claim_export_job("w1", far, 2).await.unwrap().unwrap();
    assert_eq!(cat.release_export_jobs("w1").await.unwrap(), 1);
    let back = cat.export_job(&r.id, &queued.id).await.unwrap();
    assert_eq!(back.status, super::JobStatus::Queued);
    assert_eq!(cat.claim_export_job("w2", far, 2).await.unwrap().unwrap().id, queued.id);
    assert!(cat.claim_chore("export-sweep", "w1", far).await.unwrap());
    assert!(!cat.claim_chore("export-sweep", "w2", far).await.unwrap());
    assert!(cat.claim_chore("export-sweep", "w1", far).await.unwrap());
}

#[tokio::test]
async fn failed_authentications_count_per_address_in_windows_every_replica_shares() {
    let (cat, _d) = test_catalog().await;
    let (other_replica, window) = (cat.clone(), 60_000);
    for n in 1..=3 {
        let w = if n % 2 == 0 { &other_replica } else { &cat }.record_auth_failure("192.0.2.1", 1_000 + n, window).await.unwrap();
        assert_eq!((w.started_at, w.failures), (1_001, n));
    }
    assert_eq!(cat.record_auth_failure("192.0.2.2", 2_000, window).await.unwrap().failures, 1, "another address counts alone");
    // A window that lapsed starts afresh (and lapsed windows are swept).
    let fresh = cat.record_auth_failure("192.0.2.1", 2_000 + window, window).await.unwrap();
    assert_eq!((fresh.started_at, fresh.failures), (2_000 + window, 1));
    assert_eq!(cat.auth_failures("192.0.2.2").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_queued_once_per_key_and_sent_by_one_sender() {
    let (cat, _d) = test_catalog().await;
    let r = cat.create_recipient("r1", None, BTreeMap::new()).await.unwrap();
    let message = |key: &'static str| super::NewMessage {
        dedupe_key: key,
        recipient_id: "",
        contact_id: None,
        webhook_id: None,
        kind: "expiry",
        target: "ops@acme.example",
        subject: "s",
        body: "b",
    };
    let mut first = message("token-expiry:t1:14:c1");
    first.recipient_id = &r.id;
    let tries: Vec<_> = (0..6)
        .map(|_| {
            let cat = cat.clone();
            let id = r.id.clone();
            tokio::spawn(async move {
                let mut m = message("token-expiry:t1:14:c1");
                m.recipient_id = &id;
                cat.enqueue(&m).await.unwrap()
            })
        })
        .collect();
    let mut queued = 0;
    for t in tries {
        queued += usize::from(t.await.unwrap());
    }
    assert_eq!(queued, 1, "six replicas noticing one cause queue one message");
    assert!(!cat.enqueue(&first).await.unwrap());

    let far = super::now_ms() + 60_000;
    let claims: Vec<_> = (0..4)
        .map(|i| {
            let cat = cat.clone();
            tokio::spawn(async move {
                let worker = format!("w{i}");
                cat.claim_message(&worker, far, true).await.unwrap().map(|m| (worker, m.id))
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for c in claims {
        claimed.extend(c.await.unwrap());
    }
    let [(holder, id)] = claimed.try_into().expect("one sender holds the message");
    cat.message_sent(&id, "w-other").await.unwrap();
    assert_eq!(cat.messages_of(&r.id, 10).await.unwrap()[0].status, "sending", "only the holder records the outcome");
    // A failed send is tried again once due; a sent one never is.
    cat.message_not_sent(&id, &holder, "421 busy", Some(super::now_ms() - 1)).await.unwrap();
    let again = cat.claim_message("w9", far, true).await.unwrap().expect("due again");
    assert_eq!((again.attempts, again.last_error.as_deref()), (2, Some("421 busy")));
    cat.message_sent(&again.id, "w9").await.unwrap();
    assert!(cat.claim_message("w9", far, true).await.unwrap().is_none());
    assert_eq!(cat.messages_of(&r.id, 10).await.unwrap()[0].status, "sent");
}
