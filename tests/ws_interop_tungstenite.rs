//! WebSocket interop with tokio-tungstenite as the independent peer, in both directions: a weir
//! server with a tungstenite client, and a tungstenite server with a weir client. Round trips
//! (text, binary, empty, 1 MiB, multi-byte UTF-8, bursts), fragments sent raw by tungstenite,
//! pings both ways, close codes and the drain cause, protocol violations answered with the
//! right close code (a table), the message, frame and fragment limits, heartbeats,
//! subprotocols and refused handshakes. A few cases need bytes tungstenite will not produce
//! (an unmasked client frame, frames in the same write as a handshake, malformed 101s): those
//! use a raw socket, with tungstenite's frame encoder.
//!
//! Cases that run both ways are written once against a [`Pair`] and expanded by
//! `both_ways!` into `case::weir_server` and `case::weir_client`. Everything is on loopback,
//! and every wait is bounded (the whole test by `BOUND`, and each step by `within`).
#![cfg(feature = "ws")]

mod support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame as PeerCloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::{self, Message as PeerMessage};
use weir::stream::Source;
use weir::ws::{
    self, CloseFrame, Heartbeats, Message, WebSocket, WebSocketClientOptions, WebSocketOptions,
};

use support::ws_interop::{Mode, WeirServer, run_tokio, within};

/// tungstenite's end, over plain TCP on either side.
type Peer = WebSocketStream<TcpStream>;

/// Which end weir is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// A weir server, a tungstenite client.
    WeirServer,
    /// A tungstenite server, a weir client.
    WeirClient,
}

/// What a case sets on weir's end.
#[derive(Clone, Debug, Default)]
struct Setup {
    max_message_size: Option<usize>,
    max_frame_payload: Option<usize>,
    max_fragments: Option<usize>,
    heartbeats: Option<Heartbeats>,
}

/// Longer than the test's bound: a closing handshake that only ends by weir's close timeout
/// fails the test instead of passing slowly.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(60);

impl Setup {
    fn server(&self) -> WebSocketOptions {
        let mut options = WebSocketOptions::new().close_timeout(CLOSE_TIMEOUT);
        if let Some(bytes) = self.max_message_size {
            options = options.max_message_size(bytes);
        }
        if let Some(bytes) = self.max_frame_payload {
            options = options.max_frame_payload(bytes);
        }
        if let Some(fragments) = self.max_fragments {
            options = options.max_fragments(fragments);
        }
        if let Some(heartbeats) = &self.heartbeats {
            options = options.heartbeats(heartbeats.clone());
        }
        options
    }

    fn client(&self) -> WebSocketClientOptions {
        let mut options = WebSocketClientOptions::new()
            .close_timeout(CLOSE_TIMEOUT)
            .connect_timeout(support::BOUND)
            .handshake_timeout(support::BOUND);
        if let Some(bytes) = self.max_message_size {
            options = options.max_message_size(bytes);
        }
        if let Some(bytes) = self.max_frame_payload {
            options = options.max_frame_payload(bytes);
        }
        if let Some(fragments) = self.max_fragments {
            options = options.max_fragments(fragments);
        }
        if let Some(heartbeats) = &self.heartbeats {
            options = options.heartbeats(heartbeats.clone());
        }
        options
    }
}

/// An open connection: weir's socket at one end, tungstenite's at the other.
struct Pair {
    weir: WebSocket,
    peer: Peer,
    /// The weir server, kept for the connection's life.
    _server: Option<WeirServer>,
}

async fn open_pair(side: Side, setup: Setup) -> Pair {
    match side {
        Side::WeirServer => {
            let server = WeirServer::start(Mode::Hand, setup.server()).await;
            let (peer, _) = connect_peer(&server, server.url()).await;
            let weir = server.accepted().await;
            Pair {
                weir,
                peer,
                _server: Some(server),
            }
        }
        Side::WeirClient => {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind loopback");
            let url = format!("ws://{}/", listener.local_addr().unwrap());
            let (peer, weir) = within("both ends of the handshake", async {
                tokio::join!(
                    async {
                        let (tcp, _) = listener.accept().await.expect("accept");
                        tokio_tungstenite::accept_async(tcp)
                            .await
                            .expect("tungstenite accepts weir's upgrade")
                    },
                    ws::websocket_client(&url, setup.client()),
                )
            })
            .await;
            Pair {
                weir: weir.expect("weir's handshake with the tungstenite server"),
                peer,
                _server: None,
            }
        }
    }
}

/// A tungstenite client's handshake with the weir server.
async fn connect_peer(
    server: &WeirServer,
    request: impl IntoClientRequest + Unpin,
) -> (Peer, tungstenite::handshake::client::Response) {
    let tcp = within(
        "TCP connect",
        TcpStream::connect(server.server.local_addr()),
    )
    .await
    .expect("connect to the weir server");
    let (peer, response) = within(
        "tungstenite's handshake",
        tokio_tungstenite::client_async(request, tcp),
    )
    .await
    .expect("tungstenite's handshake with the weir server");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    (peer, response)
}

/// Runs a case once with each end as the weir end: `case::weir_server`, `case::weir_client`.
/// `server:`/`client:` put attributes (an `#[ignore]`) on one direction only.
macro_rules! both_ways {
    ($case:ident $(, server: #[$server:meta])? $(, client: #[$client:meta])? $(,)?) => {
        mod $case {
            #[test]
            $(#[$server])?
            fn weir_server() {
                super::run_tokio(super::$case(super::Side::WeirServer));
            }

            #[test]
            $(#[$client])?
            fn weir_client() {
                super::run_tokio(super::$case(super::Side::WeirClient));
            }
        }
    };
}

// ---- helpers: tungstenite's end ----

/// weir's message as tungstenite's.
fn peer_message(message: &Message) -> PeerMessage {
    match message {
        Message::Text(text) => PeerMessage::text(text.clone()),
        Message::Binary(bytes) => PeerMessage::binary(bytes.clone()),
    }
}

/// The next message tungstenite reads, control frames included.
async fn peer_next(peer: &mut Peer) -> PeerMessage {
    match within("a message at tungstenite's end", peer.next()).await {
        Some(Ok(message)) => message,
        Some(Err(error)) => panic!("tungstenite's end failed: {error}"),
        None => panic!("tungstenite's end saw the connection end"),
    }
}

/// The next text or binary message tungstenite reads (pings and pongs skipped).
async fn peer_data(peer: &mut Peer) -> PeerMessage {
    loop {
        match peer_next(peer).await {
            PeerMessage::Ping(_) | PeerMessage::Pong(_) => continue,
            other => return other,
        }
    }
}

/// Reads until the connection ends and returns the close frame tungstenite received (code,
/// reason), `None` for a close frame without a status. Errors after the close frame (a reset)
/// are fine; an end before any close frame fails the test. Drops tungstenite's end, which
/// closes its TCP connection (what a weir client waits for).
async fn peer_close(mut peer: Peer) -> Option<(u16, String)> {
    let mut received = None;
    loop {
        match within("tungstenite's end to close", peer.next()).await {
            Some(Ok(PeerMessage::Close(frame))) => {
                received = Some(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                assert!(
                    received.is_some(),
                    "tungstenite's end failed before a close frame: {error}"
                );
                break;
            }
            None => break,
        }
    }
    drop(peer);
    received.expect("tungstenite's end saw the connection end without a close frame")
}

// ---- helpers: weir's end ----

/// The next message weir's end takes.
async fn weir_next(weir: &mut WebSocket) -> Message {
    within("a message at weir's end", weir.next())
        .await
        .expect("weir's end drained before the message")
}

/// Takes messages until weir's inbound side ends; returns what it took and how it drained.
async fn weir_end(weir: &mut WebSocket) -> (Vec<Message>, Result<(), weir::Error>) {
    let mut taken = Vec::new();
    while let Some(message) = within("weir's end to drain", weir.next()).await {
        taken.push(message);
    }
    let drained = within("weir's drained()", Source::drained(weir)).await;
    (taken, drained)
}

/// The close status a drain error carries as its source.
fn drain_status(error: &weir::Error) -> CloseFrame {
    error
        .downcast_ref::<CloseFrame>()
        .unwrap_or_else(|| panic!("the drain error {error:?} has no CloseFrame source"))
        .clone()
}

/// tungstenite sends `message`, weir takes it.
async fn peer_to_weir(pair: &mut Pair, message: Message) -> Message {
    let (sent, taken) = tokio::join!(
        pair.peer.send(peer_message(&message)),
        weir_next(&mut pair.weir)
    );
    sent.expect("tungstenite sends");
    taken
}

/// weir sends `message`, tungstenite reads it (concurrently: a large message only fits through
/// the socket while the other end reads).
async fn weir_to_peer(pair: &mut Pair, message: Message) -> PeerMessage {
    let (sent, read) = tokio::join!(
        within("weir's send", pair.weir.send(message)),
        peer_data(&mut pair.peer)
    );
    sent.expect("weir sends");
    read
}

/// Sends raw frames from tungstenite's end (masked by tungstenite when it is the client).
async fn peer_frames(peer: &mut Peer, frames: Vec<Frame>) {
    for frame in frames {
        within("tungstenite's feed", peer.feed(PeerMessage::Frame(frame)))
            .await
            .expect("tungstenite queues a raw frame");
    }
    within("tungstenite's flush", peer.flush())
        .await
        .expect("tungstenite writes raw frames");
}

fn text_frame(payload: impl Into<bytes::Bytes>, fin: bool) -> Frame {
    Frame::message(payload, OpCode::Data(Data::Text), fin)
}

fn continuation(payload: impl Into<bytes::Bytes>, fin: bool) -> Frame {
    Frame::message(payload, OpCode::Data(Data::Continue), fin)
}

fn binary_frame(payload: impl Into<bytes::Bytes>, fin: bool) -> Frame {
    Frame::message(payload, OpCode::Data(Data::Binary), fin)
}

/// A frame with any header (for the malformed ones).
fn raw_frame(opcode: OpCode, fin: bool, payload: impl Into<bytes::Bytes>) -> Frame {
    let header = FrameHeader {
        is_final: fin,
        opcode,
        ..FrameHeader::default()
    };
    Frame::from_payload(header, payload.into())
}

/// 1 MiB of printable text with multi-byte characters.
fn mebibyte_text() -> String {
    let unit = "weir ⇄ tungstenite: ünïcødé 日本語 🦀\n";
    let mut text = String::with_capacity(1 << 20);
    while text.len() + unit.len() <= 1 << 20 {
        text.push_str(unit);
    }
    while text.len() < 1 << 20 {
        text.push('.');
    }
    text
}

fn mebibyte_binary() -> Vec<u8> {
    (0..1usize << 20).map(|i| (i * 31 % 251) as u8).collect()
}

// ---- smoke ----

#[test]
fn smoke_tungstenite_client_talks_to_a_weir_echo_server() {
    run_tokio(async {
        let server = WeirServer::start(Mode::Echo, WebSocketOptions::new()).await;
        let (mut peer, _) = connect_peer(&server, server.url()).await;
        peer.send(PeerMessage::text("hello weir")).await.unwrap();
        assert_eq!(peer_data(&mut peer).await, PeerMessage::text("hello weir"));
        peer.close(None).await.unwrap();
        assert_eq!(
            peer_close(peer).await,
            None,
            "weir echoes a close without a status"
        );
    });
}

// ---- round trips ----

both_ways!(text_and_binary_round_trips);

async fn text_and_binary_round_trips(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    let messages = [
        Message::from("hello"),
        Message::from(vec![0u8, 1, 2, 127, 128, 254, 255]),
        Message::from(""),
        Message::from(Vec::<u8>::new()),
        Message::from("héllo wörld ✓ 日本語 🦀 \u{10FFFF}"),
        Message::from("a".repeat(125)),
        Message::from("b".repeat(126)),
        Message::from("c".repeat(65_535)),
        Message::from(vec![7u8; 65_536]),
    ];
    for message in messages {
        let taken = peer_to_weir(&mut pair, message.clone()).await;
        assert_eq!(taken, message, "{side:?}: tungstenite -> weir");
        let read = weir_to_peer(&mut pair, message.clone()).await;
        assert_eq!(
            read,
            peer_message(&message),
            "{side:?}: weir -> tungstenite"
        );
    }
}

both_ways!(one_mebibyte_messages);

async fn one_mebibyte_messages(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    for message in [
        Message::from(mebibyte_binary()),
        Message::from(mebibyte_text()),
    ] {
        assert_eq!(message.len(), 1 << 20);
        let taken = peer_to_weir(&mut pair, message.clone()).await;
        assert!(
            taken == message,
            "{side:?}: tungstenite -> weir, 1 MiB {taken:?}"
        );
        let read = weir_to_peer(&mut pair, message.clone()).await;
        assert!(
            read == peer_message(&message),
            "{side:?}: weir -> tungstenite, 1 MiB ({} bytes read)",
            read.len()
        );
    }
}

both_ways!(bursts_arrive_in_order);

/// 500 messages each way without waiting in between: more than weir's inbound buffer and its
/// write gathering hold at once.
async fn bursts_arrive_in_order(side: Side) {
    const N: usize = 500;
    let mut pair = open_pair(side, Setup::default()).await;
    let Pair { weir, peer, .. } = &mut pair;
    let (sent, taken) = tokio::join!(
        async {
            for i in 0..N {
                peer.feed(PeerMessage::text(format!("to weir {i}"))).await?;
            }
            peer.flush().await
        },
        async {
            let mut taken = Vec::new();
            for _ in 0..N {
                taken.push(weir_next(weir).await);
            }
            taken
        }
    );
    sent.expect("tungstenite sends the burst");
    let expected: Vec<Message> = (0..N)
        .map(|i| Message::from(format!("to weir {i}")))
        .collect();
    assert_eq!(taken, expected, "{side:?}: tungstenite -> weir");

    let (sent, read) = tokio::join!(
        async {
            for i in 0..N {
                weir.feed(Message::from(vec![(i % 256) as u8; i])).await?;
            }
            SinkExt::<Message>::flush(weir).await
        },
        async {
            let mut read = Vec::new();
            for _ in 0..N {
                read.push(peer_data(peer).await);
            }
            read
        }
    );
    sent.expect("weir sends the burst");
    for (i, message) in read.into_iter().enumerate() {
        assert_eq!(
            message,
            PeerMessage::binary(vec![(i % 256) as u8; i]),
            "{side:?}: weir -> tungstenite, message {i}"
        );
    }
}

// ---- fragments ----

both_ways!(fragments_from_tungstenite_arrive_whole);

async fn fragments_from_tungstenite_arrive_whole(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    // A text message in 3 fragments with a ping between the first two.
    peer_frames(
        &mut pair.peer,
        vec![
            text_frame("hello, ", false),
            Frame::ping("between fragments"),
            continuation("fragmented ", false),
            continuation("world", true),
        ],
    )
    .await;
    assert_eq!(
        weir_next(&mut pair.weir).await,
        Message::from("hello, fragmented world"),
        "{side:?}"
    );
    assert_eq!(
        peer_next(&mut pair.peer).await,
        PeerMessage::Pong("between fragments".into()),
        "{side:?}: the ping inside the message is answered"
    );

    // A character split between fragments ("é" is C3 A9), empty fragments, and a binary
    // message in fragments.
    peer_frames(
        &mut pair.peer,
        vec![
            text_frame(&b"caf\xc3"[..], false),
            continuation(&b""[..], false),
            continuation(&b"\xa9 \xf0\x9f"[..], false),
            continuation(&b"\xa6\x80"[..], true),
            binary_frame(vec![1u8, 2], false),
            continuation(Vec::new(), false),
            continuation(vec![3u8], true),
            text_frame(&b""[..], false),
            continuation(&b""[..], true),
        ],
    )
    .await;
    assert_eq!(
        weir_next(&mut pair.weir).await,
        Message::from("café 🦀"),
        "{side:?}"
    );
    assert_eq!(
        weir_next(&mut pair.weir).await,
        Message::from(vec![1u8, 2, 3]),
        "{side:?}"
    );
    assert_eq!(
        weir_next(&mut pair.weir).await,
        Message::from(""),
        "{side:?}"
    );
}

// ---- pings ----

both_ways!(ping_from_weir_is_answered_by_tungstenite);

async fn ping_from_weir_is_answered_by_tungstenite(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    for payload in [b"weir ping".to_vec(), Vec::new(), vec![b'p'; 125]] {
        let pinged = pair.weir.ping(payload.clone());
        assert_eq!(
            peer_next(&mut pair.peer).await,
            PeerMessage::Ping(payload.clone().into()),
            "{side:?}"
        );
        // tungstenite queued the pong; its next flush writes it.
        within("tungstenite's flush", pair.peer.flush())
            .await
            .unwrap();
        assert!(
            within("weir's ping", pinged).await.unwrap(),
            "{side:?}: the pong came back"
        );
    }

    // A ping waiting for its pong: a second one waits for the same pong, and is not sent.
    let first = pair.weir.ping("first");
    let second = pair.weir.ping("second");
    assert_eq!(
        peer_next(&mut pair.peer).await,
        PeerMessage::Ping("first".into()),
        "{side:?}"
    );
    within("tungstenite's flush", pair.peer.flush())
        .await
        .unwrap();
    assert!(within("weir's first ping", first).await.unwrap());
    assert!(within("weir's second ping", second).await.unwrap());
    // At most 125 bytes of a payload go out.
    let long = pair.weir.ping(vec![b'l'; 200]);
    assert_eq!(
        peer_next(&mut pair.peer).await,
        PeerMessage::Ping(vec![b'l'; 125].into()),
        "{side:?}: the first 125 bytes, nothing in between"
    );
    within("tungstenite's flush", pair.peer.flush())
        .await
        .unwrap();
    assert!(within("weir's long ping", long).await.unwrap());
    let (sent, next) = tokio::join!(
        within("weir's send", pair.weir.send(Message::from("after"))),
        peer_next(&mut pair.peer)
    );
    sent.unwrap();
    assert_eq!(
        next,
        PeerMessage::text("after"),
        "{side:?}: no other ping was sent"
    );
}

both_ways!(ping_from_tungstenite_is_answered_by_weir);

async fn ping_from_tungstenite_is_answered_by_weir(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    for payload in [b"tungstenite ping".to_vec(), Vec::new(), vec![b'q'; 125]] {
        within(
            "tungstenite's ping",
            pair.peer.send(PeerMessage::Ping(payload.clone().into())),
        )
        .await
        .unwrap();
        assert_eq!(
            peer_next(&mut pair.peer).await,
            PeerMessage::Pong(payload.into()),
            "{side:?}: the pong has the ping's payload"
        );
    }
}

// ---- closing ----

both_ways!(weir_closes_with_4001_bye);

async fn weir_closes_with_4001_bye(side: Side) {
    let pair = open_pair(side, Setup::default()).await;
    let closing = pair.weir.close(4001, "bye");
    let (received, closed) = tokio::join!(
        peer_close(pair.peer),
        within("weir's close() deferred", closing)
    );
    assert_eq!(received, Some((4001, "bye".to_owned())), "{side:?}");
    assert!(
        closed.unwrap(),
        "{side:?}: this close started the handshake"
    );
    // tungstenite answers with the same status.
    let status = pair.weir.close_status().expect("a status once closed");
    assert_eq!(status.code(), 4001, "{side:?}: {status}");
    within("weir's socket_closed()", pair.weir.socket_closed())
        .await
        .unwrap();
}

both_ways!(tungstenite_closes_with_1001_away);

async fn tungstenite_closes_with_1001_away(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    within(
        "tungstenite's send",
        pair.peer.send(PeerMessage::text("last words")),
    )
    .await
    .unwrap();
    let away = PeerCloseFrame {
        code: CloseCode::Away,
        reason: "away".into(),
    };
    within("tungstenite's close", pair.peer.close(Some(away)))
        .await
        .unwrap();
    let (answer, (taken, drained)) = tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
    assert_eq!(taken, vec![Message::from("last words")], "{side:?}");
    let status = pair.weir.close_status().expect("a status once closed");
    assert_eq!((status.code(), status.reason()), (1001, "away"), "{side:?}");
    // Going away is a clean close: the source drains without an error.
    drained.expect("a 1001 close drains cleanly");
    assert_eq!(
        answer.map(|(code, _)| code),
        Some(1001),
        "{side:?}: weir echoes the code"
    );
    within("weir's socket_closed()", pair.weir.socket_closed())
        .await
        .unwrap();
    // Closed: nothing more goes out.
    let late = within("weir's send", pair.weir.send(Message::from("too late"))).await;
    assert!(late.is_err(), "{side:?}: a send after the close fails");
    assert!(!within("weir's ping", pair.weir.ping("late")).await.unwrap());
    assert!(
        !within("weir's close", pair.weir.close(1000, ""))
            .await
            .unwrap()
    );
}

both_ways!(close_without_a_status_drains_ok);

async fn close_without_a_status_drains_ok(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    within("tungstenite's close", pair.peer.close(None))
        .await
        .unwrap();
    let (answer, (taken, drained)) = tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
    assert!(taken.is_empty(), "{side:?}");
    drained.unwrap_or_else(|error| panic!("{side:?}: drains Ok, not {error:?}"));
    assert_eq!(
        pair.weir.close_status().map(|s| s.code()),
        Some(1005),
        "{side:?}"
    );
    assert_eq!(answer, None, "{side:?}: weir answers without a status too");
}

both_ways!(normal_close_from_tungstenite_drains_ok);

async fn normal_close_from_tungstenite_drains_ok(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    let normal = PeerCloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    };
    within("tungstenite's close", pair.peer.close(Some(normal)))
        .await
        .unwrap();
    let (answer, (taken, drained)) = tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
    assert!(taken.is_empty(), "{side:?}: {taken:?}");
    drained.unwrap_or_else(|error| panic!("{side:?}: a 1000 close drains Ok, not {error:?}"));
    let status = pair.weir.close_status().expect("a status once closed");
    assert_eq!((status.code(), status.reason()), (1000, "done"), "{side:?}");
    assert_eq!(answer.map(|(code, _)| code), Some(1000), "{side:?}");
    within("weir's socket_closed()", pair.weir.socket_closed())
        .await
        .unwrap();
}

both_ways!(normal_close_from_weir_drains_ok);

async fn normal_close_from_weir_drains_ok(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    let closing = pair.weir.close(1000, "");
    let (received, closed, (taken, drained)) = tokio::join!(
        peer_close(pair.peer),
        within("weir's close() deferred", closing),
        weir_end(&mut pair.weir)
    );
    assert_eq!(received, Some((1000, String::new())), "{side:?}");
    assert!(closed.unwrap(), "{side:?}");
    assert!(taken.is_empty(), "{side:?}: {taken:?}");
    drained.unwrap_or_else(|error| panic!("{side:?}: a 1000 close drains Ok, not {error:?}"));
}

both_ways!(dropping_every_weir_handle_closes_with_1000);

async fn dropping_every_weir_handle_closes_with_1000(side: Side) {
    let pair = open_pair(side, Setup::default()).await;
    let closed = pair.weir.socket_closed();
    drop(pair.weir);
    assert_eq!(
        peer_close(pair.peer).await,
        Some((1000, String::new())),
        "{side:?}"
    );
    within("weir's socket_closed()", closed).await.unwrap();
}

both_ways!(close_reasons_of_123_bytes_pass_both_ways);

async fn close_reasons_of_123_bytes_pass_both_ways(side: Side) {
    // 61 two-byte characters and one more byte: the most a close frame's reason holds.
    let reason = format!("{}!", "é".repeat(61));
    assert_eq!(reason.len(), 123);

    let pair1 = open_pair(side, Setup::default()).await;
    let closing = pair1.weir.close(4002, &reason);
    let (received, closed) = tokio::join!(
        peer_close(pair1.peer),
        within("weir's close() deferred", closing)
    );
    assert_eq!(
        received,
        Some((4002, reason.clone())),
        "{side:?}: weir -> tungstenite"
    );
    assert!(closed.unwrap());

    let mut pair2 = open_pair(side, Setup::default()).await;
    let frame = PeerCloseFrame {
        code: CloseCode::from(4003),
        reason: reason.clone().into(),
    };
    within("tungstenite's close", pair2.peer.close(Some(frame)))
        .await
        .unwrap();
    let (_, (_, drained)) = tokio::join!(peer_close(pair2.peer), weir_end(&mut pair2.weir));
    let expected = CloseFrame::new(4003, reason);
    assert_eq!(
        pair2.weir.close_status(),
        Some(expected.clone()),
        "{side:?}"
    );
    assert_eq!(drain_status(&drained.unwrap_err()), expected, "{side:?}");
}

both_ways!(simultaneous_closes_complete);

/// Both ends close at once (tungstenite sends its close frame without reading first): the
/// handshake completes and weir reports tungstenite's status.
async fn simultaneous_closes_complete(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    let going = PeerCloseFrame {
        code: CloseCode::Away,
        reason: "tungstenite".into(),
    };
    let closing = pair.weir.close(4001, "weir");
    within("tungstenite's close", pair.peer.close(Some(going)))
        .await
        .unwrap();
    let (received, closed, (_, drained)) = tokio::join!(
        peer_close(pair.peer),
        within("weir's close() deferred", closing),
        weir_end(&mut pair.weir)
    );
    // weir's close() is a request to the connection's task: when tungstenite's close frame is
    // read first, weir answers it (echoing 1001) instead of sending its own. Either is a
    // complete closing handshake.
    assert!(
        matches!(&received, Some((4001, reason)) if reason == "weir")
            || matches!(&received, Some((1001, _))),
        "{side:?}: tungstenite's end received {received:?}"
    );
    assert!(closed.unwrap(), "{side:?}");
    assert_eq!(
        pair.weir.close_status(),
        Some(CloseFrame::new(1001, "tungstenite")),
        "{side:?}"
    );
    drained.expect("a 1001 close drains cleanly");
    within("weir's socket_closed()", pair.weir.socket_closed())
        .await
        .unwrap();
}

both_ways!(a_connection_cut_without_a_close_frame_is_1006);

async fn a_connection_cut_without_a_close_frame_is_1006(side: Side) {
    let mut pair = open_pair(side, Setup::default()).await;
    within(
        "tungstenite's send",
        pair.peer.send(PeerMessage::text("before the cut")),
    )
    .await
    .unwrap();
    drop(pair.peer);
    let (taken, drained) = weir_end(&mut pair.weir).await;
    assert_eq!(taken, vec![Message::from("before the cut")], "{side:?}");
    let status = pair.weir.close_status().expect("a status once closed");
    assert_eq!(status.code(), 1006, "{side:?}: {status}");
    assert_eq!(drain_status(&drained.unwrap_err()).code(), 1006, "{side:?}");
    within("weir's socket_closed()", pair.weir.socket_closed())
        .await
        .unwrap();
}

both_ways!(weir_close_goes_after_every_message_already_put,);

/// `close(code, reason)` sends the close frame after what was already put: 40 messages of
/// 256 KiB (10 MiB, more than the socket buffers and weir's write buffer hold while
/// tungstenite does not read) put, then `close`; tungstenite must read all 40, then the close.
async fn weir_close_goes_after_every_message_already_put(side: Side) {
    const N: usize = 40;
    let mut pair = open_pair(side, Setup::default()).await;
    for i in 0..N {
        within(
            "weir's feed",
            pair.weir.feed(Message::from(vec![i as u8; 256 * 1024])),
        )
        .await
        .expect("the outbound channel has room for 40");
    }
    let closing = pair.weir.close(4001, "after the messages");
    let mut read = 0;
    let received = loop {
        match peer_next(&mut pair.peer).await {
            PeerMessage::Binary(bytes) => {
                assert_eq!(bytes.len(), 256 * 1024);
                assert_eq!(bytes[0], read as u8, "{side:?}: message {read} in order");
                read += 1;
            }
            PeerMessage::Close(frame) => break frame.map(|f| u16::from(f.code)),
            other => panic!("{side:?}: unexpected {other:?}"),
        }
    };
    let (_, closed, flushed) = tokio::join!(
        peer_close_after(pair.peer),
        within("weir's close() deferred", closing),
        within("weir's flush", SinkExt::<Message>::flush(&mut pair.weir))
    );
    assert_eq!(
        (read, received),
        (N, Some(4001)),
        "{side:?}: messages read before the close frame (then weir's flush: {flushed:?})"
    );
    assert!(closed.unwrap());
    flushed.expect("every message put was written");
}

/// After tungstenite's end read a close frame: reads on to the end, then drops the end.
async fn peer_close_after(mut peer: Peer) {
    while let Some(Ok(_)) = within("tungstenite's end to close", peer.next()).await {}
}

// ---- heartbeats ----

both_ways!(heartbeats_answered_by_tungstenite_keep_the_socket_open);

async fn heartbeats_answered_by_tungstenite_keep_the_socket_open(side: Side) {
    let setup = Setup {
        heartbeats: Some(
            Heartbeats::new(Duration::from_millis(20))
                .timeout(support::BOUND)
                .payload("heartbeat"),
        ),
        ..Setup::default()
    };
    let mut pair = open_pair(side, setup).await;
    for _ in 0..3 {
        // Reading on answers the previous ping (tungstenite writes its pongs on the next read).
        assert_eq!(
            peer_next(&mut pair.peer).await,
            PeerMessage::Ping("heartbeat".into()),
            "{side:?}"
        );
    }
    assert_eq!(pair.weir.close_status(), None, "{side:?}: still open");
    let read = weir_to_peer(&mut pair, Message::from("still open")).await;
    assert_eq!(read, PeerMessage::text("still open"), "{side:?}");
}

both_ways!(heartbeats_unanswered_close_with_1011);

async fn heartbeats_unanswered_close_with_1011(side: Side) {
    let setup = Setup {
        heartbeats: Some(
            Heartbeats::new(Duration::from_millis(20))
                .timeout(Duration::from_millis(100))
                .payload("anyone?"),
        ),
        ..Setup::default()
    };
    let mut pair = open_pair(side, setup).await;
    // tungstenite reads nothing, so it answers nothing, until weir gave up.
    let (taken, drained) = weir_end(&mut pair.weir).await;
    assert!(taken.is_empty());
    let error = drained.expect_err("a heartbeat timeout drains with an error");
    assert!(error.is_timeout(), "{side:?}: {error:?}");
    assert_eq!(
        drain_status(&error),
        CloseFrame::new(1011, "heartbeat timeout"),
        "{side:?}"
    );
    assert_eq!(
        peer_next(&mut pair.peer).await,
        PeerMessage::Ping("anyone?".into()),
        "{side:?}"
    );
    assert_eq!(
        peer_close(pair.peer).await,
        Some((1011, "heartbeat timeout".to_owned())),
        "{side:?}"
    );
}

// ---- protocol violations ----

/// Builds the raw frames of a case.
type Frames = fn() -> Vec<Frame>;

/// A malformed message tungstenite sends raw, and the close code weir must answer with.
struct Violation {
    what: &'static str,
    frames: Frames,
    code: u16,
}

const VIOLATIONS: &[Violation] = &[
    Violation {
        what: "a text frame that is not UTF-8",
        frames: || vec![text_frame(&b"caf\xc3\x28"[..], true)],
        code: 1007,
    },
    Violation {
        what: "invalid UTF-8 in the last fragment of a text message",
        frames: || {
            vec![
                text_frame("fine so far", false),
                continuation(&b"\xff"[..], true),
            ]
        },
        code: 1007,
    },
    Violation {
        what: "a text message ending inside a character",
        frames: || vec![text_frame(&b"caf\xc3"[..], true)],
        code: 1007,
    },
    Violation {
        what: "an overlong encoding (C0 80)",
        frames: || vec![text_frame(&b"a\xc0\x80"[..], true)],
        code: 1007,
    },
    Violation {
        what: "a UTF-16 surrogate (ED A0 80)",
        frames: || vec![text_frame(&b"a\xed\xa0\x80"[..], true)],
        code: 1007,
    },
    Violation {
        what: "a code point above U+10FFFF (F4 90 80 80)",
        frames: || vec![text_frame(&b"a\xf4\x90\x80\x80"[..], true)],
        code: 1007,
    },
    Violation {
        what: "invalid UTF-8 in a first fragment, the rest never sent (fail fast)",
        frames: || vec![text_frame(&b"fine, then \xff"[..], false)],
        code: 1007,
    },
    Violation {
        what: "RSV1 set without permessage-deflate",
        frames: || {
            let mut frame = text_frame("compressed?", true);
            frame.header_mut().rsv1 = true;
            vec![frame]
        },
        code: 1002,
    },
    Violation {
        what: "RSV2 set",
        frames: || {
            let mut frame = binary_frame(vec![1u8], true);
            frame.header_mut().rsv2 = true;
            vec![frame]
        },
        code: 1002,
    },
    Violation {
        what: "reserved data opcode 0x3",
        frames: || vec![raw_frame(OpCode::Data(Data::Reserved(3)), true, vec![0u8])],
        code: 1002,
    },
    Violation {
        what: "reserved control opcode 0xB",
        frames: || {
            vec![raw_frame(
                OpCode::Control(Control::Reserved(11)),
                true,
                Vec::new(),
            )]
        },
        code: 1002,
    },
    Violation {
        what: "a continuation with nothing to continue",
        frames: || vec![continuation("orphan", true)],
        code: 1002,
    },
    Violation {
        what: "a new message inside a fragmented one",
        frames: || vec![text_frame("first ", false), text_frame("second", true)],
        code: 1002,
    },
    Violation {
        what: "a ping with 126 bytes",
        frames: || vec![Frame::ping(vec![0u8; 126])],
        code: 1002,
    },
    Violation {
        what: "a fragmented ping",
        frames: || vec![raw_frame(OpCode::Control(Control::Ping), false, "half")],
        code: 1002,
    },
    Violation {
        what: "a close frame with a one-byte payload",
        frames: || {
            vec![raw_frame(
                OpCode::Control(Control::Close),
                true,
                vec![0x03u8],
            )]
        },
        code: 1002,
    },
    Violation {
        what: "a close frame with code 1005",
        frames: || {
            vec![raw_frame(
                OpCode::Control(Control::Close),
                true,
                vec![0x03u8, 0xed],
            )]
        },
        code: 1002,
    },
    Violation {
        what: "a close frame with code 999",
        frames: || {
            vec![raw_frame(
                OpCode::Control(Control::Close),
                true,
                vec![0x03u8, 0xe7],
            )]
        },
        code: 1002,
    },
    Violation {
        what: "a close frame whose reason is not UTF-8",
        frames: || {
            vec![raw_frame(
                OpCode::Control(Control::Close),
                true,
                vec![0x03u8, 0xe8, 0xff, 0xfe],
            )]
        },
        code: 1007,
    },
];

both_ways!(protocol_violations_close_with_the_right_code);

async fn protocol_violations_close_with_the_right_code(side: Side) {
    for violation in VIOLATIONS {
        let mut pair = open_pair(side, Setup::default()).await;
        peer_frames(&mut pair.peer, (violation.frames)()).await;
        let (received, (taken, drained)) =
            tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
        let what = violation.what;
        assert_eq!(
            received.as_ref().map(|(code, _)| *code),
            Some(violation.code),
            "{side:?}, {what}: tungstenite's end received {received:?}"
        );
        assert!(taken.is_empty(), "{side:?}, {what}: weir took {taken:?}");
        let error = drained.expect_err("a protocol violation drains with an error");
        assert!(error.is_protocol(), "{side:?}, {what}: {error:?}");
        assert_eq!(
            drain_status(&error).code(),
            violation.code,
            "{side:?}, {what}"
        );
        within("weir's socket_closed()", pair.weir.socket_closed())
            .await
            .unwrap();
    }
}

#[test]
fn a_masked_frame_from_a_tungstenite_server_fails_the_weir_client_with_1002() {
    run_tokio(async {
        let mut pair = open_pair(Side::WeirClient, Setup::default()).await;
        let mut masked = text_frame("masked", true);
        masked.header_mut().mask = Some([9, 8, 7, 6]);
        peer_frames(&mut pair.peer, vec![masked]).await;
        let (received, (taken, drained)) =
            tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
        assert_eq!(received.map(|(code, _)| code), Some(1002));
        assert!(taken.is_empty(), "{taken:?}");
        assert_eq!(drain_status(&drained.unwrap_err()).code(), 1002);
    });
}

#[test]
fn an_unmasked_frame_from_a_client_fails_the_weir_server_with_1002() {
    // tungstenite always masks as a client: the frame goes raw.
    run_tokio(async {
        let server = WeirServer::start(Mode::Hand, Setup::default().server()).await;
        let mut tcp = TcpStream::connect(server.server.local_addr())
            .await
            .unwrap();
        tcp.write_all(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let mut weir = server.accepted().await;
        tcp.write_all(&frame_bytes(text_frame("unmasked", true)))
            .await
            .unwrap();
        let (taken, drained) = weir_end(&mut weir).await;
        assert!(taken.is_empty(), "{taken:?}");
        assert_eq!(drain_status(&drained.unwrap_err()).code(), 1002);
        // weir's close frame: FIN + close, unmasked, status 1002.
        let mut close = [0u8; 4];
        within("weir's close frame", tcp.read_exact(&mut close))
            .await
            .unwrap();
        assert_eq!(
            close[..2],
            [0x88, close[1] & 0x7f],
            "a close frame, unmasked"
        );
        assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1002);
    });
}

// ---- the message size limit ----

both_ways!(messages_up_to_max_message_size_are_taken);

async fn messages_up_to_max_message_size_are_taken(side: Side) {
    let setup = Setup {
        max_message_size: Some(1024),
        ..Setup::default()
    };
    let mut pair = open_pair(side, setup).await;
    let whole = Message::from(vec![5u8; 1024]);
    assert_eq!(
        peer_to_weir(&mut pair, whole.clone()).await,
        whole,
        "{side:?}"
    );
    peer_frames(
        &mut pair.peer,
        vec![
            text_frame("x".repeat(500), false),
            continuation("y".repeat(500), false),
            continuation("z".repeat(24), true),
        ],
    )
    .await;
    let fragmented = weir_next(&mut pair.weir).await;
    assert_eq!(fragmented.len(), 1024, "{side:?}");
}

/// Messages over weir's 1024-byte limit, and how they arrive.
const TOO_BIG: &[(&str, Frames)] = &[
    ("one 2048-byte binary frame", || {
        vec![binary_frame(vec![9u8; 2048], true)]
    }),
    ("one 1025-byte text frame", || {
        vec![text_frame("t".repeat(1025), true)]
    }),
    ("three 400-byte fragments", || {
        vec![
            binary_frame(vec![1u8; 400], false),
            continuation(vec![2u8; 400], false),
            continuation(vec![3u8; 400], true),
        ]
    }),
];

both_ways!(messages_over_max_message_size_close_with_1009);

async fn messages_over_max_message_size_close_with_1009(side: Side) {
    for (what, frames) in TOO_BIG {
        let setup = Setup {
            max_message_size: Some(1024),
            ..Setup::default()
        };
        let mut pair = open_pair(side, setup).await;
        peer_frames(&mut pair.peer, frames()).await;
        let (received, (taken, drained)) =
            tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
        assert_eq!(
            received.as_ref().map(|(code, _)| *code),
            Some(1009),
            "{side:?}, {what}: tungstenite's end received {received:?}"
        );
        assert!(taken.is_empty(), "{side:?}, {what}");
        let error = drained.expect_err("a message too big drains with an error");
        assert_eq!(
            drain_status(&error).code(),
            1009,
            "{side:?}, {what}: {error:?}"
        );
    }
}

both_ways!(frame_payload_and_fragment_limits);

/// `max_frame_payload` bounds each frame (a message may be larger, in fragments) and
/// `max_fragments` the frames of one message; over either, weir closes with 1009.
async fn frame_payload_and_fragment_limits(side: Side) {
    let frames = Setup {
        max_frame_payload: Some(200),
        ..Setup::default()
    };
    let mut pair = open_pair(side, frames.clone()).await;
    peer_frames(
        &mut pair.peer,
        vec![
            binary_frame(vec![1u8; 200], false),
            continuation(vec![2u8; 150], true),
        ],
    )
    .await;
    assert_eq!(weir_next(&mut pair.weir).await.len(), 350, "{side:?}");
    peer_frames(&mut pair.peer, vec![binary_frame(vec![3u8; 201], true)]).await;
    let (received, (_, drained)) = tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
    assert_eq!(
        received.map(|(code, _)| code),
        Some(1009),
        "{side:?}: a 201-byte frame"
    );
    assert_eq!(drain_status(&drained.unwrap_err()).code(), 1009, "{side:?}");

    let fragments = Setup {
        max_fragments: Some(4),
        ..Setup::default()
    };
    let mut pair = open_pair(side, fragments.clone()).await;
    let mut four = vec![text_frame("1", false)];
    four.extend(["2", "3"].map(|t| continuation(t, false)));
    four.push(continuation("4", true));
    peer_frames(&mut pair.peer, four).await;
    assert_eq!(
        weir_next(&mut pair.weir).await,
        Message::from("1234"),
        "{side:?}"
    );
    let mut five = vec![text_frame("1", false)];
    five.extend(["2", "3", "4"].map(|t| continuation(t, false)));
    five.push(continuation("5", true));
    peer_frames(&mut pair.peer, five).await;
    let (received, (taken, drained)) =
        tokio::join!(peer_close(pair.peer), weir_end(&mut pair.weir));
    assert_eq!(
        received.map(|(code, _)| code),
        Some(1009),
        "{side:?}: 5 fragments"
    );
    assert!(taken.is_empty(), "{side:?}: {taken:?}");
    assert_eq!(drain_status(&drained.unwrap_err()).code(), 1009, "{side:?}");

    // The default allows many: 1000 one-byte fragments.
    let mut pair = open_pair(side, Setup::default()).await;
    let mut many = vec![binary_frame(vec![0u8], false)];
    many.extend((1..999).map(|i| continuation(vec![(i % 256) as u8], false)));
    many.push(continuation(vec![(999 % 256) as u8], true));
    peer_frames(&mut pair.peer, many).await;
    let expected: Vec<u8> = (0..1000).map(|i| (i % 256) as u8).collect();
    assert_eq!(
        weir_next(&mut pair.weir).await,
        Message::from(expected),
        "{side:?}"
    );
}

// ---- subprotocols ----

#[test]
fn tungstenite_client_offering_b_a_gets_the_weir_servers_first_choice() {
    run_tokio(async {
        let options = WebSocketOptions::new().subprotocols(["a", "b"]);
        let server = WeirServer::start(Mode::Hand, options).await;
        let mut request = server.url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_static("b, a"));
        let (mut peer, response) = connect_peer(&server, request).await;
        assert_eq!(
            response.headers().get("sec-websocket-protocol").unwrap(),
            "a",
            "the server's preference wins"
        );
        let mut weir = server.accepted().await;
        assert_eq!(weir.subprotocol(), Some("a"));
        peer.send(PeerMessage::text("over a")).await.unwrap();
        assert_eq!(weir_next(&mut weir).await, Message::from("over a"));
    });
}

/// How the tungstenite server answers a subprotocol offer.
#[derive(Clone, Copy)]
enum Choice {
    /// The first offered protocol among these.
    FirstOf(&'static [&'static str]),
    /// This one, offered or not.
    Always(&'static str),
}

/// A tungstenite server that answers the subprotocol offer by `choice`, and says what was
/// offered on `offered`.
#[allow(clippy::result_large_err, reason = "tungstenite's callback signature")]
async fn tungstenite_subprotocol_server(
    listener: TcpListener,
    choice: Choice,
    offered: std::sync::mpsc::Sender<Option<String>>,
) -> Result<Peer, tungstenite::Error> {
    let (tcp, _) = listener.accept().await.expect("accept");
    let choose =
        move |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
            let offer = request
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().unwrap().to_owned());
            let chosen = match choice {
                Choice::FirstOf(supported) => offer.as_deref().and_then(|offer| {
                    offer
                        .split(',')
                        .map(str::trim)
                        .find(|p| supported.contains(p))
                        .map(str::to_owned)
                }),
                Choice::Always(protocol) => Some(protocol.to_owned()),
            };
            offered.send(offer).unwrap();
            if let Some(chosen) = chosen {
                response
                    .headers_mut()
                    .insert("sec-websocket-protocol", chosen.parse().unwrap());
            }
            Ok(response)
        };
    tokio_tungstenite::accept_hdr_async(tcp, choose).await
}

#[test]
fn weir_client_gets_the_subprotocol_the_tungstenite_server_echoes() {
    run_tokio(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let (offered_tx, offered) = std::sync::mpsc::channel();
        let options = WebSocketClientOptions::new().subprotocols(["chat.v2", "chat.v1"]);
        let (peer, weir) = within("both ends of the handshake", async {
            tokio::join!(
                tungstenite_subprotocol_server(listener, Choice::FirstOf(&["chat.v1"]), offered_tx),
                ws::websocket_client(&url, options)
            )
        })
        .await;
        let mut peer = peer.expect("tungstenite accepts");
        let mut weir = weir.expect("weir accepts the server's choice");
        assert_eq!(
            offered.try_recv().unwrap().as_deref(),
            Some("chat.v2, chat.v1"),
            "weir offers in its order"
        );
        assert_eq!(weir.subprotocol(), Some("chat.v1"));
        weir.send("over chat.v1").await.unwrap();
        assert_eq!(
            peer_data(&mut peer).await,
            PeerMessage::text("over chat.v1")
        );
    });
}

#[test]
fn weir_client_refuses_a_subprotocol_it_did_not_offer() {
    run_tokio(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let (offered_tx, _offered) = std::sync::mpsc::channel();
        let options = WebSocketClientOptions::new().subprotocols(["chat"]);
        let (_peer, weir) = within("both ends of the handshake", async {
            tokio::join!(
                tungstenite_subprotocol_server(listener, Choice::Always("not offered"), offered_tx),
                ws::websocket_client(&url, options)
            )
        })
        .await;
        let error = weir.expect_err("a protocol weir did not offer fails the handshake");
        assert!(error.is_protocol(), "{error:?}");
    });
}

// ---- what arrives with the handshake ----

#[test]
fn messages_put_before_the_101_arrive_first() {
    run_tokio(async {
        let server = WeirServer::start(Mode::Greet("welcome"), WebSocketOptions::new()).await;
        let (mut peer, _) = connect_peer(&server, server.url()).await;
        assert_eq!(peer_data(&mut peer).await, PeerMessage::text("welcome"));
        peer.send(PeerMessage::text("thanks")).await.unwrap();
        let mut weir = server.accepted().await;
        assert_eq!(weir_next(&mut weir).await, Message::from("thanks"));
    });
}

/// Reads a request head (up to the blank line) from a raw socket.
async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = within("a request head", tcp.read(&mut byte)).await.unwrap();
        assert_eq!(n, 1, "the connection ended inside the head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A server frame (unmasked) as bytes, through tungstenite's encoder.
fn frame_bytes(frame: Frame) -> Vec<u8> {
    let mut bytes = Vec::new();
    frame.format(&mut bytes).unwrap();
    bytes
}

/// A raw server for one weir client: reads the upgrade request and writes, in one write, the
/// head `answer` builds from the accept key, then `after` (frames, say). Returns the
/// request head and the connection.
async fn raw_server(
    listener: TcpListener,
    answer: impl FnOnce(&str) -> String,
    after: Vec<u8>,
) -> (String, TcpStream) {
    let (mut tcp, _) = listener.accept().await.unwrap();
    let head = read_head(&mut tcp).await;
    let key = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .expect("a key");
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut flight = answer(&accept).into_bytes();
    flight.extend(after);
    tcp.write_all(&flight).await.unwrap();
    (head, tcp)
}

/// A 101 with the accept key and `extra` header lines.
fn switching(accept: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
}

#[test]
fn frames_in_the_same_write_as_the_101_reach_the_weir_client() {
    run_tokio(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let big = "x".repeat(10_000);
        let mut frames = frame_bytes(text_frame("first", true));
        frames.extend(frame_bytes(text_frame(big.clone(), true)));
        let (_raw, weir) = within("both ends of the handshake", async {
            tokio::join!(
                raw_server(listener, |accept| switching(accept, ""), frames),
                ws::websocket_client(&url, WebSocketClientOptions::new())
            )
        })
        .await;
        let mut weir = weir.expect("weir accepts the 101");
        assert_eq!(weir_next(&mut weir).await, Message::from("first"));
        assert_eq!(weir_next(&mut weir).await, Message::from(big.clone()));
    });
}

/// Builds a handshake answer from the accept key.
type Answer = fn(&str) -> String;

/// 101s a weir client must refuse: (what, weir offers deflate with a 10-bit window both
/// ways, the head).
const BAD_ANSWERS: &[(&str, bool, Answer)] = &[
    ("a wrong accept key", false, |_| {
        switching("dGhlIHNhbXBsZSBub25jZQ==", "")
    }),
    ("no Upgrade header", false, |accept| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
    }),
    ("a 200", false, |_| {
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno".to_owned()
    }),
    (
        "permessage-deflate when none was offered",
        false,
        |accept| switching(accept, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
    ),
    ("an extension that was not offered", true, |accept| {
        switching(
            accept,
            "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n",
        )
    }),
    ("an unknown permessage-deflate parameter", true, |accept| {
        switching(
            accept,
            "Sec-WebSocket-Extensions: permessage-deflate; level=9\r\n",
        )
    }),
    (
        "server_max_window_bits=12 when 10 was asked",
        true,
        |accept| {
            switching(
                accept,
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n",
            )
        },
    ),
    (
        "client_max_window_bits=12 when 10 was offered",
        true,
        |accept| {
            switching(
                accept,
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n",
            )
        },
    ),
];

fn weir_client_refuses_bad_101s(only: &[&str]) {
    for (what, deflate, answer) in BAD_ANSWERS {
        if !only.is_empty() && !only.contains(what) {
            continue;
        }
        run_tokio(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("ws://{}/", listener.local_addr().unwrap());
            let mut options = WebSocketClientOptions::new();
            if *deflate {
                let offer = ws::DeflateOptions::new()
                    .server_max_window_bits(10)
                    .client_max_window_bits(10);
                options = options.compression(offer);
            }
            let ((head, _raw), weir) = within("both ends of the handshake", async {
                tokio::join!(
                    raw_server(listener, answer, Vec::new()),
                    ws::websocket_client(&url, options)
                )
            })
            .await;
            let error = weir.expect_err(&format!("{what}: weir must refuse it; it sent {head}"));
            assert!(error.is_protocol(), "{what}: {error:?}");
        });
    }
}

#[test]
fn a_weir_client_refuses_bad_101s() {
    let known = "client_max_window_bits=12 when 10 was offered";
    let rows: Vec<&str> = BAD_ANSWERS
        .iter()
        .map(|(what, _, _)| *what)
        .filter(|what| *what != known)
        .collect();
    weir_client_refuses_bad_101s(&rows);
}

#[test]
fn a_weir_client_refuses_a_client_max_window_bits_larger_than_offered() {
    weir_client_refuses_bad_101s(&["client_max_window_bits=12 when 10 was offered"]);
}

#[test]
fn frames_in_the_same_write_as_the_upgrade_request_reach_the_weir_server() {
    run_tokio(async {
        let server = WeirServer::start(Mode::Hand, WebSocketOptions::new()).await;
        let mut tcp = TcpStream::connect(server.server.local_addr())
            .await
            .unwrap();
        let mut flight = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            Sec-WebSocket-Version: 13\r\n\r\n"
            .to_vec();
        let mut early = Frame::message("early", OpCode::Data(Data::Text), true);
        early.header_mut().mask = Some([1, 2, 3, 4]);
        flight.extend(frame_bytes(early));
        tcp.write_all(&flight).await.unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(
            head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "the RFC's accept key: {head}"
        );
        let mut weir = server.accepted().await;
        assert_eq!(weir_next(&mut weir).await, Message::from("early"));
    });
}

// ---- handshakes ----

/// Sends `request` raw to `addr` and returns the whole answer (the server closes after it).
async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let mut tcp = within("TCP connect", TcpStream::connect(addr))
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    within("the server's answer", tcp.read_to_end(&mut answer))
        .await
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn requests_that_are_not_upgrades_get_the_handlers_400() {
    run_tokio(async {
        let server = WeirServer::start(Mode::Echo, WebSocketOptions::new()).await;
        let addr = server.server.local_addr();
        let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        let requests = [
            ("a plain GET", "GET / HTTP/1.1\r\nHost: x\r\n".to_owned()),
            (
                "version 8",
                format!("GET / HTTP/1.1\r\nHost: x\r\n{upgrade}Sec-WebSocket-Version: 8\r\n"),
            ),
            (
                "no key",
                "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Version: 13\r\n"
                    .to_owned(),
            ),
            (
                "a POST",
                format!(
                    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n{upgrade}\
                     Sec-WebSocket-Version: 13\r\n"
                ),
            ),
        ];
        for (what, head) in requests {
            let answer = raw_exchange(addr, &format!("{head}Connection: close\r\n\r\n")).await;
            assert!(answer.starts_with("HTTP/1.1 400"), "{what}: {answer}");
            assert!(
                answer.ends_with("expected websocket request"),
                "{what}: {answer}"
            );
        }
        // The server still upgrades a proper request.
        let (mut peer, _) = connect_peer(&server, server.url()).await;
        peer.send(PeerMessage::text("still here")).await.unwrap();
        assert_eq!(peer_data(&mut peer).await, PeerMessage::text("still here"));
    });
}

#[test]
#[allow(clippy::result_large_err, reason = "tungstenite's callback signature")]
fn a_tungstenite_server_refusing_the_upgrade_fails_the_weir_client() {
    run_tokio(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let refuse = |_: &Request, _: Response| -> Result<Response, ErrorResponse> {
            let mut refusal = ErrorResponse::new(Some("go away".to_owned()));
            *refusal.status_mut() = StatusCode::FORBIDDEN;
            Err(refusal)
        };
        let (accepted, weir) = within("both ends of the handshake", async {
            tokio::join!(
                async {
                    let (tcp, _) = listener.accept().await.unwrap();
                    tokio_tungstenite::accept_hdr_async(tcp, refuse).await
                },
                ws::websocket_client(&url, WebSocketClientOptions::new())
            )
        })
        .await;
        assert!(accepted.is_err(), "tungstenite refused");
        let error = weir.expect_err("a 403 fails the handshake");
        assert!(error.is_protocol(), "{error:?}");
        assert!(error.to_string().contains("403"), "{error}");
    });
}
