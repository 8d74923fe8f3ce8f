//! One thread receives the RTP of every call, in rounds at most one tick apart, so that a
//! gateway with hundreds of calls wakes up a thousand times a second instead of once per
//! packet.
//!
//! Why: with a task per call on the async runtime, each packet (50 a second per call,
//! evenly spread) woke a runtime thread, and the thread switches cost more than the packet
//! itself (the profile in the README). Here the calls' sockets sit in one level-triggered
//! epoll set (not in the runtime's), the thread takes whatever is ready in one round, then
//! sleeps out the rest of the tick (`TICK`: the most a packet waits for the round) so the
//! next round finds many packets at once. Idle, it blocks until a packet comes.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

/// The longest a packet waits for its round: the added delay is at most this (plus the
/// client's write), the wake-ups at most twice this rate.
pub const TICK: Duration = Duration::from_millis(1);
/// Ready sockets taken per round (more wait for the next round, a tick later).
const EVENTS_PER_ROUND: usize = 1024;
/// Packets taken from one socket in one round when it was ready in the round before too
/// (a backlog: a burst after a network stall, or a flood); otherwise one, which spares a
/// read that would find nothing.
const BACKLOG_BUDGET: usize = 64;

/// What a call does with each packet of its socket: the payload and where it came from.
pub type OnPacket = Box<dyn FnMut(&[u8], SocketAddr) + Send>;

/// A call's UDP socket for RTP. Sending is direct (non-blocking); receiving is the
/// intake thread's, through `Intake::register`.
#[derive(Debug)]
pub struct RtpSocket {
    inner: UdpSocket,
}

impl RtpSocket {
    /// `socket` must be non-blocking (a tokio socket turned into a std one is).
    pub fn new(socket: UdpSocket) -> RtpSocket {
        RtpSocket { inner: socket }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Send one datagram. A full send buffer (rare for UDP) is waited out a millisecond at
    /// a time rather than blocking the runtime.
    pub async fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        loop {
            match self.inner.send_to(buf, to) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => tokio::time::sleep(Duration::from_millis(1)).await,
                other => return other,
            }
        }
    }
}

struct Entry {
    socket: Arc<RtpSocket>,
    on_packet: OnPacket,
    /// The last round this socket was ready in.
    last_round: u64,
}

/// The receiving thread and its set of sockets.
pub struct Intake {
    epoll: Epoll,
    entries: Mutex<HashMap<u64, Entry>>,
    next_key: AtomicU64,
}

/// A socket's place in the intake; dropping it takes the socket out.
pub struct Registration {
    key: u64,
    socket: Arc<RtpSocket>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let intake = Intake::get();
        // Taken out of the map first (under the lock the rounds hold), so no round still
        // uses the handler once this returns.
        intake.lock().remove(&self.key);
        let _ = intake.epoll.delete(self.socket.inner.as_fd());
    }
}

impl Intake {
    /// The one intake of this process, started on first use.
    pub fn get() -> &'static Intake {
        static INTAKE: OnceLock<&'static Intake> = OnceLock::new();
        INTAKE.get_or_init(|| {
            let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).expect("epoll_create1");
            let intake: &'static Intake = Box::leak(Box::new(Intake { epoll, entries: Mutex::default(), next_key: AtomicU64::new(1) }));
            std::thread::Builder::new()
                .name("rtp-intake".into())
                .spawn(move || intake.run())
                .expect("starting the RTP intake thread");
            intake
        })
    }

    /// From now on every packet on `socket` goes to `on_packet`, in arrival order, on the
    /// intake thread (so `on_packet` must not block).
    pub fn register(&self, socket: Arc<RtpSocket>, on_packet: OnPacket) -> io::Result<Registration> {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, Entry { socket: socket.clone(), on_packet, last_round: 0 });
        // Level-triggered (no EPOLLET): a socket left with packets is ready again next round.
        if let Err(e) = self.epoll.add(socket.inner.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, key)) {
            self.lock().remove(&key);
            return Err(e.into());
        }
        Ok(Registration { key, socket })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        // Entries are whole values; a panicking handler cannot leave one half-written.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        let mut events = vec![EpollEvent::empty(); EVENTS_PER_ROUND];
        let mut buf = vec![0u8; 2048];
        for round in 1u64.. {
            let ready = match self.epoll.wait(&mut events, EpollTimeout::NONE) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "RTP intake: epoll_wait failed; no more RTP is received");
                    return;
                }
            };
            let started = Instant::now();
            self.round(round, &events[..ready], &mut buf);
            // Packets arriving meanwhile wait for the next round, together.
            std::thread::sleep(TICK.saturating_sub(started.elapsed()));
        }
    }

    fn round(&self, round: u64, events: &[EpollEvent], buf: &mut [u8]) {
        let mut entries = self.lock();
        for ev in events {
            let Some(entry) = entries.get_mut(&ev.data()) else { continue };
            let budget = if entry.last_round + 1 == round { BACKLOG_BUDGET } else { 1 };
            entry.last_round = round;
            if let Err(e) = drain(entry, budget, buf) {
                tracing::warn!(error = %e, "RTP socket failed: no more RTP from it");
                let _ = self.epoll.delete(entry.socket.inner.as_fd());
            }
        }
    }
}

/// Up to `budget` packets of one ready socket to its handler.
fn drain(entry: &mut Entry, budget: usize, buf: &mut [u8]) -> io::Result<()> {
    for _ in 0..budget {
        match entry.socket.inner.recv_from(buf) {
            Ok((n, from)) => (entry.on_packet)(&buf[..n], from),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            // ICMP errors from an earlier send surface here; the socket is fine.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn every_packet_arrives_in_order_and_none_after_the_registration_is_dropped() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let to = socket.local_addr().unwrap();
        let socket = Arc::new(RtpSocket::new(socket));
        let (tx, rx) = mpsc::channel();
        let reg = Intake::get().register(socket.clone(), Box::new(move |p, _| tx.send(p.to_vec()).unwrap())).unwrap();
        let far = UdpSocket::bind("127.0.0.1:0").unwrap();
        // A burst: more than one round's budget for a socket that was not backlogged.
        for i in 0..200u8 {
            far.send_to(&[i; 20], to).unwrap();
        }
        for i in 0..200u8 {
            assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), vec![i; 20]);
        }
        drop(reg);
        far.send_to(b"late", to).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "a packet after the registration ended");
    }
}
