#!/usr/bin/env python3
"""What TLS adds to a registration: Switchboard's CPU per REGISTER with digest auth over
UDP, over TLS connections kept open (a phone's refresh), and over a new TLS connection
per registration (a phone's first registration: one handshake each), each against UDP
at the same rate.

Debian's SIPp is built without TLS, so this script is its own load generator (Python
asyncio, digest MD5 with qop=auth, as SIPp's register_auth.xml does): each registration
is REGISTER → 401 → REGISTER with Authorization → 200. It runs well below its own ceiling
(it prints what it achieved); the figure that matters is the server's CPU per
registration, read from /proc, so the generator's speed does not enter it.
Run from the repository root: python3 bench/tls_registration.py
"""
import argparse
import asyncio
import hashlib
import os
import re
import signal
import ssl
import subprocess
import tempfile
import time

from common import ROOT, cpu_seconds, free_port, password, provision_switchboard, wait_udp_ready

USERS = 2_000
FIRST_USER = 30_000
REALM = "switchboard"


def register(user, branch, cseq, call_id, transport, local, auth=None):
    lines = [
        f"REGISTER sip:{REALM} SIP/2.0",
        f"Via: SIP/2.0/{transport} {local};branch=z9hG4bK{branch};rport",
        f"From: <sip:{user}@{REALM}>;tag={call_id}",
        f"To: <sip:{user}@{REALM}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{user}@{local};transport={transport.lower()}>",
        "Expires: 3600",
        "Max-Forwards: 70",
    ]
    if auth:
        lines.append(auth)
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def authorization(user, challenge):
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    uri = f"sip:{REALM}"
    ha1 = hashlib.md5(f"{user}:{params['realm']}:{password(user)}".encode()).hexdigest()
    ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
    nc, cnonce = "00000001", os.urandom(6).hex()
    response = hashlib.md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'Authorization: Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"')


def status_and_challenge(message):
    head = message.split(b"\r\n\r\n", 1)[0].decode()
    code = int(head.split(" ", 2)[1])
    challenge = re.search(r"^WWW-Authenticate: (.*)$", head, re.M | re.I)
    return code, challenge.group(1) if challenge else None


async def read_message(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"\r\nContent-Length: *(\d+)", head, re.I)
    if length and int(length.group(1)):
        await reader.readexactly(int(length.group(1)))
    return head


class Stream:
    """One TLS connection registering users one after another."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.local = "%s:%d" % writer.get_extra_info("sockname")[:2]

    async def registration(self, user, n):
        call_id = f"tls-{user}-{n}"
        self.writer.write(register(user, f"a{n}", 1, call_id, "TLS", self.local))
        code, challenge = status_and_challenge(await read_message(self.reader))
        assert code == 401, code
        self.writer.write(register(user, f"b{n}", 2, call_id, "TLS", self.local, authorization(user, challenge)))
        code, _ = status_and_challenge(await read_message(self.reader))
        return code == 200


class Datagrams(asyncio.DatagramProtocol):
    """One UDP socket; answers are matched to registrations by Call-ID."""

    def __init__(self):
        self.waiting = {}

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        call_id = re.search(rb"\r\nCall-ID: *([^\r]+)", data, re.I)
        future = call_id and self.waiting.pop(call_id.group(1).decode(), None)
        if future and not future.done():
            future.set_result(data)

    async def exchange(self, call_id, message):
        future = asyncio.get_running_loop().create_future()
        self.waiting[call_id] = future
        self.transport.sendto(message)
        return await asyncio.wait_for(future, 5)


async def paced(rate, seconds, workers, one):
    """Starts `rate` registrations a second for `seconds` across `workers`, each worker
    doing one at a time; returns (done, failed, wall seconds)."""
    total = rate * seconds
    queue = asyncio.Queue()
    counts = {"ok": 0, "failed": 0}

    async def worker(w):
        while True:
            n = await queue.get()
            if n is None:
                return
            try:
                ok = await one(w, n)
            except Exception:
                ok = False
            counts["ok" if ok else "failed"] += 1

    tasks = [asyncio.create_task(worker(w)) for w in range(workers)]
    start = time.monotonic()
    for n in range(total):
        due = start + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(n)
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    return counts["ok"], counts["failed"], time.monotonic() - start


def user_of(n):
    return FIRST_USER + n % USERS


async def run_mode(mode, rate, seconds, sip_port, tls_port, pid):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    cleanup = []
    if mode == "udp":
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(Datagrams, local_addr=("127.0.0.1", 0),
                                                       remote_addr=("127.0.0.1", sip_port))
        local = "127.0.0.1:%d" % proto.transport.get_extra_info("sockname")[1]
        cleanup.append(proto.transport.close)

        async def one(_w, n):
            user, call_id = user_of(n), f"udp-{n}"
            code, challenge = status_and_challenge(
                await proto.exchange(call_id, register(user, f"a{n}", 1, call_id, "UDP", local)))
            assert code == 401, code
            reply = await proto.exchange(
                call_id, register(user, f"b{n}", 2, call_id, "UDP", local, authorization(user, challenge)))
            return status_and_challenge(reply)[0] == 200
        workers = 32
    elif mode == "tls-kept":
        # A few long-lived connections, as phones keep theirs (the server lets one address
        # hold 32).
        streams = []
        for _ in range(16):
            reader, writer = await asyncio.open_connection("127.0.0.1", tls_port, ssl=context)
            streams.append(Stream(reader, writer))
            cleanup.append(writer.close)

        async def one(w, n):
            return await streams[w].registration(user_of(n), n)
        workers = len(streams)
    else:
        async def one(_w, n):
            reader, writer = await asyncio.open_connection("127.0.0.1", tls_port, ssl=context)
            try:
                return await Stream(reader, writer).registration(user_of(n), n)
            finally:
                writer.close()
        workers = 8
    cpu0 = cpu_seconds(pid)
    ok, failed, wall = await paced(rate, seconds, workers, one)
    cpu = cpu_seconds(pid) - cpu0
    for close in cleanup:
        close()
    return ok, failed, wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=400, help="registrations a second, every mode")
    ap.add_argument("--handshake-rate", type=int, default=100, help="the same with a new connection each")
    ap.add_argument("--seconds", type=int, default=15)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "switchboard-server", "--quiet"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as work:
        binary, data = provision_switchboard(work, "[registrar]\nmax_contacts = 5\n",
                                             range(FIRST_USER, FIRST_USER + USERS))
        sip_port, tls_port = free_port(), free_port()
        proc = subprocess.Popen(
            [binary, "--data-dir", data, "--sip-listen", f"127.0.0.1:{sip_port}",
             "--sip-tls-listen", f"127.0.0.1:{tls_port}", "--https-listen", "127.0.0.1:0",
             "--http-listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
        try:
            wait_udp_ready(sip_port)
            print(f"REGISTER with digest auth, {args.seconds} s per mode, {USERS} users, "
                  f"the generator on the same {os.cpu_count()} cores")
            results = {}
            steps = [("udp", args.rate), ("tls-kept", args.rate), ("udp", args.handshake_rate),
                     ("tls-new", args.handshake_rate), ("udp", args.rate)]
            for mode, rate in steps:
                ok, failed, wall, cpu = asyncio.run(run_mode(mode, rate, args.seconds, sip_port, tls_port, proc.pid))
                per = 1e6 * cpu / max(ok, 1)
                results.setdefault((mode, rate), []).append(per)
                print(f"  {mode:9} asked {rate:5}/s  done {ok / wall:7.1f}/s  ok {ok:6}  failed {failed:4}  "
                      f"server CPU {per:7.1f} µs per registration", flush=True)
            # The CPU per registration depends on the rate (fewer registrations share each
            # wake-up and commit when the load is light): each TLS figure is set against
            # UDP at its own rate.
            print()
            for mode, rate, label in [("tls-kept", args.rate, "TLS, connection kept"),
                                      ("tls-new", args.handshake_rate, "TLS, new connection each")]:
                udp = sum(results[("udp", rate)]) / len(results[("udp", rate)])
                per = results[(mode, rate)][0]
                print(f"{label:26} at {rate:4}/s {per:7.1f} µs  UDP {udp:7.1f} µs  {per / udp:5.2f} ×  "
                      f"(+{per - udp:.1f} µs)")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
