use weir::let_flow;

fn main() {
    let _ = let_flow! {
        let a = b + 1;
        let b = 2;
        a
    };
}
