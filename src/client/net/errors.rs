//! Plain words for the ways a WebSocket connection fails.

use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError, UrlError};
use tokio_tungstenite::tungstenite::Error;

/// One sentence an operator understands, for each way connecting or talking can fail.
pub fn describe_ws_error(e: &Error) -> String {
    match e {
        Error::Io(io) => describe_io(io),
        Error::Tls(t) => format!("TLS failed: {t}"),
        Error::Url(u) => match u {
            UrlError::UnsupportedUrlScheme => "URL must start with ws:// or wss://".into(),
            UrlError::NoHostName | UrlError::EmptyHostName => "URL has no host name".into(),
            other => format!("bad URL: {other}"),
        },
        Error::Http(resp) => {
            let status = resp.status();
            format!(
                "server answered the WebSocket upgrade with HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
        }
        Error::HttpFormat(h) => format!("bad HTTP in the upgrade: {h}"),
        Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(sp)) => match sp {
            SubProtocolError::NoSubProtocol => "server refused the subprotocol 'sip-audio-protocol'".into(),
            SubProtocolError::InvalidSubProtocol => "server chose a subprotocol other than 'sip-audio-protocol'".into(),
            SubProtocolError::ServerSentSubProtocolNoneRequested => "server sent a subprotocol that was not requested".into(),
        },
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => "connection reset by the server".into(),
        Error::Protocol(p) => format!("WebSocket protocol error: {p}"),
        Error::Capacity(c) => format!("frame too large: {c}"),
        Error::Utf8(_) => "server sent a text frame that is not valid UTF-8".into(),
        Error::ConnectionClosed | Error::AlreadyClosed => "connection closed".into(),
        other => other.to_string(),
    }
}

fn describe_io(io: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let msg = io.to_string();
    match io.kind() {
        K::ConnectionRefused => "connection refused (is the gateway running on that port?)".into(),
        K::TimedOut => format!("connection timed out: {msg}"),
        K::ConnectionReset => "connection reset by the server".into(),
        K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => "connection lost".into(),
        _ if msg.contains("failed to lookup address") || msg.contains("Name or service not known") => {
            format!("DNS lookup failed: {msg}")
        }
        _ => format!("network error: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_and_dns_have_their_own_words() {
        let e = Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(describe_ws_error(&e).starts_with("connection refused"));
        let dns = Error::Io(std::io::Error::other("failed to lookup address information: Name or service not known"));
        assert!(describe_ws_error(&dns).starts_with("DNS lookup failed"));
        let sp = Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(SubProtocolError::InvalidSubProtocol));
        assert!(describe_ws_error(&sp).contains("subprotocol"));
        assert_eq!(describe_ws_error(&Error::Url(UrlError::UnsupportedUrlScheme)), "URL must start with ws:// or wss://");
    }
}
