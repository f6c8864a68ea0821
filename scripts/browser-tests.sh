#!/usr/bin/env bash
# The admin console, the welcome page and browser guests in real headless
# Chromium (Playwright specs in ui/e2e/) against a real confab-server on
# loopback. Chromium runs with a fake camera and microphone.
#
# CONFAB_EXTRA_PARTICIPANT, when set, is a shell command the guest spec
# starts to join its meeting as one more participant (e.g. the Rust meeting
# client); it gets CONFAB_BASE_URL, CONFAB_MEETING_CODE, CONFAB_JOIN_URL,
# CONFAB_PARTICIPANT_NAME and CONFAB_MEDIA_UDP (see ui/e2e/extra-participant.ts). Called by
# ./test.sh after the Rust tests; can be run alone once the set-up is done.
#
# The server is a development build (it trusts the development licence
# key), so the admin spec can install a licence the vendor tool issues here.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$CONFAB_ROOT"

cargo build --locked --quiet -p confab-server --features confab-license/dev-key
cargo build --locked --quiet -p confab-license --features dev-key --bin confab-license
cargo build --locked --quiet -p confab-client --bin confab-bot
bin="${CARGO_TARGET_DIR:-$CONFAB_ROOT/target}/debug"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

password="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" | "$bin/confab-server" --data-dir "$work/data" admin set-password >/dev/null
"$bin/confab-license" issue --key crates/license/dev-key/confab-dev.secret --key-id confab-dev \
  --licensee "E2E Test Office" --seats 10 --out "$work/licence.json" >/dev/null

mkdir -p test-output/admin-console
"$bin/confab-server" --data-dir "$work/data" --listen 127.0.0.1:0 --media-port 0 \
  --ready-file "$work/ready.json" >test-output/admin-console/server.log 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/ready.json" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat test-output/admin-console/server.log >&2; die "confab-server exited before it was ready"; }
  sleep 0.1
done
[ -s "$work/ready.json" ] || die "confab-server was not ready within 30 s"
base="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).http)' "$work/ready.json")"
media_udp="$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1])).media_udp))' "$work/ready.json")"

cd ui
CONFAB_BASE_URL="$base" CONFAB_MEDIA_UDP="$media_udp" CONFAB_ADMIN_PASSWORD="$password" CONFAB_LICENCE_FILE="$work/licence.json" \
  npx --no-install playwright test

# Chromium and the Rust meeting client in one meeting: the two-guest spec
# again with confab-bot as the extra participant. The spec checks that both
# pages decode the bot's video; the bot's summary (printed when the spec
# stops it) must show both guests' video decoded and their audio received.
summary="$work/rust-client.json"
CONFAB_EXTRA_PARTICIPANT="'$bin/confab-bot' --server \"\$CONFAB_BASE_URL\" --meeting \"\$CONFAB_MEETING_CODE\" \
--name \"\$CONFAB_PARTICIPANT_NAME\" --count 1 --duration 300 >'$summary'" \
CONFAB_BASE_URL="$base" CONFAB_MEDIA_UDP="$media_udp" CONFAB_ADMIN_PASSWORD="$password" \
  npx --no-install playwright test guest.spec.ts --grep "two browser guests"
mkdir -p "$CONFAB_ROOT/test-output/rust-client-with-chromium"
cp "$summary" "$CONFAB_ROOT/test-output/rust-client-with-chromium/summary.json"
node - "$summary" <<'JS'
const lines = require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n");
const bot = JSON.parse(lines[lines.length - 1]);
for (const guest of ["Ana", "Ben"]) {
  const r = (bot.remotes || []).find((x) => x.name === guest);
  if (!r || !(r.frames_decoded > 10) || !(r.audio_packets > 50)) {
    console.error(`confab-bot did not receive ${guest}'s media from Chromium:`, JSON.stringify(r ?? bot));
    process.exit(1);
  }
  console.log(`confab-bot received from Chromium guest ${guest}: ${r.frames_decoded} frames decoded, ${r.audio_packets} audio packets`);
}
JS
