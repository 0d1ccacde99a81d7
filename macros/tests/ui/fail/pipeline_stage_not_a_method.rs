fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => |x: i32| x + 1 => weir::stream::Channel::new(1));
}
