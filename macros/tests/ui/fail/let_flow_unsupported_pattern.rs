use weir::let_flow;

fn main() {
    let _ = let_flow! {
        let &a = &1;
        a
    };
}
