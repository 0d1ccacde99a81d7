use weir::let_flow;

struct Connection;

impl Connection {
    fn id(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = let_flow! {
        let conn = async { Connection };
        let id = conn.id();
        (conn, id)
    };
}
