#!/usr/bin/env python3
"""Call benchmark: Switchboard and Kamailio + rtpengine side by side, driven by SIPp.

Both anchor every call's media. For each server, in one run on this machine:
  * a SIPp phone registers as 101 and answers every call, echoing its RTP back
    (bench/sipp/answer_with_echo.xml with `-rtp_echo`); a SIPp caller authenticates as 100 and streams speech
    (PCMU) for the call's length, so RTP flows both ways through the server;
  * call-rate steps: calls per second that complete with 0 failed calls and < 1 %
    retransmitted messages, and server CPU per call;
  * concurrent bridged calls: N long calls with media, server CPU over a 20-s window
    divided by N, in % of one core per call.
Then the ratios. Run from the repository root: python3 bench/calls.py
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

from common import (ROOT, stop, cpu_seconds, free_port, password, provision_switchboard, rows_file, sipp,
                    speech, totals, wait_udp_ready)

CALLER, CALLEE = 100, 101
SCENARIO = os.path.join(ROOT, "bench", "sipp", "call_with_media.xml")
ANSWER = os.path.join(ROOT, "bench", "sipp", "answer_with_echo.xml")
REGISTER = os.path.join(ROOT, "tests", "sipp", "register_auth.xml")


class Switchboard:
    name = "switchboard"

    def __init__(self, work, settings="[calls]\nring_timeout = 60\n", users=(CALLER, CALLEE)):
        self.bin, self.data = provision_switchboard(work, settings, users)

    def start(self, port):
        self.http = free_port()
        self.procs = [subprocess.Popen(
            [self.bin, "--data-dir", self.data, "--sip-listen", f"127.0.0.1:{port}",
             "--sip-tls-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1:0", "--http-listen", f"127.0.0.1:{self.http}", "--rtp-ports", "10000-19999"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})]
        return [self.procs[0].pid]

    def forwarded(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/health") as r:
            return json.load(r)["rtp_forwarded"]


class KamailioRtpengine:
    name = "kamailio+rtpengine"

    def __init__(self, work):
        self.work = work

    def start(self, port):
        ng = free_port()
        engine = subprocess.Popen(
            ["rtpengine", "--foreground", "--log-stderr", "--log-level=3", "--table=-1",
             "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ng}", "--port-min=20000",
             "--port-max=29999", "--num-threads=2", f"--pidfile={self.work}/rtpengine.pid"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(ROOT, "bench", "kamailio-calls.cfg")) as f:
            cfg = f.read().replace("__LISTEN__", f"127.0.0.1:{port}").replace("__RTPENGINE__", f"127.0.0.1:{ng}")
        path = os.path.join(self.work, "kamailio-calls.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        kamailio = subprocess.Popen(
            ["kamailio", "-f", path, "-DD", "-E", "-m", "512", "-M", "16", "-Y", self.work, "-P",
             os.path.join(self.work, "kamailio.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs = [kamailio, engine]
        return [p.pid for p in self.procs]

    def forwarded(self):
        return None


def measure(server, args, work):
    port = free_port()
    pids = server.start(port)
    cpu = lambda: sum(cpu_seconds(p) for p in pids)
    phone = None
    try:
        wait_udp_ready(port)
        phone_port = free_port()
        reg = rows_file(work, [f"{CALLEE};{password(CALLEE)};3600"], f"{server.name}-reg")
        ok, failed, _ = sipp([f"127.0.0.1:{port}", "-sf", REGISTER, "-inf", reg, "-p", str(phone_port),
                              "-m", "1", "-timeout", "10s"], work, f"{server.name}-reg")
        if ok != 1:
            raise SystemExit(f"{server.name}: the answering phone could not register")
        phone = sipp([f"127.0.0.1:{port}", "-sf", ANSWER, "-rtp_echo", "-p", str(phone_port),
                      "-mp", str(free_port())], work, f"{server.name}-phone", wait=False)
        time.sleep(1)
        callers = rows_file(work, [f"{CALLER};{password(CALLER)};{CALLEE}"], f"{server.name}-callers")
        caller = lambda rate, calls, hold_ms, tag, wait=True: sipp(
            [f"127.0.0.1:{port}", "-sf", SCENARIO, "-inf", callers, "-p", str(free_port()),
             "-mp", str(free_port()), "-r", str(rate), "-m", str(calls), "-d", str(hold_ms),
             "-l", str(max(calls, 10)), "-timeout", "300s", "-timeout_error"],
            work, f"{server.name}-{tag}", wait)

        steps, sustained = [], None
        for rate in args.rates:
            calls = rate * args.seconds
            c0 = cpu()
            ok, failed, retrans = caller(rate, calls, args.call_ms, f"rate{rate}")
            used = cpu() - c0
            messages = 14 * calls
            holds = failed == 0 and ok == calls and retrans < messages / 100
            steps.append({"rate": rate, "ok": ok, "failed": failed, "retrans": retrans,
                          "cpu_ms_per_call": 1000 * used / max(ok, 1), "holds": holds})
            print(f"  {server.name:18} {rate:5} calls/s  ok {ok:6}  failed {failed:4}  retrans {retrans:5}  "
                  f"cpu/call {1000 * used / max(ok, 1):6.2f} ms  {'holds' if holds else 'does not hold'}", flush=True)
            if not holds:
                break
            sustained = steps[-1]
            time.sleep(2)

        concurrent = []
        for n in args.concurrent:
            ramp = max(n // 100, 1) + 3
            proc = caller(100, n, (ramp + args.window + 10) * 1000, f"conc{n}", wait=False)
            time.sleep(ramp)
            f0, c0, t0 = server.forwarded(), cpu(), time.time()
            time.sleep(args.window)
            used, wall = cpu() - c0, time.time() - t0
            f1 = server.forwarded()
            proc.wait(timeout=600)
            ok, failed, _ = totals(os.path.join(work, f"stat-{server.name}-conc{n}.csv"))
            per_call = 100 * used / wall / n
            pps = (f1 - f0) / wall if f0 is not None else None
            concurrent.append({"calls": n, "ok": ok, "failed": failed, "core_pct_per_call": per_call,
                               "server_cpu_pct": 100 * used / wall, "relayed_pps": pps})
            pps_text = f"  relayed {pps:8.0f} pkt/s" if pps is not None else ""
            print(f"  {server.name:18} {n:5} concurrent  ok {ok:5}  failed {failed:4}  server CPU "
                  f"{100 * used / wall:5.1f} %  per call {per_call:.4f} % of a core{pps_text}", flush=True)
            time.sleep(3)
        return {"steps": steps, "sustained": sustained, "concurrent": concurrent}
    finally:
        if phone:
            phone.kill()
        stop(server.procs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="50,100,200,300,400,500,700")
    ap.add_argument("--seconds", type=int, default=10, help="length of each rate step")
    ap.add_argument("--call-ms", type=int, default=2000, help="talk time of each call in the rate steps")
    ap.add_argument("--concurrent", default="200,400,800")
    ap.add_argument("--window", type=int, default=20, help="seconds CPU is measured over, concurrent calls up")
    ap.add_argument("--only", choices=["switchboard", "kamailio+rtpengine"])
    args = ap.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    args.concurrent = [int(n) for n in args.concurrent.split(",")] if args.concurrent else []
    for tool in ["sipp", "kamailio", "rtpengine"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} missing: apt-get install sip-tester kamailio rtpengine-daemon")
    if not os.environ.get("SWITCHBOARD_BIN"):
        subprocess.run(["cargo", "build", "--release", "-p", "switchboard-server", "--quiet"], cwd=ROOT, check=True)
    print(f"Calls with RTP both ways (PCMU, 20 ms), digest auth on INVITE, SIPp caller and echoing "
          f"answerer on the same {os.cpu_count()} cores; rate steps of {args.seconds} s with "
          f"{args.call_ms} ms calls; concurrent calls measured over {args.window} s")
    out = {}
    with tempfile.TemporaryDirectory() as work:
        speech(work)
        for server in [s(work) for s in (Switchboard, KamailioRtpengine) if args.only in (None, s.name)]:
            out[server.name] = measure(server, args, work)
    if args.only:
        return
    sb, ka = out["switchboard"], out["kamailio+rtpengine"]
    rate = lambda r: r["sustained"]["rate"] if r["sustained"] else 0
    cpu = lambda r: r["sustained"]["cpu_ms_per_call"] if r["sustained"] else float("nan")
    print()
    print(f"{'':32}{'switchboard':>14}{'kam+rtpengine':>16}{'ratio':>8}")
    print(f"{'calls/s with media, 0 failed':32}{rate(sb):>14}{rate(ka):>16}{rate(sb) / max(rate(ka), 1):>8.2f}")
    print(f"{'CPU ms per call at that rate':32}{cpu(sb):>14.2f}{cpu(ka):>16.2f}{cpu(sb) / cpu(ka):>8.2f}")
    for s, k in zip(sb["concurrent"], ka["concurrent"]):
        label = f"% core per call, {s['calls']} up"
        print(f"{label:32}{s['core_pct_per_call']:>14.4f}{k['core_pct_per_call']:>16.4f}"
              f"{s['core_pct_per_call'] / max(k['core_pct_per_call'], 1e-9):>8.2f}")
    if rate(sb) == args.rates[-1] or rate(ka) == args.rates[-1]:
        print("note: a server held the highest step; rerun with higher --rates to find its limit")


if __name__ == "__main__":
    main()
