//! Framing: the codecs (lines, length-prefixed, delimiter) and the `decode`, `encode` and
//! `framed` adapters over weir's streams.

mod support;

use std::pin::pin;

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use support::run;
use weir::Error;
use weir::codec::{
    self, Decoder, DelimiterCodec, Encoder, Endian, LengthPrefixedCodec, LinesCodec, Prefix,
};
use weir::stream::{self, Channel, Source};

/// A source of the given chunks.
fn chunks<const N: usize>(parts: [&'static [u8]; N]) -> stream::Iter<std::vec::IntoIter<Bytes>> {
    stream::iter(parts.map(Bytes::from_static).to_vec())
}

/// `bytes` cut into chunks of `size` bytes.
fn cut(bytes: &[u8], size: usize) -> stream::Iter<std::vec::IntoIter<Bytes>> {
    stream::iter(
        bytes
            .chunks(size)
            .map(Bytes::copy_from_slice)
            .collect::<Vec<_>>(),
    )
}

/// Encodes every item into one buffer.
fn encode_all<C: Encoder<T>, T>(codec: &mut C, items: impl IntoIterator<Item = T>) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for item in items {
        codec.encode(item, &mut buf).unwrap();
    }
    buf.to_vec()
}

/// Decodes a whole source, returning the frames and the drain outcome.
async fn decode_all<S, D>(source: S, decoder: D) -> (Vec<D::Frame>, Result<(), Error>)
where
    S: Source,
    S::Item: Into<Bytes>,
    D: Decoder + Send,
{
    let frames = codec::decode(source, decoder);
    let drained = frames.drained();
    let got = frames.collect::<Vec<_>>().await;
    (got, drained.await)
}

fn every_length_prefix() -> Vec<LengthPrefixedCodec> {
    let mut codecs = Vec::new();
    for prefix in [Prefix::U8, Prefix::U16, Prefix::U32, Prefix::U64] {
        for endian in [Endian::Big, Endian::Little] {
            codecs.push(LengthPrefixedCodec::new(prefix).endian(endian));
        }
    }
    codecs.push(LengthPrefixedCodec::new(Prefix::Varint));
    codecs
}

#[test]
fn smoke_lines_from_chunks() {
    run(async {
        let (lines, outcome) =
            decode_all(chunks([b"hello\nwo", b"rld\r\n"]), LinesCodec::new()).await;
        assert_eq!(lines, ["hello", "world"]);
        assert!(outcome.is_ok());
    });
}

// ---- round trips ----------------------------------------------------------------------------

#[test]
fn lines_round_trip_through_a_channel() {
    run(async {
        let pipe = Channel::<Bytes>::new(16);
        let mut writer = codec::encode(pipe.clone(), LinesCodec::new());
        let sent = ["", "one", "two words", "ünïcödé", "  spaced  "];
        for line in sent {
            writer.send(line).await.unwrap();
        }
        SinkExt::<&str>::close(&mut writer).await.unwrap();
        let (got, outcome) = decode_all(pipe, LinesCodec::new()).await;
        assert_eq!(got, sent);
        assert!(outcome.is_ok());
    });
}

#[test]
fn length_prefixed_round_trip_for_every_prefix_and_byte_order() {
    run(async {
        let frames: Vec<Bytes> = vec![
            Bytes::new(),
            Bytes::from_static(b"x"),
            Bytes::from(vec![7u8; 200]),
            Bytes::from(vec![1u8; 255]),
        ];
        for mut codec in every_length_prefix() {
            let bytes = encode_all(&mut codec, frames.iter().cloned());
            let (got, outcome) = decode_all(cut(&bytes, 1000), codec.clone()).await;
            assert_eq!(got, frames, "{codec:?}");
            assert!(outcome.is_ok());
        }
    });
}

#[test]
fn length_prefixed_prefixes_are_laid_out_as_specified() {
    let cases: [(LengthPrefixedCodec, &[u8]); 6] = [
        (LengthPrefixedCodec::new(Prefix::U8), b"\x03"),
        (LengthPrefixedCodec::new(Prefix::U16), b"\x00\x03"),
        (
            LengthPrefixedCodec::new(Prefix::U16).endian(Endian::Little),
            b"\x03\x00",
        ),
        (LengthPrefixedCodec::new(Prefix::U32), b"\x00\x00\x00\x03"),
        (
            LengthPrefixedCodec::new(Prefix::U64).endian(Endian::Little),
            b"\x03\x00\x00\x00\x00\x00\x00\x00",
        ),
        (LengthPrefixedCodec::new(Prefix::Varint), b"\x03"),
    ];
    for (mut codec, prefix) in cases {
        let bytes = encode_all(&mut codec, [b"abc"]);
        assert_eq!(&bytes[..prefix.len()], prefix, "{codec:?}");
        assert_eq!(&bytes[prefix.len()..], b"abc");
    }
    // Varint: 7 bits a byte, low bits first.
    let mut varint = LengthPrefixedCodec::new(Prefix::Varint);
    let bytes = encode_all(&mut varint, [vec![0u8; 16_384]]);
    assert_eq!(&bytes[..3], &[0x80, 0x80, 0x01]);
}

#[test]
fn delimiter_round_trip() {
    run(async {
        for delimiter in [&b"\0"[..], b"\r\n", b"--boundary--"] {
            let mut codec = DelimiterCodec::new(delimiter);
            let frames = [&b"first"[..], b"", b"third frame", b"-boundary-"];
            let bytes = encode_all(&mut codec, frames);
            let (got, outcome) = decode_all(cut(&bytes, 5), codec).await;
            assert_eq!(got, frames.map(Bytes::from_static));
            assert!(outcome.is_ok());
        }
    });
}

// ---- frames split across chunks -------------------------------------------------------------

#[test]
fn frames_split_into_single_bytes_decode_whole() {
    run(async {
        let (lines, outcome) = decode_all(cut(b"ab\r\ncd\n\nef\n", 1), LinesCodec::new()).await;
        assert_eq!(lines, ["ab", "cd", "", "ef"]);
        assert!(outcome.is_ok());

        for mut codec in every_length_prefix() {
            let bytes = encode_all(&mut codec, [&b"hello"[..], b"", b"world"]);
            let (got, outcome) = decode_all(cut(&bytes, 1), codec).await;
            assert_eq!(got, ["hello", "", "world"].map(Bytes::from));
            assert!(outcome.is_ok());
        }

        // The delimiter itself split between chunks.
        let (got, outcome) = decode_all(
            cut(b"one\r\n\r\ntwo\r\n\r\n", 1),
            DelimiterCodec::new(b"\r\n\r\n"),
        )
        .await;
        assert_eq!(got, ["one", "two"].map(Bytes::from));
        assert!(outcome.is_ok());
    });
}

#[test]
fn many_frames_in_one_chunk_and_one_frame_over_many_chunks() {
    run(async {
        let mut codec = LengthPrefixedCodec::new(Prefix::U32);
        let many: Vec<Bytes> = (0..1000u32).map(|i| Bytes::from(i.to_string())).collect();
        let bytes = encode_all(&mut codec, many.iter().cloned());
        let (got, _) = decode_all(stream::iter([Bytes::from(bytes)]), codec.clone()).await;
        assert_eq!(got, many);

        // A 100 KiB frame, bigger than the adapter's 8 KiB read step, in 3 KiB chunks.
        let big = Bytes::from((0..100 * 1024).map(|i| i as u8).collect::<Vec<_>>());
        let bytes = encode_all(&mut codec, [big.clone()]);
        let (got, outcome) = decode_all(cut(&bytes, 3 * 1024), codec).await;
        assert_eq!(got, [big]);
        assert!(outcome.is_ok());
    });
}

// ---- oversized and malformed input ----------------------------------------------------------

/// Asserts that decoding `input` (in chunks of `size`) yields `frames` and then ends with a
/// protocol error whose message contains `message`, with the upstream closed.
async fn assert_refused<D: Decoder + Send>(
    input: &[u8],
    size: usize,
    decoder: D,
    frames: usize,
    message: &str,
) where
    D::Frame: std::fmt::Debug,
{
    let upstream = Channel::<Bytes>::new(1024);
    for chunk in input.chunks(size) {
        upstream.put(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    let decoded = codec::decode(upstream.clone(), decoder);
    let drained = decoded.drained();
    let got = decoded.collect::<Vec<_>>().await;
    assert_eq!(got.len(), frames, "{got:?}");
    let error = drained.await.unwrap_err();
    assert!(error.is_protocol(), "{error:?}");
    assert!(error.to_string().contains(message), "{error}");
    assert!(
        upstream.is_closed(),
        "the upstream is closed on a decode error"
    );
}

#[test]
fn lines_too_long_and_invalid_utf8_are_protocol_errors() {
    run(async {
        let codec = || LinesCodec::new().max_length(8);
        assert_refused(
            b"short\nmuch too long\n",
            3,
            codec(),
            1,
            "line longer than 8",
        )
        .await;
        // No newline at all: refused once 10 bytes arrived, not at the end of the input.
        assert_refused(&[b'x'; 100], 1, codec(), 0, "line longer than 8").await;
        // "12345678\r\n" is the longest accepted line; one more byte is too many.
        assert_refused(b"12345678\r\n123456789\r\n", 4, codec(), 1, "longer").await;
        assert_refused(b"ok\n\xff\xfe\n", 2, codec(), 1, "not valid UTF-8").await;
    });
}

#[test]
fn an_overlong_line_is_refused_without_reading_the_rest_of_the_input() {
    run(async {
        // An endless line: the decoder must stop reading once it is over the limit.
        let endless = stream::iter(std::iter::repeat_n(
            Bytes::from_static(&[b'a'; 1024]),
            1 << 20,
        ));
        let mut lines = pin!(codec::decode(endless, LinesCodec::new().max_length(4096)));
        assert_eq!(lines.next().await, None);
        let error = lines.drained().await.unwrap_err();
        assert!(error.is_protocol());
        assert!(
            lines.buffered_bytes() <= 4096 + 2 + 1024,
            "{}",
            lines.buffered_bytes()
        );
    });
}

#[test]
fn length_prefixed_oversized_frames_are_protocol_errors() {
    run(async {
        let codec = LengthPrefixedCodec::new(Prefix::U16).max_frame_size(10);
        assert_refused(
            b"\x00\x02ok\x00\x0bxxxxxxxxxxx",
            3,
            codec,
            1,
            "exceeds the maximum",
        )
        .await;
        let varint = LengthPrefixedCodec::new(Prefix::Varint).max_frame_size(1000);
        assert_refused(b"\x02ok\xe9\x07", 1, varint, 1, "1001 bytes exceeds").await;
    });
}

#[test]
fn a_huge_declared_length_fails_on_the_prefix_without_allocating() {
    for (prefix, endian) in [(Prefix::U64, Endian::Big), (Prefix::U32, Endian::Little)] {
        let mut codec = LengthPrefixedCodec::new(prefix).endian(endian);
        let mut buf = BytesMut::with_capacity(16);
        buf.extend_from_slice(&[0xff; 8]);
        let capacity = buf.capacity();
        let error = codec.decode(&mut buf).unwrap_err();
        assert!(error.is_protocol());
        assert!(
            error
                .to_string()
                .contains("exceeds the maximum of 8388608 bytes")
        );
        assert!(
            buf.capacity() <= capacity,
            "nothing was reserved for the payload"
        );
    }
    run(async {
        let codec = LengthPrefixedCodec::new(Prefix::U64);
        assert_refused(&[0xff; 8], 8, codec, 0, "18446744073709551615 bytes").await;
    });
}

#[test]
fn malformed_varints_are_protocol_errors() {
    // Eleven continuation bytes, or a tenth byte beyond bit 63.
    let no_limit = || LengthPrefixedCodec::new(Prefix::Varint).max_frame_size(usize::MAX);
    let mut buf = BytesMut::from(&[0x80u8; 11][..]);
    let error = no_limit().decode(&mut buf).unwrap_err();
    assert!(error.is_protocol());
    assert_eq!(
        error.to_string(),
        "protocol error: varint length prefix overflows u64"
    );
    let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02][..]);
    assert!(no_limit().decode(&mut buf).unwrap_err().is_protocol());
    // The largest u64 is fine as a prefix (and then too large for memory: refused on size).
    let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..]);
    let outcome = no_limit().decode(&mut buf);
    if usize::BITS == 64 {
        assert_eq!(
            outcome.unwrap(),
            None,
            "a valid prefix, awaiting its payload"
        );
    }
    // With the default limit, a long varint is refused as soon as it exceeds it.
    let mut buf = BytesMut::from(&[0x80u8, 0x80, 0x80, 0x08][..]);
    assert!(
        LengthPrefixedCodec::new(Prefix::Varint)
            .decode(&mut buf)
            .unwrap_err()
            .is_protocol()
    );
}

#[test]
fn delimiter_oversized_frames_are_protocol_errors() {
    run(async {
        let codec = DelimiterCodec::new(b"||").max_frame_size(4);
        assert_refused(b"abcd||abcde||", 2, codec.clone(), 1, "frame longer than 4").await;
        assert_refused(&[b'z'; 64], 7, codec, 0, "frame longer than 4").await;
    });
}

#[test]
fn encoders_refuse_what_would_not_decode_to_itself() {
    let mut buf = BytesMut::new();
    let mut lines = LinesCodec::new().max_length(4);
    assert!(lines.encode("a\nb", &mut buf).unwrap_err().is_protocol());
    assert!(lines.encode("ab\r", &mut buf).unwrap_err().is_protocol());
    assert!(lines.encode("abcde", &mut buf).unwrap_err().is_protocol());
    let mut u8_prefix = LengthPrefixedCodec::new(Prefix::U8);
    assert!(
        u8_prefix
            .encode(vec![0; 256], &mut buf)
            .unwrap_err()
            .is_protocol()
    );
    let mut delimited = DelimiterCodec::new(b"aba");
    // "xab" + "aba" = "xababa": the delimiter would match at 1 and cut the frame short.
    assert!(
        delimited
            .encode(b"xab", &mut buf)
            .unwrap_err()
            .is_protocol()
    );
    assert!(
        delimited
            .encode(b"xabay", &mut buf)
            .unwrap_err()
            .is_protocol()
    );
    assert!(buf.is_empty(), "a refused item writes nothing");
    delimited.encode(b"xb", &mut buf).unwrap();
    assert_eq!(&buf[..], b"xbaba");
}

// ---- the end of the input -------------------------------------------------------------------

#[test]
fn a_truncated_frame_at_the_end_is_an_error() {
    run(async {
        let (lines, outcome) = decode_all(chunks([b"whole\npart"]), LinesCodec::new()).await;
        assert_eq!(lines, ["whole"]);
        let error = outcome.unwrap_err();
        assert!(error.is_protocol());
        assert_eq!(
            error.to_string(),
            "protocol error: truncated frame: the input ended with 4 bytes of an unfinished frame"
        );

        for codec in every_length_prefix() {
            // A prefix announcing 5 bytes, then 2 of them.
            let mut bytes = encode_all(&mut codec.clone(), [b"12345"]);
            bytes.truncate(bytes.len() - 3);
            let (got, outcome) = decode_all(cut(&bytes, 1), codec).await;
            assert!(got.is_empty());
            assert!(outcome.unwrap_err().to_string().contains("truncated frame"));
        }
        // Half a prefix.
        let (_, outcome) =
            decode_all(chunks([b"\x00\x00"]), LengthPrefixedCodec::new(Prefix::U32)).await;
        assert!(
            outcome
                .unwrap_err()
                .to_string()
                .contains("2 bytes of an unfinished frame")
        );

        let (got, outcome) = decode_all(chunks([b"a;b;c"]), DelimiterCodec::new(b";")).await;
        assert_eq!(got, ["a", "b"].map(Bytes::from));
        assert!(outcome.unwrap_err().to_string().contains("truncated frame"));
    });
}

#[test]
fn an_unterminated_last_line_can_be_accepted() {
    run(async {
        let codec = LinesCodec::new().accept_unterminated_last_line(true);
        let (lines, outcome) = decode_all(chunks([b"a\nb\r"]), codec).await;
        assert_eq!(lines, ["a", "b"]);
        assert!(outcome.is_ok());
    });
}

#[test]
fn an_upstream_error_is_the_drain_cause_even_mid_frame() {
    run(async {
        let upstream = Channel::<Bytes>::new(4);
        upstream
            .put(Bytes::from_static(b"done\nhal"))
            .await
            .unwrap();
        upstream.close_with_error(Error::msg("connection reset"));
        let (lines, outcome) = decode_all(upstream, LinesCodec::new()).await;
        assert_eq!(lines, ["done"]);
        assert_eq!(outcome.unwrap_err().to_string(), "connection reset");
    });
}

#[test]
fn closing_the_frames_ends_them_cleanly_and_closes_the_upstream() {
    run(async {
        let upstream = Channel::<Bytes>::new(4);
        upstream.put(Bytes::from_static(b"one\ntw")).await.unwrap();
        let mut lines = codec::decode(upstream.clone(), LinesCodec::new());
        assert_eq!(lines.next().await.as_deref(), Some("one"));
        lines.close();
        assert!(upstream.is_closed());
        assert_eq!(lines.next().await, None);
        assert!(
            lines.drained().await.is_ok(),
            "a partial frame is dropped on close"
        );
        assert!(lines.description().closed);
    });
}

#[test]
fn a_panicking_decoder_ends_the_frames_with_a_panic_error() {
    struct Boom;
    impl Decoder for Boom {
        type Frame = ();
        fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<()>, Error> {
            if buf.is_empty() {
                return Ok(None);
            }
            panic!("decoder bug")
        }
    }
    run(async {
        let (got, outcome) = decode_all(chunks([b"x"]), Boom).await;
        assert!(got.is_empty());
        let error = outcome.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.to_string(), "panicked: decoder bug");
    });
}

#[test]
fn decode_shows_in_the_stream_graph() {
    let upstream = Channel::<Bytes>::new(1);
    let lines = codec::decode(upstream.clone(), LinesCodec::new());
    let edges = upstream.node().downstream();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].description.as_deref(), Some("decode"));
    assert_eq!(edges[0].target.description().kind, "decode");
    assert_eq!(lines.description().kind, "decode");
}

// ---- encoding into a sink -------------------------------------------------------------------

#[test]
fn encode_waits_for_the_byte_sink_to_accept() {
    run(async {
        let bytes = Channel::<Bytes>::new(1);
        let mut frames = codec::encode(bytes.clone(), LengthPrefixedCodec::new(Prefix::U8));
        frames.send(b"a").await.unwrap(); // fills the buffer

        let mut second = frames.send(b"bb");
        assert!(
            futures::poll!(&mut second).is_pending(),
            "backpressure: the buffer is full"
        );
        assert_eq!(
            Channel::take_next(&bytes).await.as_deref(),
            Some(&b"\x01a"[..])
        );
        second.await.unwrap();
        assert_eq!(
            Channel::take_next(&bytes).await.as_deref(),
            Some(&b"\x02bb"[..])
        );

        // A refused item fails its send only.
        let error = frames.send(vec![0u8; 300]).await.unwrap_err();
        assert!(error.is_protocol());
        frames.send(b"c").await.unwrap();
        assert_eq!(
            Channel::take_next(&bytes).await.as_deref(),
            Some(&b"\x01c"[..])
        );

        let edges = weir::stream::Sink::<&[u8]>::node(&frames).downstream();
        assert_eq!(edges.len(), 1);
        assert!(edges[0].target.description().kind.contains("stream"));
    });
}

#[test]
fn connect_drives_an_encoder_into_a_slow_byte_sink() {
    run(async {
        let bytes = Channel::<Bytes>::new(2);
        let sink = codec::encode(bytes.clone(), LinesCodec::new());
        let done = stream::connect(
            stream::iter((0..50).map(|i| format!("line {i}"))),
            sink,
            stream::ConnectOptions::new(),
        );
        let (got, outcome) = decode_all(bytes, LinesCodec::new()).await;
        assert_eq!(
            got,
            (0..50).map(|i| format!("line {i}")).collect::<Vec<_>>()
        );
        assert!(outcome.is_ok());
        assert!(done.await.is_ok());
    });
}

#[test]
fn encoding_into_a_closed_sink_fails() {
    run(async {
        let bytes = Channel::<Bytes>::new(1);
        let mut frames = codec::encode(bytes.clone(), DelimiterCodec::new(b"\0"));
        bytes.close();
        assert!(weir::stream::Sink::<&[u8]>::is_closed(&frames));
        assert!(frames.send(b"late").await.unwrap_err().is_closed());
    });
}

// ---- framed duplex streams ------------------------------------------------------------------

#[test]
fn framed_splice_carries_frames_both_ways() {
    run(async {
        let (outbound, inbound) = (Channel::<Bytes>::new(8), Channel::<Bytes>::new(8));
        let mut lines = codec::framed(
            stream::splice(outbound.clone(), inbound.clone()),
            LinesCodec::new(),
        );
        lines.send("hello".to_string()).await.unwrap();
        lines.send("world".to_string()).await.unwrap();
        assert_eq!(
            Channel::take_next(&outbound).await.as_deref(),
            Some(&b"hello\n"[..])
        );
        assert_eq!(
            Channel::take_next(&outbound).await.as_deref(),
            Some(&b"world\n"[..])
        );

        inbound.put(Bytes::from_static(b"pi")).await.unwrap();
        inbound
            .put(Bytes::from_static(b"ng\r\npong\n"))
            .await
            .unwrap();
        assert_eq!(lines.next().await.as_deref(), Some("ping"));
        assert_eq!(lines.next().await.as_deref(), Some("pong"));
        assert_eq!(lines.description().kind, "splice");

        // Closing the writing side leaves the reading side open.
        SinkExt::<String>::close(&mut lines).await.unwrap();
        assert!(outbound.is_closed() && !inbound.is_closed());
        inbound.put(Bytes::from_static(b"last\n")).await.unwrap();
        assert_eq!(lines.next().await.as_deref(), Some("last"));

        Source::close(&lines);
        assert!(inbound.is_closed());
        assert_eq!(lines.next().await, None);
        assert!(lines.drained().await.is_ok());
    });
}

#[test]
fn two_framed_ends_of_a_pipe_talk() {
    run(async {
        let (a_to_b, b_to_a) = (Channel::<Bytes>::new(2), Channel::<Bytes>::new(2));
        let codec = LengthPrefixedCodec::new(Prefix::Varint);
        let mut a = codec::framed(
            stream::splice(a_to_b.clone(), b_to_a.clone()),
            codec.clone(),
        );
        let mut b = codec::framed(stream::splice(b_to_a, a_to_b), codec);
        let echo = weir::Deferred::spawn(async move {
            while let Some(frame) = b.next().await {
                let mut reply = b"echo ".to_vec();
                reply.extend_from_slice(&frame);
                b.send(Bytes::from(reply)).await?;
            }
            Ok::<_, Error>(())
        });
        for i in 0..20 {
            a.send(Bytes::from(format!("{i}"))).await.unwrap();
            assert_eq!(a.next().await.unwrap(), Bytes::from(format!("echo {i}")));
        }
        SinkExt::<Bytes>::close(&mut a).await.unwrap();
        echo.await.unwrap();
    });
}

#[test]
fn framed_over_a_channel_loops_back() {
    run(async {
        let pipe = Channel::<Bytes>::new(4);
        let mut frames = codec::framed(pipe.clone(), DelimiterCodec::new(b"\n"));
        frames.send(Bytes::from_static(b"to myself")).await.unwrap();
        assert_eq!(frames.next().await.as_deref(), Some(&b"to myself"[..]));
        Source::close(&frames);
        assert!(pipe.is_closed());
    });
}

#[test]
fn framed_decode_errors_end_the_frames_and_close_the_connection() {
    run(async {
        let (outbound, inbound) = (Channel::<Bytes>::new(8), Channel::<Bytes>::new(8));
        let mut frames = codec::framed(
            stream::splice(outbound, inbound.clone()),
            LengthPrefixedCodec::new(Prefix::U32).max_frame_size(16),
        );
        inbound
            .put(Bytes::from_static(b"\x00\x00\x01\x00"))
            .await
            .unwrap();
        assert_eq!(frames.next().await, None);
        assert!(frames.drained().await.unwrap_err().is_protocol());
        assert!(inbound.is_closed());
    });
}

/// A chunk that arrives while nothing is buffered, and that nothing else holds, becomes the
/// decoder's buffer: the frames are slices of the chunk's own allocation, not copies.
#[test]
fn a_chunk_arriving_with_nothing_buffered_is_decoded_without_a_copy() {
    run(async {
        let chunk = Bytes::from(b"\x04ping\x04pong\x02hi".to_vec());
        let range = chunk.as_ptr_range();
        let frames = codec::decode(stream::iter([chunk]), LengthPrefixedCodec::new(Prefix::U8));
        let got: Vec<Bytes> = frames.collect().await;
        assert_eq!(got, ["ping", "pong", "hi"]);
        for frame in &got {
            assert!(
                range.contains(&frame.as_ptr()),
                "the frame {frame:?} was copied out of the chunk"
            );
        }

        // A chunk shared with another handle is copied (and decodes the same).
        let shared = Bytes::from(b"\x04ping".to_vec());
        let keep = shared.clone();
        let frames = codec::decode(stream::iter([shared]), LengthPrefixedCodec::new(Prefix::U8));
        assert_eq!(frames.collect::<Vec<_>>().await, ["ping"]);
        assert_eq!(keep, &b"\x04ping"[..]);
    });
}

/// The two halves of `framed` hold handles of their own on the duplex: a writer blocked on a
/// full outbound side does not keep the reader from reading.
#[test]
fn a_blocked_writer_does_not_hold_up_the_reader() {
    run(async {
        let outbound = Channel::<Bytes>::new(0);
        let inbound = Channel::<Bytes>::new(4);
        let framed = codec::framed(
            stream::splice(outbound.clone(), inbound.clone()),
            LinesCodec::new(),
        );
        let (mut writer, mut reader) = framed.into_parts();
        // Nobody takes from the unbuffered outbound channel: this send waits.
        let writing = weir::runtime::spawn(async move { writer.send("stuck").await });
        inbound.put(Bytes::from_static(b"read me\n")).await.unwrap();
        assert_eq!(reader.next().await.as_deref(), Some("read me"));
        assert_eq!(
            Channel::take_next(&outbound).await.as_deref(),
            Some(&b"stuck\n"[..])
        );
        writing.await.unwrap();
    });
}
