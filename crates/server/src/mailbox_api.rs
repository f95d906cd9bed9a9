//! What the HTTP edge asks the engine about voicemail boxes. The engine owns the boxes
//! (message waiting lamps follow every change), so the API goes through it; a change
//! is answered once the store has committed it.

use tokio::sync::oneshot;

use switchboard_core::{Pbx, VoicemailMessage};

#[derive(Debug)]
pub enum MailboxAction {
    List,
    /// One message, to download its audio.
    Open {
        id: i64,
    },
    Heard {
        id: i64,
        heard: bool,
    },
    Delete {
        id: i64,
    },
    /// Only the right to change the box's greeting.
    Greeting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxError {
    /// Not an extension with that password.
    Unauthorized,
    /// An extension (or agent) opens its own box only.
    Forbidden,
    NoSuchMessage,
}

/// Who asks.
#[derive(Debug)]
pub enum Who {
    /// An extension by its number and SIP password (HTTP Basic).
    Phone { user: String, password: String },
    /// An agent logged in to the panel: their own box.
    Agent(String),
    /// The office's admin, logged in to the panel: every box.
    Admin,
}

/// A request about `mailbox`.
#[derive(Debug)]
pub struct MailboxRequest {
    pub who: Who,
    pub mailbox: String,
    pub action: MailboxAction,
    pub reply: oneshot::Sender<Result<Vec<VoicemailMessage>, MailboxError>>,
}

impl MailboxRequest {
    /// Carries the request out; the answer is the messages concerned.
    pub fn apply(
        &self,
        pbx: &mut Pbx,
        clock: switchboard_core::Clock,
    ) -> Result<Vec<VoicemailMessage>, MailboxError> {
        let owner = match &self.who {
            Who::Phone { user, password } => {
                if !pbx.service().check_password(user, password) {
                    return Err(MailboxError::Unauthorized);
                }
                Some(user)
            }
            Who::Agent(extension) => Some(extension),
            Who::Admin => None,
        };
        if owner.is_some_and(|o| *o != self.mailbox) {
            return Err(MailboxError::Forbidden);
        }
        let mailbox = &self.mailbox;
        let found = |pbx: &Pbx, id: i64| {
            pbx.voicemail_messages(mailbox)
                .into_iter()
                .find(|m| m.id == id)
                .cloned()
                .ok_or(MailboxError::NoSuchMessage)
        };
        match self.action {
            MailboxAction::List => Ok(pbx
                .voicemail_messages(mailbox)
                .into_iter()
                .cloned()
                .collect()),
            MailboxAction::Greeting => Ok(Vec::new()),
            MailboxAction::Open { id } => Ok(vec![found(pbx, id)?]),
            MailboxAction::Heard { id, heard } => {
                pbx.mark_heard(clock, mailbox, id, heard)
                    .then_some(())
                    .ok_or(MailboxError::NoSuchMessage)?;
                Ok(vec![found(pbx, id)?])
            }
            MailboxAction::Delete { id } => {
                let message = found(pbx, id)?;
                pbx.delete_message(clock, mailbox, id);
                Ok(vec![message])
            }
        }
    }
}
