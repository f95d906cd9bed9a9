#!/usr/bin/env python3
"""The reports Switchboard's API gives, computed again from the call log's rows in
SQLite, one call at a time, without any of Switchboard's code: the end-to-end test
compares the two.

Usage: [REPEAT_MS=N] report.py DB FROM_MS TO_MS BY SHORT_MS TARGET_MS TIME_ZONE [QUEUE]
Prints {"rows": [...], "total": {...}} as the API does; with REPEAT_MS, first-call
resolution too (an answered caller who calls again within REPEAT_MS of the call's end
was not helped the first time).
"""
import bisect
import datetime
import json
import os
import sqlite3
import sys
import zoneinfo

db, start, end, by, short_ms, target_ms, tz = sys.argv[1:8]
queue = sys.argv[8] if len(sys.argv) > 8 else None
start, end, short_ms, target_ms = int(start), int(end), int(short_ms), int(target_ms)
zone = zoneinfo.ZoneInfo(tz)
columns = {"queue": "queue", "agent": "answered_by", "trunk": "trunk",
           "outcome": "disposition", "direction": "direction", "caller": "caller"}

conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
sql = ("SELECT started_at, answered_at, ended_at, disposition, queue, answered_by, trunk, "
       "direction, caller, id FROM call_records WHERE started_at >= ? AND started_at < ?")
params = [start, end]
if queue:
    sql += " AND queue = ?"
    params.append(queue)
rows = conn.execute(sql, params).fetchall()
names = ["started", "answered_at", "ended", "disposition", "queue", "answered_by", "trunk",
         "direction", "caller", "id"]

repeat_ms = int(os.environ["REPEAT_MS"]) if os.environ.get("REPEAT_MS") else None
# Every call of each caller up to a window past the period, whatever its queue: the
# next one after a call tells whether the caller had to call again.
calls_of = {}
if repeat_ms is not None:
    for caller, started, rid in conn.execute(
            "SELECT caller, started_at, id FROM call_records WHERE started_at >= ? "
            "AND started_at < ?", [start, end + repeat_ms]):
        calls_of.setdefault(caller, []).append((started, rid))
    for starts in calls_of.values():
        starts.sort()


def resolved(call):
    starts = calls_of.get(call["caller"], [])
    after = bisect.bisect_right(starts, (call["started"], call["id"]))
    return after == len(starts) or starts[after][0] > call["ended"] + repeat_ms


def label(call):
    if by in ("day", "hour"):
        local = datetime.datetime.fromtimestamp(call["started"] / 1000, zone)
        return local.strftime("%Y-%m-%d" if by == "day" else "%Y-%m-%d %H:00")
    return call[columns[by]] or ""


def empty():
    return {"offered": 0, "answered": 0, "lost": 0, "short": 0, "in_target": 0, "wait": 0,
            "longest": 0, "lost_wait": 0, "talk": 0, "known": 0, "resolved": 0}


def add(t, call):
    answered = call["disposition"] == "answered" and call["answered_at"] is not None
    t["offered"] += 1
    if answered:
        wait = call["answered_at"] - call["started"]
        t["answered"] += 1
        t["wait"] += wait
        t["talk"] += call["ended"] - call["answered_at"]
        t["in_target"] += wait <= target_ms
        if repeat_ms is not None and call["caller"] not in ("", "anonymous"):
            t["known"] += 1
            t["resolved"] += resolved(call)
    else:
        wait = call["ended"] - call["started"]
        t["lost"] += 1
        t["lost_wait"] += wait
        t["short"] += wait < short_ms
    t["longest"] = max(t["longest"], wait)


def row(group, t):
    def per(ms, n):
        return ms / 1000 / n if n else 0.0

    def percent(part, whole):
        return part * 100 / whole if whole else None

    return {"group": group, "offered": t["offered"], "answered": t["answered"],
            "lost": t["lost"], "short_abandons": t["short"],
            "answer_ratio": percent(t["answered"], t["offered"]) or 0.0,
            "service_level": percent(t["in_target"], t["offered"] - t["short"]),
            "average_wait": per(t["wait"], t["answered"]),
            "longest_wait": t["longest"] / 1000,
            "average_abandon": per(t["lost_wait"], t["lost"]),
            "talk_minutes": t["talk"] / 60000,
            "average_talk": per(t["talk"], t["answered"]),
            "first_call_resolution": percent(t["resolved"], t["known"])}


groups, total = {}, empty()
for values in rows:
    call = dict(zip(names, values))
    add(groups.setdefault(label(call), empty()), call)
    add(total, call)
print(json.dumps({"rows": [row(g, groups[g]) for g in sorted(groups)], "total": row("", total)}))
