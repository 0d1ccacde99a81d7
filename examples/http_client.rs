//! A small curl: one request with weir's client, for tests and tools to drive.
//!
//! ```text
//! cargo run --release --example http_client -- [--http2-prior-knowledge] [--insecure]
//!     [--cacert FILE] [-X METHOD] [-d DATA] [--wait-close] URL
//! ```
//!
//! Prints the status line, the headers and the body; exits 0 on a 2xx or 3xx status and 1
//! otherwise (2 on bad arguments). The client's defaults apply: redirects followed,
//! `Accept-Encoding` sent and the body decompressed. With `--wait-close` it keeps the
//! connection open after the response until the server closes it, or 5 s pass.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use weir::http::{Client, ClientOptions, ClientRequest, HttpVersion, Method};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut h2c, mut insecure, mut wait_close) = (false, false, false);
    let mut cacert = None;
    let mut method = None;
    let mut data = None;
    let mut url = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http2-prior-knowledge" => h2c = true,
            "--insecure" | "-k" => insecure = true,
            "--wait-close" => wait_close = true,
            "--cacert" => match args.next() {
                Some(file) => cacert = Some(file),
                None => return usage("--cacert needs a file"),
            },
            "-X" => match args.next().and_then(|m| m.parse::<Method>().ok()) {
                Some(m) => method = Some(m),
                None => return usage("-X needs a method"),
            },
            "-d" => match args.next() {
                Some(d) => data = Some(d),
                None => return usage("-d needs data"),
            },
            other if other.starts_with('-') => return usage(&format!("unknown option {other}")),
            other => url = Some(other.to_string()),
        }
    }
    let Some(url) = url else {
        return usage("a URL is required");
    };
    let mut options = ClientOptions::new().http_versions([HttpVersion::Http2, HttpVersion::Http1]);
    if h2c {
        options = options.force_h2c(true);
    }
    if insecure || cacert.is_some() {
        let mut tls = weir::tls::ClientConfig::builder();
        if let Some(file) = &cacert {
            tls = tls.add_root_pem_file(file);
        }
        if insecure {
            tls = tls.danger_accept_invalid_certs();
        }
        match tls.build() {
            Ok(config) => options = options.tls(config),
            Err(error) => {
                eprintln!("http_client: {error}");
                return ExitCode::from(2);
            }
        }
    }
    let method = method.unwrap_or(if data.is_some() {
        Method::POST
    } else {
        Method::GET
    });
    // Error statuses come back as responses, to be printed like any other.
    let mut request = ClientRequest::new(method, &url).throw_on_status(false);
    if let Some(data) = data {
        request = request.body(data);
    }
    let client = Client::with_options(options);
    weir::runtime::block_on(async {
        let response = match client.request(request).await {
            Ok(response) => response,
            Err(error) => {
                eprintln!("http_client: {error}");
                return ExitCode::FAILURE;
            }
        };
        let status = response.status();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{:?} {}", response.version(), status);
        for (name, value) in response.headers() {
            let _ = writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()));
        }
        let _ = writeln!(out);
        match response.into_body().to_bytes(usize::MAX).await {
            Ok(body) => {
                let _ = out.write_all(&body);
                let _ = out.flush();
            }
            Err(error) => {
                eprintln!("http_client: reading the body failed: {error}");
                return ExitCode::FAILURE;
            }
        }
        drop(out);
        if wait_close {
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until && client.stats().iter().any(|host| host.open > 0) {
                weir::runtime::sleep(Duration::from_millis(20)).await;
            }
        }
        if status.is_success() || status.is_redirection() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "http_client: {problem}\nusage: http_client [--http2-prior-knowledge] [--insecure] \
         [--cacert FILE] [-X METHOD] [-d DATA] [--wait-close] URL"
    );
    ExitCode::from(2)
}
