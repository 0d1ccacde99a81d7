fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => frobnicate(2) => weir::stream::Channel::new(1));
}
