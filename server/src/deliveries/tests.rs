//! What partners hear when a delivery's export job ends.

use std::collections::BTreeMap;

use crate::catalog::shares::NewTable;
use crate::catalog::{Delivery, JobStatus, NewExportJob, NewSavedView, Schedule};
use crate::config::{Settings, SmtpSettings, SmtpTls};
use crate::Services;

/// A portal with a mail server set (nothing is sent: no sender runs here, messages stay queued),
/// a recipient with one contact and a granted table, a saved view of it with a daily delivery,
/// and `n` of the delivery's export jobs.
async fn delivered(n: usize) -> (Services, String, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_tests(dir.path());
    settings.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port: 2525,
        username: None,
        password: None,
        from: "portal@retailer.example".into(),
        tls: SmtpTls::None,
    });
    let s = Services::open(settings).await.unwrap();
    let r = s.catalog.create_recipient("acme", None, BTreeMap::new()).await.unwrap();
    s.catalog.create_share("s", None).await.unwrap();
    let table = NewTable { share: "s", schema: "d", name: "t", location: "/x", comment: None, history_shared: true, scope: None };
    s.catalog.add_table(table).await.unwrap();
    s.catalog.grant("s", "acme").await.unwrap();
    s.catalog.add_contact(&r.id, "buyer@acme.example", None).await.unwrap();
    let view = NewSavedView { recipient_id: &r.id, share: "s", schema: "d", table: "t", name: "Daily", query: "" };
    let (saved, _) = s.catalog.save_view(&view, 10).await.unwrap().unwrap();
    let delivery = Delivery {
        id: String::new(),
        saved_view_id: saved.id.clone(),
        recipient_id: r.id.clone(),
        schedule: Schedule::Daily { hour: 6 },
        changes: false,
        format: "csv".into(),
        dialect: "excel".into(),
        next_at: None,
        last_version: None,
        delivered_version: None,
        last_run_at: None,
        created_at: 0,
    };
    let delivery = s.catalog.set_delivery(&delivery).await.unwrap();
    let mut jobs = Vec::new();
    for _ in 0..n {
        let job = NewExportJob {
            recipient_id: &r.id,
            share: "s",
            schema: "d",
            table: "t",
            format: "csv",
            dialect: "excel",
            view: "",
            description: "all rows",
            delivery_id: Some(&delivery.id),
        };
        jobs.push(s.catalog.insert_export_job(&job, 10, None).await.unwrap().id);
    }
    (s, r.id, jobs, dir)
}

#[tokio::test]
async fn a_failed_delivery_is_told_once_and_a_cancelled_one_not_at_all() {
    let (s, recipient_id, jobs, _dir) = delivered(2).await;
    let (cancelled, failed) = (&jobs[0], &jobs[1]);
    assert!(s.catalog.move_export_job(cancelled, &[JobStatus::Queued], JobStatus::Cancelled, None).await.unwrap());
    assert!(s.catalog.move_export_job(failed, &[JobStatus::Queued], JobStatus::Failed, Some("the table could not be read")).await.unwrap());

    assert_eq!(super::notify_finished(&s).await.unwrap(), 1);
    assert_eq!(super::notify_finished(&s).await.unwrap(), 0, "each job is told once");
    let mails = s.catalog.messages_of(&recipient_id, 10).await.unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].subject.contains("Daily") && mails[0].body.contains("the table could not be read"), "{}", mails[0].body);
}
