//! The HTTP server and its connections in the stream graph.

mod support;

use futures::{AsyncReadExt, AsyncWriteExt};
use support::run;
use weir::http::{self, Body, Request, ServerOptions};

#[test]
fn the_server_node_lists_each_open_connection_with_its_protocol_and_bytes() {
    run(async {
        let server = http::start_server(
            |_: Request<Body>| "hello!",
            ServerOptions::new().address(([127, 0, 0, 1], 0)),
        )
        .await
        .unwrap();
        let node = server.node();
        assert_eq!(node.description().kind, "http-server");
        assert!(node.downstream().is_empty());

        let mut client = async_net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        // Two requests: once the second's answer is here, the first answer's write was
        // counted (the connection's task counts a write before it reads again).
        let mut first_reply_len = 0;
        for round in 0..2 {
            client
                .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
                .await
                .unwrap();
            let mut reply = Vec::new();
            let mut buf = [0u8; 1024];
            while !reply.ends_with(b"hello!") {
                let n = client.read(&mut buf).await.unwrap();
                assert!(n > 0, "the server closed early");
                reply.extend_from_slice(&buf[..n]);
            }
            if round == 0 {
                first_reply_len = reply.len();
            }
        }

        let edges = node.downstream();
        assert_eq!(edges.len(), 1);
        let connection = edges[0].target.description();
        assert_eq!(connection.kind, "http-connection");
        let extra = |key: &str| {
            connection
                .extra
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(extra("protocol"), "http/1.1");
        assert_eq!(extra("bytes_in").parse::<u64>().unwrap(), 70);
        assert!(extra("bytes_out").parse::<u64>().unwrap() as usize >= first_reply_len);
        assert!(
            connection
                .label
                .unwrap()
                .contains(&client.local_addr().unwrap().to_string())
        );
        assert!(node.render_text().contains("http-connection"));

        drop(client);
        server.close().await.unwrap();
        assert!(server.node().description().closed);
        assert!(server.node().downstream().is_empty());
    });
}
