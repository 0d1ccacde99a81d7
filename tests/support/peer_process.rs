//! An interop peer run as a child process that reports what it sees as lines on stdout (JSON
//! events, after an optional `listening on 127.0.0.1:P` line): the Python `websockets` peer
//! and the npm `ws` one. Its stderr is kept for failure messages; dropping it kills the
//! process; every wait is bounded by [`BOUND`](super::BOUND).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A running peer.
pub struct PeerProcess {
    child: Child,
    lines: async_channel::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Names the peer in failure messages.
    name: &'static str,
    /// Added to failure messages when the stderr contains the first string.
    hint: (&'static str, &'static str),
}

impl PeerProcess {
    /// Starts `program` with `args` (and `envs`).
    pub fn spawn(
        name: &'static str,
        program: &Path,
        args: &[String],
        envs: &[(&str, &Path)],
        hint: (&'static str, &'static str),
    ) -> PeerProcess {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (send, lines) = async_channel::unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send_blocking(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let kept = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                kept.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        PeerProcess {
            child,
            lines,
            stderr,
            name,
            hint,
        }
    }

    /// What the peer wrote on stderr so far, with the hint when it applies.
    pub fn stderr(&self) -> String {
        let stderr = self.stderr.lock().unwrap().clone();
        let (marker, hint) = self.hint;
        if stderr.contains(marker) {
            format!("{stderr}\n({hint})")
        } else {
            stderr
        }
    }

    /// The next line on the peer's stdout.
    pub async fn line(&self) -> String {
        match weir::runtime::timeout(super::BOUND, self.lines.recv()).await {
            Ok(Ok(line)) => line,
            Ok(Err(_)) => panic!(
                "the {} peer ended; its stderr:\n{}",
                self.name,
                self.stderr()
            ),
            Err(_) => panic!(
                "timed out waiting for the {} peer; its stderr:\n{}",
                self.name,
                self.stderr()
            ),
        }
    }

    /// The next event, which must be `name`.
    pub async fn event(&self, name: &str) -> Value {
        let line = self.line().await;
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("not a JSON event ({error}): {line}"));
        assert_eq!(
            event["event"],
            name,
            "expected a {name} event, got {event}; the peer's stderr:\n{}",
            self.stderr()
        );
        event
    }

    /// The port of a server peer, from its first line `listening on 127.0.0.1:P`.
    pub async fn listening_port(&self) -> u16 {
        let line = self.line().await;
        line.strip_prefix("listening on 127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}: {}", self.stderr()))
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Adler-32 of `data`, as the peers report each message's.
pub fn adler32(data: &[u8]) -> u64 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    u64::from((b << 16) | a)
}

/// `bytes` in lower-case hex, as the peers' scripts take binary data.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
