//! The dashboard: the network actor ([`net`]), the state and its folds ([`app`]), pure
//! rendering ([`ui`]), the one event loop and its effects ([`runtime`]), and the two front ends
//! over it ([`tui`], [`line`]).

pub mod app;
pub mod browser;
pub mod config;
pub mod files;
pub mod line;
pub mod net;
pub mod redial_file;
pub mod runtime;
pub mod spill;
pub mod tui;
pub mod ui;
pub mod upload;
