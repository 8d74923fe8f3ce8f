//! Rendering: pure functions of [`crate::app::App`]; nothing here changes state.

pub mod theme;
