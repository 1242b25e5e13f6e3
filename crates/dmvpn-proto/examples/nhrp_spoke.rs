//! The sans-IO NHRP client driven by a real socket: the loop every shell around a
//! `dmvpn-proto` machine runs (send what `poll_transmit` gives, report what `poll_event` gives,
//! wait for a packet until `poll_timeout`, then `handle_message` or `handle_timeout`).
//!
//! ```text
//! nhrp_spoke [--seconds N]
//!     a hub (the NHRP server) and a spoke (the client) in one process, NHRP carried in UDP
//!     datagrams between 127.0.0.1 and 127.0.0.2: runs anywhere, no privileges needed
//! nhrp_spoke --gre NBMA HUB_NBMA TUNNEL HUB_TUNNEL [--password P] [--seconds N]
//!     a spoke registering with a real hub (Cisco IOS, FRR nhrpd, dmvpn-router), NHRP in GRE
//!     (protocol type 0x2001, no key) on a raw IP socket: needs root or CAP_NET_RAW
//! ```
//!
//! `cargo run -p dmvpn-proto --example nhrp_spoke` registers, refreshes once (the holding time
//! is 6 s, so a refresh is due every 2 s) and stops. Without IPsec: the GRE packets go out in
//! clear, as with a tunnel that has no `tunnel protection`.

use std::error::Error;
use std::io::{self, ErrorKind, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use dmvpn_proto::Instant;
use dmvpn_proto::nhrp::{
    Client, ClientConfig, ClientEvent, Nhs, Password, Server, ServerConfig, Transmit,
};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// How NHRP packets reach an NBMA address and come back from one.
trait Transport {
    fn send(&mut self, transmit: &Transmit) -> io::Result<()>;
    /// Waits at most `wait` for a packet: its NBMA source and the NHRP bytes.
    fn recv(&mut self, wait: StdDuration) -> io::Result<Option<(Ipv4Addr, Vec<u8>)>>;
}

/// NHRP in UDP datagrams, every NBMA address on the same port (the unprivileged demo).
struct Udp {
    socket: UdpSocket,
    port: u16,
}

impl Transport for Udp {
    fn send(&mut self, transmit: &Transmit) -> io::Result<()> {
        let to = SocketAddrV4::new(transmit.to, self.port);
        self.socket.send_to(&transmit.bytes, to).map(drop)
    }

    fn recv(&mut self, wait: StdDuration) -> io::Result<Option<(Ipv4Addr, Vec<u8>)>> {
        self.socket
            .set_read_timeout(Some(wait.max(StdDuration::from_millis(1))))?;
        let mut buffer = vec![0; 2048];
        match self.socket.recv_from(&mut buffer) {
            Ok((len, SocketAddr::V4(from))) => {
                buffer.truncate(len);
                Ok(Some((*from.ip(), buffer)))
            }
            Ok((_, SocketAddr::V6(_))) => Ok(None),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// NHRP in GRE (RFC 2784, protocol type 0x2001) on a raw IPv4 socket for IP protocol 47.
struct Gre {
    socket: Socket,
}

impl Gre {
    fn open() -> Result<Self, Box<dyn Error>> {
        match Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(47))) {
            Ok(socket) => Ok(Self { socket }),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => Err(format!(
                "opening a raw GRE socket: {e}: it needs root or CAP_NET_RAW \
                 (sudo, or `setcap cap_net_raw+ep` on the binary); without --gre the example \
                 runs a hub and a spoke over UDP and needs no privileges"
            )
            .into()),
            Err(e) => Err(format!("opening a raw GRE socket: {e}").into()),
        }
    }
}

impl Transport for Gre {
    fn send(&mut self, transmit: &Transmit) -> io::Result<()> {
        let gre = dmvpn_gre::Repr {
            protocol: dmvpn_gre::Protocol::NHRP,
            checksum: false,
            key: None,
            sequence: None,
        };
        let mut packet = vec![0; gre.buffer_len() + transmit.bytes.len()];
        gre.emit(
            &mut dmvpn_gre::Packet::new_unchecked(&mut packet[..]),
            |payload| {
                payload.copy_from_slice(&transmit.bytes);
            },
        );
        let to = SockAddr::from(SocketAddrV4::new(transmit.to, 0));
        self.socket.send_to(&packet, &to).map(drop)
    }

    fn recv(&mut self, wait: StdDuration) -> io::Result<Option<(Ipv4Addr, Vec<u8>)>> {
        self.socket
            .set_read_timeout(Some(wait.max(StdDuration::from_millis(1))))?;
        let mut buffer = vec![0; 65_535];
        let len = match self.socket.read(&mut buffer) {
            Ok(len) => len,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // A raw IPv4 socket hands over the IP header too; anything but NHRP in GRE is skipped.
        let Some(ip) = buffer.get(..len) else {
            return Ok(None);
        };
        let Some(header_len) = ip.first().map(|b| usize::from(b & 0x0f) * 4) else {
            return Ok(None);
        };
        let (Some(src), Some(gre)) = (ip.get(12..16), ip.get(header_len..)) else {
            return Ok(None);
        };
        let Ok(packet) = dmvpn_gre::Packet::new_checked(gre) else {
            return Ok(None);
        };
        match dmvpn_gre::Repr::parse(&packet) {
            Ok(repr) if repr.protocol == dmvpn_gre::Protocol::NHRP => {
                let src = Ipv4Addr::new(src[0], src[1], src[2], src[3]);
                Ok(Some((src, packet.payload().to_vec())))
            }
            _ => Ok(None),
        }
    }
}

/// The machine's clock: milliseconds since the program started.
fn now(start: StdInstant) -> Instant {
    Instant::from_millis(i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX))
}

/// How long until `deadline`, for the socket's read timeout (at most a second, so the loop
/// checks its own end).
fn until(now: Instant, deadline: Option<Instant>) -> StdDuration {
    let wait = deadline.map_or(1000, |at| now.until(at).total_millis().clamp(0, 1000));
    StdDuration::from_millis(u64::try_from(wait).unwrap_or(0))
}

/// The spoke's loop: runs until `seconds` pass or, with `stop_after` set, after that many
/// successful registrations and refreshes.
fn run_spoke(
    mut transport: impl Transport,
    config: ClientConfig,
    seconds: u64,
    stop_after: Option<usize>,
) -> Result<usize, Box<dyn Error>> {
    let start = StdInstant::now();
    let mut client = Client::new(config, now(start), 1);
    let mut accepted = 0;
    while start.elapsed() < StdDuration::from_secs(seconds) {
        while let Some(transmit) = client.poll_transmit() {
            println!("spoke: sends {} to {}", transmit.parse()?, transmit.to);
            transport.send(&transmit)?;
        }
        while let Some(event) = client.poll_event() {
            println!("spoke: {event:?}");
            if matches!(
                event,
                ClientEvent::Registered { .. } | ClientEvent::Refreshed { .. }
            ) {
                accepted += 1;
            }
        }
        if stop_after.is_some_and(|n| accepted >= n) {
            break;
        }
        match transport.recv(until(now(start), client.poll_timeout()))? {
            Some((from, bytes)) => match dmvpn_nhrp::parse(&bytes) {
                Ok(repr) => {
                    if let Err(e) = client.handle_message(now(start), from, &repr) {
                        println!("spoke: refused {repr} from {from}: {e}");
                    }
                }
                Err(e) => println!("spoke: malformed NHRP from {from}: {e}"),
            },
            None => client.handle_timeout(now(start)),
        }
    }
    Ok(accepted)
}

/// The hub of the UDP demo: an NHRP server answering on `socket` until the spoke is done.
fn run_hub(mut transport: Udp, config: ServerConfig, seconds: u64) -> io::Result<()> {
    let start = StdInstant::now();
    let mut server = Server::new(config, 0x100);
    while start.elapsed() < StdDuration::from_secs(seconds) {
        while let Some(transmit) = server.poll_transmit() {
            transport.send(&transmit)?;
        }
        while let Some(event) = server.poll_event() {
            println!("hub:   {event:?}");
        }
        match transport.recv(until(now(start), server.poll_timeout()))? {
            Some((from, bytes)) => {
                if let Ok(repr) = dmvpn_nhrp::parse(&bytes)
                    && let Err(e) = server.handle_message(now(start), from, &repr)
                {
                    println!("hub:   refused {repr} from {from}: {e}");
                }
            }
            None => server.handle_timeout(now(start)),
        }
    }
    Ok(())
}

fn demo(seconds: u64) -> Result<(), Box<dyn Error>> {
    let (hub_nbma, spoke_nbma) = (Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2));
    let (hub_tunnel, spoke_tunnel) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let hub_socket = UdpSocket::bind((hub_nbma, 0))?;
    let port = hub_socket.local_addr()?.port();
    let spoke_socket = UdpSocket::bind((spoke_nbma, port))?;
    let hub = Udp {
        socket: hub_socket,
        port,
    };
    let hub_thread =
        std::thread::spawn(move || run_hub(hub, ServerConfig::new(hub_tunnel, hub_nbma), seconds));

    let mut config = ClientConfig::new(
        spoke_tunnel,
        spoke_nbma,
        vec![Nhs {
            tunnel: hub_tunnel,
            nbma: hub_nbma,
        }],
    );
    config.holding_time = 6;
    let spoke = Udp {
        socket: spoke_socket,
        port,
    };
    let accepted = run_spoke(spoke, config, seconds, Some(2))?;
    // The hub thread ends on its own when `seconds` pass; the demo does not wait for it.
    drop(hub_thread);
    if accepted < 2 {
        return Err(format!("the spoke was registered {accepted} times in {seconds} s").into());
    }
    println!("registered and refreshed over UDP port {port}");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = 10;
    let mut password = None;
    let mut gre = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => seconds = rest.next().ok_or("--seconds N")?.parse()?,
            "--password" => password = Some(rest.next().ok_or("--password P")?.clone()),
            "--gre" => {
                let mut address = || -> Result<Ipv4Addr, Box<dyn Error>> {
                    Ok(rest
                        .next()
                        .ok_or("--gre NBMA HUB_NBMA TUNNEL HUB_TUNNEL")?
                        .parse()?)
                };
                gre = Some([address()?, address()?, address()?, address()?]);
            }
            other => return Err(format!("unknown argument {other} (see the example's doc)").into()),
        }
    }
    let Some([nbma, hub_nbma, tunnel, hub_tunnel]) = gre else {
        return demo(seconds);
    };
    let mut config = ClientConfig::new(
        tunnel,
        nbma,
        vec![Nhs {
            tunnel: hub_tunnel,
            nbma: hub_nbma,
        }],
    );
    if let Some(password) = password {
        config.password = Some(Password::new(password.as_bytes())?);
    }
    config.holding_time = 60;
    let accepted = run_spoke(Gre::open()?, config, seconds, None)?;
    println!("{accepted} registrations and refreshes accepted in {seconds} s");
    Ok(())
}
