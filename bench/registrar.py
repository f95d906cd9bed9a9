#!/usr/bin/env python3
"""Registrar benchmark: Switchboard and Kamailio side by side, driven by SIPp.

For each server, in one run on this machine:
  * SIPp REGISTER-with-digest-auth at stepped rates; the highest rate that holds with
    < 0.1 % failed registrations and < 1 % retransmitted messages is "sustained";
  * CPU seconds per registration (server process tree, user + system) at that rate;
  * memory (PSS) growth after 10,000 distinct bindings, per binding;
  * SIPp's own CPU seconds per registration: SIPp is single-threaded, so one core over
    that is the most registrations per second this generator can offer any server.
Then the ratios. Run from the repository root: python3 bench/registrar.py
"""
import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time

from common import ROOT, cpu_seconds, free_port, password, pss_kib, provision_switchboard, wait_udp_ready
SCENARIO = os.path.join(ROOT, "tests", "sipp", "register_auth.xml")
USERS = 10_000
FIRST_USER = 20_000


class Switchboard:
    name = "switchboard"

    def __init__(self, work):
        self.bin, self.data = provision_switchboard(work, "[registrar]\nmax_contacts = 5\n", range(FIRST_USER, FIRST_USER + USERS))

    def start(self, port):
        self.proc = subprocess.Popen(
            [self.bin, "--data-dir", self.data, "--sip-listen", f"127.0.0.1:{port}",
             "--sip-tls-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
        return self.proc.pid


class Kamailio:
    name = "kamailio"

    def __init__(self, work):
        self.work = work

    def start(self, port):
        with open(os.path.join(ROOT, "bench", "kamailio-registrar.cfg")) as f:
            cfg = f.read().replace("__LISTEN__", f"127.0.0.1:{port}")
        path = os.path.join(self.work, "kamailio.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        self.proc = subprocess.Popen(
            ["kamailio", "-f", path, "-DD", "-E", "-m", "512", "-M", "16", "-Y", self.work, "-P",
             os.path.join(self.work, "kamailio.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.proc.pid


def run_sipp(port, users, rate, calls, work, tag):
    """One SIPp run; returns (successful, failed, retransmissions, SIPp's CPU seconds)."""
    inf = os.path.join(work, f"users-{tag}.csv")
    with open(inf, "w") as f:
        f.write("SEQUENTIAL\n")
        for u in users:
            f.write(f"{u};{password(u)};3600\n")
    stat = os.path.join(work, f"stat-{tag}.csv")
    if os.path.exists(stat):
        os.remove(stat)
    cmd = ["sipp", f"127.0.0.1:{port}", "-sf", SCENARIO, "-inf", inf, "-i", "127.0.0.1",
           "-p", str(free_port()), "-cp", str(free_port()), "-r", str(rate), "-m", str(calls),
           "-l", str(max(rate * 2, 100)), "-nostdin", "-timeout", "120s", "-timeout_error",
           "-trace_stat", "-stf", stat, "-fd", "1", "-max_recv_loops", "10000", "-max_sched_loops", "10000"]
    before = os.times()
    subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    after = os.times()
    sipp_cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    with open(stat) as f:
        rows = [l.strip().split(";") for l in f if l.strip()]
    head, last = rows[0], rows[-1]
    col = lambda n: int(last[head.index(n)])
    return col("SuccessfulCall(C)"), col("FailedCall(C)"), col("Retransmissions(C)"), sipp_cpu


def measure(server, rates, seconds, work):
    port = free_port()
    pid = server.start(port)
    try:
        wait_udp_ready(port)
        results = []
        users = list(range(FIRST_USER, FIRST_USER + USERS))
        # Memory: 10,000 distinct bindings.
        base = pss_kib(pid)
        ok, failed, _, _ = run_sipp(port, users, 2000, USERS, work, f"{server.name}-fill")
        time.sleep(1)
        fresh = pss_kib(pid)
        # Completed transactions linger 64·T1 = 32 s to absorb retransmissions; after
        # that only the bindings remain.
        time.sleep(34)
        grown = pss_kib(pid)
        per_binding = (grown - base) * 1024 / max(ok, 1)
        per_binding_fresh = (fresh - base) * 1024 / max(ok, 1)
        print(f"  {server.name:11} 10,000 bindings ({ok} ok, {failed} failed): {per_binding:.0f} B each after 35 s, "
              f"{per_binding_fresh:.0f} B after 1 s; PSS {grown} KiB", flush=True)
        # Throughput steps (refreshes of the same 10,000 users).
        sustained = None
        for rate in rates:
            calls = rate * seconds
            cpu0 = cpu_seconds(pid)
            t0 = time.time()
            ok_s, failed_s, retrans, sipp_cpu = run_sipp(port, users, rate, calls, work, f"{server.name}-{rate}")
            wall = time.time() - t0
            cpu = cpu_seconds(pid) - cpu0
            messages = 4 * calls
            fail_pct = 100 * failed_s / max(calls, 1)
            retrans_pct = 100 * retrans / max(messages, 1)
            holds = fail_pct < 0.1 and retrans_pct < 1 and ok_s + failed_s == calls
            sipp_per_reg = sipp_cpu / max(ok_s, 1)
            results.append((rate, ok_s, failed_s, retrans, fail_pct, retrans_pct, cpu / max(ok_s, 1), wall, holds,
                            sipp_per_reg))
            print(f"  {server.name:11} {rate:6}/s  ok {ok_s:7}  failed {failed_s:5} ({fail_pct:.3f} %)  "
                  f"retrans {retrans:5} ({retrans_pct:.3f} %)  cpu/reg {1e6 * cpu / max(ok_s, 1):7.1f} µs  "
                  f"SIPp {1e6 * sipp_per_reg:6.1f} µs  "
                  f"{'holds' if holds else 'does not hold'}", flush=True)
            if holds:
                sustained = results[-1]
            else:
                break
        return {"fill_ok": ok, "fill_failed": failed, "per_binding": per_binding, "pss_kib": grown,
                "per_binding_fresh": per_binding_fresh,
                "sustained": sustained, "steps": results}
    finally:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            server.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="500,1000,2000,3000,4000,6000,8000,10000,12000")
    ap.add_argument("--seconds", type=int, default=10, help="length of each rate step")
    ap.add_argument("--only", choices=["switchboard", "kamailio"], help="measure one server (no ratios)")
    args = ap.parse_args()
    for tool in ["sipp", "kamailio"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} missing: apt-get install sip-tester kamailio")
    subprocess.run(["cargo", "build", "--release", "-p", "switchboard-server", "--quiet"], cwd=ROOT, check=True)
    rates = [int(r) for r in args.rates.split(",")]
    print(f"REGISTER with digest auth (401 + authorised REGISTER = 4 messages), steps of {args.seconds} s, "
          f"{USERS} users, SIPp on the same {os.cpu_count()} cores")
    out = {}
    with tempfile.TemporaryDirectory() as work:
        servers = [Switchboard, Kamailio]
        for server in [s(work) for s in servers if args.only in (None, s.name)]:
            out[server.name] = measure(server, rates, args.seconds, work)
    if args.only:
        return
    print()
    print(f"{'':24}{'switchboard':>14}{'kamailio':>14}{'ratio':>10}")
    sb, ka = out["switchboard"], out["kamailio"]
    rate = lambda r: r["sustained"][0] if r["sustained"] else 0
    cpu = lambda r: r["sustained"][6] * 1e6 if r["sustained"] else float("nan")
    print(f"{'sustained regs/s':24}{rate(sb):>14}{rate(ka):>14}{rate(sb) / max(rate(ka), 1):>10.2f}")
    print(f"{'CPU µs per reg':24}{cpu(sb):>14.1f}{cpu(ka):>14.1f}{cpu(sb) / cpu(ka):>10.2f}")
    # What SIPp spent per registration over every step, against both servers: one core
    # over it is the highest rate the generator can drive at all.
    steps = [st for r in (sb, ka) for st in r["steps"]]
    sipp_us = 1e6 * sum(st[9] * st[1] for st in steps) / max(sum(st[1] for st in steps), 1)
    print(f"{'SIPp CPU µs per reg':24}{sipp_us:>14.1f}   (one core: at most {1e6 / sipp_us:,.0f} regs/s offered)")
    print(f"{'bytes per binding (35 s)':24}{sb['per_binding']:>14.0f}{ka['per_binding']:>14.0f}"
          f"{sb['per_binding'] / max(ka['per_binding'], 1):>10.2f}")
    print(f"{'  same, 1 s after fill':24}{sb['per_binding_fresh']:>14.0f}{ka['per_binding_fresh']:>14.0f}")
    print(f"{'PSS after 10k (KiB)':24}{sb['pss_kib']:>14}{ka['pss_kib']:>14}")
    print(f"{'10k fill ok/failed':24}{str(sb['fill_ok']) + '/' + str(sb['fill_failed']):>14}"
          f"{str(ka['fill_ok']) + '/' + str(ka['fill_failed']):>14}")
    if rate(sb) == rates[-1] or rate(ka) == rates[-1]:
        print("note: a server held the highest step; rerun with higher --rates to find its limit")


if __name__ == "__main__":
    main()
