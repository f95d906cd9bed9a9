"""What the benchmarks share: ports, process CPU and memory, readiness probes, SIPp runs,
the speech callers stream."""
import os
import re
import socket
import subprocess
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def password(user):
    return f"bench-pass-{user}"


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def pss_kib(pid):
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                m = re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M)
                total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def wait_udp_ready(port, timeout=15):
    """Sends OPTIONS until the server answers."""
    deadline = time.time() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        me = s.getsockname()[1]
        msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKready;rport\r\n"
               "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready\r\nCSeq: 1 OPTIONS\r\n"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
        s.settimeout(0.3)
        while time.time() < deadline:
            s.sendto(msg, ("127.0.0.1", port))
            try:
                s.recvfrom(4096)
                return
            except socket.timeout:
                pass
    raise SystemExit(f"server on port {port} never answered")


def provision_switchboard(work, settings, users):
    """A data directory for the release build (or $SWITCHBOARD_BIN) with `users` (password rule above) and
    TOML `settings`; returns (binary, data directory)."""
    # SWITCHBOARD_BIN runs another build (an older commit's, for a before/after).
    binary = os.environ.get("SWITCHBOARD_BIN") or os.path.join(ROOT, "target", "release", "switchboard-server")
    data = os.path.join(work, "sb-data")
    cfg = os.path.join(work, "sb.toml")
    with open(cfg, "w") as f:
        f.write('[sip]\nrealm = "switchboard"\n' + settings)
        # SIPp stands for a whole office LAN from one address: trusted, so the per-source
        # request rate limit does not apply (Kamailio here runs without pike too).
        f.write('\n[security]\ntrusted_networks = ["127.0.0.0/8"]\n')
        for u in users:
            f.write(f'[[extensions]]\nnumber = "{u}"\npassword = "{password(u)}"\n')
    subprocess.run([binary, "--data-dir", data, "config", "import", cfg], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return binary, data


def ulaw(sample):
    """G.711 µ-law of one 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def speech(work):
    """speech.ulaw: Switchboard's English prompts as raw µ-law, what the caller streams."""
    out = os.path.join(work, "speech.ulaw")
    with open(out, "wb") as f:
        for name in ("busy", "no_such_number", "unavailable"):
            with wave.open(os.path.join(ROOT, "sounds", "en", f"{name}.wav")) as w:
                pcm = w.readframes(w.getnframes())
            samples = (int.from_bytes(pcm[i:i + 2], "little", signed=True) for i in range(0, len(pcm), 2))
            f.write(bytes(ulaw(s) for s in samples))


def sipp(args, work, tag, wait=True):
    stat = os.path.join(work, f"stat-{tag}.csv")
    if os.path.exists(stat):
        os.remove(stat)
    cmd = ["sipp", *args, "-i", "127.0.0.1", "-cp", str(free_port()), "-nostdin",
           "-trace_stat", "-stf", stat, "-fd", "1", "-max_recv_loops", "10000", "-max_sched_loops", "10000"]
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait:
        return proc
    proc.wait(timeout=600)
    return totals(stat)


def totals(stat):
    with open(stat) as f:
        rows = [l.strip().split(";") for l in f if l.strip()]
    head, last = rows[0], rows[-1]
    col = lambda n: int(last[head.index(n)])
    return col("SuccessfulCall(C)"), col("FailedCall(C)"), col("Retransmissions(C)")


def rows_file(work, rows, tag):
    path = os.path.join(work, f"rows-{tag}.csv")
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n" + "\n".join(rows) + "\n")
    return path


def stop(procs):
    """Stops the servers a benchmark started: SIGTERM, then SIGKILL after 10 s."""
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
