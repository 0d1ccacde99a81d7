fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => concat => weir::stream::Channel::new(1));
}
