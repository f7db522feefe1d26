//! Notifications: e-mail to a recipient's contacts and events to its webhooks (`webhooks`),
//! queued in the catalog's outbox and sent by every replica's sender (`sender`), once each (a
//! cause's dedupe key). Each contact may decline a kind with the signed link at the foot of
//! every message. Without SMTP settings no e-mail is queued: a portal that cannot send keeps no
//! backlog to flood a mail server with later.

pub mod reminders;
pub mod sender;
pub mod webhooks;

use crate::catalog::{Contact, NewMessage, Recipient};
use crate::error::Result;
use crate::Services;

/// What a notification is about; contacts decline each kind on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A token or activation link expiring in 14 or 3 days.
    Expiry,
    /// A new table shared with the recipient.
    NewTable,
    /// A scheduled delivery ready, or failed.
    Delivery,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Expiry, Kind::NewTable, Kind::Delivery];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expiry => "expiry",
            Self::NewTable => "new-table",
            Self::Delivery => "delivery",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// "e-mails about …", in the footer and on the opt-out page.
    pub fn words(self) -> &'static str {
        match self {
            Self::Expiry => "tokens and activation links about to expire",
            Self::NewTable => "tables newly shared with you",
            Self::Delivery => "your scheduled deliveries",
        }
    }
}

/// One notification: `cause` makes it once per contact (the same cause again queues nothing).
pub struct Note<'a> {
    pub kind: Kind,
    pub cause: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Who an e-mail of a kind would reach, for telling a partner before it matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The portal sends no e-mail (no SMTP server is set).
    NoMail,
    /// No contact of the recipient takes this kind.
    NoContacts,
    /// This many contacts.
    Contacts(usize),
}

/// Whether `contact` has not declined e-mails of `kind`.
fn takes(contact: &crate::catalog::Contact, kind: Kind) -> bool {
    !contact.opted_out.iter().any(|k| k == kind.as_str())
}

/// Who a notification of `kind` about `recipient` would reach now.
pub async fn reach(s: &Services, recipient: &Recipient, kind: Kind) -> Result<Reach> {
    if s.settings.smtp.is_none() {
        return Ok(Reach::NoMail);
    }
    let taking = s.catalog.contacts_of(&recipient.id).await?.iter().filter(|c| takes(c, kind)).count();
    Ok(if taking == 0 { Reach::NoContacts } else { Reach::Contacts(taking) })
}

/// Queues `note` for every contact of `recipient` who has not declined its kind; how many.
pub async fn to_contacts(s: &Services, recipient: &Recipient, note: &Note<'_>) -> Result<usize> {
    if s.settings.smtp.is_none() {
        return Ok(0);
    }
    let mut queued = 0;
    for contact in s.catalog.contacts_of(&recipient.id).await? {
        if !takes(&contact, note.kind) {
            continue;
        }
        let body = format!(
            "{}\n\n-- \nYou get this as a contact of {} at {}.\n{}\n",
            note.body,
            recipient.name,
            s.settings.public_url,
            footer(s, &contact, note.kind)
        );
        let key = format!("{}:{}", note.cause, contact.id);
        let message = NewMessage {
            dedupe_key: &key,
            recipient_id: &recipient.id,
            contact_id: Some(&contact.id),
            webhook_id: None,
            kind: note.kind.as_str(),
            target: &contact.email,
            subject: note.subject,
            body: &body,
        };
        if s.catalog.enqueue(&message).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

fn footer(s: &Services, contact: &Contact, kind: Kind) -> String {
    format!("No more e-mails about {}: {}", kind.words(), opt_out_url(s, &contact.id, kind))
}

/// The signed address at which a contact declines one kind (no sign-in: the link is the proof).
pub fn opt_out_url(s: &Services, contact_id: &str, kind: Kind) -> String {
    let sig = s.signer.mac("opt-out", &format!("{contact_id}\n{}", kind.as_str()));
    format!("{}/notifications/opt-out?contact={contact_id}&kind={}&sig={sig}", s.settings.public_url, kind.as_str())
}

/// Whether `sig` is the portal's signature of this contact's opt-out of `kind`.
pub fn opt_out_signed(s: &Services, contact_id: &str, kind: Kind, sig: &str) -> bool {
    s.signer.verify_mac("opt-out", &format!("{contact_id}\n{}", kind.as_str()), sig)
}

/// Records a contact declining `kind` (idempotent).
pub async fn opt_out(s: &Services, contact: &Contact, kind: Kind) -> Result<()> {
    if contact.opted_out.iter().any(|k| k == kind.as_str()) {
        return Ok(());
    }
    let mut kinds = contact.opted_out.clone();
    kinds.push(kind.as_str().to_string());
    s.catalog.set_contact_opt_outs(&contact.id, &kinds).await
}
