//! The WebSocket opening handshake: the access token check and the subprotocol answer.
//! Both happen before the connection exists, so a refused client never gets to send a
//! command.

use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderValue};

use crate::core::protocol::SUBPROTOCOL;

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
    fn secret_comparison() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}
