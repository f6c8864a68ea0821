#!/usr/bin/env bash
# Runs the whole test suite: lint gates, UI checks and tests, Rust tests, and
# the desktop window test under Xvfb. Installs what is missing first.
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
cd "$CONFAB_ROOT"

ensure_rust
ensure_apt_packages "${TEST_PACKAGES[@]}"
ensure_ui_deps
ensure_tauri_driver

say "UI: type check";  (cd ui && npm run --silent check)
say "UI: lint";        (cd ui && npm run --silent lint)
say "UI: unit tests";  (cd ui && npm run --silent test)
say "UI: build";       build_ui
say "Rust: format";    cargo fmt --all --check
say "Rust: clippy";    cargo clippy --locked --workspace --all-targets -- -D warnings
# The window tests drive the real binaries (the app, and confab-bot in the
# meeting test), which `cargo test` does not build.
say "Rust: build the app and confab-bot"; cargo build --locked -p confab-app -p confab-client
say "Browser: admin console and welcome page in Chromium"; scripts/browser-tests.sh
say "Rust: tests";     cargo test --locked --workspace
# The workspace run builds the licence crate with its `dev-key` feature (the
# server's tests issue licences with it). Run its tests once more alone, as
# a build that does not trust the development key, like a release.
say "Rust: licence tests without the dev key"; cargo test --locked -p confab-license
# We ship a patched str0m (vendor/str0m): its own unit tests, on our copy.
say "Rust: str0m's unit tests on the vendored fork"; scripts/str0m-fork-tests.sh
