//! TCP helpers shared by the TCP test files: a loopback server that hands its connections to the
//! test, and a client of it.

use std::sync::mpsc;

use weir::tcp::{self, ClientOptions, Server, ServerOptions, TcpConnection};

/// Server options bound to an ephemeral loopback port.
pub fn localhost() -> ServerOptions {
    ServerOptions::new().address(([127, 0, 0, 1], 0))
}

/// A server that hands each accepted connection to the test.
pub async fn handing_server(options: ServerOptions) -> (Server, mpsc::Receiver<TcpConnection>) {
    let (tx, rx) = mpsc::channel();
    let server = tcp::start_server(
        move |c| {
            let _ = tx.send(c);
        },
        options,
    )
    .await
    .expect("listen on loopback");
    (server, rx)
}

/// A client connected to `server`.
pub async fn connect(server: &Server) -> TcpConnection {
    tcp::client(ClientOptions::new().remote_address(server.local_addr()))
        .await
        .expect("connect on loopback")
}
