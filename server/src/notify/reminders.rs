//! Reminders of expiry: a token or an unopened activation link ending within 14 days, and
//! again within 3. One replica at a time looks, every minute; each reminder goes once.

use std::sync::Arc;
use std::time::Duration;

use super::{to_contacts, Kind, Note};
use crate::primitives::time::{minutes_utc, now_ms, DAY_MS};
use crate::Services;

const EVERY: Duration = Duration::from_secs(60);
/// The reminders, latest first: a 10-day token gets the 14-day one now and the 3-day one later.
const BEFORE_DAYS: [i64; 2] = [3, 14];

pub async fn remind_forever(s: Arc<Services>, worker: String) {
    if s.settings.smtp.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let held_until = now_ms() + 2 * EVERY.as_millis() as i64;
        match s.catalog.claim_chore("reminders", &worker, held_until).await {
            Ok(true) => {
                if let Err(e) = remind(&s, now_ms()).await {
                    tracing::warn!(error = %e, "could not queue expiry reminders");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim the reminders"),
        }
    }
}

/// Queues the reminders due at `now`; how many messages.
pub async fn remind(s: &Services, now: i64) -> crate::error::Result<usize> {
    let mut queued = 0;
    let window = |days: i64| if days == 3 { (now, now + 3 * DAY_MS) } else { (now + 3 * DAY_MS, now + 14 * DAY_MS) };
    for days in BEFORE_DAYS {
        let (from, to) = window(days);
        for token in s.catalog.tokens_ending_between(from, to).await? {
            let Some(ends) = token.expires_at.filter(|_| !token.is_single_sign_on()) else { continue };
            let recipient = s.catalog.recipient_by_id(&token.recipient_id).await?;
            let what = token.name.as_deref().map_or_else(|| format!("token {}", token.id), |n| format!("token \"{n}\" ({})", token.id));
            let subject = format!("Your data portal {what} expires on {}", minutes_utc(ends));
            let body = format!(
                "The {what} of {} stops working on {}. Tools that use it (Power BI, Tableau, pipelines) will then fail.\n\n\
                 Create a new token on {}/connect and put it in those tools, or ask your data provider for a new activation link.",
                recipient.name,
                minutes_utc(ends),
                s.settings.public_url
            );
            let cause = format!("token-expiry:{}:{days}", token.id);
            queued += to_contacts(s, &recipient, &Note { kind: Kind::Expiry, cause: &cause, subject: &subject, body: &body }).await?;
        }
        for (link, recipient_id, ends) in s.catalog.links_ending_between(from, to).await? {
            let recipient = s.catalog.recipient_by_id(&recipient_id).await?;
            let subject = format!("Your data portal activation link expires on {}", minutes_utc(ends));
            let body = format!(
                "The activation link your data provider sent for {} has not been opened yet and stops working on {}.\n\n\
                 Open it before then to get your credentials; afterwards, ask your data provider for a new one.",
                recipient.name,
                minutes_utc(ends)
            );
            let cause = format!("link-expiry:{link}:{days}");
            queued += to_contacts(s, &recipient, &Note { kind: Kind::Expiry, cause: &cause, subject: &subject, body: &body }).await?;
        }
    }
    Ok(queued)
}
