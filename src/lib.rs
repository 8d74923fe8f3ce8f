//! sipdeck: a terminal dashboard for WebSocket-controlled SIP calls.
//!
//! Core (`protocol`, `rtp`, `audio`, `wav`, `stats`, `capture`) is pure; `net` is the
//! client's network actor; `app` is the state and its folds; `ui` renders it; `demo` is the
//! embedded server side of the protocol.

pub mod app;
pub mod audio;
pub mod browser;
pub mod capture;
pub mod convert;
pub mod demo;
pub mod dtmf;
pub mod gateway;
pub mod line;
pub mod net;
pub mod protocol;
pub mod rtp;
pub mod runner;
pub mod spill;
pub mod stats;
pub mod tui;
pub mod ui;
pub mod upload;
pub mod wav;
