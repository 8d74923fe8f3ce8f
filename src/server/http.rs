//! The gateway's operations endpoint (`--metrics ADDR:PORT`): `GET /metrics` (Prometheus)
//! and `GET /healthz` (200 `ok`, 503 `draining`), one request per connection.
//!
//! Two fixed answers do not need an HTTP stack: the request head is read (bounded in size
//! and time), the answer written with `Connection: close`.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::server::drain::Drain;
use crate::server::metrics::Metrics;

/// A request head longer than this is refused.
const MAX_HEAD: usize = 8192;
/// A connection gets this long to send its request and take the answer.
const REQUEST_TIME: Duration = Duration::from_secs(5);
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the endpoint serves.
#[derive(Debug, Clone)]
pub struct OpsState {
    pub metrics: Arc<Metrics>,
    pub drain: Drain,
}

/// Serve `/metrics` and `/healthz` on `listener` for as long as the task lives.
pub async fn serve(listener: TcpListener, state: OpsState) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(REQUEST_TIME, answer(stream, &state)).await;
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer(mut stream: TcpStream, state: &OpsState) -> std::io::Result<()> {
    let head = read_head(&mut stream).await?;
    let reply = respond(request_line(&head), state);
    stream.write_all(&reply).await?;
    stream.shutdown().await
}

/// The bytes up to the blank line that ends the head (or all there is, when the client
/// stops sending or the limit is reached).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

/// Method and path of the request line.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|&b| b == b'\r' || b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    parts.next()?.starts_with("HTTP/").then_some(())?;
    // The query does not matter to either endpoint.
    Some((method, target.split('?').next().unwrap_or(target)))
}

/// The whole answer to a request.
fn respond(request: Option<(&str, &str)>, state: &OpsState) -> Vec<u8> {
    let Some((method, path)) = request else { return reply("400 Bad Request", "text/plain", "bad request\n".into(), true) };
    let with_body = method != "HEAD";
    if method != "GET" && method != "HEAD" {
        return reply("405 Method Not Allowed", "text/plain", "GET only\n".into(), true);
    }
    match path {
        "/metrics" => reply("200 OK", OPENMETRICS, state.metrics.encode(), with_body),
        "/healthz" if state.drain.is_draining() => reply("503 Service Unavailable", "text/plain", "draining\n".into(), with_body),
        "/healthz" => reply("200 OK", "text/plain", "ok\n".into(), with_body),
        _ => reply("404 Not Found", "text/plain", "try /metrics or /healthz\n".into(), with_body),
    }
}

fn reply(status: &str, content_type: &str, body: String, with_body: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if with_body {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn health_turns_503_while_draining_and_metrics_are_served() {
        let state = OpsState { metrics: Arc::new(Metrics::new()), drain: Drain::default() };
        let ok = text(respond(request_line(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), &state));
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n") && ok.ends_with("\r\n\r\nok\n"), "{ok}");
        let metrics = text(respond(request_line(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), &state));
        assert!(metrics.contains("sipdeck_ws_clients 0") && metrics.ends_with("# EOF\n"), "{metrics}");
        state.drain.start();
        let draining = text(respond(request_line(b"GET /healthz HTTP/1.1\r\n\r\n"), &state));
        assert!(draining.starts_with("HTTP/1.1 503 ") && draining.ends_with("draining\n"), "{draining}");
        let head = text(respond(request_line(b"HEAD /healthz HTTP/1.1\r\n\r\n"), &state));
        assert!(head.ends_with("\r\n\r\n") && head.contains("Content-Length: 9"), "{head}");
    }

    #[test]
    fn other_requests_are_refused_plainly() {
        let state = OpsState { metrics: Arc::new(Metrics::new()), drain: Drain::default() };
        let status = |req: &[u8]| text(respond(request_line(req), &state)).lines().next().unwrap().to_string();
        assert_eq!(status(b"GET /nope HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found");
        assert_eq!(status(b"POST /metrics HTTP/1.1\r\n\r\n"), "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(status(b"\x16\x03\x01garbage"), "HTTP/1.1 400 Bad Request");
        assert_eq!(status(b""), "HTTP/1.1 400 Bad Request");
    }
}
