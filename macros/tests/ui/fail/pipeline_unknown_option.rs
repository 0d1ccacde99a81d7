fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => weir::stream::Channel::new(1) { upstrem: true });
}
