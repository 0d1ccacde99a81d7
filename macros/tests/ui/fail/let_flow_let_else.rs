use weir::let_flow;

fn main() {
    let _ = let_flow! {
        let Some(a) = std::future::ready(Some(1)) else { return };
        a
    };
}
