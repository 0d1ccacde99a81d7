fn main() {
    let _ = weir::pipeline!();
}
