//! VIP preemption on calls. The queue engine picks a busy agent for a VIP caller
//! nobody is free for ([`crate::queue_calls`] carries out the rest): the agent is
//! warned, and after the queue's delay their caller hears "please hold" and music
//! while the agent talks to the VIP; when the VIP hangs up, the agent is back with the
//! held caller.
//!
//! Because Switchboard anchors the media, this needs nothing of the agent's phone but
//! an ordinary re-INVITE: the agent's dialog moves to the VIP's call and Switchboard
//! points the phone's audio at that call's port, then back. The phone stays in one
//! call all along; a phone that refuses the re-INVITE keeps sending to the held call,
//! so the VIP would not hear it (every phone tried accepts it).

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::relay::{LegMedia, Side};
use switchboard_media::sdp::LocalDescription;
use switchboard_queue::{AgentId, AgentState, CallId};

use crate::call::{Fork, ForkState, Phase};
use crate::in_dialog::DialogRoute;
use crate::outcome::leg_media;
use crate::pbx::{CallKey, MediaCommand, Output, Pbx, Word};

impl Pbx {
    /// The agent hears that a VIP will take them over.
    pub(crate) fn warn_agent(&mut self, agent: AgentId) {
        let AgentState::Warned { call, .. } = self.acd.agent_state(agent) else {
            return;
        };
        let key = self.call_of(call);
        self.outputs.push_back(Output::Media(MediaCommand::Whisper {
            call: key,
            to: Side::B,
            words: vec![Word::QueueVipWarning],
        }));
    }

    /// The VIP takes the agent: the held caller hears "please hold" then music.
    pub(crate) fn preempt(&mut self, now: Instant, agent: AgentId, held: CallId, vip: CallId) {
        let (held, vip) = (self.call_of(held), self.call_of(vip));
        let Some(held_caller) = self.calls.get(&held).and_then(|c| Some(c.media?[0])) else {
            return;
        };
        let Some(vip_caller) = self.calls.get(&vip).and_then(|c| {
            let local = c.local_sdp[0].as_ref()?;
            Some(leg_media(&c.offer, local, c.a_peer))
        }) else {
            return;
        };
        let Some((index, agent_media)) = self.move_agent(now, held, vip) else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&held) {
            call.phase = Phase::Queued;
            call.preempted = true;
        }
        self.outputs.push_back(Output::Media(MediaCommand::Wait {
            call: held,
            side: Side::A,
            media: held_caller,
            hears: crate::pbx::Waiting::Music,
        }));
        self.outputs.push_back(Output::Media(MediaCommand::Say {
            call: held,
            to: Side::A,
            words: vec![Word::QueueHold],
        }));
        let extension = self.acd.agent_config(agent).extension.clone();
        self.bridge_agent(now, vip, index, vip_caller, agent_media, extension);
    }

    /// The VIP hung up: the agent is bridged back to the held caller.
    pub(crate) fn resume(&mut self, now: Instant, agent: AgentId, held: CallId) {
        let held = self.call_of(held);
        let extension = self.acd.agent_config(agent).extension.clone();
        let with_vip = self.calls.iter().find_map(|(&key, c)| match c.phase {
            Phase::Answered { winner }
                if key != held
                    && c.answered_by.as_deref() == Some(extension.as_str())
                    && c.forks[winner].dialog.is_some() =>
            {
                Some(key)
            }
            _ => None,
        });
        let Some(vip) = with_vip else {
            return;
        };
        let Some(held_caller) = self.calls.get(&held).and_then(|c| Some(c.media?[0])) else {
            return;
        };
        if let Some((index, agent_media)) = self.move_agent(now, vip, held) {
            self.bridge_agent(now, held, index, held_caller, agent_media, extension);
        }
    }

    /// Call `key`'s caller and the agent whose phone is its fork `index` talk.
    fn bridge_agent(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        caller: LegMedia,
        agent: LegMedia,
        extension: String,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Answered { winner: index };
        call.answered.get_or_insert(now);
        call.media = Some([caller, agent]);
        call.answered_by = Some(extension);
        self.outputs.push_back(Output::Media(MediaCommand::Bridge {
            call: key,
            a: caller,
            b: agent,
        }));
    }

    /// Moves the agent's dialog (the answered fork of call `from`) to call `to`, and
    /// re-INVITEs the phone to send its audio to `to`'s port. Returns the fork's index
    /// in `to` and the agent's media.
    fn move_agent(
        &mut self,
        now: Instant,
        from: CallKey,
        to: CallKey,
    ) -> Option<(usize, LegMedia)> {
        let port = self.calls.get(&to)?.ports[1];
        let user = self.calls.get(&to)?.caller.clone();
        let call = self.calls.get_mut(&from)?;
        let Phase::Answered { winner } = call.phase else {
            return None;
        };
        let agent = call.media?[1];
        call.awaiting_ack[1] = None;
        let fork = &mut call.forks[winner];
        let dialog = fork.dialog.take()?;
        let sdp = LocalDescription {
            version: fork.sdp.version + 1,
            port,
            formats: [Some(agent.audio), agent.events]
                .into_iter()
                .flatten()
                .collect(),
            ..fork.sdp.clone()
        };
        let moved = Fork {
            client: fork.client,
            invite: fork.invite.clone(),
            peer: fork.peer,
            extension: fork.extension.clone(),
            state: ForkState::Answered,
            dialog: Some(dialog.clone()),
            cancel_on_provisional: false,
            cancel_sent: false,
            offer: None,
            seat: Side::B,
            sdp: sdp.clone(),
        };
        self.by_dialog.insert(
            (dialog.call_id.clone(), dialog.local_tag.clone()),
            DialogRoute {
                call: to,
                side: Side::B,
                peer: dialog.peer,
                extension: Some(fork.extension.clone()),
            },
        );
        let peer = dialog.peer;
        let contact = Header::Contact(self.contact(&user, peer).into());
        let via = self.via(peer);
        let to_call = self.calls.get_mut(&to)?;
        to_call.forks.push(moved);
        to_call.local_sdp[1] = Some(sdp.clone());
        let index = to_call.forks.len() - 1;
        let dialog = to_call.forks[index].dialog.as_mut()?;
        let reinvite = dialog.request(
            Method::Invite,
            &via,
            vec![contact],
            Some(("application/sdp", sdp.to_bytes())),
        );
        let snapshot = dialog.clone();
        if let Ok(reinvite) = reinvite
            && let Some(client) = self.sip.send_request(now, reinvite, peer)
        {
            self.reinvites.insert(client, snapshot);
        }
        Some((index, agent))
    }

    /// A phone answered one of Switchboard's re-INVITEs: a 2xx (and any copy of it,
    /// should the ACK be lost) is acknowledged.
    pub(crate) fn reinvite_answered(
        &mut self,
        id: switchboard_sip::transaction::ClientId,
        response: &rsip::Response,
    ) {
        let code = response.status_code.code();
        if code < 200 {
            return;
        }
        let Some(dialog) = self.reinvites.get(&id).cloned() else {
            return;
        };
        if code >= 300 {
            self.reinvites.remove(&id);
        } else {
            let cseq = switchboard_sip::message::header_value(&response.headers, "CSeq")
                .and_then(|v| switchboard_sip::header::CSeq::parse(v).ok())
                .map_or(dialog.local_cseq, |c| c.seq);
            self.send_ack(&dialog, cseq);
        }
    }
}
