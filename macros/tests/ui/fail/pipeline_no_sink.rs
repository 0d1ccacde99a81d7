fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3));
}
