//! sipdeck: a terminal dashboard for WebSocket-controlled SIP calls, with its own gateway and
//! demo peer.
//!
//! Three floors, each a module: [`core`] is pure (the wire protocol, RTP, G.711, WAV bytes,
//! statistics, the capture); [`client`] is the dashboard (network actor, `App`, rendering, the
//! front ends and their effects); [`server`] serves the protocol (the gateway and the demo peer).
//! `core` imports nothing from the other two; `client` and `server` never import each other.

pub mod client;
pub mod core;
pub mod server;
