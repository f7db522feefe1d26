//! The one role and team check, through the service functions the console and the API share.

use app::contract::AuditQuery;

use super::recipients::{self, NewRecipient, RecipientPatch};
use super::shares::{self, NewShare};
use super::{audit_log, teams, Admin};
use crate::config::Settings;
use crate::Services;

async fn services() -> (Services, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Services::open(Settings::for_tests(dir.path())).await.unwrap();
    (s, dir)
}

async fn team_admin(s: &Services, team: &str) -> Admin {
    Admin { actor: format!("admin:{team}@example"), team: Some(s.catalog.team(team).await.unwrap()), client_ip: None, user_agent: None }
}

#[tokio::test]
async fn team_admins_see_and_change_only_their_team() {
    let (s, _dir) = services().await;
    let platform = Admin::cli();
    for team in ["north", "south"] {
        teams::create(&s, &platform, teams::NewTeam { name: team.into() }).await.unwrap();
    }
    let north = team_admin(&s, "north").await;
    let south = team_admin(&s, "south").await;
    shares::create(&s, &north, NewShare { name: "retail".into(), ..Default::default() }).await.unwrap();
    recipients::create(&s, &north, NewRecipient { name: "acme".into(), ..Default::default() }).await.unwrap();

    // The other team's objects do not exist for south, worded as for a missing object.
    let hidden = shares::detail(&s, &south, "retail").await.unwrap_err();
    let missing = shares::detail(&s, &south, "nothing").await.unwrap_err();
    assert_eq!(
        (hidden.status(), hidden.to_string().replace("retail", "X")),
        (missing.status(), missing.to_string().replace("nothing", "X"))
    );
    assert_eq!(recipients::detail(&s, &south, "acme").await.unwrap_err().status(), 404);
    assert_eq!(recipients::update(&s, &south, "acme", RecipientPatch::default()).await.unwrap_err().status(), 404);
    assert_eq!(shares::set_grant(&s, &south, "retail", "acme", true).await.unwrap_err().status(), 404);
    assert!(shares::list(&s, &south).await.unwrap().is_empty());
    assert!(recipients::list(&s, &south).await.unwrap().is_empty());
    // Nor can south create objects in north's team.
    let into_north = NewShare { name: "sneaky".into(), team: Some("north".into()), ..Default::default() };
    assert_eq!(shares::create(&s, &south, into_north).await.unwrap_err().status(), 404);
    // Teams are the platform's business.
    assert_eq!(teams::list(&s, &north).await.unwrap_err().status(), 403);

    // North governs its own, and the platform sees everything.
    shares::set_grant(&s, &north, "retail", "acme", true).await.unwrap();
    assert_eq!(recipients::detail(&s, &north, "acme").await.unwrap().grants, ["retail"]);
    assert_eq!(shares::list(&s, &platform).await.unwrap().len(), 1);

    // The audit log shows each team its own admin actions only.
    let north_events = audit_log::events(&s, &north, &AuditQuery::default(), 100).await.unwrap();
    assert!(north_events.iter().any(|e| e.action == "admin.grant"));
    assert!(audit_log::events(&s, &south, &AuditQuery::default(), 100).await.unwrap().iter().all(|e| !e
        .object
        .clone()
        .unwrap_or_default()
        .contains("retail")));
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let (s, _dir) = services().await;
    let admin = Admin::cli();
    let new = |ip: &str| NewRecipient { name: "acme".into(), ip_allow_list: vec![ip.into()], ..Default::default() };
    let e = recipients::create(&s, &admin, new("10.0.0.0/33")).await.unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(recipients::list(&s, &admin).await.unwrap().is_empty());
    recipients::create(&s, &admin, new("10.0.0.0/8")).await.unwrap();
    let patch = RecipientPatch { ip_allow_list: Some(vec!["office".into()]), comment: Some("changed".into()), ..Default::default() };
    assert_eq!(recipients::update(&s, &admin, "acme", patch).await.unwrap_err().status(), 400);
    let kept = recipients::detail(&s, &admin, "acme").await.unwrap();
    assert_eq!((kept.summary.ip_allow_list.as_slice(), kept.summary.comment), (["10.0.0.0/8".to_string()].as_slice(), None));

    assert_eq!(
        recipients::create(&s, &admin, NewRecipient { name: "bad name".into(), ..Default::default() }).await.unwrap_err().status(),
        400
    );
    assert_eq!(recipients::create(&s, &admin, new("10.0.0.0/8")).await.unwrap_err().status(), 409);
    shares::create(&s, &admin, NewShare { name: "retail".into(), ..Default::default() }).await.unwrap();
    let not_delta = shares::NewTableInput {
        schema: "s".into(),
        name: "t".into(),
        location: s.settings.data_dir.to_string_lossy().into(),
        ..Default::default()
    };
    let e = shares::add_table(&s, &admin, "retail", not_delta).await.unwrap_err();
    assert!(matches!(e, crate::error::PortalError::Field { field: "location", .. }), "{e:?}");
    assert!(shares::detail(&s, &admin, "retail").await.unwrap().tables.is_empty());
}

#[tokio::test]
async fn team_admins_point_tables_only_under_their_locations() {
    use super::locations::{self, NewLocation};
    let (s, dir) = services().await;
    let platform = Admin::cli();
    teams::create(&s, &platform, teams::NewTeam { name: "south".into() }).await.unwrap();
    let south = team_admin(&s, "south").await;
    let root = dir.path().canonicalize().unwrap();
    for d in ["lake", "lake-south", "lake/sales"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    locations::create(
        &s,
        &platform,
        NewLocation { name: "south_lake".into(), url: root.join("lake-south").to_string_lossy().into(), comment: None },
    )
    .await
    .unwrap();
    locations::set_grant(&s, &platform, "south_lake", "south", true).await.unwrap();

    // Outside the team's location: one refusal, whether or not the place exists.
    let refusal = |typed: &str| format!("no location of team south contains `{typed}`");
    for typed in [root.join("lake/sales"), root.join("lake/missing"), root.join("lake-south/../lake/sales"), root.join("lake-southern")] {
        let typed = typed.to_string_lossy().into_owned();
        let err = locations::table_location(&s, &south, &typed).await.unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().starts_with(&refusal(&typed)), "{err}");
    }
    // Inside it: the place as it will be opened, dot segments resolved by their text.
    let inside = locations::table_location(&s, &south, &format!("{}/x/../t", root.join("lake-south").display())).await.unwrap();
    assert_eq!(inside, root.join("lake-south/t").to_string_lossy());
    // Platform admins (and the CLI) may point anywhere; nobody may use a file:// URL.
    assert_eq!(
        locations::table_location(&s, &platform, &root.join("lake/sales").to_string_lossy()).await.unwrap(),
        root.join("lake/sales").to_string_lossy()
    );
    assert_eq!(locations::table_location(&s, &platform, "file:///tmp/x").await.unwrap_err().status(), 400);
    // Location changes are the platform's; locations never overlap.
    let new = |url: &str| NewLocation { name: "other".into(), url: url.into(), comment: None };
    assert_eq!(locations::create(&s, &south, new(&root.join("lake").to_string_lossy())).await.unwrap_err().status(), 403);
    assert_eq!(locations::create(&s, &platform, new(&root.to_string_lossy())).await.unwrap_err().status(), 409);
    assert_eq!(locations::set_grant(&s, &south, "south_lake", "south", false).await.unwrap_err().status(), 403);
    assert_eq!(locations::list(&s, &south).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_audit_log_keeps_events_for_its_retention_only() {
    let (s, _dir) = services().await;
    let day = 86_400_000;
    let now = crate::catalog::now_ms();
    let at = |age_days: i64, action: &str| crate::catalog::AuditEvent {
        at: now - age_days * day,
        actor: "cli".into(),
        action: action.into(),
        status: 200,
        ..Default::default()
    };
    let keep = s.settings.audit_retention_days as i64;
    s.catalog.record(&at(keep + 1, "old")).await.unwrap();
    s.catalog.record(&at(keep - 1, "recent")).await.unwrap();
    assert_eq!(audit_log::sweep(&s).await.unwrap(), 1);
    let actions: Vec<String> = s.catalog.recent_events(10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, vec!["recent".to_string()]);
}
