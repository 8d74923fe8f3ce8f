//! A call's RTP as a pcap file for Wireshark: each packet wrapped in a synthetic
//! Ethernet/IPv4/UDP frame, stamped with its arrival time. Bytes out; the pcap container is
//! written by the `pcap-file` crate.
//!
//! The frames run from [`Flow::default`]'s far end (192.0.2.1:5004, an RFC 5737
//! documentation address) to this end (192.0.2.2:5004). Port 5004 is IANA's `rtp-avp`, but
//! Wireshark does not decode RTP on a bare port by default: open the file with
//! `-d udp.port==5004,rtp` (tshark) or "Decode As... RTP", or enable the `rtp_udp` heuristic.

use std::io::Write;
use std::time::{Duration, Instant};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, PcapError};

const ETHERNET_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const UDP_LEN: usize = 8;
const HEADERS: usize = ETHERNET_LEN + IPV4_LEN + UDP_LEN;
/// The pcap header's snapshot length, which no frame may exceed.
const SNAPLEN: u32 = 65535;
/// The largest RTP packet that fits in one frame.
pub const MAX_RTP_LEN: usize = SNAPLEN as usize - HEADERS;

/// The UDP flow the synthetic frames claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub src: ([u8; 4], u16),
    pub dst: ([u8; 4], u16),
}

impl Default for Flow {
    fn default() -> Flow {
        Flow { src: ([192, 0, 2, 1], 5004), dst: ([192, 0, 2, 2], 5004) }
    }
}

/// Wall-clock time of monotonic instants: the caller reads the clock once, this maps every
/// arrival from it (so the file's times are as steady as the arrivals).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub origin: Instant,
    /// Time since the UNIX epoch at `origin`.
    pub wall: Duration,
}

impl Clock {
    pub fn at(&self, t: Instant) -> Duration {
        match t.checked_duration_since(self.origin) {
            Some(d) => self.wall + d,
            None => self.wall.saturating_sub(self.origin - t),
        }
    }
}

/// A pcap file being written: into memory (`Pcap::new`) or straight into any writer
/// (`Pcap::into_writer`), so a day-long call's export needs no more memory than one frame.
pub struct Pcap<W: Write = Vec<u8>> {
    writer: PcapWriter<W>,
    flow: Flow,
    frame: Vec<u8>,
    ip_id: u16,
    packets: u64,
}

impl Pcap<Vec<u8>> {
    pub fn new(flow: Flow) -> Pcap {
        // Writing to a Vec cannot fail.
        Pcap::into_writer(Vec::new(), flow).expect("pcap header into memory")
    }

    /// Add one RTP packet (the whole packet, header included) that arrived at `wall` (time
    /// since the UNIX epoch). False when it is too large for a frame and was left out.
    pub fn push(&mut self, wall: Duration, rtp: &[u8]) -> bool {
        self.write(wall, rtp).expect("pcap packet into memory")
    }

    /// The whole file.
    pub fn finish(self) -> Vec<u8> {
        self.writer.into_writer()
    }
}

impl<W: Write> Pcap<W> {
    /// Start a pcap file on `out`: its header is written at once.
    pub fn into_writer(out: W, flow: Flow) -> Result<Pcap<W>, PcapError> {
        let header = PcapHeader { datalink: DataLink::ETHERNET, snaplen: SNAPLEN, ..PcapHeader::default() };
        let writer = PcapWriter::with_header(out, header)?;
        Ok(Pcap { writer, flow, frame: Vec::with_capacity(HEADERS + 1500), ip_id: 0, packets: 0 })
    }

    /// [`Pcap::push`] for any writer: Ok(false) when the packet is too large for a frame.
    pub fn write(&mut self, wall: Duration, rtp: &[u8]) -> Result<bool, PcapError> {
        if rtp.len() > MAX_RTP_LEN {
            return Ok(false);
        }
        self.frame.clear();
        frame_into(&mut self.frame, &self.flow, self.ip_id, rtp);
        self.ip_id = self.ip_id.wrapping_add(1);
        let packet = PcapPacket::new(wall, self.frame.len() as u32, &self.frame);
        self.writer.write_packet(&packet)?;
        self.packets += 1;
        Ok(true)
    }

    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The writer, after the last packet.
    pub fn into_inner(self) -> W {
        self.writer.into_writer()
    }
}

/// Ethernet II + IPv4 (no options, DF, TTL 64, checksummed) + UDP (checksum 0: "none", as
/// IPv4 allows) + the RTP packet.
fn frame_into(out: &mut Vec<u8>, flow: &Flow, ip_id: u16, rtp: &[u8]) {
    // Locally administered MAC addresses.
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    out.extend_from_slice(&0x0800u16.to_be_bytes());
    let ip_start = out.len();
    let total = (IPV4_LEN + UDP_LEN + rtp.len()) as u16;
    out.extend_from_slice(&[0x45, 0xb8]); // version 4, IHL 5; DSCP EF, as voice is marked
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&ip_id.to_be_bytes());
    out.extend_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    out.extend_from_slice(&[64, 17, 0, 0]); // TTL, UDP, checksum (below)
    out.extend_from_slice(&flow.src.0);
    out.extend_from_slice(&flow.dst.0);
    let sum = ipv4_checksum(&out[ip_start..ip_start + IPV4_LEN]);
    out[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&flow.src.1.to_be_bytes());
    out.extend_from_slice(&flow.dst.1.to_be_bytes());
    out.extend_from_slice(&((UDP_LEN + rtp.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(rtp);
}

/// RFC 791's header checksum: the ones' complement of the ones' complement sum of the
/// header's 16-bit words (the checksum field zero).
fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header.chunks(2).map(|w| u16::from_be_bytes([w[0], w[1]]) as u32).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use pcap_file::pcap::PcapReader;

    use super::*;
    use crate::core::rtp::{build, parse, RtpHeader};

    #[test]
    fn frames_carry_the_packets_and_their_times() {
        let t0 = Instant::now();
        let clock = Clock { origin: t0, wall: Duration::from_secs(1_700_000_000) };
        let mut p = Pcap::new(Flow::default());
        for seq in 0..3u16 {
            let rtp = build(&RtpHeader { payload_type: 0, sequence: seq, timestamp: 160 * seq as u32, ssrc: 5, marker: false }, &[seq as u8; 160]);
            assert!(p.push(clock.at(t0 + Duration::from_millis(20 * seq as u64)), &rtp));
        }
        assert!(!p.push(clock.wall, &vec![0; MAX_RTP_LEN + 1]));
        assert_eq!(p.packets(), 3);
        let file = p.finish();
        let mut r = PcapReader::new(std::io::Cursor::new(file)).unwrap();
        assert_eq!(r.header().datalink, DataLink::ETHERNET);
        let mut seq = 0u16;
        while let Some(pkt) = r.next_packet() {
            let pkt = pkt.unwrap();
            assert_eq!(pkt.timestamp, Duration::from_secs(1_700_000_000) + Duration::from_millis(20 * seq as u64));
            let d = &pkt.data;
            assert_eq!(d.len(), HEADERS + 172);
            assert_eq!(ipv4_checksum(&d[14..34]), 0, "a correct header sums to 0xffff");
            assert_eq!(u16::from_be_bytes([d[16], d[17]]) as usize, 20 + 8 + 172);
            assert_eq!(u16::from_be_bytes([d[38], d[39]]) as usize, 8 + 172);
            let rtp = parse(&d[HEADERS..]).unwrap();
            assert_eq!((rtp.header.sequence, rtp.payload[0]), (seq, seq as u8));
            seq += 1;
        }
        assert_eq!(seq, 3);
    }

    #[test]
    fn checksum_of_a_known_header() {
        // The worked example of RFC 1071's usual illustration (Wikipedia's IPv4 header).
        let h = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        assert_eq!(ipv4_checksum(&h), 0xb861);
    }

    #[test]
    fn clock_maps_instants_before_and_after_its_origin() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let c = Clock { origin: t0, wall: Duration::from_secs(100) };
        assert_eq!(c.at(t0 + Duration::from_millis(1500)), Duration::from_millis(101_500));
        assert_eq!(c.at(t0 - Duration::from_secs(3)), Duration::from_secs(97));
    }
}
