use std::collections::BTreeMap;

use app::contract::grammar::TableQuery;
use axum::http::StatusCode;

use super::*;
use crate::catalog::{shares::NewTable, test_catalog};

async fn two_partners() -> (Catalog, tempfile::TempDir, Recipient, Recipient) {
    let (cat, dir) = test_catalog().await;
    cat.create_share("Retail", None).await.unwrap();
    for name in ["Sales", "returns"] {
        let table =
            NewTable { share: "Retail", schema: "s", name, location: "/nowhere", comment: None, history_shared: false, scope: None };
        cat.add_table(table).await.unwrap();
    }
    let alice = cat.create_recipient("alice", None, BTreeMap::new()).await.unwrap();
    let bob = cat.create_recipient("bob", None, BTreeMap::new()).await.unwrap();
    cat.grant("retail", "alice").await.unwrap();
    cat.grant("retail", "bob").await.unwrap();
    (cat, dir, alice, bob)
}

fn view(query: &str) -> TableQuery {
    TableQuery::parse_query_string(query).unwrap()
}

#[tokio::test]
async fn a_view_keeps_what_it_shows_under_the_table_names_as_granted() {
    let (cat, _dir, alice, _) = two_partners().await;
    let views = SavedViews::new(&cat, &alice);
    let q = view("country__exact=DE&_sort_desc=units&_col=day&_col=units&_next=abc&_version=3&_count=all&_size=50");
    let (saved, how) = views.save("retail", "S", "sales", &q, "  Germany by units  ").await.unwrap();
    assert_eq!(how, Saved::Created);
    assert_eq!((saved.share.as_str(), saved.schema.as_str(), saved.table.as_str()), ("Retail", "s", "Sales"));
    assert_eq!(saved.name, "Germany by units");
    assert_eq!(saved.query, "country__exact=DE&_sort_desc=units&_col=day&_col=units&_size=50");

    // The same name on the same table replaces the query; on another table it is a second view.
    let (again, how) = views.save("retail", "s", "sales", &view("country=FR"), "Germany by units").await.unwrap();
    assert_eq!((again.id.as_str(), how, again.query.as_str()), (saved.id.as_str(), Saved::Replaced, "country__exact=FR"));
    views.save("retail", "s", "returns", &view(""), "Germany by units").await.unwrap();
    let names: Vec<_> = views.list().await.unwrap().into_iter().map(|v| (v.table, v.name)).collect();
    assert_eq!(names, [("returns".to_string(), "Germany by units".to_string()), ("Sales".into(), "Germany by units".into())]);
}

#[tokio::test]
async fn another_recipients_view_and_an_ungranted_table_read_as_missing() {
    let (cat, _dir, alice, bob) = two_partners().await;
    let (saved, _) = SavedViews::new(&cat, &alice).save("retail", "s", "sales", &view(""), "mine").await.unwrap();
    let bobs = SavedViews::new(&cat, &bob);
    for e in [
        bobs.get(&saved.id).await.unwrap_err(),
        bobs.rename(&saved.id, "stolen").await.unwrap_err(),
        bobs.delete(&saved.id).await.unwrap_err(),
        bobs.get("no-such-id").await.unwrap_err(),
    ] {
        assert_eq!(e.status(), StatusCode::NOT_FOUND, "{e}");
    }
    assert!(bobs.list().await.unwrap().is_empty());
    assert_eq!(SavedViews::new(&cat, &alice).get(&saved.id).await.unwrap().name, "mine", "untouched by bob");

    let not_granted = bobs.save("elsewhere", "s", "sales", &view(""), "x").await.unwrap_err();
    assert_eq!(not_granted.status(), StatusCode::NOT_FOUND);

    // Revoking the share hides the view; granting it again brings it back.
    cat.revoke("retail", "alice").await.unwrap();
    let alices = SavedViews::new(&cat, &alice);
    assert!(alices.list().await.unwrap().is_empty());
    assert_eq!(alices.get(&saved.id).await.unwrap_err().status(), StatusCode::NOT_FOUND);
    cat.grant("retail", "alice").await.unwrap();
    assert_eq!(alices.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn names_are_checked_and_unique_per_table() {
    let (cat, _dir, alice, _) = two_partners().await;
    let views = SavedViews::new(&cat, &alice);
    for bad in ["", "   ", &"x".repeat(MAX_NAME + 1), "tab\there"] {
        let e = views.save("retail", "s", "sales", &view(""), bad).await.unwrap_err();
        assert!(matches!(e, PortalError::Field { field: "name", .. }), "{bad:?}: {e}");
    }
    let (a, _) = views.save("retail", "s", "sales", &view(""), "a").await.unwrap();
    views.save("retail", "s", "sales", &view(""), "b").await.unwrap();
    let taken = views.rename(&a.id, "b").await.unwrap_err();
    assert_eq!(taken.status(), StatusCode::CONFLICT, "{taken}");
    assert_eq!(views.rename(&a.id, " renamed ").await.unwrap().name, "renamed");
    assert_eq!(views.delete(&a.id).await.unwrap().name, "renamed");
    assert_eq!(views.list().await.unwrap().iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["b"]);
}

#[tokio::test]
async fn a_recipient_keeps_at_most_max_views() {
    let (cat, _dir, alice, _) = two_partners().await;
    let views = SavedViews::new(&cat, &alice);
    for i in 0..MAX_VIEWS {
        views.save("retail", "s", "sales", &view(""), &format!("v{i}")).await.unwrap();
    }
    let e = views.save("retail", "s", "sales", &view(""), "one more").await.unwrap_err();
    assert!(matches!(e, PortalError::Field { field: "limit", .. }), "{e}");
    // Replacing a view's query is not a new view.
    views.save("retail", "s", "sales", &view("country=DE"), "v0").await.unwrap();
}
