//! The data plane shell around [`dmvpn_proto::node::Node`] (and the IKEv1 [`Endpoint`]): raw
//! sockets for GRE (47) and ESP (50) and a UDP socket for IKE (500) on the NBMA address, a TUN
//! device for the tunnel interface, the host's routes, a control socket, and the key log.
//!
//! One thread reads each device and sends what it reads into one channel; the event loop owns
//! the machines, takes one input at a time (or a timeout at the machines' next deadline), and
//! writes what they produce: NBMA packets to the sockets, inner packets to the TUN device, route
//! changes to the host (`ip route`), SAs from IKE into the node. The node already enforces
//! `ip mtu` (drops what is longer) and clamps the MSS of TCP SYNs to `ip tcp adjust-mss`.
//!
//! A spoke brings up IKE with each NHS at start, and again whenever it has no SAs with it (no
//! Quick Mode finished within [`RECONNECT`], a pair that ran out or was deleted) or its EIGRP
//! neighbour there is lost while the NHS has sealed nothing to it lately: a hub that restarted
//! has forgotten every SA, and says nothing about it. Pairs are rekeyed at 90 % of their
//! seconds (IKE) or kilobytes (the SAD's soft limit).

mod control;
mod host;
mod keylog;
pub mod map;
mod net;
mod show;

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use dmvpn_proto::ike::{self, Endpoint};
use dmvpn_proto::ipsec::{SaEvent, SaId};
use dmvpn_proto::node::{self, Event, Node, NodeConfig};
use dmvpn_proto::{Duration, Instant};
use socket2::Socket;

pub use control::{query, socket_path};

use crate::config::Config;
use net::{BufferedRandom, OsRandom};
use show::{ChildSa, IkeCounters, IkeSa};

/// How long a spoke waits for IKE to key a peer before it starts over.
pub const RECONNECT: Duration = Duration::from_secs(15);
/// How recent ESP from an NHS whose EIGRP neighbour was lost must be to show the NHS alive
/// and keyed (see [`Router::still_sealing`]). The hold time (15 s) runs from the last Hello
/// heard, at most a Hello interval (5 s) before a dead hub's last packet: so at expiry a dead
/// hub has been silent for more than 10 s, and anything heard within 5 s is a live one.
const STILL_SEALING: Duration = Duration::from_secs(5);
/// The longest the loop sleeps, so that a stop signal is seen.
const TICK: Duration = Duration::from_millis(250);

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Bind the NBMA sockets to this interface (`SO_BINDTODEVICE`) besides the address.
    pub nbma_iface: Option<String>,
    /// Write Wireshark's `esp_sa` and `ikev1_decryption_table` here.
    pub key_log: Option<PathBuf>,
    /// Where the control socket goes (`<run_dir>/<name>.sock`).
    pub run_dir: PathBuf,
    /// Log every event (NHRP, EIGRP, IKE) to stderr, not only the state changes.
    pub verbose: bool,
    /// `--map IOS=LINUX`: the configuration's interfaces onto the host's devices (see [`map`]).
    pub maps: Vec<map::InterfaceMap>,
}

/// Why the router could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration cannot run on the node.
    #[error(transparent)]
    Config(#[from] crate::node::NodeError),
    /// An interface map (`--map`) does not fit the configuration or the host.
    #[error("{0}")]
    Map(String),
    /// A device or socket failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// One input to the event loop's channel. Packets do not come this way: each reader thread
/// runs them through the router itself (see [`Shared`]).
pub(crate) enum Input {
    /// A control command and where its answer goes.
    Control {
        command: String,
        reply: Sender<String>,
    },
    /// A packet brought a machine's deadline closer than the loop's wake-up: recompute it.
    Wake,
    /// A reader thread stopped.
    Failed(String),
}

/// What the loop and the reader threads share: the router behind one lock, and the loop's
/// channel.
///
/// Measured (tools/router_perf.sh): handing every packet from its reader thread to the loop
/// through the channel cost a wake-up and a context switch per packet, about a fifth of each
/// router's CPU. Each reader now takes the lock and runs its packet through the machines and out
/// of the other device itself; the loop keeps timers when no packet comes, control commands
/// and errors. One lock keeps the machines' inputs in one order, as the channel did.
pub(crate) struct Shared {
    router: Mutex<Router>,
    tx: Sender<Input>,
}

impl Shared {
    fn lock(&self) -> Result<MutexGuard<'_, Router>, RunError> {
        self.router.lock().map_err(|_| RunError::Io {
            what: "router state".to_owned(),
            source: io::Error::other("a reader thread panicked"),
        })
    }
}

/// What the machines produced for the sockets and the TUN device, gathered under the lock and
/// written after it.
///
/// Measured (tools/router_perf.sh): writing into the TUN device runs the host's whole receive
/// path (its TCP and the ACK it sends back into the tunnel) in the writer; under the lock, the
/// TUN reader with that ACK slept on the lock, a context switch per ACK.
#[derive(Default)]
struct Outbox {
    transmits: Vec<node::Transmit>,
    delivers: Vec<Vec<u8>>,
    /// The delivers behind room for the TUN device's virtio-net header, kept for reuse.
    tun_buffers: Vec<Vec<u8>>,
    /// Coalesces consecutive TCP segments of a flow into one write (receive offload).
    gro: tun_rs::GROTable,
}

/// The devices packets go out of, shared so that they are written without the lock.
struct Devices {
    gre: Socket,
    esp: Socket,
    tun: Arc<tun_rs::SyncDevice>,
    verbose: bool,
}

impl Devices {
    /// Writes and empties `outbox`.
    fn send(&self, outbox: &mut Outbox) {
        for transmit in outbox.transmits.drain(..) {
            let socket = match transmit.protocol {
                net::GRE => &self.gre,
                node::PROTOCOL_ESP => &self.esp,
                _ => continue, // the node's own IKE path is unused: IKE runs here
            };
            if let Err(e) = net::send_raw(socket, transmit.to, &transmit.bytes)
                && self.verbose
            {
                log(&format!("%DMVPN-4-SEND: to {}: {e}", transmit.to));
            }
        }
        if outbox.delivers.is_empty() {
            return;
        }
        let count = outbox.delivers.len();
        if outbox.tun_buffers.len() < count {
            outbox.tun_buffers.resize_with(count, Vec::new);
        }
        for (packet, buffer) in outbox.delivers.drain(..).zip(&mut outbox.tun_buffers) {
            buffer.clear();
            buffer.resize(tun_rs::VIRTIO_NET_HDR_LEN, 0);
            buffer.extend_from_slice(&packet);
        }
        let buffers = &mut outbox.tun_buffers[..count];
        if let Err(e) = self
            .tun
            .send_multiple(&mut outbox.gro, buffers, tun_rs::VIRTIO_NET_HDR_LEN)
            && self.verbose
        {
            log(&format!("%DMVPN-4-SEND: tunnel device: {e}"));
        }
    }
}

/// A reader thread's way into the router.
struct Reader {
    shared: Arc<Shared>,
    devices: Arc<Devices>,
    outbox: Outbox,
}

impl Reader {
    fn new(shared: &Arc<Shared>, devices: &Arc<Devices>) -> Self {
        Self {
            shared: Arc::clone(shared),
            devices: Arc::clone(devices),
            outbox: Outbox::default(),
        }
    }
}

impl net::Sink for Reader {
    fn batch(&mut self, packets: &mut dyn Iterator<Item = net::Packet<'_>>) -> bool {
        {
            let Ok(mut router) = self.shared.router.lock() else {
                return false;
            };
            let now = router.clock.now();
            for packet in packets {
                router.packet(now, packet);
            }
            router.step(now);
            std::mem::swap(&mut router.outbox, &mut self.outbox);
            // The loop sleeps until its own idea of the next deadline: tell it when a packet
            // moved one closer (rare: a new retransmission or hold timer).
            if let Some(deadline) = router.deadline()
                && deadline < router.sleep_until
            {
                router.sleep_until = deadline;
                let _ = self.shared.tx.send(Input::Wake);
            }
        }
        self.devices.send(&mut self.outbox);
        true
    }

    fn failed(&self, what: String) {
        let _ = self.shared.tx.send(Input::Failed(what));
    }
}

/// The monotonic clock as the machines' [`Instant`].
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Instant {
        let micros = i64::try_from(self.0.elapsed().as_micros()).unwrap_or(i64::MAX);
        Instant::from_micros(micros)
    }
}

/// The whole router: machines, devices and bookkeeping for `show`.
struct Router {
    node: Node,
    ike: Option<Endpoint<OsRandom>>,
    devices: Arc<Devices>,
    /// What the machines produced for the devices since the last [`Devices::send`].
    outbox: Outbox,
    ike_socket: UdpSocket,
    device: String,
    interface: String,
    clock: Clock,
    started: Instant,
    key_log: Option<keylog::KeyLog>,
    verbose: bool,
    /// The NHSes' NBMA addresses a spoke keys itself with, and when it last tried.
    ike_targets: BTreeMap<Ipv4Addr, Option<Instant>>,
    ike_sas: BTreeMap<Ipv4Addr, IkeSa>,
    children: BTreeMap<Ipv4Addr, ChildSa>,
    ike_counters: IkeCounters,
    /// For each NHS: the bytes its current inbound SA had decrypted at the last look, and when
    /// that count last grew (see [`Router::still_sealing`]).
    heard: BTreeMap<Ipv4Addr, (u64, Instant)>,
    /// The keys of every installed SA pair, to install them again into a rebuilt node.
    child_keys: BTreeMap<Ipv4Addr, ike::ChildSa>,
    /// When the loop wakes up next by itself (see [`Reader`]).
    sleep_until: Instant,
    /// NHSes lost (their EIGRP neighbour or DPD died): when IKE keys one again, the spoke starts
    /// over with it (see [`Router::restart_node`]).
    lost: Vec<Ipv4Addr>,
    node_config: NodeConfig,
    next_conn_id: u32,
}

/// Runs the router until SIGINT or SIGTERM (EIGRP says goodbye, IKE deletes its SAs).
///
/// # Errors
///
/// When the configuration cannot run ([`RunError::Config`]) or a device cannot be opened or
/// fails ([`RunError::Io`]).
pub fn run(config: &Config, options: &RunOptions) -> Result<(), RunError> {
    let (mapped, actions) = map::apply(config, &options.maps).map_err(RunError::Map)?;
    for action in &actions {
        log(&format!("%DMVPN-5-MAP: {action}"));
    }
    let config = &mapped;
    let node_config = crate::node::node_config(config)?;
    let ike_config = crate::node::ike_config(config)?;
    let interface = config
        .tunnel_interface()
        .map_or_else(|| "Tunnel0".to_owned(), |i| i.name.clone());
    let device = map::device(&options.maps, &interface)
        .map_or_else(|| interface.to_ascii_lowercase(), str::to_owned);
    let name = config.hostname.clone().unwrap_or_else(|| device.clone());
    let nbma = node_config.tunnel.nbma;
    let iface = options
        .nbma_iface
        .as_deref()
        .or_else(|| map::nbma_device(config, &options.maps));

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(io_error("signal handler"))?;
    }
    let (tx, rx) = mpsc::channel();
    let gre = net::raw_socket(net::GRE, nbma, iface)
        .map_err(io_error(format!("raw GRE socket on {nbma}")))?;
    let esp = net::raw_socket(net::ESP, nbma, iface)
        .map_err(io_error(format!("raw ESP socket on {nbma}")))?;
    let ike_socket = net::ike_socket(nbma, iface).map_err(io_error(format!("UDP {nbma}:500")))?;
    let tunnel = &node_config.tunnel;
    let ip_mtu = tunnel.ip_mtu;
    let tun = net::tun(&device, tunnel.address, tunnel.prefix_len, tunnel.ip_mtu)
        .map_err(io_error(format!("TUN device {device}")))?;
    let tun = Arc::new(tun);
    let readers = (
        gre.try_clone().map_err(io_error("socket clone"))?,
        esp.try_clone().map_err(io_error("socket clone"))?,
        ike_socket.try_clone().map_err(io_error("socket clone"))?,
    );
    let devices = Arc::new(Devices {
        gre,
        esp,
        tun: Arc::clone(&tun),
        verbose: options.verbose,
    });
    let control = socket_path(&options.run_dir, &name);
    control::serve(&control, tx.clone())
        .map_err(io_error(format!("control socket {}", control.display())))?;
    let key_log = match &options.key_log {
        Some(dir) => Some(
            keylog::KeyLog::open(dir).map_err(io_error(format!("key log {}", dir.display())))?,
        ),
        None => None,
    };

    let clock = Clock(std::time::Instant::now());
    let now = clock.now();
    let entropy = BufferedRandom::new().map_err(io_error("/dev/urandom"))?;
    let ike_targets = match &ike_config {
        Some(_) => node_config
            .nhrp
            .nhs
            .iter()
            .map(|n| (n.nbma, None))
            .collect(),
        None => BTreeMap::new(),
    };
    let ike = match ike_config {
        Some(c) => Some(Endpoint::new(
            c,
            OsRandom::new().map_err(io_error("/dev/urandom"))?,
        )),
        None => None,
    };
    log(&format!(
        "%DMVPN-5-START: {name}: {} on {device} {}/{} (nbma {nbma}), control {}",
        role(&node_config),
        tunnel.address,
        tunnel.prefix_len,
        control.display()
    ));
    let mut router = Router {
        node: Node::new(node_config.clone(), now, Box::new(entropy)),
        node_config,
        child_keys: BTreeMap::new(),
        lost: Vec::new(),
        ike,
        devices: Arc::clone(&devices),
        outbox: Outbox::default(),
        ike_socket,
        device,
        interface,
        clock,
        started: now,
        sleep_until: now,
        key_log,
        verbose: options.verbose,
        ike_targets,
        ike_sas: BTreeMap::new(),
        children: BTreeMap::new(),
        ike_counters: IkeCounters::default(),
        heard: BTreeMap::new(),
        next_conn_id: 1001,
    };
    router.flush(now);
    devices.send(&mut router.outbox);
    let shared = Arc::new(Shared {
        router: Mutex::new(router),
        tx,
    });
    let reader = || Reader::new(&shared, &devices);
    let (gre, esp, ike_socket) = readers;
    net::spawn_raw_reader(gre, net::GRE, reader()).map_err(io_error("reader thread"))?;
    net::spawn_raw_reader(esp, net::ESP, reader()).map_err(io_error("reader thread"))?;
    net::spawn_ike_reader(ike_socket, reader()).map_err(io_error("reader thread"))?;
    net::spawn_tun_reader(tun, ip_mtu, reader()).map_err(io_error("reader thread"))?;
    let result = run_loop(&shared, &rx, &stop);
    // (after a reader thread's panic the state may be half-updated: no goodbyes then)
    if let Ok(mut router) = shared.router.lock() {
        let now = router.clock.now();
        router.shutdown(now);
        devices.send(&mut router.outbox);
    }
    let _ = std::fs::remove_file(&control);
    result
}

/// The loop: timers when no packet comes, control commands, reader errors; until a stop
/// signal.
fn run_loop(
    shared: &Shared,
    rx: &mpsc::Receiver<Input>,
    stop: &AtomicBool,
) -> Result<(), RunError> {
    while !stop.load(Ordering::Relaxed) {
        let wait = {
            let mut router = shared.lock()?;
            let now = router.clock.now();
            router.listen(now);
            router.step(now);
            router.send_outbox();
            let wait = router.deadline().map_or(TICK, |d| {
                if d > now {
                    (d - now).min(TICK)
                } else {
                    Duration::ZERO
                }
            });
            router.sleep_until = now + wait;
            wait
        };
        let wait =
            std::time::Duration::from_micros(u64::try_from(wait.total_micros()).unwrap_or(0));
        match rx.recv_timeout(wait) {
            Ok(input) => {
                let mut router = shared.lock()?;
                let now = router.clock.now();
                router.input(now, input)?;
                // Take what else is waiting before running timers and flushing.
                for input in rx.try_iter().take(256) {
                    router.input(now, input)?;
                }
                router.send_outbox();
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(())
}

/// How long the EIGRP goodbye leads IKE's Deletes at shutdown (see [`Router::shutdown`]).
const GOODBYE_HEAD_START: std::time::Duration = std::time::Duration::from_millis(50);

fn role(config: &NodeConfig) -> &'static str {
    match config.role {
        node::Role::Hub => "hub",
        node::Role::Spoke => "spoke",
    }
}

/// Writes one log line to stderr with the time, like IOS's console log.
fn log(line: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() % 86_400;
    eprintln!(
        "{:02}:{:02}:{:02}.{:03} {line}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        now.subsec_millis()
    );
}

impl Router {
    /// The machines' next deadline.
    fn deadline(&self) -> Option<Instant> {
        [
            self.node.poll_timeout(),
            self.ike.as_ref().and_then(Endpoint::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// After some input (or none): the timers that are due, IKE for NHSes without SAs, and
    /// everything the machines produced.
    fn step(&mut self, now: Instant) {
        if self.node.poll_timeout().is_some_and(|t| t <= now) {
            self.node.handle_timeout(now);
        }
        if let Some(ike) = &mut self.ike
            && ike.poll_timeout().is_some_and(|t| t <= now)
        {
            ike.handle_timeout(now);
        }
        self.maintain(now);
        self.flush(now);
    }

    /// One packet from a device into the machines.
    fn packet(&mut self, now: Instant, packet: net::Packet<'_>) {
        match packet {
            net::Packet::Nbma {
                src,
                protocol,
                payload,
            } => {
                self.node.handle_nbma(now, src, protocol, payload);
                if let Some(ike) = &mut self.ike {
                    ike.traffic_received(now, src);
                }
            }
            net::Packet::Ike { src, payload } => {
                if let Some(ike) = &mut self.ike
                    && let Err(e) = ike.handle_message(now, src, payload)
                {
                    if self.verbose {
                        log(&format!("%CRYPTO-6-IKMP: {e}"));
                    }
                    self.ike_counters.refused += 1;
                    self.ike_counters.last_error = Some(format!("from {src}: {e}"));
                }
            }
            net::Packet::Tunnel(packet) => self.node.handle_tunnel_packet(now, packet),
        }
    }

    fn input(&mut self, now: Instant, input: Input) -> Result<(), RunError> {
        match input {
            Input::Control { command, reply } => {
                let view = show::View {
                    node: &self.node,
                    now,
                    started: self.started,
                    interface: &self.interface,
                    ike: &self.ike_sas,
                    children: &self.children,
                    ike_counters: &self.ike_counters,
                };
                let _ = reply.send(show::command(&view, &command));
            }
            Input::Wake => {}
            Input::Failed(what) => {
                return Err(RunError::Io {
                    what,
                    source: io::Error::other("reader stopped"),
                });
            }
        }
        Ok(())
    }

    /// A spoke (re)starts IKE with an NHS it has no SAs with.
    fn maintain(&mut self, now: Instant) {
        let Some(ike) = &mut self.ike else { return };
        for (peer, last) in &mut self.ike_targets {
            if self.children.contains_key(peer) {
                continue;
            }
            if last.is_some_and(|t| now - t < RECONNECT) {
                continue;
            }
            ike.delete_peer(now, *peer);
            match ike.connect(now, *peer) {
                Ok(()) => log(&format!(
                    "%CRYPTO-5-IKMP_CONNECT: initiating Main Mode with {peer}"
                )),
                Err(e) => log(&format!("%CRYPTO-4-IKMP_CONNECT: {peer}: {e}")),
            }
            *last = Some(now);
        }
    }

    /// Writes what the machines produced for the devices (the loop's paths: under the lock).
    fn send_outbox(&mut self) {
        let devices = Arc::clone(&self.devices);
        devices.send(&mut self.outbox);
    }

    /// Acts on everything the machines produced until they are quiet: IKE messages are sent,
    /// node packets for the devices go into the outbox (see [`Outbox`]).
    fn flush(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(transmit) = self.node.poll_transmit() {
                moved = true;
                if !matches!(transmit.protocol, net::GRE | node::PROTOCOL_ESP) {
                    continue; // the node's own IKE path is unused: IKE runs here
                }
                if let Some(ike) = &mut self.ike {
                    ike.traffic_sent(now, transmit.to);
                }
                self.outbox.transmits.push(transmit);
            }
            while let Some(packet) = self.node.poll_deliver() {
                moved = true;
                self.outbox.delivers.push(packet);
            }
            while let Some(event) = self.node.poll_event() {
                moved = true;
                self.node_event(now, event);
            }
            if let Some(ike) = &mut self.ike {
                let mut ike_events = Vec::new();
                while let Some(transmit) = ike.poll_transmit() {
                    moved = true;
                    let _ = self.ike_socket.send_to(&transmit.bytes, (transmit.to, 500));
                }
                while let Some(event) = ike.poll_event() {
                    moved = true;
                    ike_events.push(event);
                }
                for event in ike_events {
                    self.ike_event(now, event);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn node_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::RouteAdded(route) => {
                if let Err(e) = host::add(&self.device, &route) {
                    log(&format!("%DMVPN-4-ROUTE: {e}"));
                } else if self.verbose {
                    log(&format!("%DMVPN-6-ROUTE: add {route:?}"));
                }
            }
            Event::RouteRemoved(route) => {
                if let Err(e) = host::remove(&self.device, &route)
                    && self.verbose
                {
                    log(&format!("%DMVPN-6-ROUTE: {e}"));
                }
            }
            Event::Eigrp(dmvpn_proto::eigrp::EigrpEvent::NeighborUp { address, .. }) => {
                log(&format!(
                    "%DUAL-5-NBRCHANGE: EIGRP-IPv4: Neighbor {address} ({}) is up: new adjacency",
                    self.interface
                ))
            }
            Event::Eigrp(dmvpn_proto::eigrp::EigrpEvent::NeighborDown { address, reason }) => {
                log(&format!(
                    "%DUAL-5-NBRCHANGE: EIGRP-IPv4: Neighbor {address} ({}) is down: {reason}",
                    self.interface
                ));
                // A spoke that lost its hub rekeys: the hub may have restarted without SAs.
                let nbma = self
                    .node
                    .config()
                    .nhrp
                    .nhs
                    .iter()
                    .find(|n| n.tunnel == address)
                    .map(|n| n.nbma);
                match nbma {
                    // Hellos lost, not the hub: EIGRP forms the adjacency again by itself.
                    Some(nbma) if self.still_sealing(now, nbma) => log(&format!(
                        "%DMVPN-5-NHS: {nbma} still sends under our SAs: keeping them"
                    )),
                    Some(nbma) => self.lose(now, nbma),
                    None => {}
                }
            }
            Event::Nhrp(event) => log(&format!("%NHRP-5-CLIENT: {event:?}")),
            Event::NhrpServer(event) => log(&format!("%NHRP-5-SERVER: {event:?}")),
            // The volume limit (the SAD counts it): a new pair at the soft limit, as IOS at 90 %.
            Event::Sa(SaEvent::SoftExpired {
                id: SaId::Outbound { remote, .. },
                limit,
            }) => {
                if let Some(ike) = &mut self.ike {
                    log(&format!(
                        "%CRYPTO-6-IPSEC_REKEY: {remote}: SA lifetime ({limit:?}) nearly used: rekeying"
                    ));
                    if let Err(e) = ike.rekey(now, remote) {
                        log(&format!("%CRYPTO-4-IPSEC_REKEY: {remote}: {e}"));
                    }
                }
            }
            // The pair ran out before a new one came: the peer gets a new pair at once (a spoke's
            // `maintain` would otherwise wait for the EIGRP hold time to notice).
            Event::Sa(SaEvent::HardExpired {
                id: SaId::Outbound { remote, spi, .. },
                limit,
            }) => {
                log(&format!(
                    "%CRYPTO-4-IPSEC_EXPIRED: {remote}: outbound spi 0x{spi:08x} expired ({limit:?})"
                ));
                if self
                    .children
                    .get(&remote)
                    .is_some_and(|c| c.outbound_spi == spi)
                {
                    self.forget_pair(now, remote, false);
                }
                if let Some(ike) = &mut self.ike
                    && let Err(e) = ike.rekey(now, remote)
                {
                    log(&format!("%CRYPTO-4-IPSEC_REKEY: {remote}: {e}"));
                }
            }
            other => {
                if self.verbose {
                    log(&format!("%DMVPN-6-EVENT: {other:?}"));
                }
            }
        }
    }

    fn ike_event(&mut self, now: Instant, event: ike::Event) {
        match event {
            ike::Event::Phase1Established {
                peer,
                role,
                suite,
                key,
                ..
            } => {
                log(&format!(
                    "%CRYPTO-5-IKMP_SA: phase 1 with {peer} established ({role:?}, {suite:?})"
                ));
                if let Some(key_log) = &mut self.key_log {
                    let _ = key_log.ikev1(&key.to_table_line());
                }
                let conn_id = self.next_conn_id;
                self.next_conn_id = self.next_conn_id.wrapping_add(1);
                let suite = format!(
                    "{:?} {:?} group {} lifetime {} s",
                    suite.encryption,
                    suite.hash,
                    suite.group.0,
                    suite.lifetime.total_micros() / 1_000_000
                );
                self.ike_sas.insert(
                    peer,
                    IkeSa {
                        initiator: role == ike::Role::Initiator,
                        conn_id,
                        suite,
                        established_at: now,
                    },
                );
            }
            ike::Event::Phase1Deleted { peer, reason, .. } => {
                log(&format!(
                    "%CRYPTO-5-IKMP_SA: phase 1 with {peer} deleted ({reason:?})"
                ));
                self.ike_sas.remove(&peer);
            }
            // As responder the keys are known at QM 2: the key log gets them then, so that the
            // ESP of an initiator that never confirms (or not yet) still decrypts.
            ike::Event::ChildOffered(child) => {
                if let Some(key_log) = &mut self.key_log {
                    let (peer, local) = (child.peer, child.local);
                    let _ = key_log.esp_sa(&child.inbound.esp_sa_line(peer, local));
                    let _ = key_log.esp_sa(&child.outbound.esp_sa_line(local, peer));
                }
            }
            ike::Event::ChildEstablished(child) => {
                let peer = child.peer;
                let (Ok(inbound), Ok(outbound)) = (child.inbound.to_sa(), child.outbound.to_sa())
                else {
                    log(&format!(
                        "%CRYPTO-4-IPSEC: unusable keys from quick mode with {peer}"
                    ));
                    return;
                };
                if let Some(key_log) = &mut self.key_log
                    && child.role == ike::Role::Initiator
                {
                    let _ = key_log.esp_sa(&child.inbound.esp_sa_line(peer, child.local));
                    let _ = key_log.esp_sa(&child.outbound.esp_sa_line(child.local, peer));
                }
                self.node
                    .install_sas(now, peer, inbound, outbound, child.lifetime);
                let restart = self.lost.contains(&peer);
                self.child_keys.insert(peer, child.clone());
                log(&format!(
                    "%CRYPTO-5-IPSEC_SA: {peer}: inbound spi 0x{:08x}, outbound spi 0x{:08x}, {}",
                    child.inbound.spi, child.outbound.spi, child.transform_set
                ));
                self.children.insert(
                    peer,
                    ChildSa {
                        inbound_spi: child.inbound.spi,
                        outbound_spi: child.outbound.spi,
                        transform: child.transform_set.to_string(),
                        installed_at: now,
                        lifetime: child.lifetime.hard_time,
                    },
                );
                if restart {
                    self.lost.retain(|p| *p != peer);
                    self.restart_node(now);
                }
            }
            ike::Event::ChildDeleted {
                peer,
                inbound_spi,
                reason,
                ..
            } => {
                if self
                    .children
                    .get(&peer)
                    .is_some_and(|c| c.inbound_spi == inbound_spi)
                {
                    // (ESP the peer sealed just before its Delete may still be queued on the
                    // ESP socket, read by another thread: it still decrypts for a moment)
                    self.forget_pair(now, peer, true);
                }
                log(&format!(
                    "%CRYPTO-5-IPSEC_SA: {peer}: spi 0x{inbound_spi:08x} deleted ({reason:?})"
                ));
            }
            ike::Event::PeerDead { peer } => {
                log(&format!("%CRYPTO-4-DPD: {peer} is dead"));
                self.lose(now, peer);
            }
            other => log(&format!("%CRYPTO-4-IKMP: {other:?}")),
        }
    }

    /// Notes, for each NHS, whether its inbound SA decrypted anything since the last look (the
    /// loop's wake-ups, at least every [`TICK`]).
    fn listen(&mut self, now: Instant) {
        let local = self.node_config.tunnel.nbma;
        for nbma in self.ike_targets.keys() {
            let bytes = self
                .node
                .peer_sas(*nbma)
                .and_then(|(spi, _)| self.node.sad().inbound(spi, local))
                .map_or(0, |sa| sa.bytes());
            let entry = self.heard.entry(*nbma).or_insert((bytes, now));
            if bytes != entry.0 {
                *entry = (bytes, now);
            }
        }
    }

    /// Whether the NHS at `nbma` sealed traffic to us under the current SAs within the last
    /// [`STILL_SEALING`]: then its EIGRP neighbour was lost to loss of Hellos, not to a restart
    /// (a restarted hub has no SAs to seal with), and the SAs stay, as on IOS.
    fn still_sealing(&mut self, now: Instant, nbma: Ipv4Addr) -> bool {
        self.listen(now);
        self.heard
            .get(&nbma)
            .is_some_and(|(bytes, at)| *bytes > 0 && now - *at < STILL_SEALING)
    }

    /// The current pair with `peer` is gone (it ran out, the peer deleted it, or the NHS was
    /// lost): `show` and a rebuilt node forget it, the node sends nothing more under it, and its
    /// inbound SAs decrypt for a moment more with `grace` ([`Node::retire_sas`]) or go at once.
    fn forget_pair(&mut self, now: Instant, peer: Ipv4Addr, grace: bool) {
        self.children.remove(&peer);
        self.child_keys.remove(&peer);
        if grace {
            self.node.retire_sas(now, peer);
        } else {
            self.node.remove_sas(peer);
        }
    }

    /// A spoke lost an NHS (EIGRP hold time, DPD): its SAs go, and IKE starts over at once.
    fn lose(&mut self, now: Instant, nbma: Ipv4Addr) {
        if !self.ike_targets.contains_key(&nbma) {
            return;
        }
        self.forget_pair(now, nbma, false);
        if !self.lost.contains(&nbma) {
            self.lost.push(nbma);
        }
        if let Some(last) = self.ike_targets.get_mut(&nbma) {
            *last = None;
        }
        self.maintain(now);
    }

    /// Starts the node over (a spoke whose hub came back): the hub has forgotten the spoke's
    /// registration and EIGRP adjacency, and the node's client would only re-register at its
    /// next refresh (a third of the holding time), so a fresh node registers at once, as IOS
    /// does when the crypto socket to the NHS comes up again. The host routes of the old node
    /// are removed; the new one adds its own; every SA pair is installed again.
    fn restart_node(&mut self, now: Instant) {
        let Ok(entropy) = BufferedRandom::new() else {
            log("%DMVPN-4-RESTART: /dev/urandom: cannot restart the node");
            return;
        };
        log("%DMVPN-5-RESTART: the NHS is back: registering again");
        for route in self.node.routes() {
            let _ = host::remove(&self.device, route);
        }
        self.node = Node::new(self.node_config.clone(), now, Box::new(entropy));
        for (peer, child) in &self.child_keys {
            if let (Ok(inbound), Ok(outbound)) = (child.inbound.to_sa(), child.outbound.to_sa()) {
                self.node
                    .install_sas(now, *peer, inbound, outbound, child.lifetime);
            }
        }
    }

    fn shutdown(&mut self, now: Instant) {
        log("%DMVPN-5-STOP: shutting down");
        self.node.shutdown(now);
        // The EIGRP goodbye leaves first, under the SAs it was sealed with, and with a head start:
        // IKE's Deletes below go out at once on the IKE socket, a peer reads its ESP and IKE
        // sockets on separate threads, and one that handles a Delete first drops the goodbye.
        self.flush(now);
        self.send_outbox();
        std::thread::sleep(GOODBYE_HEAD_START);
        if let Some(ike) = &mut self.ike {
            let peers: Vec<_> = self.ike_sas.keys().copied().collect();
            for peer in peers {
                ike.delete_peer(now, peer);
            }
        }
        self.flush(now);
    }
}
