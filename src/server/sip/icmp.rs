//! The SIP socket, watched for ICMP errors. On Linux an unconnected UDP socket hears of
//! "port unreachable" only with IP_RECVERR set; the error then ends a receive, and the
//! socket's error queue says which destination it was about. Calls to that destination
//! that have heard nothing back fail at once instead of retransmitting for 32 s
//! (RFC 3261 8.1.3.1: treat it as a 503).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::net::UdpSocket;
use tokio::sync::broadcast;

/// A UDP socket for rsipstack that reports the destinations ICMP says are unreachable.
pub struct WatchedSocket {
    socket: UdpSocket,
    unreachable: broadcast::Sender<SocketAddr>,
}

impl WatchedSocket {
    pub fn new(socket: UdpSocket) -> WatchedSocket {
        if let Err(e) = enable_icmp_errors(&socket) {
            tracing::info!(error = %e, "ICMP errors on the SIP socket are not reported: unreachable targets time out");
        }
        WatchedSocket { socket, unreachable: broadcast::channel(64).0 }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Every destination an ICMP error is about, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SocketAddr> {
        self.unreachable.subscribe()
    }

    async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        loop {
            match self.socket.recv_from(buf).await {
                Err(e) if is_icmp_error(&e) => {
                    for to in drain_error_queue(&self.socket) {
                        tracing::info!(%to, error = %e, "ICMP error for a SIP destination");
                        let _ = self.unreachable.send(to);
                    }
                }
                other => return other,
            }
        }
    }
}

fn is_icmp_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable
    )
}

type BoxedFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// The trait is declared with `async_trait`; this is the signature it expands to.
impl rsipstack::platform::net::UdpSocket for WatchedSocket {
    fn recv_from<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 mut [u8],
    ) -> BoxedFuture<'async_trait, rsipstack::Result<(usize, SocketAddr)>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(self.recv(buf).await?) })
    }

    fn send_to<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 [u8],
        addr: SocketAddr,
    ) -> BoxedFuture<'async_trait, rsipstack::Result<usize>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(self.socket.send_to(buf, addr).await?) })
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

#[cfg(target_os = "linux")]
fn enable_icmp_errors(socket: &UdpSocket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, name) = match socket.local_addr()? {
        SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_RECVERR),
        SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_RECVERR),
    };
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option of the size given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn enable_icmp_errors(_: &UdpSocket) -> io::Result<()> {
    Err(io::Error::other("only on Linux"))
}

/// The destinations of the datagrams the queued ICMP errors are about.
#[cfg(target_os = "linux")]
fn drain_error_queue(socket: &UdpSocket) -> Vec<SocketAddr> {
    use std::os::fd::AsRawFd;
    let mut found = Vec::new();
    for _ in 0..64 {
        // SAFETY: zeroed plain C structs; the buffers outlive the call and their sizes
        // are the ones given to the kernel.
        let addr = unsafe {
            let mut name: libc::sockaddr_storage = std::mem::zeroed();
            let mut data = [0u8; 64];
            let mut control = [0u8; 512];
            let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = control.len();
            if libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) < 0 {
                break;
            }
            to_socket_addr(&name)
        };
        found.extend(addr);
    }
    found
}

#[cfg(not(target_os = "linux"))]
fn drain_error_queue(_: &UdpSocket) -> Vec<SocketAddr> {
    Vec::new()
}

#[cfg(target_os = "linux")]
fn to_socket_addr(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match name.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a = unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a = unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(ip, u16::from_be(a.sin6_port), a.sin6_flowinfo, a.sin6_scope_id)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_the_destination_that_is_unreachable() {
        let sock = WatchedSocket::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let mut told = sock.subscribe();
        // A port nobody listens on: the kernel answers with ICMP port unreachable.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        sock.socket.send_to(b"INVITE", dead).await.unwrap();
        let live = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        live.send_to(b"hello", sock.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 16];
        // The receive goes on past the error to the datagram that did arrive.
        let (n, _) = tokio::time::timeout(std::time::Duration::from_secs(2), sock.recv(&mut buf)).await.unwrap().unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(told.try_recv().unwrap(), dead);
    }
}
