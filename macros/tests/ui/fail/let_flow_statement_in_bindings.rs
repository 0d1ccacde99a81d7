use weir::let_flow;

fn log() {}

fn main() {
    let _ = let_flow! {
        let a = 1;
        log();
        let b = 2;
        a + b
    };
}
