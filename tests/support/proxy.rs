//! Proxies of the tests' own on loopback: an HTTP proxy (absolute-form requests forwarded,
//! CONNECT tunnels) and a SOCKS5 proxy, each recording what it was asked.

use std::sync::{Arc, Mutex};

use futures::{AsyncReadExt, AsyncWriteExt};

/// Copies both ways until either side ends.
async fn splice(a: async_net::TcpStream, b: async_net::TcpStream) {
    let (mut a_read, mut b_write) = (a.clone(), b.clone());
    let (mut b_read, mut a_write) = (b, a);
    futures_lite::future::or(
        async {
            let _ = futures_lite::io::copy(&mut a_read, &mut b_write).await;
        },
        async {
            let _ = futures_lite::io::copy(&mut b_read, &mut a_write).await;
        },
    )
    .await;
}

async fn read_head(stream: &mut async_net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// An HTTP proxy; records each request head it sees.
pub fn http_proxy() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    weir::runtime::spawn(async move {
        let listener = async_net::TcpListener::try_from(listener).unwrap();
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let log = log.clone();
            weir::runtime::spawn(async move {
                let head = read_head(&mut client).await;
                log.lock().unwrap().push(head.clone());
                let line = head.lines().next().unwrap_or("").to_string();
                let mut words = line.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                if method == "CONNECT" {
                    let upstream = async_net::TcpStream::connect(target).await.unwrap();
                    client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .unwrap();
                    splice(client, upstream).await;
                } else {
                    let authority = target
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap()
                        .to_string();
                    let mut upstream = async_net::TcpStream::connect(authority).await.unwrap();
                    upstream.write_all(head.as_bytes()).await.unwrap();
                    splice(client, upstream).await;
                }
            })
            .detach();
        }
    })
    .detach();
    (address, seen)
}

/// A SOCKS5 proxy without auth; records each target.
pub fn socks5_proxy() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    weir::runtime::spawn(async move {
        let listener = async_net::TcpListener::try_from(listener).unwrap();
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let log = log.clone();
            weir::runtime::spawn(async move {
                let mut greeting = [0u8; 2];
                client.read_exact(&mut greeting).await.unwrap();
                let mut methods = vec![0u8; greeting[1] as usize];
                client.read_exact(&mut methods).await.unwrap();
                client.write_all(&[5, 0]).await.unwrap();
                let mut request = [0u8; 4];
                client.read_exact(&mut request).await.unwrap();
                let host = match request[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        client.read_exact(&mut ip).await.unwrap();
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let mut len = [0u8; 1];
                        client.read_exact(&mut len).await.unwrap();
                        let mut name = vec![0u8; len[0] as usize];
                        client.read_exact(&mut name).await.unwrap();
                        String::from_utf8(name).unwrap()
                    }
                    other => panic!("address type {other}"),
                };
                let mut port = [0u8; 2];
                client.read_exact(&mut port).await.unwrap();
                let target = format!("{host}:{}", u16::from_be_bytes(port));
                log.lock().unwrap().push(target.clone());
                let upstream = async_net::TcpStream::connect(target).await.unwrap();
                client
                    .write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
                    .await
                    .unwrap();
                splice(client, upstream).await;
            })
            .detach();
        }
    })
    .detach();
    (address, seen)
}
