//! When the full screen is drawn: at once after a key, at most every [`EVENT_FRAME`] while
//! network events and IO results change the app, and on the clock's tick so that times on
//! screen move (every second when idle, see [`super::IDLE_TICK`]). Nothing changed, nothing
//! drawn: an idle dashboard costs next to no CPU.

use std::time::{Duration, Instant};

use tokio::time::Instant as Deadline;

use super::Woke;

/// The shortest time between two draws caused by events: 5 frames a second at most,
/// whatever the packet rate (keys are answered at once). Each draw of the dashboard costs
/// about as much CPU as a hundred packets; with the network actor handing a call's packets
/// over every 200 ms too, a 50-packet/s call costs about 0.6 % of a core instead of 1.4 %
/// at 10 frames a second (`scripts/cpu.sh call 20`).
pub const EVENT_FRAME: Duration = Duration::from_millis(200);

/// The redraw decision of one screen.
#[derive(Debug, Default)]
pub struct Redraw {
    last: Option<Instant>,
    /// Something changed since the last draw.
    dirty: bool,
}

impl Redraw {
    /// Whether to draw now, after this wake-up of the loop. When not, [`Redraw::timer`] says
    /// when the change is due on screen.
    pub fn due(&mut self, woke: Woke, now: Instant) -> bool {
        let rested = self.last.is_none_or(|t| now.saturating_duration_since(t) >= EVENT_FRAME);
        match woke {
            // A key is answered at once.
            Woke::Input => true,
            Woke::Net | Woke::Io => {
                self.dirty = true;
                rested
            }
            // Time moved: draw unless a draw just now showed it.
            Woke::Tick => rested,
            Woke::Timer => self.dirty && rested,
        }
    }

    /// The terminal changed size: draw at the next chance.
    pub fn resized(&mut self) {
        self.dirty = true;
        self.last = None;
    }

    pub fn drawn(&mut self, now: Instant) {
        self.last = Some(now);
        self.dirty = false;
    }

    /// When a change not yet drawn is due.
    pub fn timer(&self) -> Option<Deadline> {
        match (self.dirty, self.last) {
            (true, Some(t)) => Some(Deadline::from_std(t + EVENT_FRAME)),
            (true, None) => Some(Deadline::now()),
            (false, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_draw_at_a_bounded_rate_keys_at_once() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut r = Redraw::default();
        assert!(r.due(Woke::Net, ms(0)), "the first change draws");
        r.drawn(ms(0));
        assert_eq!(r.timer(), None, "nothing changed since");
        // A packet 10 ms later waits for the frame.
        assert!(!r.due(Woke::Net, ms(10)));
        assert_eq!(r.timer(), Some(Deadline::from_std(ms(200))));
        assert!(!r.due(Woke::Timer, ms(199)));
        assert!(r.due(Woke::Timer, ms(200)));
        r.drawn(ms(200));
        // Keys never wait; a tick right after a draw adds nothing.
        assert!(r.due(Woke::Input, ms(201)));
        r.drawn(ms(201));
        assert!(!r.due(Woke::Tick, ms(250)));
        assert!(r.due(Woke::Tick, ms(1201)));
        assert!(!r.due(Woke::Timer, ms(3000)), "a timer with nothing changed draws nothing");
    }
}
