#!/usr/bin/env python3
"""Queue benchmark: callers streaming RTP into a Switchboard queue of 50 agents, driven by
SIPp on this machine.

  * 50 agents (extensions 200-249, longest-idle, no wrap-up) are registered at one SIPp
    phone that answers every call and echoes its RTP (bench/sipp/answer_with_echo.xml);
  * a SIPp caller authenticates as 100, dials the queue (600), streams speech (PCMU) for
    the call's length and hangs up, so media flows caller -> Switchboard -> agent and back;
  * calls/s into the queue: rate steps in which every call completes (0 failed) and every
    one was put through to an agent (the queue log's `connect` events);
  * dispatch latency at a steady rate: from the caller's authorised INVITE reaching
    Switchboard to Switchboard's INVITE leaving for an agent, p50/p99 over the calls of a
    loopback capture (tshark). Callers are answered by the queue at once; the i-th
    authorised INVITE is paired with the i-th INVITE to an agent (one queue, one caller
    at a time rings an agent, so order is kept).
There is no reference server here: Kamailio and rtpengine have no queue. Run from the
repository root: python3 bench/queue.py
"""
import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

from common import (ROOT, cpu_seconds, free_port, password, provision_switchboard, rows_file, sipp,
                    speech, wait_udp_ready)

CALLER, QUEUE = 100, 600
AGENTS = list(range(200, 250))
SCENARIO = os.path.join(ROOT, "bench", "sipp", "call_with_media.xml")
ANSWER = os.path.join(ROOT, "bench", "sipp", "answer_with_echo.xml")
REGISTER = os.path.join(ROOT, "tests", "sipp", "register_auth.xml")

SETTINGS = f"""[calls]
ring_timeout = 60

[[queues]]
number = "{QUEUE}"
name = "Bench"
strategy = "longest-idle"
wrap_up = 0
ring_timeout = 20
[queues.announcements]
position_on_join = false
position_every = 0
comfort_every = 0
""" + "".join(f'[[queues.agents]]\nextension = "{a}"\n' for a in AGENTS)


def connects(data):
    with sqlite3.connect(os.path.join(data, "switchboard.db")) as db:
        return db.execute("SELECT count(*) FROM queue_events WHERE event = 'connect'").fetchone()[0]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def dispatch_latencies(capture, port):
    """Milliseconds from each authorised INVITE to the queue to the next INVITE Switchboard
    sends an agent."""
    out = subprocess.run(
        ["tshark", "-r", capture, "-Y", "sip.Method == \"INVITE\"", "-T", "fields",
         "-e", "frame.time_epoch", "-e", "udp.srcport", "-e", "udp.dstport",
         "-e", "sip.r-uri.user", "-e", "sip.Proxy-Authorization"],
        capture_output=True, text=True, check=True).stdout
    callers, agents = [], []
    for line in out.splitlines():
        at, src, dst, user, auth = (line.split("\t") + [""] * 5)[:5]
        if dst == str(port) and user == str(QUEUE) and auth:
            callers.append(float(at))
        elif src == str(port) and user.isdigit() and int(user) in AGENTS:
            agents.append(float(at))
    return [1000 * (b - a) for a, b in zip(callers, agents)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="100,200,300,400,500")
    ap.add_argument("--seconds", type=int, default=10, help="length of each rate step")
    ap.add_argument("--call-ms", type=int, default=100, help="talk time of each call in the rate steps "
                    "(50 agents: rate x talk time must stay under 50 s)")
    ap.add_argument("--latency-rate", type=int, default=60)
    ap.add_argument("--latency-seconds", type=int, default=30)
    ap.add_argument("--latency-call-ms", type=int, default=100)
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r]
    for tool in ["sipp", "tshark"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} missing: apt-get install sip-tester tshark")
    if not os.environ.get("SWITCHBOARD_BIN"):
        subprocess.run(["cargo", "build", "--release", "-p", "switchboard-server", "--quiet"], cwd=ROOT, check=True)
    print(f"Calls into a queue of {len(AGENTS)} agents with RTP both ways (PCMU, 20 ms), digest auth on "
          f"INVITE, SIPp caller and answering phone on the same {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as work:
        speech(work)
        binary, data = provision_switchboard(work, SETTINGS, [CALLER, *AGENTS])
        port, http = free_port(), free_port()
        server = subprocess.Popen(
            [binary, "--data-dir", data, "--sip-listen", f"127.0.0.1:{port}", "--sip-tls-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1:0", "--http-listen",
             f"127.0.0.1:{http}", "--rtp-ports", "10000-19999"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
        phone = None
        try:
            wait_udp_ready(port)
            phone_port = free_port()
            regs = rows_file(work, [f"{a};{password(a)};3600" for a in AGENTS], "reg")
            ok, _, _ = sipp([f"127.0.0.1:{port}", "-sf", REGISTER, "-inf", regs, "-p", str(phone_port),
                             "-m", str(len(AGENTS)), "-timeout", "20s"], work, "reg")
            if ok != len(AGENTS):
                raise SystemExit(f"only {ok} of {len(AGENTS)} agents registered")
            phone = sipp([f"127.0.0.1:{port}", "-sf", ANSWER, "-rtp_echo", "-p", str(phone_port),
                          "-mp", str(free_port())], work, "phone", wait=False)
            time.sleep(1)
            callers = rows_file(work, [f"{CALLER};{password(CALLER)};{QUEUE}"], "callers")

            def caller(rate, calls, hold_ms, tag):
                return sipp([f"127.0.0.1:{port}", "-sf", SCENARIO, "-inf", callers, "-p", str(free_port()),
                             "-mp", str(free_port()), "-r", str(rate), "-m", str(calls), "-d", str(hold_ms),
                             "-l", str(max(calls, 10)), "-timeout", "300s", "-timeout_error"], work, tag)

            # --latency-seconds 0 skips the latency run.
            if args.latency_seconds > 0:
                capture = os.path.join(work, "latency.pcapng")
                tshark = subprocess.Popen(["tshark", "-i", "lo", "-f", f"udp port {port}", "-w", capture, "-q"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(2)
                before = connects(data)
                calls = args.latency_rate * args.latency_seconds
                ok, failed, _ = caller(args.latency_rate, calls, args.latency_call_ms, "latency")
                time.sleep(1)
                tshark.send_signal(signal.SIGINT)
                tshark.wait(30)
                lat = dispatch_latencies(capture, port)
                put_through = connects(data) - before
                print(f"  dispatch latency at {args.latency_rate} calls/s: {len(lat)} calls paired "
                      f"(ok {ok}, failed {failed}, put through {put_through}): p50 {percentile(lat, 50):.3f} ms, "
                      f"p99 {percentile(lat, 99):.3f} ms, max {max(lat):.3f} ms", flush=True)

            sustained = None
            for rate in rates:
                time.sleep(2)
                calls = rate * args.seconds
                before, c0 = connects(data), cpu_seconds(server.pid)
                ok, failed, retrans = caller(rate, calls, args.call_ms, f"rate{rate}")
                used = cpu_seconds(server.pid) - c0
                time.sleep(1)
                through = connects(data) - before
                holds = failed == 0 and ok == calls and through == calls
                print(f"  {rate:5} calls/s  ok {ok:6}  failed {failed:4}  put through {through:6}  "
                      f"retrans {retrans:5}  cpu/call {1000 * used / max(ok, 1):6.2f} ms  "
                      f"{'holds' if holds else 'does not hold'}", flush=True)
                if not holds:
                    break
                sustained = rate
            if rates:
                print(f"calls/s into the queue with media, 0 failed, all put through: {sustained or 0}")
            if rates and sustained == rates[-1]:
                print("note: the highest step held; rerun with higher --rates to find the limit")
        finally:
            if phone:
                phone.kill()
            server.send_signal(signal.SIGTERM)
            server.wait(10)


if __name__ == "__main__":
    main()
