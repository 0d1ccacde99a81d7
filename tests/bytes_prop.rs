//! Properties of `weir::bytes`: chunking, readers and lines against simple models.

mod support;

use bytes::Bytes;
use futures_lite::{AsyncReadExt, StreamExt};
use proptest::prelude::*;
use weir::bytes as wb;
use weir::stream::{self, Source};

use support::run;

/// Splits `data` at the given cut points (taken modulo its length), in order.
fn split_at_cuts(data: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|c| {
            if data.is_empty() {
                0
            } else {
                c % (data.len() + 1)
            }
        })
        .collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        parts.push(Bytes::copy_from_slice(&data[start..cut]));
        start = cut;
    }
    parts.push(Bytes::copy_from_slice(&data[start..]));
    parts
}

/// Text with many line breaks, carriage returns and multi-byte characters.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("bc"),
            Just("é"),
            Just("€"),
            Just(" "),
            Just("\n"),
            Just("\r"),
            Just("\r\n"),
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

#[test]
fn smoke_chunk_then_collect() {
    let all = run(wb::to_bytes(wb::chunks(vec![1u8, 2, 3], 2), 3)).unwrap();
    assert_eq!(all, Bytes::from_static(&[1, 2, 3]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn chunking_then_collecting_gives_the_input(
        data in proptest::collection::vec(any::<u8>(), 0..2_000),
        size in 1usize..300,
    ) {
        let parts: Vec<Bytes> = run(wb::chunks(data.clone(), size).collect());
        if let Some((last, full)) = parts.split_last() {
            prop_assert!(full.iter().all(|part| part.len() == size));
            prop_assert!(!last.is_empty() && last.len() <= size);
        }
        let all = run(wb::to_bytes(wb::chunks(data.clone(), size), data.len())).unwrap();
        prop_assert_eq!(&all[..], &data[..]);
    }

    #[test]
    fn to_bytes_succeeds_exactly_within_the_limit(
        data in proptest::collection::vec(any::<u8>(), 0..500),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        limit in 0usize..600,
    ) {
        let source = stream::iter(split_at_cuts(&data, &cuts));
        match run(wb::to_bytes(source, limit)) {
            Ok(all) => {
                prop_assert!(data.len() <= limit);
                prop_assert_eq!(&all[..], &data[..]);
            }
            Err(error) => {
                prop_assert!(data.len() > limit);
                prop_assert!(error.is_protocol());
            }
        }
    }

    #[test]
    fn to_reader_reads_the_concatenation(
        data in proptest::collection::vec(any::<u8>(), 0..2_000),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        read_size in 1usize..100,
    ) {
        let mut reader = wb::to_reader(stream::iter(split_at_cuts(&data, &cuts)));
        let mut all = Vec::new();
        let mut buf = vec![0u8; read_size];
        loop {
            let n = run(reader.read(&mut buf)).unwrap();
            if n == 0 {
                break;
            }
            prop_assert!(n <= read_size);
            all.extend_from_slice(&buf[..n]);
        }
        prop_assert_eq!(&all, &data);
        let mut again = Vec::new();
        run(wb::to_reader(stream::iter(split_at_cuts(&data, &cuts))).read_to_end(&mut again))
            .unwrap();
        prop_assert_eq!(again, data);
    }

    #[test]
    fn from_reader_then_collect_gives_the_input(
        data in proptest::collection::vec(any::<u8>(), 0..2_000),
        chunk_size in 1usize..300,
    ) {
        let source = wb::from_reader(futures_lite::io::Cursor::new(data.clone()), chunk_size);
        let parts: Vec<Bytes> = run(source.collect());
        prop_assert!(parts.iter().all(|part| !part.is_empty() && part.len() <= chunk_size));
        prop_assert_eq!(parts.concat(), data);
    }

    #[test]
    fn lines_match_str_lines(
        text in text(),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
        max_line in 0usize..40,
    ) {
        let source = stream::iter(split_at_cuts(text.as_bytes(), &cuts));
        let lines = wb::lines(source, max_line);
        let drained = lines.drained();
        let got: Vec<String> = run(lines.collect());
        let outcome = run(drained);

        let model: Vec<&str> = text.lines().collect();
        let within: Vec<&str> = model.iter().copied().take_while(|l| l.len() <= max_line).collect();
        prop_assert_eq!(&got, &within);
        if within.len() == model.len() {
            prop_assert!(outcome.is_ok(), "{:?}", outcome);
        } else {
            let error = outcome.unwrap_err();
            prop_assert!(error.is_protocol(), "{}", error);
        }
    }
}
