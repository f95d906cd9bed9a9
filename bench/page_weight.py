#!/usr/bin/env python3
"""What a browser downloads before the admin panel's login form shows, and before the
wallboard shows after logging in: the page, its first script and every script that one
imports statically (transitively), with their CSS; raw, and as the server sends them to
a browser that takes Brotli or gzip (the copies `npm run build` writes beside each
file). Reads ui/dist, so build the UI first: `cd ui && npm run build`.

    python3 bench/page_weight.py
"""
import os
import re
import sys

DIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ui", "dist")
STATIC_IMPORT = re.compile(r'(?:from|import)\s*"\./([^"]+\.js)"')


def size(path, suffix=""):
    """The size the server sends: its compressed copy's if there is one."""
    full = os.path.join(DIST, path)
    return os.path.getsize(full + suffix) if suffix and os.path.exists(full + suffix) else os.path.getsize(full)


def closure(first):
    """`first` and every script it imports statically, transitively."""
    seen, todo = [], [first]
    while todo:
        script = todo.pop()
        if script in seen:
            continue
        seen.append(script)
        with open(os.path.join(DIST, "assets", script), encoding="utf-8") as f:
            todo.extend(STATIC_IMPORT.findall(f.read()))
    return ["assets/" + s for s in seen]


def chunk(prefix):
    names = [n for n in os.listdir(os.path.join(DIST, "assets")) if n.startswith(prefix + "-") and n.endswith(".js")]
    if len(names) != 1:
        sys.exit(f"expected one {prefix} chunk, found {names}")
    return names[0]


def report(what, files):
    raw = sum(size(f) for f in files)
    br = sum(size(f, ".br") for f in files)
    gz = sum(size(f, ".gz") for f in files)
    print(f"{what}: {len(files)} files, {raw / 1024:.0f} KB raw, {gz / 1024:.0f} KB gzip, {br / 1024:.0f} KB Brotli")


def main():
    with open(os.path.join(DIST, "index.html"), encoding="utf-8") as f:
        page = f.read()
    entry = re.search(r'src="/assets/([^"]+\.js)"', page).group(1)
    preloads = re.findall(r'href="/assets/([^"]+)"', page)
    login = ["index.html"] + closure(entry) + ["assets/" + p for p in preloads if not p.endswith(".js")]
    report("before the login form", login)
    wallboard = closure(chunk("Dashboard"))
    report("then the wallboard", [f for f in wallboard if f not in login])


if __name__ == "__main__":
    main()
