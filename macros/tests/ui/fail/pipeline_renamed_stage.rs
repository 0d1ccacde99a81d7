fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => map(|x: i32| x * 2) => weir::stream::Channel::new(1));
}
