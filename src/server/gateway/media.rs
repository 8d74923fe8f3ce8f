//! The RTP side of a call: one UDP socket from the configured port range, a task that
//! forwards every RTP packet that arrives to the client as it arrives, and PLAY_WAV pacing
//! (PCMU, 160-byte payloads every 20 ms).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::outbox::Outbox;
use super::sdp::PT_PCMU;
use crate::core::audio::ULAW_SILENCE;
use crate::core::protocol::encode_rtp;
use crate::core::rtp::{self, RtpHeader};

/// Samples (and payload bytes) of one 20 ms PCMU packet at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);

/// An inclusive range of UDP ports for RTP, e.g. `10000-20000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s.split_once('-').ok_or_else(|| format!("{s:?} is not FIRST-LAST"))?;
        let first: u16 = a.trim().parse().map_err(|e| format!("{a:?}: {e}"))?;
        let last: u16 = b.trim().parse().map_err(|e| format!("{b:?}: {e}"))?;
        if first == 0 || last < first.saturating_add(1) {
            return Err(format!("{s:?} must be two ports, FIRST > 0 and FIRST < LAST"));
        }
        Ok(PortRange { first, last })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

#[derive(Debug, Error)]
pub enum MediaError {
    #[error("no free RTP port in {range} on {ip}")]
    NoPort { range: PortRange, ip: IpAddr },
    #[error("the far end's audio address is not known yet")]
    NoRemote,
}

/// Hands out even RTP ports of a range in turn (RFC 3550 pairs RTP on even ports with
/// RTCP on the next odd one), skipping any that are taken.
#[derive(Debug)]
pub struct PortPool {
    range: PortRange,
    ip: IpAddr,
    next: AtomicU16,
}

impl PortPool {
    pub fn new(range: PortRange, ip: IpAddr) -> PortPool {
        // Start anywhere in the range so two gateways on one host rarely collide.
        let evens = (range.last - range.first) / 2 + 1;
        let start = fastrand::u16(0..evens);
        PortPool { range, ip, next: AtomicU16::new(start) }
    }

    fn first_even(&self) -> u16 {
        self.range.first + (self.range.first & 1)
    }

    pub async fn bind(&self) -> Result<UdpSocket, MediaError> {
        let first = self.first_even();
        let evens = (self.range.last.saturating_sub(first)) / 2 + 1;
        for _ in 0..evens {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % evens;
            let port = first + 2 * i;
            if port > self.range.last {
                continue;
            }
            if let Ok(sock) = UdpSocket::bind(SocketAddr::new(self.ip, port)).await {
                return Ok(sock);
            }
        }
        Err(MediaError::NoPort { range: self.range, ip: self.ip })
    }
}

/// Sequence number, timestamp and SSRC of our outgoing stream (RFC 3550 5.1): random
/// starts, +1 and +160 per packet, the marker on the first packet of each talkspurt, and a
/// timestamp that keeps counting real time across the silence between two playbacks.
#[derive(Debug, Clone)]
pub struct RtpClock {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    last_sent: Option<Instant>,
}

impl RtpClock {
    pub fn new(ssrc: u32, sequence: u16, timestamp: u32) -> RtpClock {
        RtpClock { ssrc, sequence, timestamp, last_sent: None }
    }

    pub fn random() -> RtpClock {
        RtpClock::new(fastrand::u32(..), fastrand::u16(..), fastrand::u32(..))
    }

    /// Start a talkspurt at `now`: the timestamp jumps by the samples of the silence, so
    /// the first packet's timestamp is the last one's plus the real time in between.
    pub fn start_talkspurt(&mut self, now: Instant) {
        if let Some(last) = self.last_sent {
            let samples = now.saturating_duration_since(last).as_micros() as u64 * 8 / 1000;
            let whole = samples / SAMPLES_PER_PACKET as u64 * SAMPLES_PER_PACKET as u64;
            // `next` adds one packet's worth itself.
            let gap = whole.saturating_sub(SAMPLES_PER_PACKET as u64);
            self.timestamp = self.timestamp.wrapping_add(gap as u32);
        }
    }

    /// The header of the next packet of a 160-sample payload sent at `now`.
    pub fn next(&mut self, marker: bool, now: Instant) -> RtpHeader {
        if self.last_sent.is_some() {
            self.sequence = self.sequence.wrapping_add(1);
            self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET as u32);
        }
        self.last_sent = Some(now);
        RtpHeader { marker, payload_type: PT_PCMU, sequence: self.sequence, timestamp: self.timestamp, ssrc: self.ssrc }
    }
}

/// The RTP of one call.
pub struct Media {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    remote: Arc<Mutex<Option<SocketAddr>>>,
    clock: Arc<Mutex<RtpClock>>,
    forwarder: JoinHandle<()>,
    player: Option<JoinHandle<()>>,
}

impl Media {
    /// Bind a port and start forwarding what arrives to `out`.
    pub async fn open(pool: &PortPool, out: Outbox) -> Result<Media, MediaError> {
        let socket = Arc::new(pool.bind().await?);
        let local = socket.local_addr().map_err(|_| MediaError::NoPort { range: pool.range, ip: pool.ip })?;
        let remote = Arc::new(Mutex::new(None));
        let forwarder = tokio::spawn(forward(socket.clone(), remote.clone(), out));
        Ok(Media { socket, local, remote, clock: Arc::new(Mutex::new(RtpClock::random())), forwarder, player: None })
    }

    pub fn local_port(&self) -> u16 {
        self.local.port()
    }

    /// Where our audio goes (from the SDP answer).
    pub fn set_remote(&self, addr: SocketAddr) {
        *lock(&self.remote) = Some(addr);
    }

    pub fn remote(&self) -> Option<SocketAddr> {
        *lock(&self.remote)
    }

    /// Stream mu-law bytes into the call, replacing whatever plays now. `done` runs when
    /// the last packet has gone out (not when a newer playback replaced this one).
    pub fn play<F>(&mut self, ulaw: Vec<u8>, done: F) -> Result<Duration, MediaError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let remote = self.remote().ok_or(MediaError::NoRemote)?;
        if let Some(old) = self.player.take() {
            old.abort();
        }
        let secs = Duration::from_micros(ulaw.len() as u64 * 125);
        let task = pace(self.socket.clone(), remote, self.clock.clone(), ulaw);
        self.player = Some(tokio::spawn(async move {
            task.await;
            done.await;
        }));
        Ok(secs)
    }
}

impl Drop for Media {
    fn drop(&mut self) {
        self.forwarder.abort();
        if let Some(p) = self.player.take() {
            p.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The data is plain values; a panic elsewhere cannot leave it half-written.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every valid RTP packet that arrives goes to the client whole, in arrival order. Until
/// the answer names the far end's address, the first packet's source is used (symmetric
/// RTP), so early audio can be answered too.
async fn forward(socket: Arc<UdpSocket>, remote: Arc<Mutex<Option<SocketAddr>>>, out: Outbox) {
    let mut buf = vec![0u8; 2048];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // ICMP errors from an earlier send surface here on some systems; keep going.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Err(e) => {
                tracing::warn!(error = %e, "RTP socket closed");
                return;
            }
        };
        let packet = &buf[..n];
        if rtp::parse(packet).is_err() {
            continue; // not RTP (STUN, RTCP muxed, garbage): nothing the client can use
        }
        lock(&remote).get_or_insert(from);
        out.rtp(encode_rtp(packet));
    }
}

/// Send `ulaw` as 20 ms PCMU packets on a fixed schedule: packet `n` is due at
/// `start + n * 20 ms`, so a late wake-up is caught up rather than drifting.
async fn pace(socket: Arc<UdpSocket>, remote: SocketAddr, clock: Arc<Mutex<RtpClock>>, ulaw: Vec<u8>) {
    let mut ticks = tokio::time::interval(PACKET_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut packet = Vec::with_capacity(rtp::HEADER_LEN + SAMPLES_PER_PACKET);
    lock(&clock).start_talkspurt(Instant::now());
    for (i, chunk) in ulaw.chunks(SAMPLES_PER_PACKET).enumerate() {
        ticks.tick().await;
        let header = lock(&clock).next(i == 0, Instant::now());
        packet.clear();
        header.write(&mut packet);
        packet.extend_from_slice(chunk);
        packet.resize(rtp::HEADER_LEN + SAMPLES_PER_PACKET, ULAW_SILENCE);
        if let Err(e) = socket.send_to(&packet, remote).await {
            tracing::debug!(error = %e, %remote, "RTP send");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse_and_refuse_nonsense() {
        assert_eq!("10000-20000".parse::<PortRange>().unwrap(), PortRange { first: 10000, last: 20000 });
        for bad in ["", "10000", "5-5", "20000-10000", "0-10", "a-b", "1-70000"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn clock_counts_packets_and_marks_talkspurts() {
        let t0 = Instant::now();
        let mut c = RtpClock::new(7, 0xfffe, u32::MAX - 100);
        c.start_talkspurt(t0);
        let a = c.next(true, t0);
        let b = c.next(false, t0 + PACKET_INTERVAL);
        let d = c.next(false, t0 + 2 * PACKET_INTERVAL);
        assert_eq!((a.sequence, b.sequence, d.sequence), (0xfffe, 0xffff, 0));
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(160));
        assert_eq!(d.timestamp, a.timestamp.wrapping_add(320));
        assert!(a.marker && !b.marker && !d.marker);
        assert_eq!((a.ssrc, a.payload_type), (7, 0));
        // One second after the last packet, a new talkspurt: 8000 samples later.
        let later = t0 + 2 * PACKET_INTERVAL + Duration::from_secs(1);
        c.start_talkspurt(later);
        let e = c.next(true, later);
        assert_eq!(e.sequence, 1);
        assert_eq!(e.timestamp, d.timestamp.wrapping_add(8000));
        assert!(e.marker);
    }

    #[tokio::test]
    async fn pool_skips_taken_ports_and_gives_even_ones() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        // Find a free even pair region by letting the OS choose, then build a range there.
        let probe = UdpSocket::bind((ip, 0)).await.unwrap();
        let base = probe.local_addr().unwrap().port() & !1;
        drop(probe);
        let pool = PortPool::new(PortRange { first: base, last: base + 5 }, ip);
        let mut got = Vec::new();
        for _ in 0..3 {
            match pool.bind().await {
                Ok(s) => got.push(s),
                Err(_) => break,
            }
        }
        assert!(!got.is_empty());
        for s in &got {
            let p = s.local_addr().unwrap().port();
            assert_eq!(p % 2, 0);
            assert!((base..=base + 5).contains(&p));
        }
        if got.len() == 3 {
            assert!(matches!(pool.bind().await, Err(MediaError::NoPort { .. })));
        }
    }

    #[tokio::test]
    async fn plays_paced_pcmu_with_a_continuous_stream() {
        let pool = PortPool::new("30000-30999".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let (out, _rx) = Outbox::new();
        let mut media = Media::open(&pool, out).await.unwrap();
        let far = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        media.set_remote(far.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        // 3.5 packets of audio: the last one is padded with silence.
        let audio: Vec<u8> = (0..560u32).map(|i| (i % 251) as u8).collect();
        let len = media.play(audio.clone(), async move { tx.send(()).unwrap() }).unwrap();
        assert_eq!(len, Duration::from_millis(70));
        let started = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 400];
        for _ in 0..4 {
            let n = far.recv(&mut buf).await.unwrap();
            got.push(buf[..n].to_vec());
        }
        rx.await.unwrap();
        // Four packets at 20 ms intervals take at least 60 ms from the first to the last.
        assert!(started.elapsed() >= Duration::from_millis(55));
        let parsed: Vec<_> = got.iter().map(|p| rtp::parse(p).unwrap()).collect();
        for (i, p) in parsed.iter().enumerate() {
            assert_eq!(p.payload.len(), 160);
            assert_eq!(p.header.payload_type, 0);
            assert_eq!(p.header.marker, i == 0);
            assert_eq!(p.header.sequence, parsed[0].header.sequence.wrapping_add(i as u16));
            assert_eq!(p.header.timestamp, parsed[0].header.timestamp.wrapping_add(160 * i as u32));
        }
        let payload: Vec<u8> = parsed.iter().flat_map(|p| p.payload.to_vec()).collect();
        assert_eq!(&payload[..560], &audio[..]);
        assert!(payload[560..].iter().all(|&b| b == ULAW_SILENCE));
    }

    #[tokio::test]
    async fn forwards_rtp_as_it_arrives_and_ignores_the_rest() {
        let pool = PortPool::new("31000-31999".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let (out, mut rx) = Outbox::new();
        let media = Media::open(&pool, out).await.unwrap();
        let far = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = SocketAddr::new("127.0.0.1".parse().unwrap(), media.local_port());
        far.send_to(b"not rtp", to).await.unwrap();
        let pkt = rtp::build(&RtpHeader { marker: false, payload_type: 0, sequence: 5, timestamp: 9, ssrc: 1 }, &[0xff; 160]);
        far.send_to(&pkt, to).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), encode_rtp(&pkt));
        // The source of the first RTP packet becomes the remote until the answer says else.
        assert_eq!(media.remote(), Some(far.local_addr().unwrap()));
    }
}
