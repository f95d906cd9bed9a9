"""What both benchmarks share: ports, process CPU and memory, readiness probes."""
import os
import re
import socket
import subprocess
import time

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
    """A data directory for the release build with `users` (password rule above) and
    TOML `settings`; returns (binary, data directory)."""
    binary = os.path.join(ROOT, "target", "release", "switchboard-server")
    data = os.path.join(work, "sb-data")
    cfg = os.path.join(work, "sb.toml")
    with open(cfg, "w") as f:
        f.write('[sip]\nrealm = "switchboard"\n' + settings)
        for u in users:
            f.write(f'[[extensions]]\nnumber = "{u}"\npassword = "{password(u)}"\n')
    subprocess.run([binary, "--data-dir", data, "config", "import", cfg], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return binary, data
