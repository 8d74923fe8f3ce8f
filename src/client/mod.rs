//! The dashboard: the network actor ([`net`]), the state and its folds ([`app`]), pure
//! rendering ([`ui`]), and the two front ends ([`tui`], [`line`]) over the effects that do the IO.

pub mod app;
pub mod browser;
pub mod files;
pub mod line;
pub mod net;
pub mod runner;
pub mod spill;
pub mod tui;
pub mod ui;
pub mod upload;
