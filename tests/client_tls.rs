//! wss:// for real: a TLS WebSocket server in the test process with a certificate from a
//! private CA. The client connects when told to trust that CA (`--ca-file`), and refuses
//! with a TLS message when it is not.

mod common;

use std::sync::Arc;

use common::{Client, WAIT};
use futures_util::{SinkExt, StreamExt};
use sipdeck::client::app::ConnState;
use sipdeck::client::net::NetConfig;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// A wss server for "localhost" that says one line to each client; returns its port and the
/// PEM of its (self-signed) certificate.
async fn tls_server() -> (u16, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = cert.cert.pem();
    let der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                #[allow(clippy::result_large_err)] // the signature tungstenite demands
                let cb = |_req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                          mut resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
                    resp.headers_mut().insert("Sec-WebSocket-Protocol", "sip-audio-protocol".parse().unwrap());
                    Ok(resp)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tls, cb).await else { return };
                let _ = ws.send(Message::text("hello over TLS")).await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    (port, pem)
}

#[tokio::test]
async fn wss_with_a_trusted_private_ca_connects() {
    let (port, pem) = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let mut cfg = NetConfig::new(format!("wss://localhost:{port}"));
    cfg.tls = Some(sipdeck::client::net::client_config_with_ca(&ca).unwrap());
    let mut c = Client::connect_with(cfg, dir.path());
    c.until("the line sent over TLS", WAIT, |a| a.log.iter().any(|l| l.text == "hello over TLS")).await;
    assert!(c.app.connected());
}

#[tokio::test]
async fn wss_with_an_unknown_ca_is_refused_with_a_tls_message() {
    let (port, _pem) = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NetConfig::new(format!("wss://localhost:{port}"));
    cfg.backoff = None;
    let mut c = Client::connect_with(cfg, dir.path());
    c.until("the refusal", WAIT, |a| {
        matches!(&a.conn, ConnState::Disconnected { reason, .. } if reason.starts_with("TLS") && reason.contains("certificate"))
    })
    .await;
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let err = sipdeck::client::net::client_config_with_ca(&empty).unwrap_err().to_string();
    assert!(err.contains("holds no PEM certificate"), "{err}");
    assert!(sipdeck::client::net::client_config_with_ca(&dir.path().join("missing.pem")).is_err());
}
