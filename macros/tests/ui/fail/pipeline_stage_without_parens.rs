fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => flatten_each => weir::stream::Channel::new(1));
}
