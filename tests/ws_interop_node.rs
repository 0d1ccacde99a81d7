//! WebSocket interop with npm's `ws` (Node.js), a third independent implementation beside
//! Python's `websockets` and tungstenite: a weir client against a `ws` echo server and a `ws`
//! client against weir's echo server, each without and with permessage-deflate, with text,
//! binary, a message of almost 1 MiB, a fragmented one (sent by `ws`), pings both ways and close codes
//! both ways.
//!
//! The peer is `tests/peers/ws_peer.js`, run by `node` with the `ws` that
//! `scripts/ws-peers.sh install` puts in `target/ws-peers/node`; without them these tests fail
//! and say so. It reports what it sees as JSON lines: for each message its type, size and
//! Adler-32, and its TCP socket's byte counts, so the tests check that compression was agreed
//! and happened each way (a repetitive one of almost 1 MiB crosses in a few KiB). Each child is
//! killed on every path (a guard), and every wait is bounded.
#![cfg(feature = "ws")]

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use weir::ws::{
    self, CloseFrame, DeflateOptions, Message, WebSocketClientOptions, WebSocketOptions,
};

use support::peer_process::{PeerProcess, adler32, hex};
use support::ws_interop::{Mode, WeirServer, echoed, within};

// ---- the Node.js peer ----

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/ws-peers/node/node_modules`, or a failure that says how to make it.
fn node_modules() -> PathBuf {
    let modules = root().join("target/ws-peers/node/node_modules");
    assert!(
        modules.join("ws/package.json").exists(),
        "{} has no `ws`: the Node.js interop peer is not installed. Run \
         `scripts/ws-peers.sh install` from the repository root (CI runs it before the tests).",
        modules.display()
    );
    modules
}

fn node_peer(args: &[String]) -> PeerProcess {
    let mut all = vec![root().join("tests/peers/ws_peer.js").display().to_string()];
    all.extend_from_slice(args);
    PeerProcess::spawn(
        "Node.js",
        Path::new("node"),
        &all,
        &[("NODE_PATH", &node_modules())],
        (
            "Cannot find module 'ws'",
            "run `scripts/ws-peers.sh install`",
        ),
    )
}

/// A `ws` echo server, with `perMessageDeflate` options when `deflate` is given; its port.
async fn node_server(deflate: Option<Value>) -> (PeerProcess, u16) {
    let mut args = vec!["server".to_owned(), "--port".to_owned(), "0".to_owned()];
    if let Some(options) = deflate {
        args.extend(["--deflate".to_owned(), options.to_string()]);
    }
    let peer = node_peer(&args);
    let port = peer.listening_port().await;
    (peer, port)
}

/// A `ws` client of `url` running `script`.
fn node_client(url: &str, deflate: Option<Value>, script: &[Value]) -> PeerProcess {
    let mut args = vec![
        "client".to_owned(),
        url.to_owned(),
        "--script".to_owned(),
        Value::Array(script.to_vec()).to_string(),
    ];
    if let Some(options) = deflate {
        args.extend(["--deflate".to_owned(), options.to_string()]);
    }
    node_peer(&args)
}

// ---- what both sides send ----

/// The unit of the large message, and how many times it repeats (just under 1 MiB of
/// multi-byte text, which deflate takes to a few KiB).
const UNIT: &str = "weir <-> ws: ünïcødé 日本語 🦀 permessage-deflate ";
const TIMES: usize = (1 << 20) / UNIT.len();

/// The messages of every case, in order.
fn messages() -> Vec<Message> {
    vec![
        Message::from("héllo wörld ✓"),
        Message::from((0..=255u8).collect::<Vec<u8>>()),
        Message::from(""),
        Message::from(UNIT.repeat(TIMES)),
    ]
}

/// `message` as a step of ws_peer.js's client script (the large one by repetition: it would
/// not fit on a command line).
fn step(message: &Message) -> Value {
    match message {
        Message::Text(text) if text.len() > 4096 => {
            json!({"send": "text", "repeat": UNIT, "times": TIMES})
        }
        Message::Text(text) => json!({"send": "text", "data": text}),
        Message::Binary(bytes) => json!({"send": "binary", "data": hex(bytes)}),
    }
}

/// Checks what the peer reported for `message`.
fn check_seen(event: &Value, message: &Message, case: &str) {
    assert_eq!(event["text"], message.is_text(), "{case}: {event}");
    assert_eq!(event["size"], message.len() as u64, "{case}: {event}");
    assert_eq!(
        event["adler"],
        adler32(message.as_bytes()),
        "{case}: {event}"
    );
}

/// The bytes a byte count in `after` grew by since `before`.
fn grew(before: &Value, after: &Value, field: &str) -> u64 {
    let count = |event: &Value| {
        event[field]
            .as_u64()
            .unwrap_or_else(|| panic!("no {field} in {event}"))
    };
    count(after) - count(before)
}

/// The large message (the fourth), on the wire as ws counted it: what it read (weir's frames)
/// and what it wrote (its own). Compressed, a few KiB each way; otherwise the whole message.
fn check_large_on_the_wire(events: &[Value], compressed: bool, case: &str) {
    let (before, after) = (&events[2], &events[3]);
    let (read, written) = (grew(before, after, "read"), grew(before, after, "written"));
    if compressed {
        assert!(read < 64 * 1024, "{case}: weir sent {read} bytes");
        assert!(written < 64 * 1024, "{case}: ws sent {written} bytes");
    } else {
        assert!(read > 1_000_000, "{case}: weir sent {read} bytes");
        assert!(written > 1_000_000, "{case}: ws sent {written} bytes");
    }
}

// ---- a weir client against a ws server ----

/// A weir client against a `ws` echo server: every message comes back intact, a ping, a
/// 4002 close with a reason. With `deflate`, compression is agreed (ws's answer containing the
/// `expected` parameters) and the large message crosses small both ways.
fn weir_client_against_node_server(
    deflate: Option<(DeflateOptions, Value)>,
    expected: &[&str],
    case: &str,
) {
    support::run(async {
        let compressed = deflate.is_some();
        let (weir_deflate, node_deflate) = deflate.unzip();
        let (node, port) = node_server(node_deflate).await;
        let mut options = WebSocketClientOptions::new();
        if let Some(deflate) = weir_deflate {
            options = options.compression(deflate);
        }
        let url = format!("ws://127.0.0.1:{port}/");
        let mut weir = within("weir's connect", ws::websocket_client(&url, options))
            .await
            .expect("weir connects to the ws server");
        assert_eq!(weir.is_compressed(), compressed, "{case}");
        let open = node.event("open").await;
        let answer = weir
            .handshake_headers()
            .get("sec-websocket-extensions")
            .map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(open["extensions"], json!(answer), "{case}: ws's answer");
        if compressed {
            let answer = answer.expect("an extensions answer");
            assert!(answer.starts_with("permessage-deflate"), "{case}: {answer}");
            for parameter in expected {
                assert!(
                    answer.contains(parameter),
                    "{case}: {parameter} in {answer}"
                );
            }
        }

        let mut events = Vec::new();
        for message in messages() {
            echoed(&mut weir, &message, case, || node.stderr()).await;
            let event = node.event("echo").await;
            check_seen(&event, &message, case);
            events.push(event);
        }
        check_large_on_the_wire(&events, compressed, case);

        assert!(
            within("weir's ping", weir.ping("from weir")).await.unwrap(),
            "{case}: the pong came back"
        );
        assert_eq!(
            node.event("ping").await["data"],
            hex(b"from weir"),
            "{case}"
        );

        assert!(
            within("weir's close", weir.close(4002, "bye, ws"))
                .await
                .unwrap(),
            "{case}: the closing handshake finished"
        );
        let closed = node.event("close").await;
        assert_eq!(
            (closed["code"].clone(), closed["reason"].clone()),
            (json!(4002), json!("bye, ws")),
            "{case}"
        );
        // ws echoes the code (RFC 6455 5.5.1).
        assert_eq!(weir.close_status().map(|s| s.code()), Some(4002), "{case}");
    });
}

#[test]
fn weir_client_against_a_ws_server_without_compression() {
    weir_client_against_node_server(None, &[], "plain");
}

#[test]
fn weir_client_against_a_ws_server_with_deflate() {
    weir_client_against_node_server(
        Some((DeflateOptions::new(), json!({"threshold": 0}))),
        &[],
        "deflate",
    );
}

#[test]
fn weir_client_asks_a_ws_server_for_no_context_takeover_and_10_bit_windows() {
    weir_client_against_node_server(
        Some((
            DeflateOptions::new()
                .server_no_context_takeover(true)
                .client_no_context_takeover(true)
                .server_max_window_bits(10)
                .client_max_window_bits(10),
            json!({"threshold": 0}),
        )),
        &[
            "server_no_context_takeover",
            "client_no_context_takeover",
            "server_max_window_bits=10",
            "client_max_window_bits=10",
        ],
        "no context takeover, 10-bit windows",
    );
}

// ---- a ws client against a weir server ----

/// A `ws` client against weir's echo server (`connect(socket, socket)`): every message and a
/// message in three fragments come back intact, a ping, a 4001 close (weir echoes the code).
/// With `deflate` (ws's offer), weir's answer must contain `expected` parameters, and the
/// large message crosses small both ways.
fn node_client_against_weir_server(deflate: Option<Value>, expected: &[&str], case: &str) {
    support::run(async {
        let compressed = deflate.is_some();
        let mut options = WebSocketOptions::new();
        if compressed {
            options = options.compression(DeflateOptions::new());
        }
        let server = WeirServer::start(Mode::Echo, options).await;
        let fragmented = Message::from("fragmented ✓ über drei Teile");
        let mut script: Vec<Value> = messages().iter().map(step).collect();
        script.push(json!({"send": "text", "fragments": ["fragmented ✓ ", "über drei", " Teile"]}));
        script.push(json!({"ping": hex(b"from ws")}));
        script.push(json!({"close": 4001, "reason": "done"}));
        let node = node_client(&server.url(), deflate, &script);
        let weir = server.accepted().await;

        let open = node.event("open").await;
        if compressed {
            let answer = open["extensions"]
                .as_str()
                .unwrap_or_else(|| panic!("{case}: no extensions answer: {open}"));
            assert!(answer.starts_with("permessage-deflate"), "{case}: {answer}");
            for parameter in expected {
                assert!(
                    answer.contains(parameter),
                    "{case}: {parameter} in {answer}"
                );
            }
            assert!(weir.is_compressed(), "{case}");
        } else {
            assert_eq!(open["extensions"], Value::Null, "{case}");
            assert!(!weir.is_compressed(), "{case}");
        }

        let mut events = Vec::new();
        for message in messages().iter().chain([&fragmented]) {
            let event = node.event("message").await;
            check_seen(&event, message, case);
            events.push(event);
        }
        check_large_on_the_wire(&events, compressed, case);

        assert_eq!(node.event("pong").await["data"], hex(b"from ws"), "{case}");
        let closed = node.event("close").await;
        assert_eq!(closed["code"], 4001, "{case}: weir echoes the code");
        within("weir's socket to close", weir.socket_closed())
            .await
            .expect("closed");
        assert_eq!(
            weir.close_status(),
            Some(CloseFrame::new(4001, "done")),
            "{case}"
        );
    });
}

#[test]
fn ws_client_against_a_weir_server_without_compression() {
    node_client_against_weir_server(None, &[], "plain");
}

#[test]
fn ws_client_against_a_weir_server_with_deflate() {
    node_client_against_weir_server(Some(json!({"threshold": 0})), &[], "deflate");
}

#[test]
fn ws_client_asks_a_weir_server_for_no_context_takeover_and_10_bit_windows() {
    node_client_against_weir_server(
        Some(json!({
            "threshold": 0,
            "serverNoContextTakeover": true,
            "clientNoContextTakeover": true,
            "serverMaxWindowBits": 10,
            "clientMaxWindowBits": 10,
        })),
        &[
            "server_no_context_takeover",
            "client_no_context_takeover",
            "server_max_window_bits=10",
            "client_max_window_bits=10",
        ],
        "no context takeover, 10-bit windows",
    );
}
