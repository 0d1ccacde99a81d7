fn main() {
    let _ = weir::pipeline!(weir::stream::iter(1..=3) => map_each(|x: i32| x * 2) as double => weir::stream::Channel::new(1));
}
