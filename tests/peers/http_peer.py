"""HTTP peers for weir's tests: the `h2` package (Python's HTTP/2 state machine) and httpx.

Run by the venv `scripts/ws-peers.sh install` makes in target/ws-peers/py3. Each response is
printed as one JSON line; every socket wait is bounded (10 s).

  http_peer.py h2c-upgrade HOST PORT PATH [PATH...]
      Asks for the first PATH with an HTTP/1.1 `Upgrade: h2c` request (its settings from
      h2's `initiate_upgrade_connection`), prints {"upgrade": <status line>}, then sends the
      other PATHs as HTTP/2 streams on the upgraded connection and prints
      {"stream", "status", "headers", "body"} for each response (stream 1 answers the first).

  http_peer.py expect-continue HOST PORT PATH BODY
      Over h2c with prior knowledge, POSTs BODY to PATH with `Expect: 100-continue` and sends
      the body only after a 100 arrives. Prints {"informational": [statuses], "status",
      "body", "sent_body": bool}.

  http_peer.py httpx MODE REQUESTS_JSON [CAFILE SNI]
      MODE: http1, http2 (over TLS by ALPN: CAFILE and SNI name the certificate) or h2c
      (HTTP/2 prior knowledge on http://). REQUESTS_JSON: [{"method", "url", "body"?}].
      Prints {"status", "version", "headers", "body"} for each, in order.
"""

import json
import socket
import ssl
import sys

TIMEOUT = 10


def h2c_upgrade(host, port, paths):
    import h2.config
    import h2.connection
    import h2.events

    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    settings = conn.initiate_upgrade_connection()
    authority = f"{host}:{port}"
    sock.sendall(
        (
            f"GET {paths[0]} HTTP/1.1\r\n"
            f"Host: {authority}\r\n"
            "Connection: Upgrade, HTTP2-Settings\r\n"
            "Upgrade: h2c\r\n"
            f"HTTP2-Settings: {settings.decode('ascii')}\r\n"
            "User-Agent: python-h2\r\n"
            "\r\n"
        ).encode("ascii")
    )
    buffered = b""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("the server closed before answering the upgrade")
        buffered += chunk
    head, rest = buffered.split(b"\r\n\r\n", 1)
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    print(json.dumps({"upgrade": status_line}), flush=True)
    if status_line.split(" ")[1] != "101":
        print(json.dumps({"http1_body_start": rest.decode("latin-1")}), flush=True)
        return
    sock.sendall(conn.data_to_send())
    for path in paths[1:]:
        stream = conn.get_next_available_stream_id()
        conn.send_headers(
            stream,
            [
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", authority),
                (":path", path),
            ],
            end_stream=True,
        )
    sock.sendall(conn.data_to_send())
    responses = {}
    ended = 0
    data = rest
    while ended < len(paths):
        events = conn.receive_data(data) if data else []
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                responses[event.stream_id] = {
                    "stream": event.stream_id,
                    "status": int(dict(event.headers)[":status"]),
                    "headers": {k: v for k, v in event.headers if not k.startswith(":")},
                    "body": "",
                }
            elif isinstance(event, h2.events.DataReceived):
                responses[event.stream_id]["body"] += event.data.decode("utf-8")
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                print(json.dumps(responses[event.stream_id]), flush=True)
                ended += 1
            elif isinstance(event, h2.events.StreamReset):
                print(json.dumps({"stream": event.stream_id, "reset": int(event.error_code)}))
                ended += 1
            elif isinstance(event, h2.events.ConnectionTerminated):
                sys.exit(f"the server sent GOAWAY: {event.error_code}")
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
        if ended >= len(paths):
            break
        data = sock.recv(65536)
        if not data:
            sys.exit("the server closed the upgraded connection early")
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()


def expect_continue(host, port, path, body):
    import h2.config
    import h2.connection
    import h2.events

    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    conn.initiate_connection()
    stream = conn.get_next_available_stream_id()
    conn.send_headers(
        stream,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", f"{host}:{port}"),
            (":path", path),
            ("expect", "100-continue"),
            ("content-length", str(len(body.encode("utf-8")))),
        ],
    )
    sock.sendall(conn.data_to_send())
    result = {"informational": [], "status": None, "body": "", "sent_body": False}
    done = False
    while not done:
        data = sock.recv(65536)
        if not data:
            sys.exit("the server closed the connection early")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.InformationalResponseReceived):
                status = int(dict(event.headers)[":status"])
                result["informational"].append(status)
                if status == 100 and not result["sent_body"]:
                    conn.send_data(stream, body.encode("utf-8"), end_stream=True)
                    result["sent_body"] = True
            elif isinstance(event, h2.events.ResponseReceived):
                result["status"] = int(dict(event.headers)[":status"])
            elif isinstance(event, h2.events.DataReceived):
                result["body"] += event.data.decode("utf-8")
                conn.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                done = True
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    print(json.dumps(result), flush=True)
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()


def run_httpx(mode, requests, cafile=None, sni=None):
    import httpx

    options = {"timeout": TIMEOUT, "http1": mode == "http1", "http2": mode != "http1"}
    if cafile:
        options["verify"] = ssl.create_default_context(cafile=cafile)
    extensions = {"sni_hostname": sni} if sni else {}
    with httpx.Client(**options) as client:
        for request in requests:
            body = request.get("body")
            response = client.request(
                request["method"],
                request["url"],
                content=body.encode("utf-8") if body is not None else None,
                extensions=extensions,
            )
            print(
                json.dumps(
                    {
                        "status": response.status_code,
                        "version": response.http_version,
                        "headers": dict(response.headers),
                        "body": response.text,
                    }
                ),
                flush=True,
            )


def main():
    if sys.argv[1] == "h2c-upgrade":
        h2c_upgrade(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "expect-continue":
        expect_continue(*sys.argv[2:6])
    elif sys.argv[1] == "httpx":
        run_httpx(sys.argv[2], json.loads(sys.argv[3]), *sys.argv[4:6])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")


if __name__ == "__main__":
    main()
