#!/usr/bin/env bash
# Runs every test weir has: the book build, the tour, the loom model, then unit, integration and
# doc tests (including the book's chapters and the README), and the Autobahn|Testsuite's quick
# sections against the WebSocket server and client. Installs what it needs (a pinned mdbook; the
# WebSocket peers through scripts/ws-peers.sh).
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

step "loom model of the deferred cell"
RUSTFLAGS="--cfg weir_loom" CARGO_TARGET_DIR=target/loom \
    cargo test --no-default-features --test loom_deferred

step "loom model of the channel queue"
RUSTFLAGS="--cfg weir_loom" CARGO_TARGET_DIR=target/loom \
    cargo test --no-default-features --test loom_queue

step "websocket peers (Autobahn|Testsuite, Python websockets, npm ws)"
bash scripts/ws-peers.sh install

step "Autobahn|Testsuite, quick sections (1-7, 10), against weir's server and client"
bash scripts/autobahn.sh server quick
bash scripts/autobahn.sh client quick

step "unit, integration and doc tests (book chapters and README included)"
cargo test --workspace --all-features
