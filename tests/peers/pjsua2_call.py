"""A pjsua2 phone for call tests, with the null sound device.

  pjsua2_call.py callee HOST:PORT USER PASSWORD SECONDS
      registers, answers the first call, prints each DTMF digit it receives with the
      method it came by, and exits when the call ends or after SECONDS.
  pjsua2_call.py caller HOST:PORT USER PASSWORD TARGET DIGITS METHOD
      calls TARGET, sends DIGITS one by one by METHOD ("info" or "rfc2833") once
      answered, then hangs up.
  pjsua2_call.py listener HOST:PORT USER PASSWORD TARGET DIGITS SECONDS WAV [SAY]
      calls TARGET, records what it hears to WAV (and says the WAV SAY over and over),
      sends DIGITS by SIP INFO once answered (a comma waits a second), listens for
      SECONDS, then hangs up (unless the other side did).
  pjsua2_call.py holder HOST:PORT USER PASSWORD TARGET HOLD_SECONDS
      calls TARGET, puts the call on hold for HOLD_SECONDS once answered, resumes it,
      then hangs up.
  pjsua2_call.py transferor HOST:PORT USER PASSWORD TARGET AFTER_SECONDS
      registers, answers the first call, and AFTER_SECONDS later transfers it to TARGET
      (a blind REFER); prints the transfer's progress and exits when the call ends.
  pjsua2_call.py consulter HOST:PORT USER PASSWORD TARGET AFTER_SECONDS
      registers, answers the first call, calls TARGET on a second line, and once that
      is answered and AFTER_SECONDS have passed, transfers the first call to it (REFER
      with Replaces); prints the progress and exits when both calls have ended.

Prints one JSON object per line.
"""
import json
import os
import sys
import time

import pjsua2 as pj

import pjsua2_endpoint

role, server, user, password = sys.argv[1:5]
host = server.rsplit(":", 1)[0]
state = {"registered": False, "call": None, "confirmed": False, "ended": False}
recording = {"path": sys.argv[8] if role == "listener" else None, "recorder": None}
saying = {"path": sys.argv[9] if role == "listener" and len(sys.argv) > 9 else None, "player": None}


def say(**event):
    print(json.dumps(event), flush=True)


class Call(pj.Call):
    def onCallState(self, prm):
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            state["confirmed"] = True
            say(confirmed=True)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            state["ended"] = True
            state["ends"] = state.get("ends", 0) + 1
            say(ended=True, code=info.lastStatusCode)

    def onCallMediaState(self, prm):
        # Held in a name: iterating a temporary CallInfo's media yields nothing.
        info = self.getInfo()
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO:
                say(media_status=int(media.status))
        # Wire the call to the (null) sound device like a real phone's handset, so the
        # stream runs on the device's clock for the whole call.
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and self.getMedia(i) is not None:
                audio = self.getAudioMedia(i)
                devices = ep.audDevManager()
                devices.getCaptureDevMedia().startTransmit(audio)
                audio.startTransmit(devices.getPlaybackDevMedia())
                if recording["path"] and recording["recorder"] is None:
                    recorder = pj.AudioMediaRecorder()
                    recorder.createRecorder(recording["path"])
                    audio.startTransmit(recorder)
                    recording["recorder"] = recorder
                if saying["path"] and saying["player"] is None:
                    player = pj.AudioMediaPlayer()
                    player.createPlayer(saying["path"], 0)
                    player.startTransmit(audio)
                    saying["player"] = player

    def onCallTransferStatus(self, prm):
        say(transfer=prm.statusCode, final=prm.finalNotify)

    def onDtmfDigit(self, prm):
        method = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc2833", pj.PJSUA_DTMF_METHOD_SIP_INFO: "info"}
        say(dtmf=prm.digit, method=method.get(prm.method, str(prm.method)))


class Account(pj.Account):
    def onRegState(self, prm):
        if prm.code == 200 and not state["registered"]:
            state["registered"] = True
            say(registered=True)

    def onIncomingCall(self, prm):
        call = Call(self, prm.callId)
        state["call"] = call
        answer = pj.CallOpParam()
        answer.statusCode = 200
        call.answer(answer)


ep = pjsua2_endpoint.start(no_vad=True)

acfg = pj.AccountConfig()
acfg.idUri = f"sip:{user}@{host}"
acfg.regConfig.registrarUri = f"sip:{server}"
acfg.regConfig.registerOnAdd = role in ("callee", "transferor", "consulter")
acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
account = Account()
account.create(acfg)


def finish_wav(path):
    """Writes the RIFF and data lengths into a WAV pjsua2 recorded: os._exit below
    skips the recorder's own closing, which would."""
    import struct
    with open(path, "r+b") as f:
        data = f.read()
        at = data.find(b"data", 12)
        if data[:4] != b"RIFF" or at < 0:
            return
        f.seek(4)
        f.write(struct.pack("<I", len(data) - 8))
        f.seek(at + 4)
        f.write(struct.pack("<I", len(data) - at - 8))


def pump_until(done, limit):
    deadline = time.time() + limit
    while time.time() < deadline and not done():
        ep.libHandleEvents(20)


if role == "callee":
    pump_until(lambda: state["ended"], float(sys.argv[5]))
elif role == "transferor":
    target, after = sys.argv[5], float(sys.argv[6])
    pump_until(lambda: state["confirmed"], 30)
    pump_until(lambda: False, after)
    state["call"].xfer(f"sip:{target}@{server}", pj.CallOpParam(True))
    say(transferred=target)
    pump_until(lambda: state["ended"], 15)
elif role == "consulter":
    target, after = sys.argv[5], float(sys.argv[6])
    pump_until(lambda: state["confirmed"], 30)
    first = state["call"]
    state["confirmed"] = False
    second = Call(account)
    second.makeCall(f"sip:{target}@{server}", pj.CallOpParam(True))
    pump_until(lambda: state["confirmed"], 15)
    say(consulting=target)
    pump_until(lambda: False, after)
    first.xferReplaces(second, pj.CallOpParam(True))
    say(transferred=target)
    pump_until(lambda: state.get("ends", 0) >= 2, 15)
elif role == "holder":
    target, hold_seconds = sys.argv[5], float(sys.argv[6])
    call = Call(account)
    call.makeCall(f"sip:{target}@{server}", pj.CallOpParam(True))
    pump_until(lambda: state["confirmed"] or state["ended"], 15)
    pump_until(lambda: False, 1)
    call.setHold(pj.CallOpParam(True))
    say(hold=True)
    pump_until(lambda: False, hold_seconds)
    resume = pj.CallOpParam(True)
    resume.opt.flag = pj.PJSUA_CALL_UNHOLD
    call.reinvite(resume)
    say(resume=True)
    pump_until(lambda: False, 1.5)
    if not state["ended"]:
        call.hangup(pj.CallOpParam(True))
    pump_until(lambda: state["ended"], 5)
elif role == "listener":
    target, digits, seconds = sys.argv[5], sys.argv[6], float(sys.argv[7])
    call = Call(account)
    call.makeCall(f"sip:{target}@{server}", pj.CallOpParam(True))
    pump_until(lambda: state["confirmed"] or state["ended"], 15)
    pump_until(lambda: False, 1)
    for digit in digits:
        if digit == ",":
            pump_until(lambda: False, 1)
            continue
        prm = pj.CallSendDtmfParam()
        prm.digits = digit
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        call.sendDtmf(prm)
        say(sent=digit)
        pump_until(lambda: False, 0.4)
    pump_until(lambda: state["ended"], seconds)
    if not state["ended"]:
        call.hangup(pj.CallOpParam(True))
    pump_until(lambda: state["ended"], 5)
    recording["recorder"] = None
    pump_until(lambda: False, 0.2)
    finish_wav(recording["path"])
else:
    target, digits, method = sys.argv[5], sys.argv[6], sys.argv[7]
    call = Call(account)
    call.makeCall(f"sip:{target}@{server}", pj.CallOpParam(True))
    pump_until(lambda: state["confirmed"] or state["ended"], 15)
    pump_until(lambda: False, 1)
    for digit in digits:
        prm = pj.CallSendDtmfParam()
        prm.digits = digit
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "info" else pj.PJSUA_DTMF_METHOD_RFC2833
        call.sendDtmf(prm)
        say(sent=digit)
        # One at a time: INFO digits sent together are refused while one is pending.
        pump_until(lambda: False, 0.4)
    pump_until(lambda: False, 1)
    if not state["ended"]:
        call.hangup(pj.CallOpParam(True))
    pump_until(lambda: state["ended"], 5)
# pjsua2's teardown asserts in this build; leave without it.
os._exit(0)
