//! The SIP user agent of the gateway, on rsipstack: one UDP transport, the transaction
//! layer (RFC 3261 retransmissions and timers A/B/D/E/F/K), the dialog layer (INVITE with
//! digest authentication, CANCEL, ACK, BYE) and a small loop for requests that arrive.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{HostWithPort, Method, StatusCode, Transport, Uri};
use rsipstack::transaction::endpoint::EndpointOption;
use rsipstack::transaction::{Endpoint, TransactionReceiver};
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, TransportLayer};
use rsipstack::EndpointBuilder;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::icmp::WatchedSocket;
use crate::core::protocol::Number;

pub const USER_AGENT: &str = concat!("sipdeck-gateway/", env!("CARGO_PKG_VERSION"));

/// `host[:port]` of the proxy or endpoint that calls go to (port 5060 when left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipTarget {
    pub host: String,
    pub port: u16,
}

impl FromStr for SipTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let s = s.strip_prefix("sip:").unwrap_or(s);
        let (host, port) = match s.rsplit_once(':') {
            // A bare IPv6 address has colons but no port.
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                (h, p.parse::<u16>().map_err(|e| format!("port {p:?}: {e}"))?)
            }
            _ => (s, 5060),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ok = !host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
        if !ok || port == 0 {
            return Err(format!("{s:?} is not host:port"));
        }
        Ok(SipTarget { host: host.to_string(), port })
    }
}

impl fmt::Display for SipTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// User, password and domain for the From header and digest authentication.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub user: Option<String>,
    pub password: Option<String>,
    /// The From domain (and the realm to expect); the target's host when left out.
    pub domain: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SipConfig {
    /// Local UDP address for SIP.
    pub bind: SocketAddr,
    /// Address put in Via, Contact and SDP; worked out from the route to the target when
    /// `bind` is a wildcard and this is not set.
    pub public_ip: Option<IpAddr>,
    pub target: SipTarget,
    pub account: Account,
    /// RFC 3261 T1 (500 ms); every other timer follows from it. Tests shorten it.
    pub t1: Duration,
}

#[derive(Debug, Error)]
pub enum SipError {
    #[error("cannot resolve the SIP target {target}: {why}")]
    Resolve { target: SipTarget, why: String },
    #[error("cannot open the SIP port {addr}: {why}")]
    Bind { addr: SocketAddr, why: String },
    #[error("cannot find a local address that reaches {0}; pass --public-ip")]
    NoRoute(SocketAddr),
    #[error("bad SIP URI {uri:?}: {why}")]
    Uri { uri: String, why: String },
}

/// The running user agent: the endpoint and its dialogs.
pub struct SipAgent {
    pub dialogs: Arc<DialogLayer>,
    endpoint: Endpoint,
    cancel: CancellationToken,
    target: SipTarget,
    destination: SocketAddr,
    local: SocketAddr,
    account: Account,
    socket: Arc<WatchedSocket>,
}

impl SipAgent {
    /// Open the SIP port and start the endpoint and the loop for incoming requests.
    pub async fn start(cfg: &SipConfig) -> Result<Arc<SipAgent>, SipError> {
        let destination = resolve(&cfg.target).await?;
        let cancel = CancellationToken::new();
        let bind_err = |why: String| SipError::Bind { addr: cfg.bind, why };
        let socket = tokio::net::UdpSocket::bind(cfg.bind).await.map_err(|e| bind_err(e.to_string()))?;
        let socket = Arc::new(WatchedSocket::new(socket));
        let bound = socket.local_addr().map_err(|e| bind_err(e.to_string()))?;
        let ip = advertised_ip(cfg.public_ip, cfg.bind.ip(), destination)?;
        let local = SocketAddr::new(ip, bound.port());
        // `local` (not a wildcard bind address) is what goes into every Via.
        let conn = UdpConnection::from_socket(socket.clone(), Some(local), Some(cancel.child_token()))
            .await
            .map_err(|e| bind_err(e.to_string()))?;
        let transport = TransportLayer::new(cancel.clone());
        transport.add_transport(conn.into());
        let option = EndpointOption {
            t1: cfg.t1,
            t1x64: cfg.t1 * 64,
            // Call-IDs end in our own address, not the library's default domain.
            callid_suffix: Some(ip.to_string()),
            ..EndpointOption::default()
        };
        let endpoint = EndpointBuilder::new()
            .with_user_agent(USER_AGENT)
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .with_option(option)
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| bind_err(e.to_string()))?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = inner.serve().await {
                tracing::warn!(error = %e, "SIP endpoint stopped");
            }
        });
        tokio::spawn(serve_incoming(dialogs.clone(), incoming));
        tracing::info!(%local, %destination, "SIP user agent up");
        Ok(Arc::new(SipAgent {
            dialogs,
            endpoint,
            cancel,
            target: cfg.target.clone(),
            destination,
            local,
            account: cfg.account.clone(),
            socket,
        }))
    }

    /// The address that goes into Via, Contact and SDP.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    pub fn target(&self) -> &SipTarget {
        &self.target
    }

    /// The resolved address every INVITE goes to.
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }

    /// The endpoint, for requests outside calls (REGISTER: `register`).
    pub fn endpoint_inner(&self) -> rsipstack::transaction::endpoint::EndpointInnerRef {
        self.endpoint.inner.clone()
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Whether a challenge can be answered (a password is configured).
    pub fn has_credentials(&self) -> bool {
        self.account.password.is_some()
    }

    /// Destinations that ICMP reports unreachable, from now on.
    pub fn unreachable(&self) -> tokio::sync::broadcast::Receiver<SocketAddr> {
        self.socket.subscribe()
    }

    /// The INVITE of a call to `number`: `sip:<number>@<target>` with our SDP offer.
    pub fn invite(&self, number: &Number, offer: String) -> Result<InviteOption, SipError> {
        let user = self.account.user.clone().unwrap_or_else(|| "sipdeck".to_string());
        let domain = self.account.domain.clone().unwrap_or_else(|| self.target.host.clone());
        let callee = uri(&format!("sip:{}@{}", number, self.target))?;
        let caller = uri(&format!("sip:{user}@{domain}"))?;
        let contact = uri(&format!("sip:{user}@{}", self.local))?;
        let credential = self.account.password.as_ref().map(|password| Credential {
            username: user.clone(),
            password: password.clone(),
            realm: None,
            auth_username: None,
        });
        Ok(InviteOption {
            callee,
            caller,
            contact,
            credential,
            destination: Some(SipAddr::new(Transport::Udp, HostWithPort::from(self.destination))),
            content_type: Some("application/sdp".to_string()),
            offer: Some(offer.into_bytes()),
            ..Default::default()
        })
    }

    /// Stop the endpoint: its socket closes and its transactions end.
    pub fn shutdown(&self) {
        self.endpoint.shutdown();
        self.cancel.cancel();
    }
}

fn uri(text: &str) -> Result<Uri, SipError> {
    Uri::try_from(text).map_err(|e| SipError::Uri { uri: text.to_string(), why: e.to_string() })
}

async fn resolve(target: &SipTarget) -> Result<SocketAddr, SipError> {
    let err = |why: String| SipError::Resolve { target: target.clone(), why };
    let mut addrs = tokio::net::lookup_host((target.host.as_str(), target.port)).await.map_err(|e| err(e.to_string()))?;
    addrs.next().ok_or_else(|| err("no address".into()))
}

/// The local address the far end can reach us on: the one given, the bind address when it
/// is a real one, or the source address the kernel picks for the route to the target.
fn advertised_ip(public: Option<IpAddr>, bind: IpAddr, target: SocketAddr) -> Result<IpAddr, SipError> {
    if let Some(ip) = public {
        return Ok(ip);
    }
    if !bind.is_unspecified() {
        return Ok(bind);
    }
    let any: SocketAddr = if target.is_ipv6() { "[::]:0".parse() } else { "0.0.0.0:0".parse() }.map_err(|_| SipError::NoRoute(target))?;
    // Connecting a UDP socket sends nothing; it only asks the kernel for a route.
    let probe = std::net::UdpSocket::bind(any).map_err(|_| SipError::NoRoute(target))?;
    probe.connect(target).map_err(|_| SipError::NoRoute(target))?;
    probe.local_addr().map(|a| a.ip()).map_err(|_| SipError::NoRoute(target))
}

/// Requests from the far end: in-dialog ones (BYE above all) go to their dialog, which
/// answers them and reports the change of state to the call; the gateway takes no calls,
/// so a new INVITE is declined; OPTIONS pings are answered.
async fn serve_incoming(dialogs: Arc<DialogLayer>, mut incoming: TransactionReceiver) {
    while let Some(mut tx) = incoming.recv().await {
        let has_to_tag = tx.original.to_header().ok().and_then(|t| t.tag().ok().flatten()).is_some();
        let method = tx.original.method;
        if has_to_tag {
            match dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            tracing::debug!(error = %e, "in-dialog request");
                        }
                    });
                }
                None if method == Method::Ack => {}
                None => reply(&mut tx, StatusCode::CallTransactionDoesNotExist).await,
            }
            continue;
        }
        match method {
            Method::Ack => {}
            Method::Options => reply(&mut tx, StatusCode::OK).await,
            Method::Invite => reply(&mut tx, StatusCode::Decline).await,
            Method::Bye | Method::Cancel => reply(&mut tx, StatusCode::CallTransactionDoesNotExist).await,
            _ => reply(&mut tx, StatusCode::MethodNotAllowed).await,
        }
    }
}

async fn reply(tx: &mut rsipstack::transaction::transaction::Transaction, code: StatusCode) {
    if let Err(e) = tx.reply(code).await {
        tracing::debug!(error = %e, "SIP reply");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_and_without_port() {
        let t: SipTarget = "pbx.example.com:5080".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("pbx.example.com", 5080));
        assert_eq!("10.0.0.1".parse::<SipTarget>().unwrap().port, 5060);
        assert_eq!("sip:10.0.0.1:5070".parse::<SipTarget>().unwrap().to_string(), "10.0.0.1:5070");
        let v6: SipTarget = "[2001:db8::1]:5062".parse().unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("2001:db8::1", 5062));
        assert_eq!(v6.to_string(), "[2001:db8::1]:5062");
        for bad in ["", ":5060", "host:0", "host:x", "a b:5060", "x@y:5060"] {
            assert!(bad.parse::<SipTarget>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn advertises_a_routable_address() {
        let target: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let public: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(advertised_ip(Some(public), any, target).unwrap(), public);
        assert_eq!(advertised_ip(None, lo, target).unwrap(), lo);
        assert_eq!(advertised_ip(None, any, target).unwrap(), lo);
    }
}
