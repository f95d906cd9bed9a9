"""Registers one pjsua2 account with message waiting indication on: pjsua2 subscribes
to the account's message-summary and reports each NOTIFY it receives.

Usage: pjsua2_mwi.py HOST:PORT USER PASSWORD COUNT SECONDS
Prints {"registered": true} once registered, then one JSON line per NOTIFY with its
subscription state and body; exits after COUNT of them, or after SECONDS.
"""
import json
import os
import sys
import time

import pjsua2 as pj

import pjsua2_endpoint

server, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
count, seconds = int(sys.argv[4]), int(sys.argv[5])
notified = []


class Account(pj.Account):
    def onRegState(self, prm):
        if prm.code == 200:
            print(json.dumps({"registered": True}), flush=True)

    def onMwiInfo(self, prm):
        whole = prm.rdata.wholeMsg
        body = whole.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in whole else ""
        notified.append(body)
        print(json.dumps({"mwi": True, "state": int(prm.state), "body": body}), flush=True)


ep = pjsua2_endpoint.start()
acfg = pj.AccountConfig()
# The server's port in the address of record: the subscription goes where it names.
acfg.idUri = f"sip:{user}@{server}"
acfg.regConfig.registrarUri = f"sip:{server}"
acfg.mwiConfig.enabled = True
acfg.mwiConfig.expirationSec = 600
acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
account = Account()
account.create(acfg)
deadline = time.time() + seconds
while time.time() < deadline and len(notified) < count:
    ep.libHandleEvents(50)
# pjsua2's teardown asserts in this build; leave without it.
os._exit(0)
