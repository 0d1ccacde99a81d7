//! Property tests of the codecs: random frames, encoded, concatenated and cut at random chunk
//! boundaries, decode to the same frames; random garbage never panics a decoder, and either
//! decodes or ends with a protocol error.
//!
//! The case count is 64 unless `PROPTEST_CASES` says otherwise.

mod support;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use proptest::prelude::*;
use support::run;
use weir::Error;
use weir::codec::{
    self, Decoder, DelimiterCodec, Encoder, Endian, LengthPrefixedCodec, LinesCodec, Prefix,
};
use weir::stream::{self, Source};

fn config() -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(64)
    }
}

/// `bytes` cut at the given points (each taken modulo the length).
fn split_at(bytes: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| Bytes::copy_from_slice(&bytes[w[0]..w[1]]))
        .collect()
}

/// `bytes` cut as [`split_at`] does, each chunk either a handle of its own (`true`: a decoder
/// may take it over without a copy) or a slice sharing one allocation with the others.
fn split_mixed(bytes: &[u8], cuts: &[usize], own: &[bool]) -> Vec<Bytes> {
    let whole = Bytes::copy_from_slice(bytes);
    let mut start = 0;
    split_at(bytes, cuts)
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let range = start..start + chunk.len();
            start = range.end;
            if own.get(i).copied().unwrap_or(true) {
                chunk
            } else {
                whole.slice(range)
            }
        })
        .collect()
}

/// Decodes the chunks through the `decode` adapter: the frames and the drain outcome.
fn decode_chunks<D>(chunks: Vec<Bytes>, decoder: D) -> (Vec<D::Frame>, Result<(), Error>)
where
    D: Decoder + Send,
{
    run(async {
        let frames = codec::decode(stream::iter(chunks), decoder);
        let drained = frames.drained();
        let got = frames.collect::<Vec<_>>().await;
        (got, drained.await)
    })
}

/// Encodes the items, keeping those the codec accepts; returns the bytes and the kept items.
fn encode_accepted<C, T: Clone>(codec: &mut C, items: Vec<T>) -> (Vec<u8>, Vec<T>)
where
    C: Encoder<T>,
{
    let mut buf = BytesMut::new();
    let mut kept = Vec::new();
    for item in items {
        if codec.encode(item.clone(), &mut buf).is_ok() {
            kept.push(item);
        }
    }
    (buf.to_vec(), kept)
}

fn prefix() -> impl Strategy<Value = Prefix> {
    prop_oneof![
        Just(Prefix::U8),
        Just(Prefix::U16),
        Just(Prefix::U32),
        Just(Prefix::U64),
        Just(Prefix::Varint),
    ]
}

fn endian() -> impl Strategy<Value = Endian> {
    prop_oneof![Just(Endian::Big), Just(Endian::Little)]
}

#[test]
fn smoke_one_case_of_each_property() {
    let mut codec = LengthPrefixedCodec::new(Prefix::Varint);
    let (bytes, kept) = encode_accepted(&mut codec, vec![b"abc".to_vec(), vec![]]);
    let (got, outcome) = decode_chunks(split_at(&bytes, &[1, 3]), codec);
    assert_eq!(got, kept.into_iter().map(Bytes::from).collect::<Vec<_>>());
    assert!(outcome.is_ok());
    let (_, outcome) = decode_chunks(split_at(b"\xff\xff", &[1]), LinesCodec::new());
    assert!(outcome.unwrap_err().is_protocol());
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn lines_round_trip(
        lines in prop::collection::vec("[^\r\n]{0,40}", 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut codec = LinesCodec::new().max_length(200);
        let (bytes, kept) = encode_accepted(&mut codec, lines.clone());
        prop_assert_eq!(&kept, &lines);
        let (got, outcome) = decode_chunks(split_at(&bytes, &cuts), codec);
        prop_assert_eq!(got, lines);
        prop_assert!(outcome.is_ok());
    }

    /// Chunks a decoder takes over as its buffer (nothing buffered, the only handle) and
    /// chunks it copies, mixed in any order, decode to the same frames in the same order.
    #[test]
    fn owned_and_shared_chunks_mixed_decode_the_same(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
        own in prop::collection::vec(any::<bool>(), 0..32),
    ) {
        let mut codec = LengthPrefixedCodec::new(Prefix::U16).max_frame_size(1000);
        let (bytes, kept) = encode_accepted(&mut codec, frames.clone());
        prop_assert_eq!(&kept, &frames);
        let (got, outcome) = decode_chunks(split_mixed(&bytes, &cuts, &own), codec);
        prop_assert_eq!(got, frames.into_iter().map(Bytes::from).collect::<Vec<_>>());
        prop_assert!(outcome.is_ok());

        let text: Vec<u8> = kept.iter().enumerate().flat_map(|(i, _)| format!("line {i}\n").into_bytes()).collect();
        let (lines, outcome) = decode_chunks(split_mixed(&text, &cuts, &own), LinesCodec::new());
        let expected: Vec<String> = (0..kept.len()).map(|i| format!("line {i}")).collect();
        prop_assert_eq!(lines, expected);
        prop_assert!(outcome.is_ok());
    }

    #[test]
    fn lines_with_crlf_round_trip(
        lines in prop::collection::vec("[a-z ]{0,20}", 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let text: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
        let (got, outcome) = decode_chunks(split_at(text.as_bytes(), &cuts), LinesCodec::new());
        prop_assert_eq!(got, lines);
        prop_assert!(outcome.is_ok());
    }

    #[test]
    fn length_prefixed_round_trip(
        prefix in prefix(),
        endian in endian(),
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut codec = LengthPrefixedCodec::new(prefix).endian(endian).max_frame_size(1000);
        let (bytes, kept) = encode_accepted(&mut codec, frames.clone());
        if prefix != Prefix::U8 {
            prop_assert_eq!(kept.len(), frames.len());
        }
        let (got, outcome) = decode_chunks(split_at(&bytes, &cuts), codec);
        prop_assert_eq!(got, kept.into_iter().map(Bytes::from).collect::<Vec<_>>());
        prop_assert!(outcome.is_ok());
    }

    #[test]
    fn delimiter_round_trip(
        delimiter in prop::collection::vec(any::<u8>(), 1..4),
        frames in prop::collection::vec(prop::collection::vec(0u8..4, 0..40), 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        // A small alphabet makes frames that contain the delimiter (refused) common.
        let mut codec = DelimiterCodec::new(&delimiter).max_frame_size(100);
        let (bytes, kept) = encode_accepted(&mut codec, frames);
        let (got, outcome) = decode_chunks(split_at(&bytes, &cuts), codec);
        prop_assert_eq!(got, kept.into_iter().map(Bytes::from).collect::<Vec<_>>());
        prop_assert!(outcome.is_ok());
    }

    #[test]
    fn garbage_never_panics_a_decoder(
        garbage in prop::collection::vec(any::<u8>(), 0..400),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        prefix in prefix(),
        endian in endian(),
        delimiter in prop::collection::vec(any::<u8>(), 1..3),
        max in 0usize..64,
    ) {
        let chunks = split_at(&garbage, &cuts);
        // Each adapter either ends cleanly or with a protocol error; none panics (a panic in
        // a decoder would show as a panic error here, or fail the test).
        let (lines, outcome) = decode_chunks(chunks.clone(), LinesCodec::new().max_length(max));
        prop_assert!(outcome.as_ref().map_or_else(Error::is_protocol, |()| true), "{:?}", outcome);
        prop_assert!(lines.iter().all(|l| l.len() <= max));

        let codec = LengthPrefixedCodec::new(prefix).endian(endian).max_frame_size(max);
        let (frames, outcome) = decode_chunks(chunks.clone(), codec);
        prop_assert!(outcome.as_ref().map_or_else(Error::is_protocol, |()| true), "{:?}", outcome);
        prop_assert!(frames.iter().all(|f| f.len() <= max));

        let codec = DelimiterCodec::new(&delimiter).max_frame_size(max);
        let (frames, outcome) = decode_chunks(chunks, codec);
        prop_assert!(outcome.as_ref().map_or_else(Error::is_protocol, |()| true), "{:?}", outcome);
        prop_assert!(frames.iter().all(|f| f.len() <= max));
    }

    #[test]
    fn decoders_called_directly_on_garbage_stay_bounded(
        garbage in prop::collection::vec(any::<u8>(), 0..400),
        prefix in prefix(),
        max in 0usize..64,
    ) {
        // Feeding byte by byte: whenever a decoder asks for more, it holds at most a maximal
        // frame and its framing.
        let mut lines = LinesCodec::new().max_length(max);
        let mut length = LengthPrefixedCodec::new(prefix).max_frame_size(max);
        let mut delimited = DelimiterCodec::new(b"\r\n").max_frame_size(max);
        let mut bufs = [BytesMut::new(), BytesMut::new(), BytesMut::new()];
        let mut alive = [true; 3];
        for &byte in &garbage {
            for buf in &mut bufs {
                buf.extend_from_slice(&[byte]);
            }
            if alive[0] {
                alive[0] = drain(&mut lines, &mut bufs[0]);
                prop_assert!(!alive[0] || bufs[0].len() <= max + 1);
            }
            if alive[1] {
                alive[1] = drain(&mut length, &mut bufs[1]);
                prop_assert!(!alive[1] || bufs[1].len() <= max + 10);
            }
            if alive[2] {
                alive[2] = drain(&mut delimited, &mut bufs[2]);
                prop_assert!(!alive[2] || bufs[2].len() <= max + 1);
            }
        }
    }
}

/// Decodes every frame in `buf`: false once the decoder refused the input.
fn drain<D: Decoder>(decoder: &mut D, buf: &mut BytesMut) -> bool {
    loop {
        match decoder.decode(buf) {
            Ok(Some(_)) => continue,
            Ok(None) => return true,
            Err(error) => {
                assert!(error.is_protocol(), "{error:?}");
                return false;
            }
        }
    }
}
