//! Independent HTTP peers run as processes: curl and nghttp (Debian's packages, which
//! `scripts/test.sh` installs; their cases skip with a note when missing), and
//! `tests/peers/http_peer.py` (the `h2` package and httpx), run by the venv
//! `scripts/ws-peers.sh install` makes in `target/ws-peers/py3`; without it the tests that use
//! it fail and say how to make it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The venv's interpreter.
pub fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ws-peers/py3/bin/python");
    assert!(
        python.exists(),
        "{} is missing: the Python HTTP peers (h2, httpx) are not installed. Run \
         `scripts/ws-peers.sh install` from the repository root (CI runs it before the tests).",
        python.display()
    );
    python
}

/// Runs `http_peer.py` with `args` (killed after 20 s); the JSON lines it printed.
pub fn http_peer(args: &[&str]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/http_peer.py");
    let output = Command::new("timeout")
        .arg("20")
        .arg(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "http_peer.py {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Whether `tool --version` runs; says so when not, for a case that then skips.
pub fn available(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("note: {tool} not found (scripts/test.sh installs it), skipping its case");
    }
    found
}

/// Runs curl with `args` (bounded by `--max-time`): the body and the HTTP version it reports.
pub fn curl(args: &[&str]) -> (String, String) {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_version}"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, version) = text.rsplit_once('\n').unwrap();
    (body.to_string(), version.to_string())
}
