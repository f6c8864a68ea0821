# shellcheck shell=bash
# Set-up shared by ./run.sh and ./test.sh: installs what is missing, quietly
# and idempotently, so both work on a fresh Debian 12 / Ubuntu 24.04 machine
# that has only git, the Rust toolchain and Node.js 20.19+.
# Sourced, not run: it defines functions and changes nothing by itself.

CONFAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Versions of tools installed outside the lockfiles.
TAURI_DRIVER_VERSION="2.1.0"
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19

# What building the desktop app needs (Tauri 2 on WebKitGTK 4.1; ALSA for
# cpal; libclang for the V4L2 bindings nokhwa generates at build time, from
# the kernel headers that build-essential brings).
APP_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev
  libasound2-dev libclang-dev)
# What the headless server alone needs (SQLite is compiled in; cmake builds
# aws-lc, the SFU's WebRTC crypto).
SERVER_PACKAGES=(build-essential pkg-config cmake)
# What the test suite adds: a private X server and WebKit's WebDriver for the
# window test, and Chromium for the browser tests (Debian's package; on
# Ubuntu it is a snap stub, so point CHROMIUM at a Chromium or Chrome binary).
# cmake builds libopus 1.6.1 for the `opus` crate (confab-media); libvpx-dev:
# the media crate's VP8 codec links the system libvpx (found through
# pkg-config; the Rust bindings are pre-generated, so no libclang).
# PulseAudio and ALSA's pulse plugin give the device tests clocked null audio
# devices on machines without a sound card (crates/devices/tests/support).
TEST_PACKAGES=("${APP_PACKAGES[@]}" xvfb webkit2gtk-driver chromium cmake libvpx-dev pulseaudio
  libasound2-plugins)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

has_display() { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != "installed" ]; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
  if command -v rustup >/dev/null; then
    local installed
    installed="$(rustup component list --installed 2>/dev/null)"
    for c in rustfmt clippy; do
      grep -q "^$c" <<<"$installed" || { say "Adding Rust component $c"; rustup component add "$c" >/dev/null; }
    done
  fi
}

ensure_node() {
  command -v node >/dev/null || die "node not found: install Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer"
  local major minor
  IFS=. read -r major minor _ <<<"$(node --version | tr -d v)"
  if [ "$major" -lt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -lt "$NODE_MIN_MINOR" ]; }; then
    die "Node.js $(node --version) is too old: the UI build (Vite 8) needs ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} or newer"
  fi
}

# npm ci only when package-lock.json changed since the last install.
ensure_ui_deps() {
  ensure_node
  local stamp="$CONFAB_ROOT/ui/node_modules/.confab-lock-sha256" want
  want="$(sha256sum "$CONFAB_ROOT/ui/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Installing UI packages (npm ci)"
    (cd "$CONFAB_ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" >"$stamp"
  fi
}

build_ui() {
  (cd "$CONFAB_ROOT/ui" && npx --no-install vite build --logLevel error)
}

ensure_tauri_driver() {
  # tauri-driver has no --version; cargo's install list knows what it put there.
  if ! cargo install --list 2>/dev/null | grep -qx "tauri-driver v${TAURI_DRIVER_VERSION}:"; then
    say "Installing tauri-driver $TAURI_DRIVER_VERSION (about a minute)"
    cargo install tauri-driver --locked --quiet --version "$TAURI_DRIVER_VERSION"
  fi
}
