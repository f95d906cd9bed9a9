#!/usr/bin/env python3
"""The agents' report Switchboard's API gives, computed again from the queue log's rows in
SQLite, one event at a time, without any of Switchboard's code: the end-to-end test
compares the two.

An agent whose first event in the period is not a login was logged in since the period
began (and on a break since then, when that event ends a break); a login while logged
in, or a pause while on a break, changes nothing; presence and breaks still open at the
end run until the period's end, or UNTIL (now) when that comes first.

Usage: agents.py DB FROM_MS TO_MS UNTIL_MS [QUEUE]
Prints {"rows": [...], "total": {...}} as the API does.
"""
import json
import sqlite3
import sys

db, start, end, until = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
queue = sys.argv[5] if len(sys.argv) > 5 else None
stop = max(min(end, until), start)
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

agents = {}


def agent(name):
    return agents.setdefault(name, {
        "offers": 0, "answered": 0, "missed": 0, "declined": 0, "vip": 0, "completed": 0,
        "talk": 0, "logged_in": 0, "break": 0})


for name, event, vip, talk, q in conn.execute(
        "SELECT agent, event, vip, talk_ms, queue FROM queue_events "
        "WHERE at >= ? AND at < ? AND agent IS NOT NULL", [start, end]):
    if event not in ("connect", "ring-no-answer", "declined", "complete"):
        continue
    if queue is not None and q != queue:
        continue
    a = agent(name)
    if event == "complete":
        a["completed"] += 1
        a["talk"] += talk or 0
        continue
    a["offers"] += 1
    a["answered"] += event == "connect"
    a["missed"] += event == "ring-no-answer"
    a["declined"] += event == "declined"
    a["vip"] += bool(vip) and event in ("ring-no-answer", "declined")

state = {}
for name, at, event in conn.execute(
        "SELECT agent, at, event FROM queue_events WHERE at >= ? AND at < ? "
        "AND agent IS NOT NULL AND event IN ('login', 'logout', 'pause', 'unpause') "
        "ORDER BY agent, at, id", [start, stop]):
    a = agent(name)
    if name not in state:
        state[name] = {"in": None if event == "login" else start,
                       "break": start if event == "unpause" else None}
    s = state[name]
    if event == "login":
        if s["in"] is None:
            s["in"] = at
    elif event == "logout":
        if s["in"] is not None:
            a["logged_in"] += at - s["in"]
        if s["break"] is not None:
            a["break"] += at - s["break"]
        s["in"] = s["break"] = None
    elif event == "pause":
        if s["in"] is None:
            s["in"] = at
        if s["break"] is None:
            s["break"] = at
    elif s["break"] is not None:
        a["break"] += at - s["break"]
        s["break"] = None
for name, s in state.items():
    if s["in"] is not None:
        agents[name]["logged_in"] += stop - s["in"]
    if s["break"] is not None:
        agents[name]["break"] += stop - s["break"]


def row(name, a):
    def percent(part, whole):
        return part * 100 / whole if whole > 0 else None

    return {"agent": name, "offers": a["offers"], "answered": a["answered"],
            "missed": a["missed"], "declined": a["declined"], "vip_not_taken": a["vip"],
            "answer_ratio": percent(a["answered"], a["offers"]),
            "average_handle": a["talk"] / 1000 / a["completed"] if a["completed"] else 0.0,
            "talk_minutes": a["talk"] / 60000, "break_minutes": a["break"] / 60000,
            "logged_in_minutes": a["logged_in"] / 60000,
            "occupancy": percent(a["talk"], a["logged_in"] - a["break"])}


team = {k: sum(a[k] for a in agents.values()) for k in
        ("offers", "answered", "missed", "declined", "vip", "completed", "talk",
         "logged_in", "break")}
print(json.dumps({"rows": [row(n, agents[n]) for n in sorted(agents)],
                  "total": row("", team)}))
