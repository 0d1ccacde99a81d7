fn main() {
    let _ = weir::pipeline!(=> weir::stream::Channel::<i32>::new(1));
}
