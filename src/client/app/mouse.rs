//! The mouse: the wheel scrolls the log or moves the selection of the list under the pointer,
//! a click gives its pane the focus and selects the row clicked. [`translate`] turns a
//! terminal event into a neutral [`Mouse`] at the edge; the panes are found in the rectangles
//! the last frame was drawn in ([`super::focus::Rects`]).

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::focus::Pane;
use super::keys::Scroll;
use super::{App, Effect};

/// Log rows one wheel notch scrolls.
pub const WHEEL_ROWS: usize = 3;

/// What the mouse did, free of any terminal library; `x`, `y` are the screen cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mouse {
    Click { x: u16, y: u16 },
    WheelUp { x: u16, y: u16 },
    WheelDown { x: u16, y: u16 },
}

/// The edge: a terminal mouse event as a [`Mouse`]; `None` for moves, drags and releases.
pub fn translate(ev: MouseEvent) -> Option<Mouse> {
    let (x, y) = (ev.column, ev.row);
    Some(match ev.kind {
        MouseEventKind::Down(MouseButton::Left) => Mouse::Click { x, y },
        MouseEventKind::ScrollUp => Mouse::WheelUp { x, y },
        MouseEventKind::ScrollDown => Mouse::WheelDown { x, y },
        _ => return None,
    })
}

impl App {
    /// A mouse event. Ignored while a dialog is open (they are keyboard-driven).
    pub fn on_mouse(&mut self, m: Mouse) -> Vec<Effect> {
        if self.dialog.is_some() {
            return vec![];
        }
        let (x, y) = match m {
            Mouse::Click { x, y } | Mouse::WheelUp { x, y } | Mouse::WheelDown { x, y } => (x, y),
        };
        let Some(pane) = self.pane_at(x, y) else { return vec![] };
        match m {
            Mouse::Click { .. } => self.click(pane, y),
            Mouse::WheelUp { .. } => self.wheel(pane, Scroll::LineUp),
            Mouse::WheelDown { .. } => self.wheel(pane, Scroll::LineDown),
        }
        vec![]
    }

    /// The pane drawn at a cell in the last frame.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let r = self.focus.rects.get();
        if r.streams.is_some_and(|l| l.area.contains(x, y)) {
            Some(Pane::Streams)
        } else if r.history.is_some_and(|l| l.area.contains(x, y)) {
            Some(Pane::History)
        } else if r.log.is_some_and(|a| a.contains(x, y)) {
            Some(Pane::Log)
        } else {
            None
        }
    }

    fn click(&mut self, pane: Pane, y: u16) {
        self.focus_pane(pane);
        let r = self.focus.rects.get();
        match pane {
            Pane::Log => {}
            Pane::Streams => {
                if let Some(i) = r.streams.and_then(|l| l.item_at(y)) {
                    self.select_stream(i);
                }
            }
            Pane::History => {
                let id = r.history.and_then(|l| l.item_at(y)).and_then(|i| self.calls.history.get(i)).map(|c| c.id);
                if id.is_some() {
                    self.select_call(id);
                }
            }
        }
    }

    fn wheel(&mut self, pane: Pane, how: Scroll) {
        match pane {
            Pane::Log => {
                for _ in 0..WHEEL_ROWS {
                    self.scroll_log(how);
                }
            }
            Pane::Streams => self.move_stream(how),
            Pane::History => self.move_call(how),
        }
    }
}
