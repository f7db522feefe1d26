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
    assert_eq!((record.status(super::now_ms()), stored.as_str(), owner.name.as_str()), ("revoked", "hash-1", "r1"));
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
