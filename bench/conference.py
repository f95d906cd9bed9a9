#!/usr/bin/env python3
"""Conference benchmark: what a member of a conference room costs Switchboard, with SIPp
phones as the members.

Rooms 800, 801, ... of SIZE members each: SIPp callers (extension 100, PCMU, 20 ms)
dial them in turn and stream speech for the whole run, so every member's audio is
mixed with the others' and sent back to each. Server CPU over a window once all are
in, divided by the members, in % of one core per member. The sans-IO mixing alone is
the Criterion bench `cargo bench -p switchboard-media --bench conference`.
Run from the repository root: python3 bench/conference.py
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

from calls import SCENARIO, Switchboard
from common import ROOT, stop, cpu_seconds, free_port, password, rows_file, sipp, speech, totals, wait_udp_ready

CALLER = 100


def measure(work, size, rooms, window):
    """Server CPU per member for `rooms` rooms of `size` members each."""
    numbers = [str(800 + i) for i in range(rooms)]
    settings = "".join(f'[[conferences]]\nnumber = "{n}"\nmax_members = {size}\n' for n in numbers)
    server = Switchboard(work, settings, (CALLER,))
    port = free_port()
    pids = server.start(port)
    cpu = lambda: sum(cpu_seconds(p) for p in pids)
    try:
        wait_udp_ready(port)
        members = size * rooms
        # Row after row: the rooms fill together.
        rows = [f"{CALLER};{password(CALLER)};{numbers[i % rooms]}" for i in range(members)]
        callers = rows_file(work, rows, f"conf-{size}x{rooms}")
        # The first in each room hears that they are alone (about 5 s) before joining.
        ramp = members // 50 + 8
        hold_ms = (ramp + window + 5) * 1000
        proc = sipp([f"127.0.0.1:{port}", "-sf", SCENARIO, "-inf", callers, "-p", str(free_port()),
                     "-mp", str(free_port()), "-r", "50", "-m", str(members), "-d", str(hold_ms),
                     "-l", str(members), "-timeout", "300s", "-timeout_error"],
                    work, f"conf-{size}x{rooms}", wait=False)
        time.sleep(ramp)
        c0, t0 = cpu(), time.time()
        time.sleep(window)
        used, wall = cpu() - c0, time.time() - t0
        proc.wait(timeout=600)
        ok, failed, _ = totals(os.path.join(work, f"stat-conf-{size}x{rooms}.csv"))
        per_member = 100 * used / wall / members
        print(f"  rooms of {size:3} x {rooms:3} ({members:4} members)  ok {ok:4}  failed {failed:3}  "
              f"server CPU {100 * used / wall:5.1f} %  per member {per_member:.4f} % of a core", flush=True)
        return per_member
    finally:
        stop(server.procs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", default="3x20,10x10", help="SIZExROOMS, comma-separated")
    ap.add_argument("--window", type=int, default=20, help="seconds CPU is measured over")
    args = ap.parse_args()
    if not shutil.which("sipp"):
        raise SystemExit("sipp missing: apt-get install sip-tester")
    if not os.environ.get("SWITCHBOARD_BIN"):
        subprocess.run(["cargo", "build", "--release", "-p", "switchboard-server", "--quiet"], cwd=ROOT, check=True)
    print(f"Conference rooms with SIPp members (PCMU, 20 ms, speech both ways) on the same "
          f"{os.cpu_count()} cores; CPU over {args.window} s once all are in")
    with tempfile.TemporaryDirectory() as work:
        speech(work)
        for spec in args.rooms.split(","):
            size, rooms = (int(n) for n in spec.split("x"))
            measure(work, size, rooms, args.window)
            time.sleep(2)


if __name__ == "__main__":
    main()
