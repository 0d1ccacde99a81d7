//! Property tests of `pipeline!`: on random inputs, a pipeline delivers to its sink (and to
//! every sink of a fan-out) exactly what the same chain written by hand with `SourceExt` and
//! `connect` delivers, and what the same operations on a `Vec` give.
//!
//! The case count is 48 unless `PROPTEST_CASES` says otherwise.

mod support;

use proptest::prelude::*;
use support::run;
use weir::pipeline;
use weir::stream::{self, Channel, ConnectOptions, SourceExt};

fn config() -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(48)
    }
}

/// Takes every message until the channel is drained.
async fn take_all<T: Send + 'static>(channel: &Channel<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(message) = channel.take_next().await {
        out.push(message);
    }
    out
}

/// The same operations on a `Vec`.
fn expected(input: &[i64], factor: i64, modulus: i64, size: usize) -> Vec<Vec<i64>> {
    let kept: Vec<i64> = input
        .iter()
        .map(|x| x.wrapping_mul(factor))
        .filter(|x| x.rem_euclid(modulus) != 0)
        .collect();
    kept.chunks(size).map(<[i64]>::to_vec).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pipeline_equals_the_hand_written_chain(
        input in proptest::collection::vec(any::<i64>(), 0..200),
        factor in -5i64..5,
        modulus in 1i64..5,
        size in 1usize..8,
        capacity in 0usize..4,
    ) {
        let by_macro = Channel::new(capacity);
        let done = pipeline!(
            stream::iter(input.clone())
                => map_each(move |x: i64| x.wrapping_mul(factor)) as "scale"
                => filter_each(move |x| x.rem_euclid(modulus) != 0)
                => batch(size)
                => by_macro.clone()
        );
        let by_hand = Channel::new(capacity);
        let chain = SourceExt::batch(
            SourceExt::filter_each(
                SourceExt::map_each(stream::iter(input.clone()), move |x: i64| x.wrapping_mul(factor)),
                move |x| x.rem_euclid(modulus) != 0,
            ),
            size,
        );
        let done_by_hand = stream::connect(chain, by_hand.clone(), ConnectOptions::new());
        let (macro_out, hand_out) = run(async {
            let macro_out = take_all(&by_macro).await;
            let hand_out = take_all(&by_hand).await;
            done.await.unwrap();
            done_by_hand.await.unwrap();
            (macro_out, hand_out)
        });
        prop_assert_eq!(&macro_out, &hand_out);
        prop_assert_eq!(macro_out, expected(&input, factor, modulus, size));
    }

    #[test]
    fn fan_out_gives_every_sink_the_whole_chain(
        input in proptest::collection::vec(any::<i64>(), 0..100),
        factor in -5i64..5,
        sinks in 1usize..4,
        capacity in 0usize..4,
    ) {
        let outs: Vec<Channel<i64>> = (0..3).map(|_| Channel::new(capacity)).collect();
        let done = match sinks {
            1 => pipeline!(stream::iter(input.clone()) => map_each(move |x: i64| x.wrapping_mul(factor)) => [outs[0].clone()]),
            2 => pipeline!(stream::iter(input.clone()) => map_each(move |x: i64| x.wrapping_mul(factor)) => [outs[0].clone(), outs[1].clone()]),
            _ => pipeline!(stream::iter(input.clone()) => map_each(move |x: i64| x.wrapping_mul(factor)) => [outs[0].clone(), outs[1].clone(), outs[2].clone()]),
        };
        let want: Vec<i64> = input.iter().map(|x| x.wrapping_mul(factor)).collect();
        let got = run(async {
            // Read the sinks concurrently: with a small buffer, each message waits for all.
            let readers: Vec<_> = outs[..sinks]
                .iter()
                .map(|out| {
                    let out = out.clone();
                    weir::Deferred::spawn(async move { Ok::<_, weir::Error>(take_all(&out).await) })
                })
                .collect();
            let got = weir::deferred::zip_all(readers).await.unwrap();
            done.await.unwrap();
            got
        });
        for out in got {
            prop_assert_eq!(&out, &want);
        }
    }
}
