"""Registers one pjsua2 account with Switchboard, waits for a refresh, unregisters.

Usage: pjsua2_register.py HOST:PORT USER PASSWORD EXPIRES REFRESHES TRANSPORT (udp, tcp or tls)
Prints one JSON line per registration state change, then a summary line.
"""
import json
import os
import sys
import time

import pjsua2 as pj

import pjsua2_endpoint

server, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
expires, refreshes, transport = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
host = server.rsplit(":", 1)[0]
events = []


class Account(pj.Account):
    def onRegState(self, prm):
        info = self.getInfo()
        event = {"code": prm.code, "reason": prm.reason, "expires": info.regExpiresSec, "t": round(time.time() - start, 2)}
        events.append(event)
        print(json.dumps(event), flush=True)


kind = {"tcp": pj.PJSIP_TRANSPORT_TCP, "tls": pj.PJSIP_TRANSPORT_TLS}.get(transport, pj.PJSIP_TRANSPORT_UDP)
ep = pjsua2_endpoint.start(kind)

acfg = pj.AccountConfig()
acfg.idUri = f"sip:{user}@{host}"
acfg.regConfig.registrarUri = f"sip:{server};transport={transport}"
acfg.regConfig.timeoutSec = expires
acfg.regConfig.delayBeforeRefreshSec = 3
acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
account = Account()
start = time.time()
account.create(acfg)


def pump_until(done, limit):
    deadline = time.time() + limit
    while time.time() < deadline and not done():
        ep.libHandleEvents(50)


def bound(e):
    # regExpiresSec is unsigned here: "not registered" reads as 2**32 - 1.
    return 0 < e["expires"] < 2**31


ok = lambda: [e for e in events if e["code"] == 200 and bound(e)]
pump_until(lambda: len(ok()) >= 1 + refreshes, 10 + expires * (refreshes + 1))
registered = len(ok())
account.setRegistration(False)
unbound = lambda: [e for e in events[registered:] if e["code"] == 200 and not bound(e)]
pump_until(lambda: unbound(), 10)
unregistered = bool(unbound())
print(json.dumps({"summary": True, "registered": registered, "unregistered": unregistered}), flush=True)
# pjsua2's teardown asserts in this build; leave without it.
os._exit(0)
