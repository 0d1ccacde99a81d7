use weir::{Deferred, Error, let_flow};

struct Point {
    x: u32,
    y: u32,
}

fn main() {
    let d: Deferred<u32> = Deferred::succeeded(4);
    let flow = let_flow! {
        let a = 1u32;
        let b = async { 2u32 };
        let c = async { Ok::<_, Error>(3u32) };
        let d = d;
        let (e, _) = (5u32, "ignored");
        let Point { x, y: why } = Point { x: 6, y: 7 };
        let mut total: u32 = a + b + c + d + e + x + why;
        let _ = async {};
        {
            total += 1;
            total
        }
    };
    assert_eq!(flow.wait().unwrap(), 29);
}
