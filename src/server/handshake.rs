//! The WebSocket opening handshake: the access token check and the subprotocol answer.
//! Both happen before the connection exists, so a refused client never gets to send a
//! command.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::core::protocol::{self, SUBPROTOCOL};

/// The answer to a plain HTTP request (no WebSocket upgrade): say what this port speaks.
const NOT_WEBSOCKET: &str = "HTTP/1.1 426 Upgrade Required\r\n\
Upgrade: websocket\r\n\
Sec-WebSocket-Protocol: sip-audio-protocol\r\n\
Connection: close\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 70\r\n\
\r\n\
This is a sipdeck WebSocket endpoint (subprotocol sip-audio-protocol)\n";

pub type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// Frames and messages over the protocol's limit are refused by tungstenite itself.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(protocol::MAX_FRAME_BYTES))
        .max_frame_size(Some(protocol::MAX_FRAME_BYTES))
}

/// The handshake, bounded in time (`limit`) so a silent connection, or one that never
/// presents the token, cannot hold a task for ever. A plain HTTP request gets a 426.
pub async fn accept(stream: TcpStream, peer: SocketAddr, token: Option<String>, limit: Duration) -> Option<Ws> {
    let handshake = async move {
        if !asks_for_websocket(&stream).await {
            use tokio::io::AsyncWriteExt as _;
            let mut stream = stream;
            let _ = stream.write_all(NOT_WEBSOCKET.as_bytes()).await;
            let _ = stream.shutdown().await;
            return Err(tokio_tungstenite::tungstenite::Error::Http(Box::new(
                http::Response::builder().status(http::StatusCode::UPGRADE_REQUIRED).body(None).expect("a valid response"),
            )));
        }
        #[allow(clippy::result_large_err)] // tungstenite's callback signature
        let accept = tokio_tungstenite::accept_hdr_async_with_config(
            stream,
            move |req: &_, resp| answer(req, resp, token.as_deref()),
            Some(ws_config()),
        );
        accept.await
    };
    match tokio::time::timeout(limit, handshake).await {
        Ok(Ok(ws)) => Some(ws),
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "handshake refused");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "handshake timed out");
            None
        }
    }
}

/// Whether the request waiting on `stream` is a WebSocket upgrade, read without taking it
/// off the socket. Anything that is not plainly an HTTP request without `Upgrade:
/// websocket` (a partial head, a huge one) is left to tungstenite to judge.
async fn asks_for_websocket(stream: &TcpStream) -> bool {
    let mut buf = vec![0u8; 8192];
    let mut seen = 0;
    loop {
        let n = match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(n) => n,
        };
        // Not an HTTP request line at all (a TLS hello, say): tungstenite says why.
        if !buf[..n.min(3)].iter().all(u8::is_ascii_uppercase) {
            return true;
        }
        if let Some(head) = complete_head(&buf[..n]) {
            return is_upgrade(head);
        }
        if n == buf.len() {
            return true;
        }
        if n == seen {
            // Nothing new yet: peek would return at once, so wait a moment.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seen = n;
    }
}

fn complete_head(bytes: &[u8]) -> Option<&[u8]> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|end| &bytes[..end])
}

/// An `Upgrade:` header that names websocket.
fn is_upgrade(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .any(|(name, value)| name.trim() == "upgrade" && value.contains("websocket"))
}

/// The token a client presents: `?token=...` in the URL or `Authorization: Bearer ...`.
pub fn presented_token(req: &Request) -> Option<String> {
    let from_header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string());
    from_header.or_else(|| {
        let query = req.uri().query()?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned())
    })
}

/// Compare without stopping at the first difference, so response timing does not leak
/// how much of a guess was right.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the client asked for `sip-audio-protocol` among its subprotocols.
pub fn offers_subprotocol(req: &Request) -> bool {
    req.headers()
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL)
}

/// The handshake decision: refuse without the right token (401), otherwise accept and
/// name the subprotocol when the client offered it (naming one it did not offer would
/// make a strict client drop the connection).
// The large error type is tungstenite's handshake callback signature, not a choice here.
#[allow(clippy::result_large_err)]
pub fn answer(req: &Request, mut resp: Response, token: Option<&str>) -> Result<Response, ErrorResponse> {
    if let Some(expected) = token {
        let ok = presented_token(req).is_some_and(|t| same_secret(t.as_bytes(), expected.as_bytes()));
        if !ok {
            let mut refusal = ErrorResponse::new(Some("a valid access token is required\n".to_string()));
            *refusal.status_mut() = http::StatusCode::UNAUTHORIZED;
            refusal
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(refusal);
        }
    }
    if offers_subprotocol(req) {
        resp.headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(SUBPROTOCOL));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn finds_the_token_in_the_query_or_the_header() {
        assert_eq!(presented_token(&req("/?token=a%20b&x=1", &[])).as_deref(), Some("a b"));
        assert_eq!(presented_token(&req("/", &[("Authorization", "Bearer s3cret")])).as_deref(), Some("s3cret"));
        assert_eq!(presented_token(&req("/", &[("Authorization", "Basic abc")])), None);
        assert_eq!(presented_token(&req("/?tok=1", &[])), None);
    }

    #[test]
    fn refuses_a_missing_or_wrong_token() {
        let ok = answer(&req("/?token=right", &[]), Response::new(()), Some("right"));
        assert!(ok.is_ok());
        for r in [req("/", &[]), req("/?token=wrong", &[]), req("/", &[("Authorization", "Bearer righ")])] {
            let err = answer(&r, Response::new(()), Some("right")).unwrap_err();
            assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
        }
        // No token configured: everyone is let in.
        assert!(answer(&req("/", &[]), Response::new(()), None).is_ok());
    }

    #[test]
    fn answers_the_subprotocol_only_when_offered() {
        let offered = req("/", &[("Sec-WebSocket-Protocol", "chat, sip-audio-protocol")]);
        let resp = answer(&offered, Response::new(()), None).unwrap();
        assert_eq!(resp.headers().get("sec-websocket-protocol").unwrap(), SUBPROTOCOL);
        let resp = answer(&req("/", &[]), Response::new(()), None).unwrap();
        assert!(resp.headers().get("sec-websocket-protocol").is_none());
    }

    #[test]
    fn tells_a_websocket_upgrade_from_plain_http() {
        let ws = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n";
        assert!(is_upgrade(complete_head(ws).unwrap()));
        let plain = b"GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
        assert!(!is_upgrade(complete_head(plain).unwrap()));
        assert!(complete_head(b"GET / HTTP/1.1\r\nHost").is_none());
        assert_eq!(NOT_WEBSOCKET.split("\r\n\r\n").nth(1).unwrap().len(), 70);
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}
