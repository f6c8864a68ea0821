#!/usr/bin/env bash
# str0m's own unit tests, run on the vendored fork (vendor/str0m; docs/decisions.md,
# "A vendored str0m"). Its manifest names optional back-ends and dev-dependencies that
# are not in this machine's registry cache (str0m-openssl 0.7, drv, systemstat's own
# dependencies), so it cannot be tested in place offline. This runs `cargo test --lib`
# from a throwaway manifest instead: the same source (its `[lib] path` points into
# vendor/str0m) and dependencies, without those, with the workspace's Cargo.lock, and a
# one-line stand-in for `systemstat` (one test uses its re-export of `Duration`).
# Arguments go to `cargo test` (e.g. a test name filter). Set CARGO_TARGET_DIR to keep
# the build between runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# A fixed place next to the build, so a persistent CARGO_TARGET_DIR keeps it
# warm; files are only replaced when their content changes.
work="${CARGO_TARGET_DIR:-$root/target}/str0m-fork-tests"
mkdir -p "$work"
put() { # put FILE: standard input to FILE, only if it differs
  local new; new=$(mktemp)
  cat >"$new"
  if cmp -s "$new" "$1"; then rm -f "$new"; else mv "$new" "$1"; fi
}

python3 - "$root/vendor/str0m" "$work" <<'EOF' | put "$work/Cargo.toml"
import re, sys
src, work = sys.argv[1], sys.argv[2]
s = open(f"{src}/Cargo.toml").read()
# Targets whose files were not vendored.
s = re.sub(r'\n\[\[(test|example)\]\]\n(?:[^\[\n][^\n]*\n)*', '\n', s)
s = s.replace('path = "src/lib.rs"', f'path = "{src}/src/lib.rs"')
# Dependencies not available offline, and the features that name them.
for table, dep in [("dependencies", d) for d in ["drv", "str0m-openssl", "str0m-rust-crypto"]] + \
        [("dev-dependencies", d) for d in ["netem", "pcap-file", "regex", "rouille",
                                           "str0m-rust-crypto", "tempfile", "url"]]:
    s = re.sub(r'\n\[%s\.%s\]\n(?:[^\[\n][^\n]*\n)*' % (table, re.escape(dep)), '\n', s)
s = re.sub(r'\n\[target[^\n]*\n(?:[^\[\n][^\n]*\n)*', '\n', s)
s = re.sub(r'^(apple-crypto|drv|examples|openssl|rust-crypto|vendored|wincrypto) = \[[^\]]*\]',
           r'\1 = []', s, flags=re.M)
s = re.sub(r'^openssl-dimpl = \[[^\]]*\]', 'openssl-dimpl = []', s, flags=re.M)
s = re.sub(r'\[dev-dependencies\.systemstat\]\n(?:[^\[\n][^\n]*\n)*',
           '[dev-dependencies.systemstat]\npath = "systemstat"\n\n', s)
sys.stdout.write(s + "\n[workspace]\n")
EOF

mkdir -p "$work/systemstat/src"
printf '[package]\nname = "systemstat"\nversion = "0.2.2"\nedition = "2021"\n' |
  put "$work/systemstat/Cargo.toml"
echo 'pub use std::time::Duration;' | put "$work/systemstat/src/lib.rs"
put "$work/Cargo.lock" <"$root/Cargo.lock"
cd "$work"
cargo test --offline --lib "$@"
