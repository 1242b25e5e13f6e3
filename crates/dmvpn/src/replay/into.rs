//! `dmvpn replay FILE --into hub|spoke`: the capture's control plane fed into a sans-IO
//! [`dmvpn_proto::router::Router`] (the node and its IKE) standing in for one router of the
//! capture, driven by the capture's timestamps, and the state timeline that results.
//!
//! 1. A first pass ([`SessionBuilder`]) finds the router and its configuration: the hub is the
//!    NBMA address that answered registrations (or the one given); a spoke is the one given, else
//!    the first registered peer of the hub. Its tunnel address comes from its NHRP bindings or the
//!    source of its EIGRP hellos (a /24 is assumed: the capture does not show the mask); EIGRP's
//!    autonomous system, K values, hold time and hello interval from its own hellos; the
//!    prefixes it advertised become its connected networks; a spoke's NHS is the hub's tunnel
//!    and NBMA addresses, and its NHRP holding time that of its own requests.
//! 2. The second pass feeds every IPv4 datagram addressed to the router's NBMA address
//!    (reassembled; ESP decrypted with the keys given, and fed as the GRE it carries) to
//!    [`Node::handle_nbma`] at the frame's time (microseconds since the first frame), running the
//!    machine's timers as they fall due in between, and records what the machine did:
//!    registrations accepted or refused, cache entries, neighbours up and down, routes, drops,
//!    and each packet it would have sent. Packets the real router sent are not fed: the timeline
//!    is what the machine makes of its peers' side of the conversation.
//! 3. ISAKMP to the router (UDP 500, and 4500 behind the non-ESP marker) goes to the machine's
//!    IKE, when the capture has IKE with the router. The machine accepts any policy and transform
//!    set IOS can configure (pre-shared keys), and draws the captured router's own cookies, so
//!    that its peers' captured messages belong to its exchanges: it answers Main Mode 1 and 3 (a
//!    spoke starts Main Mode itself, as the router did). Its Diffie-Hellman value is its own
//!    (the capture cannot give the router's private one), so the peer's encrypted messages do
//!    not open: the timeline says so, and [`Timeline::capture_ike`] lists the IKE SAs as the
//!    capture shows them (decrypted with the `ikev1_decryption_table` keys given).
//!
//! ```
//! use dmvpn::decode::{Decoder, IkeKeys};
//! use dmvpn::keys::EspKeys;
//! use dmvpn::replay::into::{self, IntoOptions, Role};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let mut keys = || {
//!     let esp = EspKeys::from_file(format!("{dir}/phase1.esp_sa")).unwrap_or_default();
//!     (esp, IkeKeys::default())
//! };
//! let timeline = into::run(format!("{dir}/phase1.pcap"), &mut keys, &IntoOptions::new(Role::Hub))?;
//! assert_eq!(timeline.node.nbma.to_string(), "192.0.2.1");
//! assert!(timeline.registrations.iter().any(|r| r.nbma.to_string() == "192.0.2.12"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration as StdDuration;

use dmvpn_gre as gre;
use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_proto::ike::{self, EspAuth, EspCipher, Hash, Policy, TransformSet};
use dmvpn_proto::node::{self, Node, NodeConfig, Prefix, Transmit};
use dmvpn_proto::router::{self as machine, Router};
use dmvpn_proto::{Duration, Instant};

use crate::capture::ipv4::{self, ChecksumMode};
use crate::capture::link::{self, EtherType};
use crate::capture::{
    CaptureError, CaptureReader, Reassembler, ReassemblerConfig, Reassembly, Timestamp,
};
use crate::decode::{Decoder, IkeKeys};
use crate::keys::EspKeys;
use crate::session::{PeerPair, Report, SessionBuilder};

mod text;

use text::router_event_text;
pub use text::{describe, describe_isakmp};

/// Which router of the capture the machine plays.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Role {
    /// The NHS.
    Hub,
    /// A spoke.
    Spoke,
}

/// What [`run`] is asked to do.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct IntoOptions {
    /// Hub or spoke.
    pub role: Role,
    /// The router's NBMA address (default: found in the capture, see the module documentation).
    pub nbma: Option<Ipv4Addr>,
    /// The tunnel's prefix length (default 24).
    pub prefix_len: u8,
}

impl IntoOptions {
    /// The router found in the capture for `role`, a /24 tunnel.
    #[must_use]
    pub const fn new(role: Role) -> Self {
        Self {
            role,
            nbma: None,
            prefix_len: 24,
        }
    }
}

/// The router the machine stands in for, as inferred from the capture.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct NodeSummary {
    /// Hub or spoke.
    pub role: Role,
    /// Its NBMA address.
    pub nbma: Ipv4Addr,
    /// Its tunnel address.
    pub tunnel: Ipv4Addr,
    /// A spoke's NHS: tunnel and NBMA address.
    pub nhs: Option<(Ipv4Addr, Ipv4Addr)>,
    /// EIGRP autonomous system, if it ran EIGRP.
    pub eigrp_as: Option<u16>,
    /// Prefixes it advertised (its connected networks).
    pub networks: Vec<String>,
    /// The GRE key of its own packets (`tunnel key`), `None` without.
    pub gre_key: Option<u32>,
    /// Its first NHRP request ID: the machine starts its own numbering there, so that the
    /// captured replies match its requests.
    pub first_request_id: Option<u32>,
}

/// One line of the timeline.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Entry {
    /// Time since the capture's first frame.
    pub time: StdDuration,
    /// The frame fed, for what a frame caused; `None` for timers.
    pub frame: Option<u64>,
    /// What happened.
    pub kind: EntryKind,
}

/// What a timeline line says.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum EntryKind {
    /// A packet from the capture was fed to the machine.
    Received {
        /// The outer source.
        from: Ipv4Addr,
        /// What it was.
        what: String,
    },
    /// The machine would have sent this.
    Sent {
        /// The outer destination.
        to: Ipv4Addr,
        /// What it is.
        what: String,
    },
    /// A machine event (NHRP, EIGRP, routes, SAs).
    Event(String),
    /// The machine dropped what it was fed.
    Dropped(String),
}

/// A registration in the hub machine's cache at the end of the capture.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CacheEntry {
    /// Tunnel address.
    pub tunnel: Ipv4Addr,
    /// NBMA address (as seen: after NAT).
    pub nbma: Ipv4Addr,
    /// Seconds until it expires, from the end of the capture.
    pub expires_in: i64,
}

/// What the machine made of the capture.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// The router played.
    pub node: NodeSummary,
    /// The timeline, in time order.
    pub entries: Vec<Entry>,
    /// The hub's registration cache at the end.
    pub registrations: Vec<CacheEntry>,
    /// Whether the spoke was registered at the end.
    pub registered: Option<bool>,
    /// EIGRP neighbours up at the end.
    pub neighbors: Vec<Ipv4Addr>,
    /// Routes through the tunnel at the end, as text (`192.168.11.0/24 via 172.16.1.11 eigrp`).
    pub routes: Vec<String>,
    /// Packets the machine dropped, by reason.
    pub drops: Vec<(String, u64)>,
    /// Datagrams fed.
    pub fed: u64,
    /// The machine's IKE SAs at the end (`192.0.2.11 responder: TripleDes Md5 group 2`).
    pub ike_sas: Vec<String>,
    /// The machine's IPsec SA pairs at the end (peer and SPIs).
    pub ipsec_sas: Vec<String>,
    /// ISAKMP messages the machine's IKE refused.
    pub ike_refused: u64,
    /// The IKE SAs of the router as the capture shows them (`phase 1 192.0.2.11 > 192.0.2.1
    /// 3des md5 group 2 pre-share: established`).
    pub capture_ike: Vec<String>,
}

/// Why [`run`] could not play the capture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntoError {
    /// The capture could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The router to play was not found in the capture.
    #[error("{0}")]
    NotFound(String),
}

/// Plays the capture at `path` into a machine standing in for one of its routers (see the module
/// documentation). `keys` gives the ESP and IKE keys; it is called twice, for the first pass's
/// decoder and for the ESP decryption of the second (key sets are not `Clone`, to keep secrets
/// in one place each).
///
/// # Errors
///
/// An unreadable capture (also one cut short), or no router of the role (or with the NBMA
/// address) asked for.
pub fn run(
    path: impl AsRef<Path>,
    keys: &mut dyn FnMut() -> (EspKeys, IkeKeys),
    options: &IntoOptions,
) -> Result<Timeline, IntoError> {
    let path = path.as_ref();
    let (timeline, error) = play(&mut || CaptureReader::open(path), keys, options)?;
    match error {
        Some(error) => Err(error.into()),
        None => Ok(timeline),
    }
}

/// [`run`] over the capture `open` opens, from its start, for each pass (a file, or a copy of a
/// stream). A capture that ends in a read error (cut short in the middle of a packet, damaged) is
/// played up to it: the timeline of every whole frame comes back with the error.
///
/// # Errors
///
/// A capture whose header cannot be read, or no router of the role (or with the NBMA address)
/// asked for.
pub fn play<R: Read>(
    open: &mut dyn FnMut() -> Result<CaptureReader<R>, CaptureError>,
    keys: &mut dyn FnMut() -> (EspKeys, IkeKeys),
    options: &IntoOptions,
) -> Result<(Timeline, Option<CaptureError>), IntoError> {
    let mut reader = open()?;
    reader.end_at_errors();
    let (esp, ike) = keys();
    let report = SessionBuilder::run(&mut reader, &mut Decoder::with_ike_keys(esp, ike))?;
    drop(reader);
    let (config, summary) = configure(&report, options)?;
    let (mut esp, _) = keys();
    // The tunnel key: the one the router's own GRE packets carry most often.
    let mut keys_seen: Vec<(Option<u32>, u64)> = Vec::new();
    walk(open()?, &mut esp, |visit| {
        if let Visit::Gre { src, bytes, .. } = visit
            && src == summary.nbma
            && let Ok(packet) = gre::Packet::new_checked(bytes)
            && let Ok(header) = gre::Repr::parse(&packet)
        {
            match keys_seen.iter_mut().find(|(key, _)| *key == header.key) {
                Some((_, count)) => *count += 1,
                None => keys_seen.push((header.key, 1)),
            }
        }
    });
    let mut config = config;
    let mut summary = summary;
    if let Some((key, _)) = keys_seen.iter().max_by_key(|(_, count)| *count) {
        config.tunnel.key = *key;
        summary.gre_key = *key;
    }
    let node = Node::new(
        config,
        Instant::ZERO,
        Box::new(Script {
            first: summary.first_request_id.map(u32::to_be_bytes),
            rest: Xorshift(0x5eed),
        }),
    );
    let nhs = summary.nhs.map(|(_, nbma)| nbma);
    let (endpoint, capture_ike) = ike_of(&report, summary.nbma, nhs);
    let mut player = Player {
        node: Router::new(node, endpoint, Instant::ZERO),
        capture_ike,
        nbma: summary.nbma,
        entries: Vec::new(),
        start: None,
        now: Instant::ZERO,
        fed: 0,
    };
    player.drain(None);
    let (mut esp, _) = keys();
    let error = walk(open()?, &mut esp, |visit| match visit {
        Visit::Frame { time } => {
            let start = *player.start.get_or_insert(time);
            player.advance(instant(time, start));
        }
        Visit::Gre {
            frame,
            src,
            dst,
            bytes,
        } if dst == player.nbma && src != player.nbma => player.feed(frame, src, 47, bytes),
        Visit::Ike {
            frame,
            src,
            dst,
            bytes,
        } if dst == player.nbma && src != player.nbma => player.feed_ike(frame, src, bytes),
        Visit::EspError {
            frame,
            src,
            dst,
            error,
        } if dst == player.nbma && src != player.nbma => {
            player.record(frame, EntryKind::Dropped(error));
        }
        _ => {}
    });
    Ok((player.finish(summary), error))
}

/// What [`walk`] found in the capture.
enum Visit<'a> {
    /// A frame begins (every frame, for the clock).
    Frame { time: Timestamp },
    /// A GRE packet: in the clear, or decrypted from ESP (transport mode).
    Gre {
        frame: u64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        bytes: &'a [u8],
    },
    /// An ISAKMP message (UDP 500, or 4500 after the non-ESP marker).
    Ike {
        frame: u64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        bytes: &'a [u8],
    },
    /// An ESP packet that could not be opened.
    EspError {
        frame: u64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        error: String,
    },
}

/// Walks the capture's IPv4 datagrams (reassembled), opening ESP with `esp` (the machine is
/// configured without IPsec, since the capture does not show the IKE configuration; what the
/// ESP carries is fed as GRE in the clear). Returns the read error that ended the capture early.
fn walk<R: Read>(
    mut reader: CaptureReader<R>,
    esp: &mut EspKeys,
    mut visit: impl FnMut(Visit<'_>),
) -> Option<CaptureError> {
    let mut reassembler = Reassembler::new(ReassemblerConfig::default());
    let mut scratch = Vec::new();
    reader.end_at_errors();
    while let Ok(Some(frame)) = reader.next_frame() {
        visit(Visit::Frame {
            time: frame.timestamp,
        });
        let Ok(decoded) = link::decode(frame.link_type, frame.data) else {
            continue;
        };
        if decoded.ethertype != EtherType::IPV4 {
            continue;
        }
        let Ok(packet) = ipv4::Packet::new_checked(decoded.payload) else {
            continue;
        };
        let Ok(header) = ipv4::Repr::parse(&packet, ChecksumMode::Ignore) else {
            continue;
        };
        let (src, dst) = (header.src, header.dst);
        let (Reassembly::Unfragmented(payload) | Reassembly::Complete { payload, .. }) =
            reassembler.push(frame.timestamp, frame.number, &header, packet.payload())
        else {
            continue;
        };
        // ESP in UDP (RFC 3948): port 4500, not the non-ESP marker of IKE.
        let (protocol, payload) = match (header.protocol.0, payload.get(..8)) {
            (17, Some(udp))
                if udp[2..4] == [0x11, 0x94] && payload.get(8..12).is_some_and(|m| m != [0; 4]) =>
            {
                (node::PROTOCOL_ESP, payload.get(8..).unwrap_or_default())
            }
            (protocol, _) => (protocol, payload),
        };
        let ike = match (protocol, payload.get(..8)) {
            (17, Some(udp)) if udp[2..4] == [0x01, 0xf4] => payload.get(8..),
            (17, Some(udp)) if udp[2..4] == [0x11, 0x94] => payload.get(12..),
            _ => None,
        };
        if let Some(bytes) = ike {
            visit(Visit::Ike {
                frame: frame.number,
                src,
                dst,
                bytes,
            });
            continue;
        }
        match protocol {
            47 => visit(Visit::Gre {
                frame: frame.number,
                src,
                dst,
                bytes: payload,
            }),
            node::PROTOCOL_ESP => {
                let Some(spi) = payload
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                else {
                    continue;
                };
                let error = |text: String| Visit::EspError {
                    frame: frame.number,
                    src,
                    dst,
                    error: format!("ESP SPI {spi:#010x} from {src}: {text}"),
                };
                let Some(sa) = esp.sa(IpAddr::V4(src), IpAddr::V4(dst), spi) else {
                    visit(error("no key".to_owned()));
                    continue;
                };
                match sa.decrypt(payload, &mut scratch) {
                    Ok(plain) if plain.next_header.0 == 47 => visit(Visit::Gre {
                        frame: frame.number,
                        src,
                        dst,
                        bytes: plain.payload,
                    }),
                    Ok(_) => {}
                    Err(e) => visit(error(e.to_string())),
                }
            }
            _ => {}
        }
    }
    reader.take_error()
}

/// The fixed byte sequence the scripts fall back to: xorshift (13, 7, 17), one byte a step.
struct Xorshift(u64);

impl Xorshift {
    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *byte = self.0 as u8;
        }
    }
}

/// Random bytes for the machine: first the captured router's first NHRP request ID (the node
/// seeds its request numbering with its first four bytes), then a fixed xorshift sequence, so
/// the timeline is the same on every run.
struct Script {
    first: Option<[u8; 4]>,
    rest: Xorshift,
}

impl node::Entropy for Script {
    fn fill(&mut self, dest: &mut [u8]) {
        if dest.len() == 4
            && let Some(first) = self.first.take()
        {
            dest.copy_from_slice(&first);
            return;
        }
        self.rest.fill(dest);
    }
}

fn instant(time: Timestamp, start: Timestamp) -> Instant {
    let micros = time.saturating_duration_since(start).as_micros();
    Instant::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
}

fn v4(addr: IpAddr) -> Option<Ipv4Addr> {
    match addr {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

/// The machine's configuration from the first pass.
fn configure(
    report: &Report,
    options: &IntoOptions,
) -> Result<(NodeConfig, NodeSummary), IntoError> {
    let hub_pairs = || report.peers.iter().filter(|p| p.a_is_hub);
    let hub = hub_pairs().find_map(|p| v4(p.a));
    let nbma = match (options.role, options.nbma) {
        (_, Some(nbma)) => nbma,
        (Role::Hub, None) => hub.ok_or_else(|| {
            IntoError::NotFound(
                "no hub in the capture (no NHRP registration answered): give --nbma".to_owned(),
            )
        })?,
        (Role::Spoke, None) => hub_pairs()
            .filter(|p| p.nhrp.requests > 0)
            .find_map(|p| v4(p.b))
            .ok_or_else(|| {
                IntoError::NotFound(
                    "no spoke registering with a hub in the capture: give --nbma".to_owned(),
                )
            })?,
    };
    let mine: Vec<(&PeerPair, usize)> = report
        .peers
        .iter()
        .filter_map(|p| {
            if p.a == IpAddr::V4(nbma) {
                Some((p, 0))
            } else if p.b == IpAddr::V4(nbma) {
                Some((p, 1))
            } else {
                None
            }
        })
        .collect();
    if mine.is_empty() {
        return Err(IntoError::NotFound(format!(
            "{nbma} does not appear in the capture"
        )));
    }
    let tunnel = mine
        .iter()
        .find_map(|(p, side)| p.eigrp[*side].router.and_then(v4))
        .or_else(|| {
            mine.iter().find_map(|(p, _)| {
                p.tunnel
                    .iter()
                    .find(|(_, n)| **n == IpAddr::V4(nbma))
                    .and_then(|(t, _)| v4(*t))
            })
        })
        .ok_or_else(|| {
            IntoError::NotFound(format!(
                "no tunnel address of {nbma} in the capture (no NHRP binding or EIGRP hello)"
            ))
        })?;
    let mut nhs = None;
    let mut config = match options.role {
        Role::Hub => NodeConfig::hub(tunnel, options.prefix_len, nbma),
        Role::Spoke => {
            let hub_pair = mine
                .iter()
                .find(|(p, side)| p.a_is_hub && *side == 1)
                .map(|(p, _)| *p);
            let hub_pair = hub_pair
                .ok_or_else(|| IntoError::NotFound(format!("{nbma} does not talk to a hub")))?;
            let hub_nbma = v4(hub_pair.a).unwrap_or(Ipv4Addr::UNSPECIFIED);
            let hub_tunnel = hub_pair.eigrp[0]
                .router
                .and_then(v4)
                .or_else(|| {
                    hub_pair
                        .tunnel
                        .iter()
                        .find(|(_, n)| **n == hub_pair.a)
                        .and_then(|(t, _)| v4(*t))
                })
                .or_else(|| {
                    // The registration's destination protocol address is the NHS.
                    hub_pair.nhrp.registrations().next().map(|_| {
                        let o = tunnel.octets();
                        Ipv4Addr::new(o[0], o[1], o[2], 1)
                    })
                })
                .ok_or_else(|| {
                    IntoError::NotFound(format!("no tunnel address for the hub {hub_nbma}"))
                })?;
            nhs = Some((hub_tunnel, hub_nbma));
            let mut config = NodeConfig::spoke(
                tunnel,
                options.prefix_len,
                nbma,
                dmvpn_proto::nhrp::Nhs {
                    tunnel: hub_tunnel,
                    nbma: hub_nbma,
                },
            );
            if let Some(hold) = hub_pair.nhrp.events.iter().find_map(|e| match e.kind {
                crate::session::NhrpKind::RegistrationRequest { hold_time, .. }
                    if e.from == IpAddr::V4(nbma) =>
                {
                    Some(hold_time)
                }
                _ => None,
            }) {
                config.nhrp.holding_time = hold;
            }
            config
        }
    };
    // EIGRP, from the router's own hellos.
    let side = mine
        .iter()
        .map(|(p, side)| &p.eigrp[*side])
        .find(|s| s.hellos > 0);
    let mut networks = Vec::new();
    let mut eigrp_as = None;
    if let Some(side) = side {
        let asn = side.autonomous_system.unwrap_or(1);
        eigrp_as = Some(asn);
        let mut eigrp = node::EigrpConfig::new(asn);
        if let Some(k) = side.k {
            eigrp.k = k;
        }
        if let Some(hold) = side.hold_time {
            eigrp.hold_time = hold;
        }
        if let (Some(first), Some(last)) = (side.first_hello, side.last_hello)
            && side.hellos > 1
        {
            let interval =
                last.time.saturating_duration_since(first.time) / (side.hellos - 1) as u32;
            let secs = interval.as_secs_f64().round().clamp(1.0, 60.0) as i64;
            eigrp.hello_interval = Duration::from_secs(secs);
        }
        let subnet = Prefix::new(tunnel, options.prefix_len);
        eigrp.networks.push(subnet);
        for (pair, s) in &mine {
            for (prefix, len) in &pair.eigrp[*s].routes {
                if let Some(prefix) = v4(*prefix) {
                    let p = Prefix::new(prefix, *len);
                    if p != subnet && !eigrp.connected.contains(&p) {
                        eigrp.connected.push(p);
                        eigrp.networks.push(p);
                        networks.push(p.to_string());
                    }
                }
            }
        }
        config.eigrp = Some(eigrp);
    }
    Ok((
        config,
        NodeSummary {
            role: options.role,
            nbma,
            tunnel,
            nhs,
            eigrp_as,
            networks,
            gre_key: None,
            first_request_id: mine.iter().find_map(|(p, _)| {
                p.nhrp.events.iter().find_map(|e| match e.kind {
                    crate::session::NhrpKind::RegistrationRequest { request_id, .. }
                    | crate::session::NhrpKind::ResolutionRequest { request_id }
                    | crate::session::NhrpKind::PurgeRequest { request_id }
                        if e.from == IpAddr::V4(nbma) =>
                    {
                        Some(request_id)
                    }
                    _ => None,
                })
            }),
        },
    ))
}

struct Player {
    node: Router<IkeScript>,
    capture_ike: Vec<String>,
    nbma: Ipv4Addr,
    entries: Vec<Entry>,
    start: Option<Timestamp>,
    now: Instant,
    fed: u64,
}

impl Player {
    fn time(&self) -> StdDuration {
        StdDuration::from_micros(u64::try_from(self.now.total_micros()).unwrap_or(0))
    }

    fn record(&mut self, frame: u64, kind: EntryKind) {
        self.entries.push(Entry {
            time: self.time(),
            frame: Some(frame),
            kind,
        });
    }

    /// Runs the timers due up to `now`.
    fn advance(&mut self, now: Instant) {
        for _ in 0..1_000_000 {
            match self.node.poll_timeout() {
                Some(due) if due <= now => {
                    self.now = due.max(self.now);
                    self.node.handle_timeout(self.now);
                    self.drain(None);
                }
                _ => break,
            }
        }
        self.now = now.max(self.now);
    }

    fn feed(&mut self, frame: u64, from: Ipv4Addr, protocol: u8, payload: &[u8]) {
        self.fed += 1;
        self.record(
            frame,
            EntryKind::Received {
                from,
                what: describe(protocol, payload),
            },
        );
        let before = self.node.node().counters().total_drops();
        self.node.handle_nbma(self.now, from, protocol, payload);
        if self.node.node().counters().total_drops() > before {
            let reasons: Vec<String> = self
                .node
                .node()
                .counters()
                .nonzero_drops()
                .map(|(reason, _)| format!("{reason:?}"))
                .collect();
            self.record(
                frame,
                EntryKind::Dropped(format!("dropped by the machine ({})", reasons.join(", "))),
            );
        }
        self.drain(Some(frame));
    }

    /// An ISAKMP message to the router: to the machine's IKE.
    fn feed_ike(&mut self, frame: u64, from: Ipv4Addr, message: &[u8]) {
        self.fed += 1;
        self.record(
            frame,
            EntryKind::Received {
                from,
                what: describe_isakmp(message),
            },
        );
        if self.node.ike().is_none() {
            self.record(
                frame,
                EntryKind::Dropped("ISAKMP without IKE in the machine".to_owned()),
            );
        }
        // The machine's answer takes the cookie the real router gave this peer.
        let home = self
            .node
            .ike_entropy_mut()
            .and_then(|s| s.peer.replace(from));
        self.node.handle_ike(self.now, from, message);
        if let Some(script) = self.node.ike_entropy_mut() {
            script.peer = home;
        }
        self.drain(Some(frame));
    }

    fn drain(&mut self, frame: Option<u64>) {
        let time = self.time();
        while let Some(event) = self.node.poll_event() {
            let kind = match event {
                machine::Event::IkeRefused { peer, error } => {
                    EntryKind::Dropped(format!("ISAKMP from {peer} refused: {error}"))
                }
                // (the Main Mode 1 it sends says so)
                machine::Event::IkeStarted { .. } => continue,
                other => EntryKind::Event(router_event_text(&other)),
            };
            self.entries.push(Entry { time, frame, kind });
        }
        while let Some(Transmit {
            to,
            protocol,
            bytes,
        }) = self.node.poll_transmit()
        {
            self.entries.push(Entry {
                time,
                frame,
                kind: EntryKind::Sent {
                    to,
                    what: describe(protocol, &bytes),
                },
            });
        }
        while self.node.poll_deliver().is_some() {}
    }

    fn finish(mut self, summary: NodeSummary) -> Timeline {
        let now = self.now;
        let node = self.node.node();
        let registrations = node
            .nhrp_server()
            .map(|server| {
                server
                    .registrations()
                    .map(|r| CacheEntry {
                        tunnel: r.tunnel,
                        nbma: r.nbma,
                        expires_in: r.expires_at.duration_since(now).total_micros() / 1_000_000,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let registered = node
            .nhrp_client()
            .map(dmvpn_proto::nhrp::Client::is_registered);
        let neighbors = node
            .eigrp()
            .map(|e| e.hello().iter().map(|n| n.address).collect())
            .unwrap_or_default();
        let routes = node
            .routes()
            .map(|r| {
                let via = r
                    .next_hop
                    .map_or_else(|| "connected".to_owned(), |h| format!("via {h}"));
                format!("{} {via} {:?}", r.prefix, r.source)
            })
            .collect();
        let drops = node
            .counters()
            .nonzero_drops()
            .map(|(reason, n)| (format!("{reason:?}"), n))
            .collect();
        let ike_sas = (self.node.ike_sas().iter())
            .map(|(peer, sa)| {
                let role = match sa.role {
                    ike::Role::Initiator => "initiator",
                    ike::Role::Responder => "responder",
                };
                let suite = &sa.suite;
                format!(
                    "{peer} {role}: {:?} {:?} group {}",
                    suite.encryption, suite.hash, suite.group.0
                )
            })
            .collect();
        let ipsec_sas = (self.node.pairs().iter())
            .map(|(peer, pair)| {
                format!(
                    "{peer}: inbound spi {:#010x}, outbound spi {:#010x}, {}",
                    pair.child.inbound.spi, pair.child.outbound.spi, pair.child.transform_set
                )
            })
            .collect();
        let ike_refused = self.node.ike_counters().refused;
        self.drain(None);
        Timeline {
            node: summary,
            entries: self.entries,
            registrations,
            registered,
            neighbors,
            routes,
            drops,
            fed: self.fed,
            ike_sas,
            ipsec_sas,
            ike_refused,
            capture_ike: self.capture_ike,
        }
    }
}

/// The machine's IKE, if the capture has IKE with the router at `nbma` (a spoke's NHS at
/// `nhs`, which it keys by itself), and the router's IKE SAs as the capture shows them.
fn ike_of(
    report: &Report,
    nbma: Ipv4Addr,
    nhs: Option<Ipv4Addr>,
) -> (Option<ike::Endpoint<IkeScript>>, Vec<String>) {
    let me = IpAddr::V4(nbma);
    let hex = |c: [u8; 8]| c.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut cookies: BTreeMap<Ipv4Addr, VecDeque<[u8; 8]>> = BTreeMap::new();
    let mut described = Vec::new();
    for pair in report.peers.iter().filter(|p| p.a == me || p.b == me) {
        let Some(peer) = v4(if pair.a == me { pair.b } else { pair.a }) else {
            continue;
        };
        let mut sas: Vec<&crate::session::IkeSa> = pair.ike.iter().collect();
        sas.sort_by_key(|sa| sa.first.frame);
        for sa in sas {
            // The router's own cookie of each exchange with the peer, in the order they began.
            let own = match sa.initiator {
                Some(initiator) if initiator == me => sa.icookie,
                _ => sa.rcookie,
            };
            if own != [0; 8] {
                cookies.entry(peer).or_default().push_back(own);
            }
            let who = sa
                .initiator
                .map_or_else(|| "(first message not seen)".to_owned(), |i| i.to_string());
            let proposal = sa.proposal.as_deref().unwrap_or("no proposal seen");
            let state = if sa.established.is_some() {
                "established"
            } else {
                "not established"
            };
            described.push(format!(
                "phase 1 with {peer} initiated by {who}, cookies {}/{}: {proposal}: {state}, {} quick mode(s), {} message(s)",
                hex(sa.icookie),
                hex(sa.rcookie),
                sa.phase2.len(),
                sa.messages
            ));
        }
    }
    if described.is_empty() {
        return (None, Vec::new());
    }
    let script = IkeScript {
        cookies,
        peer: nhs,
        rest: Xorshift(0x1ce_5eed),
    };
    (
        Some(ike::Endpoint::new(any_ios_policy(nbma), script)),
        described,
    )
}

/// An IKE configuration that accepts every policy and transform set IOS configures with
/// pre-shared keys: the capture does not show the router's own. The key is a placeholder (the
/// machine's Diffie-Hellman value is its own, so no captured encrypted message opens anyway).
fn any_ios_policy(nbma: Ipv4Addr) -> ike::Config {
    let mut config = ike::Config::new(nbma);
    let ciphers = [
        Cipher::Aes256,
        Cipher::Aes192,
        Cipher::Aes128,
        Cipher::TripleDes,
        Cipher::Des,
    ];
    let groups = [
        Group::MODP_2048,
        Group::MODP_1536,
        Group::MODP_1024,
        Group::MODP_768,
    ];
    for cipher in ciphers {
        for hash in [Hash::Sha256, Hash::Sha1, Hash::Md5] {
            for group in groups {
                let mut policy = Policy::new(cipher, hash, group);
                policy.lifetime = Duration::from_secs(86_400);
                config.policies.push(policy);
            }
        }
    }
    config.keys = vec![ike::PresharedKey::wildcard(b"dmvpn-replay")];
    for encryption in [
        EspCipher::Aes256,
        EspCipher::Aes192,
        EspCipher::Aes128,
        EspCipher::TripleDes,
    ] {
        for integrity in [EspAuth::Sha256, EspAuth::Sha1, EspAuth::Md5] {
            config.transform_sets.push(TransformSet {
                encryption,
                integrity,
            });
        }
    }
    config
}

/// The machine IKE's randomness: the cookies the captured router gave the peer the machine is
/// answering (`peer`; a spoke's NHS between messages), in order, so that the peer's messages
/// belong to the machine's exchanges; then a fixed xorshift sequence, so the timeline is the
/// same on every run.
struct IkeScript {
    cookies: BTreeMap<Ipv4Addr, VecDeque<[u8; 8]>>,
    peer: Option<Ipv4Addr>,
    rest: Xorshift,
}

impl ike::Entropy for IkeScript {
    fn fill(&mut self, purpose: ike::Purpose, buf: &mut [u8]) {
        if purpose == ike::Purpose::Cookie
            && buf.len() == 8
            && let Some(cookie) = (self.peer)
                .and_then(|peer| self.cookies.get_mut(&peer))
                .and_then(VecDeque::pop_front)
        {
            buf.copy_from_slice(&cookie);
            return;
        }
        self.rest.fill(buf);
    }
}
