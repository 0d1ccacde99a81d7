//! The opening handshake (RFC 6455 section 4): the server's checks of an upgrade request and
//! its 101, the client's request and its checks of the answer.

use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Version, header};

use crate::Error;

use super::codec::{self, Agreement};
use super::options::Common;

/// What a valid upgrade request leads to: the 101's headers.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    pub(crate) accept: String,
    pub(crate) subprotocol: Option<String>,
    pub(crate) agreement: Option<Agreement>,
}

fn rejected(why: &str) -> Error {
    Error::protocol(format!("expected websocket request: {why}"))
}

/// True when the comma-separated header `name` holds `token` (case-insensitive), in any of
/// its values.
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .map(|value| {
                value
                    .split(',')
                    .any(|item| item.trim().eq_ignore_ascii_case(token))
            })
            .unwrap_or(false)
    })
}

/// The server's checks: a GET over HTTP/1.1 with `Upgrade: websocket`, `Connection: upgrade`,
/// version 13 and a key of 16 bytes; then the subprotocol and compression choices.
pub(crate) fn check_request<B>(request: &Request<B>, options: &Common) -> Result<Accepted, Error> {
    if request.version() != Version::HTTP_11 {
        return Err(rejected(&format!(
            "{:?} (websocket needs HTTP/1.1; RFC 8441 over HTTP/2 is not supported)",
            request.version()
        )));
    }
    if request.method() != Method::GET {
        return Err(rejected(&format!(
            "method {} (must be GET)",
            request.method()
        )));
    }
    let headers = request.headers();
    if !has_token(headers, header::UPGRADE, "websocket") {
        return Err(rejected("no `Upgrade: websocket` header"));
    }
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(rejected("no `Connection: upgrade` header"));
    }
    match headers.get(header::SEC_WEBSOCKET_VERSION) {
        Some(version) if version.as_bytes() == b"13" => {}
        Some(version) => {
            return Err(rejected(&format!(
                "unsupported version {:?} (only 13)",
                String::from_utf8_lossy(version.as_bytes())
            )));
        }
        None => return Err(rejected("no Sec-WebSocket-Version header")),
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or_else(|| rejected("no Sec-WebSocket-Key header"))?;
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .map_err(|_| rejected("Sec-WebSocket-Key is not base64"))?;
    if decoded.len() != 16 {
        return Err(rejected("Sec-WebSocket-Key is not 16 bytes"));
    }
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|protocol| protocol.trim().to_owned())
        .filter(|protocol| !protocol.is_empty())
        .collect();
    let subprotocol = options
        .subprotocols
        .iter()
        .find(|ours| offered.iter().any(|theirs| theirs == *ours))
        .cloned();
    let agreement = options.compression.as_ref().and_then(|deflate| {
        let offers: Vec<&str> = headers
            .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        codec::accept(deflate, offers)
    });
    Ok(Accepted {
        accept: codec::accept_key(key.as_bytes()),
        subprotocol,
        agreement,
    })
}

/// The 101 response's headers for `accepted`, with the options' extra headers.
pub(crate) fn response_headers(accepted: &Accepted, options: &Common) -> HeaderMap {
    let mut headers = options.headers.clone();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accepted.accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = accepted
        .subprotocol
        .as_deref()
        .and_then(|p| HeaderValue::from_str(p).ok())
    {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    if let Some(extensions) = accepted
        .agreement
        .as_ref()
        .and_then(|agreement| HeaderValue::from_str(&agreement.response_header()).ok())
    {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, extensions);
    }
    headers
}

/// The client's upgrade request head, for `path_and_query` on `host`.
pub(crate) fn request_head(
    host: &str,
    path_and_query: &str,
    key: &str,
    options: &Common,
) -> Vec<u8> {
    let mut head = format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if !options.subprotocols.is_empty() {
        head.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            options.subprotocols.join(", ")
        ));
    }
    if let Some(deflate) = &options.compression {
        head.push_str(&format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            codec::offer(deflate)
        ));
    }
    let mut head = head.into_bytes();
    for (name, value) in &options.headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// What the client learns from a valid 101.
#[derive(Debug)]
pub(crate) struct Answered {
    pub(crate) headers: HeaderMap,
    pub(crate) subprotocol: Option<String>,
    pub(crate) agreement: Option<Agreement>,
}

/// The client's checks of the server's answer: a 101 with the upgrade headers, the accept key
/// for `key`, a subprotocol we offered, an extension answer we can take.
pub(crate) fn check_response(
    status: u16,
    headers: HeaderMap,
    key: &str,
    body_preview: &[u8],
    options: &Common,
) -> Result<Answered, Error> {
    if status != 101 {
        let status = StatusCode::from_u16(status)
            .map(|s| s.to_string())
            .unwrap_or_else(|_| status.to_string());
        return Err(Error::protocol(format!(
            "websocket handshake: unexpected HTTP response, status: {status}, body: '{}'",
            String::from_utf8_lossy(body_preview)
        )));
    }
    let fail = |why: &str| Error::protocol(format!("websocket handshake: {why}"));
    if !has_token(&headers, header::UPGRADE, "websocket") {
        return Err(fail("the 101 has no `Upgrade: websocket` header"));
    }
    if !has_token(&headers, header::CONNECTION, "upgrade") {
        return Err(fail("the 101 has no `Connection: upgrade` header"));
    }
    let expected = codec::accept_key(key.as_bytes());
    match headers.get(header::SEC_WEBSOCKET_ACCEPT) {
        Some(accept) if accept.as_bytes() == expected.as_bytes() => {}
        Some(_) => return Err(fail("wrong Sec-WebSocket-Accept")),
        None => return Err(fail("no Sec-WebSocket-Accept header")),
    }
    let subprotocol = match headers.get(header::SEC_WEBSOCKET_PROTOCOL) {
        None => None,
        Some(value) => {
            let chosen = value
                .to_str()
                .map_err(|_| fail("Sec-WebSocket-Protocol is not text"))?
                .trim()
                .to_owned();
            if !options.subprotocols.contains(&chosen) {
                return Err(fail(&format!(
                    "the server chose subprotocol {chosen:?}, which was not offered"
                )));
            }
            Some(chosen)
        }
    };
    let answer: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let agreement = if answer.is_empty() {
        None
    } else {
        match &options.compression {
            None => {
                return Err(fail(
                    "the server answered with extensions none were offered",
                ));
            }
            Some(deflate) => codec::confirm(deflate, &answer.join(", "))
                .map_err(|why| fail(&format!("extensions: {why}")))?,
        }
    };
    Ok(Answered {
        headers,
        subprotocol,
        agreement,
    })
}
