//! RTP ports of the gateway's calls: the configured range and the pool that hands out its
//! even ports.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::net::UdpSocket;

use super::rtp::RtpError;

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

/// Hands out even RTP ports of a range in turn (RFC 3550 pairs RTP on even ports with
/// RTCP on the next odd one), skipping any that are taken.
#[derive(Debug)]
pub struct PortPool {
    pub(super) range: PortRange,
    pub(super) ip: IpAddr,
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

    pub async fn bind(&self) -> Result<UdpSocket, RtpError> {
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
        Err(RtpError::NoPort { range: self.range, ip: self.ip })
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
            assert!(matches!(pool.bind().await, Err(RtpError::NoPort { .. })));
        }
    }
}
