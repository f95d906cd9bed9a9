# Helpers shared by scripts/run and scripts/test.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# ensure_apt COMMAND:PACKAGE ... installs PACKAGE when COMMAND is missing.
ensure_apt() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# ensure_debs PACKAGE ... installs the Debian packages not installed yet (libraries,
# which have no command to look for).
ensure_debs() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# What the desktop app (Tauri, WebKitGTK) builds against on Linux.
TAURI_DEBS=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config)

# What the in-app phone's sound devices (cpal) build against on Linux.
SOUND_DEBS=(libasound2-dev pkg-config)

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] || {
      echo "==> installing the Rust toolchain (rustup)"
      ensure_apt curl:curl cc:build-essential
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    }
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  # cmake builds the bundled libopus.
  ensure_apt cc:build-essential cmake:cmake
}

# The Windows build: Rust's x86_64-pc-windows-gnu standard library, the mingw-w64
# toolchain it links with, NSIS for the installer and Wine to run both here.
WINDOWS_TARGET=x86_64-pc-windows-gnu
ensure_windows_toolchain() {
  ensure_apt x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 makensis:nsis wine:wine
  ensure_debs wine64
  if ! rustup target list --installed 2>/dev/null | grep -qx "$WINDOWS_TARGET"; then
    echo "==> installing Rust's $WINDOWS_TARGET standard library"
    rustup target add "$WINDOWS_TARGET"
  fi
}

# The admin UI's toolchain (Node.js 20 or newer, npm) and its build into ui/dist, which
# the server serves (debug builds read it at run time, release builds carry it inside).
# Both steps are skipped when nothing they read changed since they last ran.
build_ui() {
  ensure_apt node:nodejs npm:npm
  # Vite needs Node 20.19+ or 22.12+; Debian 12's is 18. Node itself comes as an npm
  # package (the `node` package fetches the official binary from the npm registry).
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
      process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "==> Node.js $(node --version) is too old for the admin UI; installing Node 22 from npm"
    as_root npm install --global --no-audit --no-fund --loglevel=error node@22
    hash -r
  fi
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
    echo "==> admin UI: dependencies"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ ! -f ui/dist/index.html ] \
    || [ -n "$(find ui/src ui/index.html ui/vite.config.ts ui/tsconfig.json ui/package-lock.json \
      ui/package.json ui/compress.mjs \
      -newer ui/dist/index.html -print -quit)" ]; then
    echo "==> admin UI: build"
    (cd ui && npm run -s build)
  fi
}
