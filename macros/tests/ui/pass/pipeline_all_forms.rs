//! Every form of `pipeline!` compiles: stages with and without arguments, turbofish, names,
//! one sink, fan-out, options, a trailing comma in the options and in the fan-out list.

use std::time::Duration;

use weir::pipeline;
use weir::stream::{self, Channel};

fn main() {
    let out = Channel::new(4);
    let _: weir::Deferred<(), weir::Error> = pipeline!(stream::iter(1..=3) => out.clone());

    let nested = stream::iter([stream::iter(1..3)]);
    let strings = Channel::<String>::new(4);
    let _ = pipeline!(
        nested
            => flatten_each()
            => map_each::<String, _>(|n: i32| n.to_string()) as "to string"
            => filter_each(|s| !s.is_empty())
            => strings.clone() { upstream: true, downstream: false, timeout: Duration::from_secs(1), description: "out", }
    );

    let (a, b) = (Channel::new(4), Channel::new(4));
    let _ = pipeline!(
        stream::iter(1..=3) => batch(2) as "pairs" => [a.clone() { upstream: true }, b.clone(),]
    );
}
