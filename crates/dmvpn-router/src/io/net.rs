//! The router's devices: raw IPv4 sockets for GRE and ESP, the IKE socket, the TUN device, and
//! one reader thread per device handing what it reads, a batch at a time, to a [`Sink`] (the
//! router behind its lock, see [`super::Shared`]).

use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread;

use nix::errno::Errno;
use nix::sys::socket::{self, MsgFlags};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use dmvpn_ip::{IpProtocol, ipv4};

/// IP protocol numbers of the NBMA side.
pub(super) const GRE: u8 = IpProtocol::GRE.0;
/// ESP.
pub(super) const ESP: u8 = IpProtocol::ESP.0;
/// The largest packet read from any device.
const BUFFER: usize = 65_536;
/// The most packets a raw socket's reader takes in one go: after the one it waited for, what
/// else is queued already (see [`super::Reader`]).
const RAW_BATCH: usize = 16;
/// The receive and send buffers asked for on the raw sockets.
const SOCKET_BUFFER: usize = 4 << 20;

/// A raw IPv4 socket for one IP protocol, bound to the NBMA address (so that it sends from it
/// and receives only what is addressed to it) and, if given, to the NBMA interface.
pub(super) fn raw_socket(protocol: u8, nbma: Ipv4Addr, device: Option<&str>) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(i32::from(protocol))),
    )?;
    if let Some(device) = device {
        socket.bind_device(Some(device.as_bytes()))?;
    }
    socket.bind(&SockAddr::from(SocketAddrV4::new(nbma, 0)))?;
    // Measured (tools/perf/router_perf.sh): with the default 208 KiB the ESP socket dropped bursts
    // while its reader was busy, and TCP through the tunnel backed off. The kernel caps this
    // at net.core.rmem_max (so a failure here is no reason not to run).
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    Ok(socket)
}

/// Sends `payload` to `to` on a raw socket: the kernel writes the IPv4 header.
pub(super) fn send_raw(socket: &Socket, to: Ipv4Addr, payload: &[u8]) -> io::Result<()> {
    socket.send_to(payload, &SockAddr::from(SocketAddrV4::new(to, 0)))?;
    Ok(())
}

/// The IKE socket: UDP port 500 on the NBMA address.
pub(super) fn ike_socket(nbma: Ipv4Addr, device: Option<&str>) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    if let Some(device) = device {
        socket.bind_device(Some(device.as_bytes()))?;
    }
    socket.bind(&SockAddr::from(SocketAddrV4::new(nbma, 500)))?;
    Ok(socket.into())
}

/// The source address and payload of a raw IPv4 datagram (the kernel hands raw sockets the
/// whole packet, header included, reassembled).
fn split_ipv4(packet: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    let packet = ipv4::Packet::new_truncated(packet).ok()?;
    Some((packet.src_addr(), packet.payload()))
}

/// A packet a reader thread took from a device, borrowed from its buffer: the reader hands it
/// to the event loop's data path (see [`super::Shared`]) without copying it.
pub(super) enum Packet<'a> {
    /// From the NBMA network: the payload of an IPv4 packet of `protocol` from `src`.
    Nbma {
        src: Ipv4Addr,
        protocol: u8,
        payload: &'a [u8],
    },
    /// An ISAKMP message from UDP port 500.
    Ike { src: Ipv4Addr, payload: &'a [u8] },
    /// What the host sent into the tunnel interface.
    Tunnel(&'a [u8]),
}

/// Where a reader thread puts what it reads, a batch at a time: `false` stops the thread (the
/// router is gone).
pub(super) trait Sink: Send + 'static {
    fn batch(&mut self, packets: &mut dyn Iterator<Item = Packet<'_>>) -> bool;
    fn failed(&self, what: String);
}

/// Reads a raw socket forever, handing the packets' payloads to `sink`: the one it waited for
/// and up to [`RAW_BATCH`] − 1 more that were queued behind it.
pub(super) fn spawn_raw_reader(
    socket: Socket,
    protocol: u8,
    mut sink: impl Sink,
) -> io::Result<()> {
    thread::Builder::new()
        .name(format!("raw-{protocol}"))
        .spawn(move || {
            let mut buffers = zeroed_buffers(RAW_BATCH, BUFFER);
            let mut lens = [0; RAW_BATCH];
            loop {
                lens[0] = match (&socket).read(&mut buffers[0]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        sink.failed(format!("raw socket {protocol}: {e}"));
                        return;
                    }
                };
                let mut taken = 1;
                while taken < RAW_BATCH {
                    match socket::recv(
                        socket.as_raw_fd(),
                        &mut buffers[taken],
                        MsgFlags::MSG_DONTWAIT,
                    ) {
                        Ok(n) => lens[taken] = n,
                        Err(Errno::EINTR) => continue,
                        // (nothing more queued; an error shows again at the next blocking read)
                        Err(_) => break,
                    }
                    taken += 1;
                }
                let mut packets = buffers
                    .iter()
                    .zip(lens)
                    .take(taken)
                    .filter_map(|(buffer, n)| buffer.get(..n).and_then(split_ipv4))
                    .map(|(src, payload)| Packet::Nbma {
                        src,
                        protocol,
                        payload,
                    });
                if !sink.batch(&mut packets) {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Reads the IKE socket forever.
pub(super) fn spawn_ike_reader(socket: UdpSocket, mut sink: impl Sink) -> io::Result<()> {
    thread::Builder::new().name("ike".into()).spawn(move || {
        let mut buffer = vec![0; BUFFER];
        loop {
            match socket.recv_from(&mut buffer) {
                Ok((n, std::net::SocketAddr::V4(from))) => {
                    let payload = buffer.get(..n).unwrap_or_default();
                    let packet = Packet::Ike {
                        src: *from.ip(),
                        payload,
                    };
                    if !sink.batch(&mut std::iter::once(packet)) {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    sink.failed(format!("ike socket: {e}"));
                    return;
                }
            }
        }
    })?;
    Ok(())
}

/// The tunnel interface: a TUN device (no packet information header) with the tunnel address
/// and `ip mtu`, up, with TCP segmentation and receive offloads (a virtio-net header on every
/// packet: the host hands over TCP segments of up to 64 KiB, which [`spawn_tun_reader`] cuts
/// to the MTU, and takes coalesced ones, see [`super::Devices::send`]).
///
/// Measured (tools/perf/router_perf.sh): without the offloads, the host cut every TCP burst into
/// MTU-sized packets for the TUN queue and took every delivered segment (and sent an ACK for
/// every other one) through its stack one by one.
pub(super) fn tun(
    name: &str,
    address: Ipv4Addr,
    prefix_len: u8,
    mtu: u16,
) -> io::Result<tun_rs::SyncDevice> {
    tun_rs::DeviceBuilder::new()
        .name(name)
        .ipv4(address, prefix_len, None)
        .mtu(mtu)
        .packet_information(false)
        .offload(true)
        .build_sync()
}

/// Reads the TUN device forever: what the host sends into the tunnel, a TCP segmentation
/// offload burst cut into packets of at most `mtu` bytes (the device's MTU: the host sends
/// nothing longer, and a burst whose pieces would not fit is dropped).
pub(super) fn spawn_tun_reader(
    device: Arc<tun_rs::SyncDevice>,
    mtu: u16,
    mut sink: impl Sink,
) -> io::Result<()> {
    thread::Builder::new().name("tun".into()).spawn(move || {
        let mut original = vec![0; tun_rs::VIRTIO_NET_HDR_LEN + BUFFER];
        let mut buffers = zeroed_buffers(tun_rs::IDEAL_BATCH_SIZE, usize::from(mtu));
        let mut sizes = vec![0; tun_rs::IDEAL_BATCH_SIZE];
        loop {
            match device.recv_multiple(&mut original, &mut buffers, &mut sizes, 0) {
                Ok(n) => {
                    let mut packets = buffers.iter().zip(&sizes).take(n).map(|(buffer, &size)| {
                        Packet::Tunnel(buffer.get(..size).unwrap_or_default())
                    });
                    if !sink.batch(&mut packets) {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // (not the device's: a burst tun-rs could not cut, which is dropped)
                Err(e) if e.raw_os_error().is_none() => {}
                Err(e) => {
                    sink.failed(format!("tun: {e}"));
                    return;
                }
            }
        }
    })?;
    Ok(())
}

/// `count` buffers of `len` bytes, each allocated zeroed rather than cloned from a first one
/// (`vec![vec![0; len]; count]` copies the zeros into every page: 20 MB resident per router).
fn zeroed_buffers(count: usize, len: usize) -> Vec<Vec<u8>> {
    (0..count).map(|_| vec![0; len]).collect()
}

/// Random bytes from the operating system (`/dev/urandom`), for IKE's cookies, nonces,
/// Diffie-Hellman exponents and SPIs.
pub(crate) struct OsRandom(std::fs::File);

impl OsRandom {
    pub(crate) fn new() -> io::Result<Self> {
        std::fs::File::open("/dev/urandom").map(Self)
    }

    /// Fills `dest`; a failing read (which `/dev/urandom` does not do) aborts the router rather
    /// than use predictable bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if let Err(e) = self.0.read_exact(dest) {
            eprintln!("dmvpn-router: /dev/urandom: {e}");
            std::process::abort();
        }
    }
}

impl dmvpn_proto::node::Entropy for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        self.fill_bytes(dest);
    }
}

impl dmvpn_proto::ike::Entropy for OsRandom {
    fn fill(&mut self, _purpose: dmvpn_proto::ike::Purpose, buf: &mut [u8]) {
        self.fill_bytes(buf);
    }
}

/// The node's randomness (a seed, then one ESP IV per packet sent): `/dev/urandom` read 4 KiB
/// at a time. Measured (tools/perf/router_perf.sh): a read per IV was a system call per packet.
pub(crate) struct BufferedRandom {
    source: OsRandom,
    buffer: Box<[u8; 4096]>,
    /// How much of `buffer` is used up.
    used: usize,
}

impl BufferedRandom {
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Self {
            source: OsRandom::new()?,
            buffer: Box::new([0; 4096]),
            used: 4096,
        })
    }
}

impl dmvpn_proto::node::Entropy for BufferedRandom {
    fn fill(&mut self, mut dest: &mut [u8]) {
        while !dest.is_empty() {
            if self.used == self.buffer.len() {
                self.source.fill_bytes(&mut self.buffer[..]);
                self.used = 0;
            }
            let take = dest.len().min(self.buffer.len() - self.used);
            let (now, rest) = dest.split_at_mut(take);
            now.copy_from_slice(&self.buffer[self.used..self.used + take]);
            // (used bytes are not handed out twice)
            self.buffer[self.used..self.used + take].fill(0);
            self.used += take;
            dest = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_random_hands_out_fresh_bytes() {
        use dmvpn_proto::node::Entropy;
        let mut random = BufferedRandom::new().unwrap();
        let mut seen = std::collections::HashSet::new();
        // Across several refills, in odd sizes: no 16-byte block repeats, none is all zeros.
        for _ in 0..1000 {
            let mut iv = [0; 16];
            random.fill(&mut iv);
            assert_ne!(iv, [0; 16]);
            assert!(seen.insert(iv));
            let mut odd = [0; 7];
            random.fill(&mut odd);
        }
        let mut big = vec![0; 10_000];
        random.fill(&mut big);
        assert!(big.chunks(16).all(|c| c.iter().any(|b| *b != 0)));
    }

    #[test]
    fn ipv4_split() {
        #[rustfmt::skip]
        let packet = [
            0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 47, 0, 0, 192, 0, 2, 11, 192, 0, 2, 1,
            0, 0, 0x08, 0, 0xff, 0xff,
        ];
        let (src, payload) = split_ipv4(&packet).unwrap();
        assert_eq!(src, Ipv4Addr::new(192, 0, 2, 11));
        assert_eq!(
            payload,
            [0, 0, 0x08, 0],
            "trailing bytes past the total length are cut"
        );
        for cut in 0..20 {
            assert_eq!(split_ipv4(&packet[..cut]), None);
        }
        assert_eq!(split_ipv4(&[0x65; 20]), None);
    }
}
