//! `portal share`, `portal table`, `portal grant` and `portal revoke`: through the console's own
//! services (validated, team-checked, audited).

use clap::Subcommand;

use super::one_line;
use crate::admin::shares::{NewShare, NewTableInput};
use crate::admin::{self, Admin};
use crate::catalog::names::split_qualified;
use crate::error::Result;
use crate::Services;

#[derive(Subcommand)]
pub(super) enum ShareCommand {
    Create {
        share: String,
        #[arg(long)]
        comment: Option<String>,
        /// The team that governs the share (default: `default`).
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Subcommand)]
pub(super) enum TableCommand {
    /// Add `<share>.<schema>.<table>`, backed by the Delta table at --location.
    Add {
        qualified_name: String,
        #[arg(long)]
        location: String,
        #[arg(long)]
        comment: Option<String>,
        /// Share the table's history: time travel and the change data feed.
        #[arg(long)]
        history: bool,
        /// `COLUMN=PROPERTY`: recipients see only rows whose partition COLUMN equals their PROPERTY.
        #[arg(long)]
        scope: Option<String>,
        /// A column that identifies a row, repeatable: partners may then ask for net changes.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Declare the columns that identify a row of `<share>.<schema>.<table>` (none: clear them).
    Keys {
        qualified_name: String,
        #[arg(long = "key")]
        keys: Vec<String>,
    },
}

pub(super) async fn share(s: &Services, command: ShareCommand) -> Result<()> {
    match command {
        ShareCommand::Create { share, comment, team } => {
            let created = admin::shares::create(s, &Admin::cli(), NewShare { name: share, comment, team, ..Default::default() })
                .await
                .map_err(one_line)?;
            println!("created share {}", created.name);
        }
    }
    Ok(())
}

pub(super) async fn table(s: &Services, command: TableCommand) -> Result<()> {
    match command {
        TableCommand::Add { qualified_name, location, comment, history, scope, keys } => {
            let table = add_table(s, &qualified_name, &location, comment.as_deref(), history, scope.as_deref()).await?;
            if !keys.is_empty() {
                set_keys(s, &table, keys).await?;
            }
            println!("added table {table}");
        }
        TableCommand::Keys { qualified_name, keys } => {
            let keys = set_keys(s, &qualified_name, keys).await?;
            println!("{qualified_name} key columns: {}", if keys.is_empty() { "none".into() } else { keys.join(", ") });
        }
    }
    Ok(())
}

/// `grant` (`on`) or `revoke`: through the console's own check (share and recipient of one team).
pub(super) async fn grant(s: &Services, share: &str, recipient: &str, on: bool) -> Result<()> {
    let before = s.catalog.grants_of(&s.catalog.recipient(recipient).await?.id).await?;
    admin::shares::set_grant(s, &Admin::cli(), share, recipient, on).await.map_err(one_line)?;
    let had = before.iter().any(|g| g.eq_ignore_ascii_case(share));
    match (on, had) {
        (true, false) => println!("granted {share} to {recipient}"),
        (true, true) => println!("already granted {share} to {recipient}"),
        (false, true) => println!("revoked {share} from {recipient}"),
        (false, false) => println!("was not granted: {share} from {recipient}"),
    }
    Ok(())
}

/// Adds `<share>.<schema>.<table>` through the console's own service (location validated as a
/// Delta table, scope as a partition column, audited); returns the qualified name.
async fn add_table(
    s: &Services,
    qualified: &str,
    location: &str,
    comment: Option<&str>,
    history: bool,
    scope: Option<&str>,
) -> Result<String> {
    let (share, schema, name) = split_qualified(qualified)?;
    let input = NewTableInput {
        schema: schema.into(),
        name: name.into(),
        location: location.into(),
        comment: comment.map(Into::into),
        history,
        scope: scope.map(Into::into),
    };
    let t = admin::shares::add_table(s, &Admin::cli(), share, input).await.map_err(one_line)?;
    Ok(format!("{share}.{}.{}", t.schema, t.name))
}

/// Declares the table's key columns; returns them as stored.
async fn set_keys(s: &Services, qualified: &str, keys: Vec<String>) -> Result<Vec<String>> {
    let (share, schema, name) = split_qualified(qualified)?;
    let patch = admin::shares::TablePatch { key_columns: Some(keys), ..Default::default() };
    let t = admin::shares::update_table(s, &Admin::cli(), share, &format!("{schema}.{name}"), patch).await.map_err(one_line)?;
    Ok(t.key_columns)
}
