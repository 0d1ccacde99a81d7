#!/usr/bin/env bash
# Runs every test weir has: the book build, the tour, Aleph's examples' self-tests, the loom
# model, then unit, integration and doc tests (including the book's chapters and the README),
# and the Autobahn|Testsuite's quick
# sections against the WebSocket server and client. Installs what it needs (a pinned mdbook; the
# WebSocket and HTTP peers through scripts/ws-peers.sh; curl and nghttp from Debian's packages).
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4

step() { printf '\n== %s\n' "$*"; }

step "tools"
if ! command -v mdbook >/dev/null 2>&1 || ! mdbook --version | grep -q "v$MDBOOK_VERSION"; then
    cargo install --locked mdbook --version "$MDBOOK_VERSION" --no-default-features
fi
mdbook --version

step "book"
mdbook build book

step "tour"
cargo run --release --example tour

step "Aleph's examples in weir, each checking itself on loopback"
cargo run --release --example http_aleph -- --self-test
cargo run --release --example http2 -- --self-test
cargo run --release --example ws_aleph -- --self-test
cargo run --release --example http_aleph_client

step "loom model of the deferred cell"
RUSTFLAGS="--cfg weir_loom" CARGO_TARGET_DIR=target/loom \
    cargo test --no-default-features --test loom_deferred

step "loom model of the channel queue"
RUSTFLAGS="--cfg weir_loom" CARGO_TARGET_DIR=target/loom \
    cargo test --no-default-features --test loom_queue

step "interop peers (Autobahn|Testsuite, Python websockets, h2 and httpx, npm ws; curl, nghttp)"
if ! command -v curl >/dev/null 2>&1 || ! command -v nghttp >/dev/null 2>&1; then
    # Debian's packages; the tests that use them say so and skip when they are still missing.
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
        apt-get install -y --no-install-recommends curl nghttp2-client ||
            echo "note: installing curl and nghttp2-client failed; their cases will be skipped"
    else
        echo "note: curl or nghttp is missing and cannot be installed here; their cases will be skipped"
    fi
fi
bash scripts/ws-peers.sh install

step "Autobahn|Testsuite, quick sections (1-7, 10), against weir's server and client"
bash scripts/autobahn.sh server quick
bash scripts/autobahn.sh client quick

step "unit, integration and doc tests (book chapters and README included)"
cargo test --workspace --all-features
