//! `portal demo`: realistic partner commerce tables, three shares for the three business
//! models, two recipients with `partner_id`s, and their activation links. Idempotent: what
//! exists is kept, what is missing is created.

pub(crate) mod data;

use crate::admin::recipients::{self, NewRecipient};
use crate::admin::shares::{self, NewShare, NewTableInput};
use crate::admin::{locations, Admin, Change};
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
    // Seeded through the console's own services, as the command line's admin: validated and
    // audited like any admin's work. The demo directory is an external location of the default
    // team, so its admins can add the tables in the console as well.
    let cli = Admin::cli();
    let location =
        locations::NewLocation { name: "demo".into(), url: root.to_string_lossy().into_owned(), comment: Some("The demo tables".into()) };
    ignore_existing(locations::create(s, &cli, location).await.map(|_| ()))?;
    locations::set_grant(s, &cli, "demo", crate::catalog::DEFAULT_TEAM, true).await?;
    for spec in SHARES {
        let properties = [("owner".to_string(), "Partner data team".to_string())].into();
        let share = NewShare { name: spec.name.into(), comment: Some(spec.comment.into()), properties, ..Default::default() };
        ignore_existing(shares::create(s, &cli, share).await.map(|_| ()))?;
        for (schema, name, table, history) in spec.tables {
            let input = NewTableInput {
                schema: (*schema).into(),
                name: (*name).into(),
                location: root.join(table.dir_name()).to_string_lossy().into_owned(),
                comment: Some(table.comment().into()),
                history: *history,
                scope: Some("partner_id=partner_id".into()),
            };
            ignore_existing(shares::add_table(s, &cli, spec.name, input).await.map(|_| ()))?;
        }
    }
    for (name, comment, partner_id, country, tier, granted) in RECIPIENTS {
        let properties = [("partner_id", *partner_id), ("country", *country), ("tier", *tier)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let new = NewRecipient {
            name: (*name).into(),
            comment: Some((*comment).into()),
            team: None,
            properties,
            ip_allow_list: Vec::new(),
            oidc: None,
        };
        ignore_existing(recipients::create(s, &cli, new).await.map(|_| ()))?;
        for share in *granted {
            shares::set_grant(s, &cli, share, name, true).await?;
        }
    }
    crate::admin::record(s, &cli, Change::new("seedDemo", "demo"), 200).await;
    println!();
    println!("Demo partners and their one-time activation links (valid 72 hours):");
    for (name, _, partner_id, ..) in RECIPIENTS {
        let issued = recipients::activation_link(s, &cli, name, Some(crate::auth::credentials::DEFAULT_ACTIVATION_TTL_HOURS)).await?;
        println!("  {name} ({partner_id}): {}", issued.url);
    }
    Ok(())
}

fn ignore_existing(r: Result<()>) -> Result<()> {
    match r {
        Err(PortalError::Conflict(_)) => Ok(()),
        other => other,
    }
}
