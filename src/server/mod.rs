//! What serves the protocol: the gateway (WebSocket <-> SIP/RTP) and the embedded demo peer.

pub mod demo;
pub mod files;
pub mod gateway;
