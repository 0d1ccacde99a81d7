fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => reduce(0, |a, b| a + b) => weir::stream::Channel::new(1));
}
