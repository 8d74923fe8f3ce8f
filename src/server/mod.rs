//! What serves the protocol: one WebSocket session (`session`, with `handshake`, `outbox`,
//! `store`, `media`) shared by two servers that differ only in the call behind it (`call`):
//! the gateway (`gateway`, SIP calls from `sip`) and the embedded demo peer (`demo`).

pub mod call;
pub mod demo;
pub mod drain;
pub mod gateway;
pub mod handshake;
pub mod http;
pub mod listen;
pub mod logs;
pub mod media;
pub mod metrics;
pub mod outbox;
pub mod session;
pub mod sip;
pub mod store;
