#!/usr/bin/env bash
# Runs Confab. With a display it opens the desktop app; without one it runs
# the host server headless and prints the URLs to open. Installs what is
# missing first. Extra arguments go to the program (see --help).
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
cd "$CONFAB_ROOT"
ensure_rust

if has_display && [ "${CONFAB_HEADLESS:-0}" != 1 ]; then
  ensure_apt_packages "${APP_PACKAGES[@]}"
  ensure_ui_deps
  build_ui
  say "Building and starting the desktop app"
  exec cargo run --quiet --locked -p confab-app --bin confab -- "$@"
else
  ensure_apt_packages "${SERVER_PACKAGES[@]}"
  # The server embeds the built UI (the admin console).
  ensure_ui_deps
  build_ui
  say "No display: building and starting the host server (release build)"
  exec cargo run --quiet --locked --release -p confab-server -- "$@"
fi
