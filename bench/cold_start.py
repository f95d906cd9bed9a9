"""Seconds from starting the server to its "listening" line: the first start (the office
is made: passwords hashed, the certificate made) and later starts, on Linux and, given
the Windows build, under Wine.

    python3 bench/cold_start.py [--runs 5] [--windows-exe target/x86_64-pc-windows-gnu/release/switchboard-server.exe]

The Linux binary is target/release/switchboard-server (or $SWITCHBOARD_BIN). Under Wine
the test's stand-in for bcryptprimitives.dll is built into a fresh Wine prefix first
(tests/wine/bcryptprimitives.c: Wine 8 lacks that DLL)."""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from common import ROOT, free_port


def seconds_to_listening(command, env):
    start = time.monotonic()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            env=env, text=True)
    try:
        for line in proc.stderr:
            if "Switchboard listening" in line:
                return time.monotonic() - start
        raise RuntimeError(f"{command[0]} ended without listening")
    finally:
        proc.terminate()
        proc.wait()


def args(data_dir):
    return ["--data-dir", data_dir,
            "--sip-listen", f"127.0.0.1:{free_port()}",
            "--http-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1:0",
            "--sip-tls-listen", "127.0.0.1:0", "--rtp-ports", "40000-40099"]


def measure(name, prefix, data_dir, env, runs):
    first = seconds_to_listening(prefix + args(data_dir), env)
    later = [seconds_to_listening(prefix + args(data_dir), env) for _ in range(runs)]
    print(f"  {name:28} first start {first:6.2f} s   later starts: median "
          f"{statistics.median(later):6.2f} s (min {min(later):.2f}, max {max(later):.2f}, "
          f"{runs} runs)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--windows-exe")
    options = parser.parse_args()
    binary = os.environ.get("SWITCHBOARD_BIN") or os.path.join(
        ROOT, "target", "release", "switchboard-server")
    env = dict(os.environ, RUST_LOG="info")
    print("Seconds from exec to 'Switchboard listening'")
    with tempfile.TemporaryDirectory() as work:
        measure("Linux (native)", [binary], os.path.join(work, "office"), env, options.runs)
        if options.windows_exe:
            prefix = os.path.join(work, "wine")
            wine_env = dict(env, WINEPREFIX=prefix, WINEDEBUG="-all")
            subprocess.run(["wineboot", "--init"], env=wine_env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o",
                            os.path.join(prefix, "drive_c/windows/system32/bcryptprimitives.dll"),
                            os.path.join(ROOT, "tests/wine/bcryptprimitives.c"), "-ladvapi32"],
                           check=True)
            # A Wine program keeps the Wine server up between runs, as on a booted PC.
            keep = subprocess.Popen(["wine", "cmd", "/c", "ping -n 600 127.0.0.1 > nul"],
                                    env=wine_env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                measure("Windows build under Wine", ["wine", options.windows_exe],
                        r"C:\ProgramData\Switchboard", wine_env, options.runs)
            finally:
                keep.kill()
                subprocess.run(["wineserver", "--kill"], env=wine_env)
                shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
