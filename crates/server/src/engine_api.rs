//! What the HTTP edge asks of the engine, which owns the queues and the SIP guard: an
//! agent's status change (the same as *45 and *46 on the phone) and lifting a ban.
//! Each request carries the channel its answer goes back on.

use std::net::IpAddr;

use switchboard_core::Pbx;
use switchboard_queue::AgentStatus;
use tokio::sync::oneshot;

#[derive(Debug)]
pub enum EngineRequest {
    /// Answered false when the extension answers no queue.
    AgentStatus {
        extension: String,
        status: AgentStatus,
        reply: oneshot::Sender<bool>,
    },
    /// Answered false when the address was not banned.
    LiftBan {
        ip: IpAddr,
        reply: oneshot::Sender<bool>,
    },
}

impl EngineRequest {
    pub fn apply(self, pbx: &mut Pbx, clock: switchboard_core::Clock) {
        match self {
            EngineRequest::AgentStatus {
                extension,
                status,
                reply,
            } => {
                let _ = reply.send(pbx.set_agent_status(clock, &extension, status));
            }
            EngineRequest::LiftBan { ip, reply } => {
                let _ = reply.send(pbx.service_mut().lift_ban(ip));
            }
        }
    }
}
