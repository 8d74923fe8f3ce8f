//! The RTP side of a SIP call: one UDP socket from the configured port range, whose far-end
//! packets go to the client as they arrive (received by the shared intake thread,
//! `rtp_batch`; everyone else's are dropped), and PLAY_WAV pacing (160-byte G.711 payloads
//! every 20 ms, in the answer's law).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::task::JoinHandle;

use super::ports::{PortPool, PortRange};
use super::rtp_batch::{Intake, Registration, RtpSocket};
use crate::core::rtp;
use crate::server::media::{Codec, RtpPacketiser, PACKET_INTERVAL, SAMPLES_PER_PACKET};
use crate::server::metrics::RtpMeter;
use crate::server::outbox::ClientOutbox;

#[derive(Debug, Error)]
pub enum RtpError {
    #[error("no free RTP port in {range} on {ip}")]
    NoPort { range: PortRange, ip: IpAddr },
    #[error("the far end's audio address is not known yet")]
    NoRemote,
    #[error("RTP socket: {0}")]
    Socket(#[from] std::io::Error),
}

/// Whose RTP a call accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RtpSources {
    /// Only the far end's: nothing before its SDP names an address, then the first source
    /// after that (symmetric RTP, so NAT works), and only that source from then on.
    #[default]
    FarEnd,
    /// Anyone's (for networks where the far end's audio comes from several addresses).
    Any,
}

/// Who the far end is, as far as RTP goes.
#[derive(Debug, Clone, Copy, Default)]
struct FarEnd {
    /// The address its SDP names.
    announced: Option<SocketAddr>,
    /// Where its RTP really comes from.
    latched: Option<SocketAddr>,
}

impl FarEnd {
    /// Whether a packet from `from` is the far end's; the first one after the SDP latches.
    fn admit(&mut self, from: SocketAddr, sources: RtpSources) -> bool {
        if self.latched == Some(from) {
            return true;
        }
        if self.latched.is_none() && (self.announced.is_some() || sources == RtpSources::Any) {
            self.latched = Some(from);
            return true;
        }
        sources == RtpSources::Any
    }

    /// Our audio goes where theirs comes from (NAT), or where the SDP says until then.
    fn target(&self) -> Option<SocketAddr> {
        self.latched.or(self.announced)
    }
}

/// What the forwarder reports back to the call.
#[derive(Debug)]
struct Heard {
    opened: Instant,
    /// Milliseconds after `opened` of the last packet taken from the far end (0: none).
    last_ms: AtomicU64,
    /// Packets dropped because they came from someone else.
    foreign: AtomicU64,
}

/// The RTP of one call.
pub struct CallRtp {
    socket: Arc<RtpSocket>,
    local: SocketAddr,
    far: Arc<Mutex<FarEnd>>,
    heard: Arc<Heard>,
    codec: Codec,
    clock: Arc<Mutex<RtpPacketiser>>,
    /// Receiving stops when this is dropped.
    _intake: Registration,
    player: Option<JoinHandle<()>>,
    meter: RtpMeter,
}

impl CallRtp {
    /// Bind a port and start forwarding what the far end sends to `out`.
    pub async fn open(pool: &PortPool, out: ClientOutbox, sources: RtpSources) -> Result<CallRtp, RtpError> {
        // Out of the runtime's epoll set (which would wake a runtime thread per packet) and
        // into the intake's.
        let socket = Arc::new(RtpSocket::new(pool.bind().await?.into_std()?));
        let local = socket.local_addr().map_err(|_| RtpError::NoPort { range: pool.range, ip: pool.ip })?;
        let far = Arc::new(Mutex::new(FarEnd::default()));
        let heard = Arc::new(Heard { opened: Instant::now(), last_ms: AtomicU64::new(0), foreign: AtomicU64::new(0) });
        let meter = out.meter().clone();
        let forward = Forwarder { far: far.clone(), sources, heard: heard.clone(), out };
        let intake = Intake::get().register(socket.clone(), Box::new(move |packet, from| forward.take(packet, from)))?;
        let codec = Codec::Pcmu;
        let clock = Arc::new(Mutex::new(RtpPacketiser::random(codec.payload_type())));
        Ok(CallRtp { socket, local, far, heard, codec, clock, _intake: intake, player: None, meter })
    }

    pub fn local_port(&self) -> u16 {
        self.local.port()
    }

    /// The address the far end's SDP names. A new one (a re-INVITE moving the media) is
    /// latched afresh.
    pub fn set_remote(&self, addr: SocketAddr) {
        let mut far = lock(&self.far);
        if far.announced != Some(addr) {
            *far = FarEnd { announced: Some(addr), latched: None };
        }
    }

    /// Where our audio goes now.
    pub fn remote(&self) -> Option<SocketAddr> {
        lock(&self.far).target()
    }

    /// The law the answer chose: playbacks are sent in it.
    pub fn set_codec(&mut self, codec: Codec) {
        self.codec = codec;
        lock(&self.clock).set_payload_type(codec.payload_type());
    }

    /// When the far end's RTP was last heard (`None`: never).
    pub fn last_heard(&self) -> Option<Instant> {
        match self.heard.last_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(self.heard.opened + Duration::from_millis(ms)),
        }
    }

    /// Packets dropped so far because they did not come from the far end.
    pub fn foreign_dropped(&self) -> u64 {
        self.heard.foreign.load(Ordering::Relaxed)
    }

    /// Stream mu-law bytes into the call (in the call's law), replacing whatever plays now.
    /// `done` runs when the last packet has gone out (not when a newer playback replaced
    /// this one).
    pub fn play<F>(&mut self, ulaw: Vec<u8>, done: F) -> Result<Duration, RtpError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if self.remote().is_none() {
            return Err(RtpError::NoRemote);
        }
        if let Some(old) = self.player.take() {
            old.abort();
        }
        let secs = Duration::from_micros(ulaw.len() as u64 * 125);
        let audio = self.codec.from_ulaw(ulaw);
        let task = pace(self.socket.clone(), self.far.clone(), self.clock.clone(), self.codec, audio, self.meter.clone());
        self.player = Some(tokio::spawn(async move {
            task.await;
            done.await;
        }));
        Ok(secs)
    }
}

impl Drop for CallRtp {
    fn drop(&mut self) {
        if let Some(p) = self.player.take() {
            p.abort();
        }
        let foreign = self.foreign_dropped();
        if foreign > 0 {
            tracing::info!(foreign, "call over: RTP packets from other sources were dropped");
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The data is plain values; a panic elsewhere cannot leave it half-written.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a call does with the packets the intake receives on its socket.
struct Forwarder {
    far: Arc<Mutex<FarEnd>>,
    sources: RtpSources,
    heard: Arc<Heard>,
    out: ClientOutbox,
}

impl Forwarder {
    /// Every valid RTP packet from the far end goes to the client whole, in arrival order;
    /// anything else (another source, not RTP) is dropped, and other sources are counted.
    fn take(&self, packet: &[u8], from: SocketAddr) {
        if rtp::parse(packet).is_err() {
            return; // not RTP (STUN, RTCP muxed, garbage): nothing the client can use
        }
        if !lock(&self.far).admit(from, self.sources) {
            self.out.meter().foreign_source.inc();
            let dropped = self.heard.foreign.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(%from, dropped, "RTP from a source that is not the far end: dropped");
            }
            return;
        }
        let ms = self.heard.opened.elapsed().as_millis().max(1) as u64;
        self.heard.last_ms.store(ms, Ordering::Relaxed);
        self.out.rtp(crate::core::protocol::encode_rtp(packet));
    }
}

/// Send `audio` as 20 ms packets on a fixed schedule: packet `n` is due at
/// `start + n * 20 ms`, so a late wake-up is caught up rather than drifting. Each goes to
/// where the far end is now (it may latch or move during a playback).
async fn pace(socket: Arc<RtpSocket>, far: Arc<Mutex<FarEnd>>, clock: Arc<Mutex<RtpPacketiser>>, codec: Codec, audio: Vec<u8>, meter: RtpMeter) {
    let mut ticks = tokio::time::interval(PACKET_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut packet = Vec::with_capacity(rtp::HEADER_LEN + SAMPLES_PER_PACKET);
    lock(&clock).start_talkspurt(Instant::now());
    for (i, chunk) in audio.chunks(SAMPLES_PER_PACKET).enumerate() {
        ticks.tick().await;
        lock(&clock).write_next(&mut packet, chunk, i == 0, codec.silence(), Instant::now());
        let Some(remote) = lock(&far).target() else { continue };
        match socket.send_to(&packet, remote).await {
            Ok(n) => meter.to_far_end(n),
            Err(e) => tracing::debug!(error = %e, %remote, "RTP send"),
        }
    }
}

/// What puts telephone-events (`sip::dtmf`) into a call's outgoing stream: its socket, its
/// far end and the clock its audio uses, so sequence numbers and SSRC continue.
#[derive(Clone)]
pub struct RtpOutlet {
    socket: Arc<RtpSocket>,
    far: Arc<Mutex<FarEnd>>,
    clock: Arc<Mutex<RtpPacketiser>>,
}

impl CallRtp {
    /// A handle for sending telephone-events into this call's stream.
    pub fn outlet(&self) -> RtpOutlet {
        RtpOutlet { socket: self.socket.clone(), far: self.far.clone(), clock: self.clock.clone() }
    }
}

impl RtpOutlet {
    /// Send one telephone-event packet now. `event_ts` is the event's timestamp: taken from
    /// the clock by its first packet, then kept for the rest (RFC 4733 2.3.1).
    pub async fn send_event(&self, payload_type: u8, marker: bool, event_ts: &mut Option<u32>, payload: &[u8]) -> Result<(), RtpError> {
        let remote = lock(&self.far).target().ok_or(RtpError::NoRemote)?;
        let mut header = lock(&self.clock).next_event(payload_type, marker, Instant::now());
        header.timestamp = *event_ts.get_or_insert(header.timestamp);
        let packet = rtp::build(&header, payload);
        if let Err(e) = self.socket.send_to(&packet, remote).await {
            tracing::debug!(error = %e, %remote, "RTP event send");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audio::{ALAW_SILENCE, ULAW_SILENCE};
    use crate::core::protocol::encode_rtp;
    use crate::core::rtp::RtpHeader;
    use crate::server::outbox::Outgoing;
    use tokio::net::UdpSocket;

    #[tokio::test]
    async fn plays_paced_pcmu_with_a_continuous_stream() {
        let pool = PortPool::new("30000-30999".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let (out, _rx) = ClientOutbox::new();
        let mut media = CallRtp::open(&pool, out, RtpSources::FarEnd).await.unwrap();
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
        let (out, mut rx) = ClientOutbox::new();
        // The old, relaxed policy: anyone's RTP is taken.
        let media = CallRtp::open(&pool, out, RtpSources::Any).await.unwrap();
        let far = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = SocketAddr::new("127.0.0.1".parse().unwrap(), media.local_port());
        far.send_to(b"not rtp", to).await.unwrap();
        let pkt = rtp::build(&RtpHeader { marker: false, payload_type: 0, sequence: 5, timestamp: 9, ssrc: 1 }, &[0xff; 160]);
        far.send_to(&pkt, to).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), Outgoing::Frame(encode_rtp(&pkt)));
        // The source of the first RTP packet becomes the remote until the answer says else.
        assert_eq!(media.remote(), Some(far.local_addr().unwrap()));
    }

    fn packet(ssrc: u32, sequence: u16) -> Vec<u8> {
        rtp::build(&RtpHeader { marker: false, payload_type: 0, sequence, timestamp: 9, ssrc }, &[0xff; 160])
    }

    #[tokio::test]
    async fn takes_rtp_only_from_the_far_end_and_answers_where_it_comes_from() {
        let pool = PortPool::new("32000-32999".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let (out, mut rx) = ClientOutbox::new();
        let mut media = CallRtp::open(&pool, out, RtpSources::FarEnd).await.unwrap();
        let to = SocketAddr::new("127.0.0.1".parse().unwrap(), media.local_port());
        let far = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let intruder = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // Before any SDP (ringing), nobody's RTP is taken.
        intruder.send_to(&packet(66, 1), to).await.unwrap();
        far.send_to(&packet(1, 1), to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The answer names an address (behind NAT: not where the packets come from); the
        // first source after it is latched and is where our audio goes.
        media.set_remote("127.0.0.1:9".parse().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(media.last_heard().is_none());
        far.send_to(&packet(1, 2), to).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), Outgoing::Frame(encode_rtp(&packet(1, 2))));
        assert_eq!(media.remote(), Some(far.local_addr().unwrap()));
        assert!(media.last_heard().is_some());
        for i in 0..5 {
            intruder.send_to(&packet(66, 10 + i), to).await.unwrap();
        }
        far.send_to(&packet(1, 3), to).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), Outgoing::Frame(encode_rtp(&packet(1, 3))));
        assert!(rx.try_recv().is_err(), "an intruder's packet reached the client");
        assert_eq!(media.foreign_dropped(), 7);
        // A playback in the answer's law goes to the latched source.
        media.set_codec(Codec::Pcma);
        media.play(vec![ULAW_SILENCE; 160], async {}).unwrap();
        let mut buf = [0u8; 400];
        let n = tokio::time::timeout(Duration::from_secs(2), far.recv(&mut buf)).await.unwrap().unwrap();
        let p = rtp::parse(&buf[..n]).unwrap();
        assert_eq!(p.header.payload_type, 8);
        assert!(p.payload.iter().all(|&b| b == ALAW_SILENCE));
    }
}
