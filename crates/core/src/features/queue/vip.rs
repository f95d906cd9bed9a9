//! VIP preemption. The queue engine picks a busy agent for a VIP caller nobody is free
//! for: the agent is warned over their call, and after the queue's delay their caller
//! hears "please hold" and music while the agent talks to the VIP; when the VIP hangs
//! up, the agent is back with the held caller.
//!
//! Because Switchboard anchors the media, this needs nothing of the agent's phone but
//! an ordinary re-INVITE ([`crate::legs::Legs::move_answered_leg`]); a phone that
//! refuses it keeps sending to the held call, so the VIP would not hear it (every
//! phone tried accepts it).

use switchboard_media::relay::Side;
use switchboard_queue::{AgentId, AgentState, CallId};

use super::Queues;
use crate::features::Ctx;
use crate::legs::Phase;
use crate::vocabulary::{MediaCommand, Waiting, Word};

impl Queues {
    /// The agent hears, over their call, that a VIP will take them over.
    pub(super) fn warn_agent(&mut self, cx: &mut Ctx<'_>, agent: AgentId) {
        let AgentState::Warned { call, .. } = self.acd.agent_state(agent) else {
            return;
        };
        cx.legs.media(MediaCommand::Whisper {
            call: self.call_of(call),
            to: Side::B,
            words: vec![Word::QueueVipWarning],
        });
    }

    /// The VIP takes the agent: the held caller hears "please hold" then music.
    pub(super) fn preempt(&mut self, cx: &mut Ctx<'_>, agent: AgentId, held: CallId, vip: CallId) {
        let (held, vip) = (self.call_of(held), self.call_of(vip));
        let Some(held_caller) = cx.legs.calls.get(&held).and_then(|c| Some(c.media?[0])) else {
            return;
        };
        let Some(vip_caller) = cx.legs.caller_media(vip) else {
            return;
        };
        let Some((index, agent_media)) = cx.legs.move_answered_leg(cx.now, (held, vip), Side::B)
        else {
            return;
        };
        cx.legs.hold(held);
        if let Some(call) = cx.legs.calls.get_mut(&held) {
            call.log.preempted = true;
        }
        cx.legs.media(MediaCommand::Wait {
            call: held,
            side: Side::A,
            media: held_caller,
            hears: Waiting::Music,
        });
        cx.legs.media(MediaCommand::Say {
            call: held,
            to: Side::A,
            words: vec![Word::QueueHold],
        });
        let extension = self.acd.agent_config(agent).extension.clone();
        if let Some(call) = cx.legs.calls.get_mut(&vip) {
            call.log.answered_by = Some(extension);
        }
        cx.legs.bridge(cx.now, vip, index, vip_caller, agent_media);
    }

    /// The VIP hung up: the agent is bridged back to the held caller.
    pub(super) fn resume(&mut self, cx: &mut Ctx<'_>, agent: AgentId, held: CallId) {
        let held = self.call_of(held);
        let extension = self.acd.agent_config(agent).extension.clone();
        let with_vip = cx.legs.calls.iter().find_map(|(&key, c)| match c.phase {
            Phase::Answered { winner }
                if key != held
                    && c.log.answered_by.as_deref() == Some(extension.as_str())
                    && c.forks[winner].dialog.is_some() =>
            {
                Some(key)
            }
            _ => None,
        });
        let Some(vip) = with_vip else {
            return;
        };
        let Some(held_caller) = cx.legs.calls.get(&held).and_then(|c| Some(c.media?[0])) else {
            return;
        };
        if let Some((index, agent_media)) = cx.legs.move_answered_leg(cx.now, (vip, held), Side::B)
        {
            if let Some(call) = cx.legs.calls.get_mut(&held) {
                call.log.answered_by = Some(extension);
            }
            cx.legs
                .bridge(cx.now, held, index, held_caller, agent_media);
        }
    }
}
