//! What the HTTP edge asks the engine about agents: the status change *45 and *46 make
//! from the phone, made from the admin panel or the agent's own. The engine owns the
//! queues, so the change goes through it.

use switchboard_queue::AgentStatus;
use tokio::sync::oneshot;

#[derive(Debug)]
pub struct AgentStatusRequest {
    pub extension: String,
    pub status: AgentStatus,
    /// False when the extension answers no queue.
    pub reply: oneshot::Sender<bool>,
}
