//! `portal demo`: realistic partner commerce tables, three shares for the three business
//! models, two recipients with `partner_id`s, and their activation links. Idempotent: what
//! exists is kept, what is missing is created.

pub(crate) mod data;

use crate::cli::{add_table, audit};
use crate::error::{PortalError, Result};
use crate::Services;

use data::DemoTable;

struct ShareSpec {
    name: &'static str,
    comment: &'static str,
    /// (schema, table name, demo table, history shared)
    tables: &'static [(&'static str, &'static str, DemoTable, bool)],
}

const SHARES: &[ShareSpec] = &[
    ShareSpec {
        name: "wholesale",
        comment: "Wholesale partners: their sell-out and stock at our stores",
        tables: &[("commerce", "sales", DemoTable::Sales, true), ("commerce", "stock", DemoTable::Stock, false)],
    },
    ShareSpec {
        name: "partner_program",
        comment: "Marketplace partner program: returns and their reasons",
        tables: &[("analytics", "returns", DemoTable::Returns, true)],
    },
    ShareSpec {
        name: "connected_retail",
        comment: "Connected retail: daily sales feed and shelf stock",
        tables: &[("retail", "sales_feed", DemoTable::Sales, true), ("retail", "stock", DemoTable::Stock, false)],
    },
];

/// (recipient, comment, partner_id, country, tier, shares)
type DemoRecipient = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static [&'static str]);
const RECIPIENTS: &[DemoRecipient] = &[
    ("acme_foods", "ACME Foods GmbH, small wholesale partner", "P001", "DE", "small", &["wholesale", "partner_program"]),
    ("nordic_goods", "Nordic Goods AB, large connected-retail partner", "P002", "SE", "large", &["wholesale", "connected_retail"]),
];

pub async fn run(s: &Services) -> Result<()> {
    let root = s.settings.data_dir.join("demo");
    for table in [DemoTable::Sales, DemoTable::Stock, DemoTable::Returns] {
        let dir = root.join(table.dir_name());
        if dir.join("_delta_log").is_dir() {
            println!("table {} already written", dir.display());
        } else {
            let version = table.write(&dir).await?;
            println!("wrote {} (version {version})", dir.display());
        }
    }
    // The demo directory is an external location of the default team, so the default team's
    // admins can add its tables in the console as well.
    let cli = crate::admin::Admin::cli();
    let location =
        crate::admin::locations::NewLocation { name: "demo".into(), url: root.to_string_lossy().into_owned(), comment: Some("The demo tables".into()) };
    ignore_existing(crate::admin::locations::create(s, &cli, location).await.map(|_| ()))?;
    crate::admin::locations::set_grant(s, &cli, "demo", crate::catalog::DEFAULT_TEAM, true).await?;
    for spec in SHARES {
        ignore_existing(s.catalog.create_share(spec.name, Some(spec.comment)).await.map(|_| ()))?;
        for (schema, name, table, history) in spec.tables {
            let location = root.join(table.dir_name());
            let qualified = format!("{}.{schema}.{name}", spec.name);
            let added = add_table(s, &qualified, &location.to_string_lossy(), Some(table.comment()), *history, Some("partner_id=partner_id")).await;
            ignore_existing(added.map(|_| ()))?;
        }
    }
    for (name, comment, partner_id, country, tier, shares) in RECIPIENTS {
        let properties =
            [("partner_id", *partner_id), ("country", *country), ("tier", *tier)].into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ignore_existing(s.catalog.create_recipient(name, Some(comment), properties).await.map(|_| ()))?;
        for share in *shares {
            s.catalog.grant(share, name).await?;
        }
    }
    audit(s, "seedDemo", "demo").await;
    println!();
    println!("Demo partners and their one-time activation links (valid 72 hours):");
    for (name, _, partner_id, ..) in RECIPIENTS {
        let code = s.credentials.create_activation_link(name, crate::auth::credentials::DEFAULT_ACTIVATION_TTL_HOURS).await?;
        println!("  {name} ({partner_id}): {}/activate/{code}", s.settings.public_url);
    }
    Ok(())
}

fn ignore_existing(r: Result<()>) -> Result<()> {
    match r {
        Err(PortalError::Conflict(_)) => Ok(()),
        other => other,
    }
}
