//! Opening the WebSocket: the subprotocol offer (and the fallback without it), the connect
//! timeout, and errors worded for the operator.

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite;

use super::{describe_ws_error, NetConfig, NetEvent, Ws};
use crate::core::protocol::{self, SUBPROTOCOL};

pub(super) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(protocol::MAX_FRAME_BYTES * 2))
        .max_frame_size(Some(protocol::MAX_FRAME_BYTES * 2))
}

pub(super) async fn connect(cfg: &NetConfig, events: &mpsc::Sender<NetEvent>) -> Result<Ws, String> {
    let (ws, negotiated) = match try_connect(cfg, true).await {
        Ok(ws) => (ws, true),
        // The reference client (Python websockets) carries on when a server does not echo
        // the subprotocol; so do we, but say so.
        Err(tungstenite::Error::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
            tungstenite::error::SubProtocolError::NoSubProtocol,
        ))) => {
            let warn = format!("server did not confirm subprotocol '{SUBPROTOCOL}'; continuing without it");
            let _ = events.send(NetEvent::Warning(warn)).await;
            (try_connect(cfg, false).await.map_err(|e| describe_connect_error(&cfg.url, &e))?, false)
        }
        Err(e) => return Err(describe_connect_error(&cfg.url, &e)),
    };
    let _ = events.send(NetEvent::Connected { subprotocol: negotiated }).await;
    Ok(ws)
}

/// Over wss://, an IO failure after the TCP connect is the TLS handshake failing (the peer
/// speaks plain HTTP, or hangs up on our hello): say so rather than "connection lost".
fn describe_connect_error(url: &str, e: &tungstenite::Error) -> String {
    use std::io::ErrorKind as K;
    match e {
        tungstenite::Error::Io(io)
            if url.starts_with("wss://")
                && matches!(io.kind(), K::InvalidData | K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe) =>
        {
            format!("TLS handshake failed: {io}")
        }
        other => describe_ws_error(other),
    }
}

async fn try_connect(cfg: &NetConfig, with_subprotocol: bool) -> Result<Ws, tungstenite::Error> {
    let mut req = cfg.url.as_str().into_client_request()?;
    if with_subprotocol {
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    }
    if let Some(token) = &cfg.token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| tungstenite::Error::Url(tungstenite::error::UrlError::UnableToConnect("the token is not a valid header value".into())))?;
        req.headers_mut().insert("Authorization", value);
    }
    let connector = cfg.tls.clone().map(tokio_tungstenite::Connector::Rustls);
    let fut = tokio_tungstenite::connect_async_tls_with_config(req, Some(ws_config()), true, connector);
    match tokio::time::timeout(cfg.connect_timeout, fut).await {
        Ok(r) => r.map(|(ws, _resp)| ws),
        Err(_) => Err(tungstenite::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", cfg.connect_timeout.as_secs()),
        ))),
    }
}
