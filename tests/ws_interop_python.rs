//! WebSocket interop with Python's `websockets` (which speaks permessage-deflate, unlike
//! tungstenite) as the peer: a weir client against a Python server and a Python client
//! against a weir server, with and without compression, for every RFC 7692 parameter either
//! side may ask for (no context takeover each way, 10-bit windows each way).
//!
//! The peer is `tests/peers/ws_peer.py`, run by the venv that `scripts/ws-peers.sh install`
//! makes in `target/ws-peers/py3`; without it these tests fail and say so. It reports what it
//! sees as JSON lines: the negotiated extension, and for each message its Adler-32 and its size
//! on the wire, so the tests check that compression was agreed, that it happened (a 1 MiB
//! repetitive message is a few KiB on the wire), that context takeover is used exactly when
//! agreed (a repeated message shrinks, or does not), and that weir keeps to an agreed 10-bit
//! window (Python's zlib refuses references further back, and a message repeating at a
//! 2000-byte distance does not shrink). Each child is killed on every path (a guard), and
//! every wait is bounded.
#![cfg(feature = "ws")]

mod support;

use std::path::{Path, PathBuf};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use weir::stream::Source;
use weir::ws::{
    self, CloseFrame, DeflateOptions, Message, WebSocket, WebSocketClientOptions, WebSocketOptions,
};

use support::peer_process::{PeerProcess, adler32, hex};
use support::ws_interop::{Mode, WeirServer, echoed, within};

// ---- the Python peer ----

/// The venv's interpreter, or a failure that says how to make it.
fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/ws-peers/py3/bin/python");
    assert!(
        python.exists(),
        "{} is missing: the Python interop peer (websockets) is not installed. \
         Run `scripts/ws-peers.sh install` from the repository root (CI runs it before the tests).",
        python.display()
    );
    python
}

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/ws_peer.py")
}

/// A running `ws_peer.py` (see [`PeerProcess`]).
struct PythonPeer(PeerProcess);

impl std::ops::Deref for PythonPeer {
    type Target = PeerProcess;

    fn deref(&self) -> &PeerProcess {
        &self.0
    }
}

impl PythonPeer {
    fn spawn(args: &[String]) -> PythonPeer {
        let mut all = vec!["-u".to_owned(), peer_script().display().to_string()];
        all.extend_from_slice(args);
        PythonPeer(PeerProcess::spawn(
            "Python",
            &python(),
            &all,
            &[],
            (
                "No module named 'websockets'",
                "run `scripts/ws-peers.sh install`",
            ),
        ))
    }

    /// A server: waits for `listening on 127.0.0.1:P` and returns P.
    async fn server(flags: &[&str]) -> (PythonPeer, u16) {
        let mut args = vec!["server".to_owned(), "--port".to_owned(), "0".to_owned()];
        args.extend(flags.iter().map(|flag| flag.to_string()));
        let peer = PythonPeer::spawn(&args);
        let port = peer.listening_port().await;
        (peer, port)
    }

    /// A client of `url` that runs `script`.
    fn client(url: &str, flags: &[&str], script: &[Value]) -> PythonPeer {
        let mut args = vec![
            "client".to_owned(),
            url.to_owned(),
            "--script".to_owned(),
            Value::Array(script.to_vec()).to_string(),
        ];
        args.extend(flags.iter().map(|flag| flag.to_string()));
        PythonPeer::spawn(&args)
    }
}

// ---- messages both sides can build ----

/// Printable bytes from a 64-bit LCG: the same generator as `pseudo_random` in ws_peer.py.
fn pseudo_random(length: usize, seed: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = seed;
    (0..length)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[((state >> 33) % 64) as usize] as char
        })
        .collect()
}

/// A message given the way ws_peer.py's script takes it, so that either side can send it.
#[derive(Clone, Debug)]
enum Spec {
    Text(&'static str),
    Binary(Vec<u8>),
    /// `unit` repeated `times`, as text or as its UTF-8 bytes.
    Repeat {
        text: bool,
        unit: String,
        times: usize,
    },
    /// One message sent by Python in these fragments (each compressed on its own).
    Fragments {
        text: bool,
        parts: Vec<String>,
    },
    /// `copies` copies of `length` pseudo-random printable bytes.
    Random {
        text: bool,
        length: usize,
        seed: u64,
        copies: usize,
    },
}

impl Spec {
    fn is_text(&self) -> bool {
        match self {
            Spec::Text(_) => true,
            Spec::Binary(_) => false,
            Spec::Repeat { text, .. }
            | Spec::Random { text, .. }
            | Spec::Fragments { text, .. } => *text,
        }
    }

    fn message(&self) -> Message {
        let text = match self {
            Spec::Text(text) => (*text).to_owned(),
            Spec::Binary(bytes) => return Message::from(bytes.clone()),
            Spec::Repeat { unit, times, .. } => unit.repeat(*times),
            Spec::Fragments { parts, .. } => parts.concat(),
            Spec::Random {
                length,
                seed,
                copies,
                ..
            } => pseudo_random(*length, *seed).repeat(*copies),
        };
        if self.is_text() {
            Message::from(text)
        } else {
            Message::from(text.into_bytes())
        }
    }

    fn step(&self) -> Value {
        let send = if self.is_text() { "text" } else { "binary" };
        match self {
            Spec::Text(text) => json!({"send": send, "data": text}),
            Spec::Binary(bytes) => json!({"send": send, "data": hex(bytes)}),
            Spec::Repeat { unit, times, .. } => {
                json!({"send": send, "repeat": unit, "times": times})
            }
            Spec::Fragments { text, parts } => {
                let parts: Vec<String> = if *text {
                    parts.clone()
                } else {
                    parts.iter().map(|p| hex(p.as_bytes())).collect()
                };
                json!({"send": send, "fragments": parts})
            }
            Spec::Random {
                length,
                seed,
                copies,
                ..
            } => json!({"send": send, "random": length, "seed": seed, "copies": copies}),
        }
    }
}

/// 64 bytes with multi-byte characters, repeated into 1 MiB.
fn mebibyte_unit() -> String {
    let mut unit = String::from("weir <-> websockets: deflate, ünïcødé 日本語 🦀 ");
    while unit.len() < 63 {
        unit.push('.');
    }
    unit.push('\n');
    assert_eq!(unit.len(), 64);
    unit
}

/// The messages of every deflate case; [`check_wire`] knows them by index.
fn deflate_messages() -> Vec<Spec> {
    vec![
        // 0: under weir's 64-byte threshold, sent uncompressed by weir.
        Spec::Text("small"),
        // 1, 2: the same 500 pseudo-random bytes twice: the second shrinks with context
        // takeover (even with a 9- or 10-bit window) and not without.
        Spec::Random {
            text: true,
            length: 500,
            seed: 7,
            copies: 1,
        },
        Spec::Random {
            text: true,
            length: 500,
            seed: 7,
            copies: 1,
        },
        // 3, 4: 1 MiB that compresses to almost nothing, text and binary.
        Spec::Repeat {
            text: true,
            unit: mebibyte_unit(),
            times: 1 << 14,
        },
        Spec::Repeat {
            text: false,
            unit: "0123456789abcdef".repeat(4),
            times: 1 << 14,
        },
        // 5: 2000 pseudo-random bytes 16 times: it only shrinks with a window over 2000 bytes.
        Spec::Random {
            text: true,
            length: 2000,
            seed: 9,
            copies: 16,
        },
        // 6: a short binary message and a multi-byte text one.
        Spec::Binary((0..=255u8).collect()),
        Spec::Text("héllo wörld ✓ 日本語 🦀 — permessage-deflate with multi-byte text"),
    ]
}

// ---- what was agreed ----

/// permessage-deflate's parameters, as an answer header says them (15 when absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Agreed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: u8,
    client_max_window_bits: u8,
}

const PLAIN: Agreed = Agreed {
    server_no_context_takeover: false,
    client_no_context_takeover: false,
    server_max_window_bits: 15,
    client_max_window_bits: 15,
};

impl Agreed {
    fn parse(answer: &str) -> Agreed {
        let mut parts = answer.split(';').map(str::trim);
        assert_eq!(parts.next(), Some("permessage-deflate"), "{answer}");
        let mut agreed = PLAIN;
        for part in parts {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let bits = || value.trim_matches('"').parse::<u8>().unwrap_or(15);
            match name.trim() {
                "server_no_context_takeover" => agreed.server_no_context_takeover = true,
                "client_no_context_takeover" => agreed.client_no_context_takeover = true,
                "server_max_window_bits" => agreed.server_max_window_bits = bits(),
                "client_max_window_bits" => agreed.client_max_window_bits = bits(),
                other => panic!("unknown parameter {other:?} in {answer}"),
            }
        }
        agreed
    }

    /// How websockets prints its extension, as the server or the client.
    fn python_repr(&self, python_is_server: bool) -> String {
        let (remote_nct, local_nct, remote_bits, local_bits) = if python_is_server {
            (
                self.client_no_context_takeover,
                self.server_no_context_takeover,
                self.client_max_window_bits,
                self.server_max_window_bits,
            )
        } else {
            (
                self.server_no_context_takeover,
                self.client_no_context_takeover,
                self.server_max_window_bits,
                self.client_max_window_bits,
            )
        };
        let py = |b: bool| if b { "True" } else { "False" };
        format!(
            "PerMessageDeflate(remote_no_context_takeover={}, local_no_context_takeover={}, \
             remote_max_window_bits={remote_bits}, local_max_window_bits={local_bits})",
            py(remote_nct),
            py(local_nct)
        )
    }

    /// (context takeover, window bits) of the compressor of one direction.
    fn compressor(&self, server: bool) -> (bool, u8) {
        if server {
            (
                !self.server_no_context_takeover,
                self.server_max_window_bits,
            )
        } else {
            (
                !self.client_no_context_takeover,
                self.client_max_window_bits,
            )
        }
    }
}

/// Checks the wire sizes Python reported for [`deflate_messages`]: `wire_in` is what weir's
/// compressor sent, `wire_out` what Python's sent. `weir_is_server` says whose is whose.
fn check_wire(events: &[Value], agreed: Agreed, weir_is_server: bool, case: &str) {
    let messages = deflate_messages();
    assert_eq!(events.len(), messages.len(), "{case}");
    let int = |event: &Value, field: &str| {
        event[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{case}: no {field} in {event}"))
    };
    for (spec, event) in messages.iter().zip(events) {
        let message = spec.message();
        assert_eq!(
            int(event, "length"),
            message.len() as u64,
            "{case}: {event}"
        );
        assert_eq!(
            int(event, "adler32"),
            adler32(message.as_bytes()),
            "{case}: {event}"
        );
        assert_eq!(
            event["type"],
            if message.is_text() { "text" } else { "binary" },
            "{case}"
        );
    }
    let weir = |i: usize| int(&events[i], "wire_in");
    let python = |i: usize| int(&events[i], "wire_out");
    let weir_compressed = |i: usize| events[i]["compressed_in"] == true;

    // The threshold: weir sends a 5-byte message as is.
    assert!(!weir_compressed(0), "{case}: {}", events[0]);
    assert_eq!(weir(0), 5, "{case}");
    // Everything else is compressed, but for the last two (the 256 bytes 0..=255 and the
    // short multi-byte text), which deflate would grow: weir sends those as they are (Python
    // compresses them to more bytes).
    for (i, event) in events.iter().enumerate().skip(1) {
        let incompressible = i >= 6;
        assert_eq!(
            event["compressed_in"], !incompressible,
            "{case}: weir compressed {event}"
        );
    }

    // Context takeover, each way.
    let (weir_takeover, weir_bits) = agreed.compressor(weir_is_server);
    let (python_takeover, _) = agreed.compressor(!weir_is_server);
    if weir_takeover {
        assert!(
            weir(2) * 4 < weir(1),
            "{case}: weir keeps its context, the repeat shrinks: {} then {}",
            weir(1),
            weir(2)
        );
    } else {
        assert_eq!(
            weir(2),
            weir(1),
            "{case}: weir resets its context for every message"
        );
    }
    if python_takeover {
        assert!(
            python(2) * 4 < python(1),
            "{case}: Python keeps its context"
        );
    } else {
        assert_eq!(python(2), python(1), "{case}: Python resets its context");
    }

    // 1 MiB of repetition shrinks, both ways: to a few KiB with 32 KiB windows; weir's
    // level 1 does worse with a 1 KiB window (zlib's level 1 too: about 50 KiB there).
    let (_, python_bits) = agreed.compressor(!weir_is_server);
    let bound = |bits: u8| {
        if bits >= 15 {
            (1 << 20) / 50
        } else {
            (1 << 20) / 8
        }
    };
    for i in [3, 4] {
        assert!(
            weir(i) < bound(weir_bits),
            "{case}: weir sent {} bytes",
            weir(i)
        );
        assert!(
            python(i) < bound(python_bits),
            "{case}: Python sent {} bytes",
            python(i)
        );
    }

    // The window: repetition 2000 bytes back only shrinks with a window over 2000 bytes.
    let length = 2000 * 16;
    if weir_bits <= 10 {
        assert!(
            weir(5) > length / 2,
            "{case}: weir kept to a {weir_bits}-bit window, so {} bytes",
            weir(5)
        );
    } else {
        assert!(weir(5) < length / 4, "{case}: weir sent {} bytes", weir(5));
    }
}

// ---- a weir client against a Python server ----

/// A weir client with `deflate` against a Python server with `flags`: the agreement must be
/// `expected`; every message of [`deflate_messages`] comes back; a ping; a 4001 close.
fn weir_client_deflate(deflate: DeflateOptions, flags: &[&str], expected: Agreed, case: &str) {
    support::run(async {
        let mut python_flags = vec!["--deflate"];
        python_flags.extend_from_slice(flags);
        let (python, port) = PythonPeer::server(&python_flags).await;
        let options = WebSocketClientOptions::new().compression(deflate);
        let url = format!("ws://127.0.0.1:{port}/");
        let mut weir = within("weir's connect", ws::websocket_client(&url, options))
            .await
            .expect("weir connects to the Python server");
        assert!(weir.is_compressed(), "{case}: permessage-deflate agreed");
        let answer = weir
            .handshake_headers()
            .get("sec-websocket-extensions")
            .expect("an extensions answer")
            .to_str()
            .unwrap()
            .to_owned();
        let agreed = Agreed::parse(&answer);
        assert_eq!(agreed, expected, "{case}: the answer {answer:?}");
        let open = python.event("open").await;
        assert_eq!(open["answer"], answer.as_str(), "{case}");
        assert_eq!(
            open["extensions"],
            json!([agreed.python_repr(true)]),
            "{case}: Python's view; weir offered {}",
            open["offer"]
        );

        for spec in deflate_messages() {
            echoed(&mut weir, &spec.message(), case, || python.stderr()).await;
        }
        assert!(
            within("weir's ping", weir.ping("over deflate"))
                .await
                .unwrap(),
            "{case}: the pong came back"
        );
        let mut events = Vec::new();
        for _ in deflate_messages() {
            events.push(python.event("message").await);
        }
        check_wire(&events, agreed, false, case);

        assert!(
            within("weir's close", weir.close(4001, "bye"))
                .await
                .unwrap()
        );
        let closed = python.event("closed").await;
        assert_eq!(
            (closed["code"].clone(), closed["reason"].clone()),
            (json!(4001), json!("bye"))
        );
        assert_eq!(weir.close_status().map(|s| s.code()), Some(4001), "{case}");
    });
}

// ---- a Python client against a weir server ----

/// A Python client with `flags` against a weir server with `deflate`: the agreement must be
/// `expected`; every message of [`deflate_messages`] arrives intact and goes back; a ping; a
/// 1001 close from Python.
fn python_client_deflate(deflate: DeflateOptions, flags: &[&str], expected: Agreed, case: &str) {
    support::run(async {
        let options = WebSocketOptions::new().compression(deflate);
        let server = WeirServer::start(Mode::Hand, options).await;
        let mut python_flags = vec!["--deflate"];
        python_flags.extend_from_slice(flags);
        let mut script: Vec<Value> = deflate_messages().iter().map(Spec::step).collect();
        script.push(json!({"ping": "over deflate"}));
        script.push(json!({"close": 1001, "reason": "away"}));
        let python = PythonPeer::client(&server.url(), &python_flags, &script);
        let mut weir = server.accepted().await;
        assert!(weir.is_compressed(), "{case}: permessage-deflate agreed");

        for spec in deflate_messages() {
            let expected_message = spec.message();
            let message = within("a message from Python", weir.next())
                .await
                .unwrap_or_else(|| panic!("{case}: drained early: {}", python.stderr()));
            assert!(
                message == expected_message,
                "{case}: weir took {message:?}, Python sent {expected_message:?}"
            );
            within("weir's echo", weir.send(message)).await.unwrap();
        }

        let open = python.event("open").await;
        let answer = open["answer"].as_str().expect("an extensions answer");
        let agreed = Agreed::parse(answer);
        assert_eq!(
            agreed, expected,
            "{case}: weir answered {answer:?} to {}",
            open["offer"]
        );
        assert_eq!(
            open["extensions"],
            json!([agreed.python_repr(false)]),
            "{case}: Python's view"
        );
        let mut events = Vec::new();
        for _ in deflate_messages() {
            events.push(python.event("message").await);
        }
        check_wire(&events, agreed, true, case);
        assert_eq!(
            python.event("pong").await["payload"],
            "over deflate",
            "{case}"
        );

        let (taken, drained) = drain(&mut weir).await;
        assert!(taken.is_empty(), "{case}: {taken:?}");
        assert_eq!(
            weir.close_status(),
            Some(CloseFrame::new(1001, "away")),
            "{case}"
        );
        // Going away is a clean close: the source drains without an error.
        drained.expect("a 1001 close drains cleanly");
        let closed = python.event("closed").await;
        assert_eq!(closed["code"], 1001, "{case}: weir echoes the code");
    });
}

/// Takes messages until weir's inbound side ends; returns them and how it drained.
async fn drain(weir: &mut WebSocket) -> (Vec<Message>, Result<(), weir::Error>) {
    let mut taken = Vec::new();
    while let Some(message) = within("weir's end to drain", weir.next()).await {
        taken.push(message);
    }
    let drained = within("weir's drained()", Source::drained(weir)).await;
    (taken, drained)
}

// ---- smoke ----

#[test]
fn smoke_weir_client_talks_to_a_python_echo_server() {
    support::run(async {
        let (python, port) = PythonPeer::server(&[]).await;
        let url = format!("ws://127.0.0.1:{port}/");
        let mut weir = within(
            "weir's connect",
            ws::websocket_client(&url, Default::default()),
        )
        .await
        .expect("weir connects to the Python server");
        assert!(!weir.is_compressed());
        weir.send("hello python").await.unwrap();
        assert_eq!(
            within("the echo", weir.next()).await,
            Some(Message::from("hello python"))
        );
        let open = python.event("open").await;
        assert_eq!(open["extensions"], json!([]));
        assert_eq!(python.event("message").await["text"], "hello python");
    });
}

// ---- deflate: a weir client, a Python server ----

#[test]
fn weir_client_deflate_defaults() {
    weir_client_deflate(DeflateOptions::new(), &[], PLAIN, "defaults");
}

#[test]
fn weir_client_asks_client_no_context_takeover() {
    let expected = Agreed {
        client_no_context_takeover: true,
        ..PLAIN
    };
    let deflate = DeflateOptions::new().client_no_context_takeover(true);
    weir_client_deflate(
        deflate,
        &[],
        expected,
        "weir asks client_no_context_takeover",
    );
}

#[test]
fn weir_client_asks_server_no_context_takeover() {
    let expected = Agreed {
        server_no_context_takeover: true,
        ..PLAIN
    };
    let deflate = DeflateOptions::new().server_no_context_takeover(true);
    weir_client_deflate(
        deflate,
        &[],
        expected,
        "weir asks server_no_context_takeover",
    );
}

#[test]
fn weir_client_asks_server_max_window_bits_10() {
    let expected = Agreed {
        server_max_window_bits: 10,
        ..PLAIN
    };
    let deflate = DeflateOptions::new().server_max_window_bits(10);
    weir_client_deflate(
        deflate,
        &[],
        expected,
        "weir asks server_max_window_bits=10",
    );
}

#[test]
fn weir_client_offers_client_max_window_bits_10() {
    let expected = Agreed {
        client_max_window_bits: 10,
        ..PLAIN
    };
    let deflate = DeflateOptions::new().client_max_window_bits(10);
    weir_client_deflate(
        deflate,
        &[],
        expected,
        "weir offers client_max_window_bits=10",
    );
}

#[test]
fn python_server_requires_client_no_context_takeover() {
    let expected = Agreed {
        client_no_context_takeover: true,
        ..PLAIN
    };
    weir_client_deflate(
        DeflateOptions::new(),
        &["--client-no-context-takeover"],
        expected,
        "Python requires client_no_context_takeover",
    );
}

#[test]
fn python_server_applies_server_no_context_takeover() {
    let expected = Agreed {
        server_no_context_takeover: true,
        ..PLAIN
    };
    weir_client_deflate(
        DeflateOptions::new(),
        &["--server-no-context-takeover"],
        expected,
        "Python applies server_no_context_takeover",
    );
}

#[test]
fn python_server_applies_server_max_window_bits_10() {
    let expected = Agreed {
        server_max_window_bits: 10,
        ..PLAIN
    };
    weir_client_deflate(
        DeflateOptions::new(),
        &["--server-max-window-bits", "10"],
        expected,
        "Python applies server_max_window_bits=10",
    );
}

#[test]
fn python_server_limits_client_max_window_bits_10() {
    let expected = Agreed {
        client_max_window_bits: 10,
        ..PLAIN
    };
    weir_client_deflate(
        DeflateOptions::new(),
        &["--client-max-window-bits", "10"],
        expected,
        "Python limits client_max_window_bits=10",
    );
}

// ---- deflate: a Python client, a weir server ----

#[test]
fn python_client_deflate_defaults() {
    python_client_deflate(DeflateOptions::new(), &[], PLAIN, "defaults");
}

#[test]
fn python_client_asks_client_no_context_takeover() {
    let expected = Agreed {
        client_no_context_takeover: true,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new(),
        &["--client-no-context-takeover"],
        expected,
        "Python asks client_no_context_takeover",
    );
}

#[test]
fn python_client_asks_server_no_context_takeover() {
    let expected = Agreed {
        server_no_context_takeover: true,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new(),
        &["--server-no-context-takeover"],
        expected,
        "Python asks server_no_context_takeover",
    );
}

#[test]
fn python_client_asks_server_max_window_bits_10() {
    let expected = Agreed {
        server_max_window_bits: 10,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new(),
        &["--server-max-window-bits", "10"],
        expected,
        "Python asks server_max_window_bits=10",
    );
}

#[test]
fn python_client_offers_client_max_window_bits_10() {
    let expected = Agreed {
        client_max_window_bits: 10,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new(),
        &["--client-max-window-bits", "10"],
        expected,
        "Python offers client_max_window_bits=10",
    );
}

#[test]
fn weir_server_applies_server_no_context_takeover() {
    let expected = Agreed {
        server_no_context_takeover: true,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new().server_no_context_takeover(true),
        &[],
        expected,
        "weir applies server_no_context_takeover",
    );
}

#[test]
fn weir_server_requires_client_no_context_takeover() {
    let expected = Agreed {
        client_no_context_takeover: true,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new().client_no_context_takeover(true),
        &[],
        expected,
        "weir requires client_no_context_takeover",
    );
}

#[test]
fn weir_server_applies_server_max_window_bits_10() {
    let expected = Agreed {
        server_max_window_bits: 10,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new().server_max_window_bits(10),
        &[],
        expected,
        "weir applies server_max_window_bits=10",
    );
}

#[test]
fn weir_server_limits_client_max_window_bits_10() {
    let expected = Agreed {
        client_max_window_bits: 10,
        ..PLAIN
    };
    python_client_deflate(
        DeflateOptions::new().client_max_window_bits(10),
        &[],
        expected,
        "weir limits client_max_window_bits=10",
    );
}

// ---- long conversations, fragments and limits over deflate ----

/// 300 messages of 0 to 2100 bytes, text and binary, whose contents repeat across messages
/// (so context takeover refers back into earlier ones), some sent in fragments; sizes around
/// weir's 64-byte threshold mix compressed and uncompressed messages.
fn conversation() -> Vec<Spec> {
    (0..300u64)
        .map(|i| {
            let length = (i * 37 % 2100) as usize;
            let body = pseudo_random(length, i % 5);
            let text = i % 3 != 0;
            if i % 7 == 0 {
                let cut = [length / 3, 2 * length / 3];
                let parts = vec![
                    body[..cut[0]].to_owned(),
                    body[cut[0]..cut[1]].to_owned(),
                    body[cut[1]..].to_owned(),
                ];
                Spec::Fragments { text, parts }
            } else {
                Spec::Random {
                    text,
                    length,
                    seed: i % 5,
                    copies: 1,
                }
            }
        })
        .collect()
}

#[test]
fn a_long_conversation_with_a_python_server_keeps_the_contexts_in_step() {
    support::run(async {
        let (python, port) = PythonPeer::server(&["--deflate"]).await;
        let options = WebSocketClientOptions::new().compression(DeflateOptions::new());
        // The server echoes each message in 3 compressed fragments.
        let url = format!("ws://127.0.0.1:{port}/fragment-echo");
        let mut weir = within("weir's connect", ws::websocket_client(&url, options))
            .await
            .unwrap();
        assert!(weir.is_compressed());
        for (i, spec) in conversation().iter().enumerate() {
            let message = spec.message();
            weir.send(message.clone()).await.unwrap();
            let echo = within("the echo", weir.next())
                .await
                .unwrap_or_else(|| panic!("no echo of message {i}: {}", python.stderr()));
            assert!(echo == message, "message {i}: {echo:?} is not {message:?}");
        }
        python.event("open").await;
        for (i, spec) in conversation().iter().enumerate() {
            let event = python.event("message").await;
            assert_eq!(event["adler32"], adler32(spec.message().as_bytes()), "{i}");
            assert_eq!(event["frames_in"], 1, "weir sends one frame a message");
            // Under the 64-byte threshold nothing is compressed; above it, everything that
            // shrinks is (a message deflate would grow goes out as it is).
            let length = spec.message().len();
            if length < 64 {
                assert_eq!(event["compressed_in"], false, "{i}: weir's threshold");
            } else if event["compressed_in"] == false {
                assert_eq!(event["wire_in"], length as u64, "{i}: sent as it is");
            }
        }
    });
}

#[test]
fn a_long_conversation_with_a_python_client_keeps_the_contexts_in_step() {
    support::run(async {
        let options = WebSocketOptions::new().compression(DeflateOptions::new());
        let server = WeirServer::start(Mode::Hand, options).await;
        let mut script: Vec<Value> = conversation().iter().map(Spec::step).collect();
        script.push(json!({"close": 1000}));
        let python = PythonPeer::client(&server.url(), &["--deflate"], &script);
        let mut weir = server.accepted().await;
        for (i, spec) in conversation().iter().enumerate() {
            let expected = spec.message();
            let message = within("a message from Python", weir.next())
                .await
                .unwrap_or_else(|| panic!("drained before message {i}: {}", python.stderr()));
            assert!(
                message == expected,
                "message {i}: {message:?} is not {expected:?}"
            );
            weir.send(message).await.unwrap();
        }
        python.event("open").await;
        for (i, spec) in conversation().iter().enumerate() {
            let event = python.event("message").await;
            assert_eq!(event["adler32"], adler32(spec.message().as_bytes()), "{i}");
        }
        assert_eq!(python.event("closed").await["code"], 1000);
        let (_, drained) = drain(&mut weir).await;
        drained.expect("a 1000 close drains Ok");
    });
}

#[test]
fn a_compressed_message_inflating_past_max_message_size_closes_the_weir_server_with_1009() {
    support::run(async {
        let options = WebSocketOptions::new()
            .compression(DeflateOptions::new())
            .max_message_size(1 << 20);
        let server = WeirServer::start(Mode::Hand, options).await;
        // 2 MiB of one letter: a few KiB on the wire.
        let script = [json!({"send": "text", "repeat": "a", "times": 2 << 20})];
        let python = PythonPeer::client(&server.url(), &["--deflate"], &script);
        let mut weir = server.accepted().await;
        let (taken, drained) = drain(&mut weir).await;
        assert!(taken.is_empty());
        let error = drained.expect_err("a message too big drains with an error");
        assert_eq!(
            error.downcast_ref::<CloseFrame>().map(CloseFrame::code),
            Some(1009),
            "{error:?}"
        );
        python.event("open").await;
        let failed = python.event("error").await;
        assert_eq!(failed["code"], 1009, "{failed}");
    });
}

#[test]
fn a_compressed_message_inflating_past_max_message_size_closes_the_weir_client_with_1009() {
    support::run(async {
        let (python, port) = PythonPeer::server(&["--deflate"]).await;
        let options = WebSocketClientOptions::new()
            .compression(DeflateOptions::new())
            .max_message_size(1 << 20);
        let url = format!("ws://127.0.0.1:{port}/");
        let mut weir = within("weir's connect", ws::websocket_client(&url, options))
            .await
            .unwrap();
        // weir sends 2 MiB (its limit is on what it takes); the echo is too big for it.
        weir.send("a".repeat(2 << 20)).await.unwrap();
        let (taken, drained) = drain(&mut weir).await;
        assert!(taken.is_empty());
        let error = drained.expect_err("a message too big drains with an error");
        assert_eq!(
            error.downcast_ref::<CloseFrame>().map(CloseFrame::code),
            Some(1009),
            "{error:?}"
        );
        python.event("open").await;
        let closed = loop {
            let line: Value = serde_json::from_str(&python.line().await).unwrap();
            if line["event"] == "closed" {
                break line;
            }
        };
        assert_eq!(closed["code"], 1009, "{closed}");
    });
}

// ---- one side without compression ----

#[test]
fn weir_client_offering_deflate_to_a_python_server_without_it_goes_on_uncompressed() {
    support::run(async {
        let (python, port) = PythonPeer::server(&[]).await;
        let options = WebSocketClientOptions::new().compression(DeflateOptions::new());
        let url = format!("ws://127.0.0.1:{port}/");
        let mut weir = within("weir's connect", ws::websocket_client(&url, options))
            .await
            .unwrap();
        assert!(!weir.is_compressed());
        let big = Message::from(mebibyte_unit().repeat(1 << 14));
        weir.send(big.clone()).await.unwrap();
        assert!(within("the echo", weir.next()).await == Some(big));
        let open = python.event("open").await;
        assert_eq!(open["extensions"], json!([]));
        assert!(
            open["offer"]
                .as_str()
                .unwrap()
                .starts_with("permessage-deflate")
        );
        assert_eq!(open["answer"], Value::Null);
    });
}

#[test]
fn python_client_offering_deflate_to_a_weir_server_without_it_goes_on_uncompressed() {
    support::run(async {
        let server = WeirServer::start(Mode::Echo, WebSocketOptions::new()).await;
        let script = [
            json!({"send": "text", "repeat": "abc", "times": 100_000}),
            json!({"close": 1000}),
        ];
        let python = PythonPeer::client(&server.url(), &["--deflate"], &script);
        let open = python.event("open").await;
        assert_eq!(open["extensions"], json!([]));
        assert_eq!(open["answer"], Value::Null);
        let message = python.event("message").await;
        assert_eq!(message["length"], 300_000);
        assert_eq!(
            message["compressed_out"],
            Value::Null,
            "nothing to compress with"
        );
        assert_eq!(python.event("closed").await["code"], 1000);
    });
}

// ---- pings and close codes, uncompressed and compressed ----

#[test]
fn a_python_server_pinging_the_weir_client_gets_its_pong() {
    support::run(async {
        let (python, port) = PythonPeer::server(&["--deflate"]).await;
        let options = WebSocketClientOptions::new().compression(DeflateOptions::new());
        let url = format!("ws://127.0.0.1:{port}/ping/are-you-there");
        let mut weir = within("weir's connect", ws::websocket_client(&url, options))
            .await
            .unwrap();
        python.event("open").await;
        assert_eq!(python.event("pong").await["payload"], "are-you-there");
        weir.send("after the ping").await.unwrap();
        assert_eq!(
            within("the echo", weir.next()).await,
            Some(Message::from("after the ping"))
        );
    });
}

#[test]
fn a_python_server_closing_with_4002_reaches_the_weir_client() {
    support::run(async {
        let (python, port) = PythonPeer::server(&[]).await;
        let url = format!("ws://127.0.0.1:{port}/close/4002/bye");
        let mut weir = within(
            "weir's connect",
            ws::websocket_client(&url, Default::default()),
        )
        .await
        .unwrap();
        let (taken, drained) = drain(&mut weir).await;
        assert!(taken.is_empty());
        let status = weir.close_status().expect("a status once closed");
        assert_eq!(status.code(), 4002, "{status}");
        let error = drained.expect_err("a 4002 close drains with an error");
        assert_eq!(
            error.downcast_ref::<CloseFrame>().map(CloseFrame::code),
            Some(4002)
        );
        python.event("open").await;
        assert_eq!(python.event("closed").await["code"], 4002);
        within("weir's socket_closed()", weir.socket_closed())
            .await
            .unwrap();
    });
}

#[test]
fn a_weir_server_closing_with_4001_reaches_the_python_client() {
    support::run(async {
        let server = WeirServer::start(Mode::Hand, WebSocketOptions::new()).await;
        let python = PythonPeer::client(&server.url(), &[], &[json!({"wait_close": true})]);
        let weir = server.accepted().await;
        python.event("open").await;
        assert!(
            within("weir's close", weir.close(4001, "bye"))
                .await
                .unwrap()
        );
        let closed = python.event("closed").await;
        assert_eq!(
            (closed["code"].clone(), closed["reason"].clone()),
            (json!(4001), json!("bye"))
        );
        assert_eq!(weir.close_status().map(|s| s.code()), Some(4001));
    });
}

#[test]
fn a_normal_close_from_python_drains_the_weir_server_ok() {
    support::run(async {
        let server = WeirServer::start(Mode::Hand, WebSocketOptions::new()).await;
        let script = [json!({"close": 1000, "reason": "done"})];
        let python = PythonPeer::client(&server.url(), &[], &script);
        let mut weir = server.accepted().await;
        let (taken, drained) = drain(&mut weir).await;
        assert!(taken.is_empty());
        drained.expect("a 1000 close drains Ok");
        assert_eq!(weir.close_status(), Some(CloseFrame::new(1000, "done")));
        python.event("open").await;
        assert_eq!(python.event("closed").await["code"], 1000);
    });
}
