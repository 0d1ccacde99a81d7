use weir::let_flow;

fn main() {
    let _ = let_flow! {
        let ref a = String::new();
        a.len()
    };
}
