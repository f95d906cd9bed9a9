//! Everything the other edges ask of the engine, on its one command channel: an
//! agent's status change (the same as *45 and *46 on the phone), a call transferred,
//! listened to or hung up from the panel, lifting a ban, a
//! voicemail box's messages, and a changed configuration to apply. Each question
//! carries the channel its answer goes back on.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use switchboard_core::{CallActionError, Pbx, Supervise};
use switchboard_queue::AgentStatus;
use tokio::sync::oneshot;

use crate::config::Config;
use crate::mailbox_api::MailboxRequest;
use crate::sip_streams::ConnectTo;
use crate::trunks::ResolvedTrunks;

#[derive(Debug)]
pub enum EngineRequest {
    /// Answered false when the extension answers no queue.
    AgentStatus {
        extension: String,
        status: AgentStatus,
        reply: oneshot::Sender<bool>,
    },
    /// A call in progress put through to `to`, from the panel.
    TransferCall {
        call: u64,
        to: String,
        /// The extension whose phone leaves the call; the answering phone's when none.
        leaving: Option<String>,
        reply: oneshot::Sender<Result<(), CallActionError>>,
    },
    /// An extension's phones rung to join a call in progress as a supervisor, from the
    /// panel.
    SuperviseCall {
        call: u64,
        extension: String,
        how: Supervise,
        reply: oneshot::Sender<Result<(), CallActionError>>,
    },
    /// A call in progress hung up from the panel; answered false when there is none.
    HangUpCall {
        call: u64,
        reply: oneshot::Sender<bool>,
    },
    /// Answered false when the address was not banned.
    LiftBan {
        ip: IpAddr,
        reply: oneshot::Sender<bool>,
    },
    /// Answered once what it changed is committed (see [`MailboxRequest`]).
    Mailbox(MailboxRequest),
    /// The configuration as saved, applied as at boot (made by [`EngineRequest::reload`]).
    Reload(Box<Config>, ResolvedTrunks),
}

impl EngineRequest {
    /// A changed configuration, its trunks' hosts resolved here rather than on the
    /// engine's thread.
    pub async fn reload(config: Config) -> EngineRequest {
        let trunks = crate::trunks::resolve(&config.trunks).await;
        EngineRequest::Reload(Box::new(config), trunks)
    }

    /// Carries the request out; a mailbox request is handed back, to be answered once
    /// the store has committed what it changed.
    /// `trunk_connections` (the edge's) takes how to reach the reloaded trunks.
    pub fn apply(
        self,
        pbx: &mut Pbx,
        clock: switchboard_core::Clock,
        trunk_connections: &mut HashMap<SocketAddr, ConnectTo>,
    ) -> Option<MailboxRequest> {
        match self {
            EngineRequest::AgentStatus {
                extension,
                status,
                reply,
            } => {
                let _ = reply.send(pbx.set_agent_status(clock, &extension, status));
            }
            EngineRequest::TransferCall {
                call,
                to,
                leaving,
                reply,
            } => {
                let _ = reply.send(pbx.transfer_call(clock, call, &to, leaving.as_deref()));
            }
            EngineRequest::SuperviseCall {
                call,
                extension,
                how,
                reply,
            } => {
                let _ = reply.send(pbx.supervise_call(clock, call, &extension, how));
            }
            EngineRequest::HangUpCall { call, reply } => {
                let _ = reply.send(pbx.hang_up_call(clock, call));
            }
            EngineRequest::LiftBan { ip, reply } => {
                let _ = reply.send(pbx.service_mut().lift_ban(ip));
            }
            EngineRequest::Mailbox(request) => return Some(request),
            EngineRequest::Reload(config, trunks) => {
                *trunk_connections = trunks.connect;
                crate::sip_edge::apply_config(pbx, &config, trunks.setups)
            }
        }
        None
    }
}
