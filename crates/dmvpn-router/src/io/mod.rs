//! The data plane shell around [`dmvpn_proto::router::Router`] (the node and its IKEv1 or IKEv2 endpoint): raw
//! sockets for GRE (47) and ESP (50) and a UDP socket for IKE (500) on the NBMA address, a TUN
//! device for the tunnel interface, the host's routes, a control socket, and the key log.
//!
//! One thread reads each device and sends what it reads into one channel; the event loop owns
//! the machines, takes one input at a time (or a timeout at the machines' next deadline), and
//! writes what they produce: NBMA packets to the sockets, inner packets to the TUN device, route
//! changes to the host (`ip route`), the key log and the console log from the router's events.
//!
//! Every protocol decision (SAs from IKE into the node, rekeys, Deletes, a spoke keying its
//! NHSes again after a hub restart) is [`dmvpn_proto::router::Router`]'s: this module only
//! moves bytes, runs the clock and answers the control socket.

mod control;
mod host;
mod keylog;
pub mod map;
mod net;
pub mod privilege;

use std::io;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use dmvpn_proto::ike;
use dmvpn_proto::ikev2;
use dmvpn_proto::ipsec::{SaEvent, SaId};
use dmvpn_proto::node::{self, Node, NodeConfig};
use dmvpn_proto::router::{self as machine, Event};
use dmvpn_proto::{Duration, Instant};
use socket2::Socket;

pub(crate) use control::ControlCounters;
pub use control::{query, socket_path};
pub(crate) use keylog::{DMVPN_IKEV2_TABLE, dmvpn_ikev2_line, ikev2_line};

use crate::config::Config;
use crate::show;
use net::{BufferedRandom, OsRandom};

pub use dmvpn_proto::router::RECONNECT;

/// The longest the loop sleeps, so that a stop signal is seen.
const TICK: Duration = Duration::from_millis(250);

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Bind the NBMA sockets to this interface (`SO_BINDTODEVICE`) besides the address.
    pub nbma_iface: Option<String>,
    /// Write Wireshark's `esp_sa`, `ikev1_decryption_table` and `ikev2_decryption_table` here.
    pub key_log: Option<PathBuf>,
    /// Where the control socket goes (`<run_dir>/<name>.sock`).
    pub run_dir: PathBuf,
    /// Log every event (NHRP, EIGRP, IKE) to stderr, not only the state changes.
    pub verbose: bool,
    /// `--map IOS=LINUX`: the configuration's interfaces onto the host's devices (see [`map`]).
    pub maps: Vec<map::InterfaceMap>,
    /// `--user`: who the router becomes once its devices are open ([`privilege`]); `None` for
    /// [`privilege::DEFAULT_USER`], `root` to stay root.
    pub user: Option<String>,
    /// `--group`: the group of the run directory and control socket (default: the user's).
    pub group: Option<String>,
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
/// Measured (tools/perf/router_perf.sh): handing every packet from its reader thread to the loop
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
/// Measured (tools/perf/router_perf.sh): writing into the TUN device runs the host's whole receive
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
                _ => continue, // IKE goes out of the UDP socket (see `Router::flush`)
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

/// The whole router: the machine, the devices and the clock.
struct Router {
    machine: machine::Router<OsRandom>,
    devices: Arc<Devices>,
    /// What the machine produced for the devices since the last [`Devices::send`].
    outbox: Outbox,
    ike_socket: UdpSocket,
    /// The host's routes through the tunnel device, programmed by a thread of their own.
    routes: host::Routes,
    interface: String,
    clock: Clock,
    started: Instant,
    key_log: Option<keylog::KeyLog>,
    verbose: bool,
    /// What the control socket refused (see [`control`]).
    control: Arc<ControlCounters>,
    /// The limit episodes logged so far (see [`dmvpn_proto::limits`]).
    limit_episodes: u64,
    /// When the loop wakes up next by itself (see [`Reader`]).
    sleep_until: Instant,
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
    let (node_config, ike_config) = crate::node::configs(config)?;
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

    // Who the router becomes, looked up before anything is opened.
    let user = options.user.as_deref().unwrap_or(privilege::DEFAULT_USER);
    let target = privilege::resolve(user, options.group.as_deref())?;
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
    privilege::make_dir(&options.run_dir, 0o750, target.as_ref())?;
    let listener = control::bind(&control)
        .map_err(io_error(format!("control socket {}", control.display())))?;
    privilege::own_socket(&control, target.as_ref())?;
    let key_log = match &options.key_log {
        Some(dir) => {
            privilege::make_dir(dir, 0o700, None)?;
            Some(
                keylog::KeyLog::open(dir)
                    .map_err(io_error(format!("key log {}", dir.display())))?,
            )
        }
        None => None,
    };

    let clock = Clock(std::time::Instant::now());
    let now = clock.now();
    let entropy = BufferedRandom::new().map_err(io_error("/dev/urandom"))?;
    let ike_random = OsRandom::new().map_err(io_error("/dev/urandom"))?;
    // Everything that needs root is open: give it up before the first thread starts (see
    // [`privilege`]). CAP_NET_ADMIN stays (ambient, not effective) for `ip route` only when
    // routes can come and go.
    let routes = node_config.eigrp.is_some() || !node_config.static_routes.is_empty();
    let dropped = privilege::drop_to(target.as_ref(), routes)?;
    log(&format!(
        "%DMVPN-5-PRIVILEGE: running as {} (uid {}, gid {}), capabilities kept: {}, no_new_privs",
        target.as_ref().map_or("root", |t| t.name.as_str()),
        nix::unistd::Uid::current(),
        nix::unistd::Gid::current(),
        if dropped.kept.is_empty() {
            "none".to_owned()
        } else {
            dropped.kept.join(", ")
        }
    ));
    let control_counters = Arc::new(ControlCounters::default());
    control::serve(
        listener,
        tx.clone(),
        Arc::clone(&control_counters),
        control::CLIENT_TIME,
    )
    .map_err(io_error(format!("control socket {}", control.display())))?;
    log(&format!(
        "%DMVPN-5-START: {name}: {} on {device} {}/{} (nbma {nbma}), control {}",
        role(&node_config),
        tunnel.address,
        tunnel.prefix_len,
        control.display()
    ));
    // (after the drop: the thread's `ip` children inherit CAP_NET_ADMIN from the ambient set)
    let routes = host::Routes::spawn(&device, options.verbose).map_err(io_error("route thread"))?;
    let node = Node::new(node_config, now, Box::new(entropy));
    let mut router = Router {
        machine: crate::node::Ike::router(ike_config, node, ike_random, now),
        devices: Arc::clone(&devices),
        outbox: Outbox::default(),
        ike_socket,
        routes,
        interface,
        clock,
        started: now,
        sleep_until: now,
        key_log,
        verbose: options.verbose,
        control: control_counters,
        limit_episodes: 0,
    };
    router.flush();
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

/// IOS's log line for a pair of IPsec SAs deleted (by IKEv1 or IKEv2).
fn log_sa_deleted(peer: std::net::Ipv4Addr, inbound_spi: u32, reason: &dyn core::fmt::Debug) {
    log(&format!(
        "%CRYPTO-5-IPSEC_SA: {peer}: spi 0x{inbound_spi:08x} deleted ({reason:?})"
    ));
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
    /// The machine's next deadline.
    fn deadline(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    /// After some input (or none): the timers that are due, and everything the machine
    /// produced.
    fn step(&mut self, now: Instant) {
        if self.machine.poll_timeout().is_some_and(|t| t <= now) {
            self.machine.handle_timeout(now);
        }
        self.flush();
    }

    /// One packet from a device into the machine.
    fn packet(&mut self, now: Instant, packet: net::Packet<'_>) {
        match packet {
            net::Packet::Nbma {
                src,
                protocol,
                payload,
            } => self.machine.handle_nbma(now, src, protocol, payload),
            net::Packet::Ike { src, payload } => self.machine.handle_ike(now, src, payload),
            net::Packet::Tunnel(packet) => self.machine.handle_tunnel_packet(now, packet),
        }
    }

    fn input(&mut self, now: Instant, input: Input) -> Result<(), RunError> {
        match input {
            Input::Control { command, reply } => {
                let sas = show::Sas::of(&self.machine);
                let view = show::View {
                    node: self.machine.node(),
                    now,
                    started: self.started,
                    interface: &self.interface,
                    ike: &sas.ike,
                    ikev2: &sas.ikev2,
                    children: &sas.children,
                    ike_counters: &sas.counters,
                    control: &self.control,
                    limits: self.machine.limits(),
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

    /// Writes what the machine produced for the devices (the loop's paths: under the lock).
    fn send_outbox(&mut self) {
        let devices = Arc::clone(&self.devices);
        devices.send(&mut self.outbox);
    }

    /// Takes everything the machine produced: IKE datagrams are sent from the UDP socket, the
    /// other packets go into the outbox (see [`Outbox`]), events to the log, the key log and
    /// the host's routes.
    fn flush(&mut self) {
        while let Some(transmit) = self.machine.poll_transmit() {
            if transmit.protocol == dmvpn_proto::ipsec::UDP {
                // (the machine's IKE datagram: its UDP header is the socket's to write)
                if let Some(message) = transmit.bytes.get(8..) {
                    let _ = self.ike_socket.send_to(message, (transmit.to, 500));
                }
            } else {
                self.outbox.transmits.push(transmit);
            }
        }
        while let Some(packet) = self.machine.poll_deliver() {
            self.outbox.delivers.push(packet);
        }
        while let Some(event) = self.machine.poll_event() {
            self.event(event);
        }
        // A limit that starts refusing is logged once per episode (its first refusal).
        let limits = self.machine.limits();
        if limits.total_episodes() > self.limit_episodes {
            self.limit_episodes = limits.total_episodes();
            if let Some(notice) = limits.last() {
                log(&format!("%DMVPN-4-LIMIT: {notice}"));
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Node(event) => self.node_event(event),
            Event::Ike(event) => self.ike_event(event),
            Event::Ikev2(event) => self.ikev2_event(event),
            Event::SaInstalled(child) => {
                let peer = child.peer;
                // (IKEv1's responder logged the pair at QM 2, as `ike::Event::ChildOffered`;
                // IKEv2 has nothing before this, in either role)
                if child.role == ike::Role::Initiator || self.machine.ikev2().is_some() {
                    self.log_keys(|k| k.child_sa(&child));
                }
                log(&format!(
                    "%CRYPTO-5-IPSEC_SA: {peer}: inbound spi 0x{:08x}, outbound spi 0x{:08x}, {}",
                    child.inbound.spi, child.outbound.spi, child.transform_set
                ));
            }
            Event::SaRestored(child) => log(&format!(
                "%CRYPTO-5-IPSEC_SA: {}: inbound spi 0x{:08x}, outbound spi 0x{:08x} again (the \
                 peer deleted the pair of the rekey that lost)",
                child.peer, child.inbound.spi, child.outbound.spi
            )),
            Event::UnusableKeys { peer } => log(&format!(
                "%CRYPTO-4-IPSEC: unusable keys from quick mode with {peer}"
            )),
            Event::IkeRefused { error, .. } => {
                if self.verbose {
                    log(&format!("%CRYPTO-6-IKMP: {error}"));
                }
            }
            Event::IkeStarted { peer } => log(&format!(
                "%CRYPTO-5-IKMP_CONNECT: initiating {} with {peer}",
                if self.machine.ikev2().is_some() {
                    "IKE_SA_INIT"
                } else {
                    "Main Mode"
                }
            )),
            Event::IkeStartFailed { peer, error } => {
                log(&format!("%CRYPTO-4-IKMP_CONNECT: {peer}: {error}"));
            }
            Event::RekeyStarted { peer, limit } => log(&format!(
                "%CRYPTO-6-IPSEC_REKEY: {peer}: SA lifetime ({limit:?}) nearly used: rekeying"
            )),
            Event::RekeyFailed { peer, error } => {
                log(&format!("%CRYPTO-4-IPSEC_REKEY: {peer}: {error}"));
            }
            Event::NhsKept { peer } => log(&format!(
                "%DMVPN-5-NHS: {peer} still sends under our SAs: keeping them"
            )),
            Event::NhsDown { peer } => log(&format!("%DMVPN-5-NHS: {peer} lost: keying it again")),
            Event::RegistrationRestarted { peer } => log(&format!(
                "%DMVPN-5-RESTART: the NHS {peer} is back: registering again"
            )),
            other => {
                if self.verbose {
                    log(&format!("%DMVPN-6-EVENT: {other:?}"));
                }
            }
        }
    }

    fn node_event(&mut self, event: node::Event) {
        match event {
            node::Event::RouteAdded(route) => {
                self.routes.add(&route);
                if self.verbose {
                    log(&format!("%DMVPN-6-ROUTE: add {route:?}"));
                }
            }
            node::Event::RouteRemoved(route) => self.routes.remove(&route),
            node::Event::Eigrp(dmvpn_proto::eigrp::EigrpEvent::Neighbor(
                dmvpn_proto::eigrp::Event::NeighborUp { address, .. },
            )) => {
                log(&format!(
                    "%DUAL-5-NBRCHANGE: EIGRP-IPv4: Neighbor {address} ({}) is up: new adjacency",
                    self.interface
                ));
            }
            node::Event::Eigrp(dmvpn_proto::eigrp::EigrpEvent::Neighbor(
                dmvpn_proto::eigrp::Event::NeighborDown { address, reason },
            )) => {
                log(&format!(
                    "%DUAL-5-NBRCHANGE: EIGRP-IPv4: Neighbor {address} ({}) is down: {reason}",
                    self.interface
                ));
            }
            node::Event::Nhrp(event) => log(&format!("%NHRP-5-CLIENT: {event:?}")),
            node::Event::NhrpServer(event) => log(&format!("%NHRP-5-SERVER: {event:?}")),
            node::Event::Sa(SaEvent::HardExpired {
                id: SaId::Outbound { remote, spi, .. },
                limit,
            }) => log(&format!(
                "%CRYPTO-4-IPSEC_EXPIRED: {remote}: outbound spi 0x{spi:08x} expired ({limit:?})"
            )),
            // (the soft limit of an outbound SA comes as `Event::RekeyStarted`)
            node::Event::Sa(SaEvent::SoftExpired {
                id: SaId::Outbound { .. },
                ..
            }) => {}
            other => {
                if self.verbose {
                    log(&format!("%DMVPN-6-EVENT: {other:?}"));
                }
            }
        }
    }

    fn ike_event(&mut self, event: ike::Event) {
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
                self.log_keys(|k| k.ikev1(&key.to_table_line()));
            }
            ike::Event::Phase1Deleted { peer, reason, .. } => log(&format!(
                "%CRYPTO-5-IKMP_SA: phase 1 with {peer} deleted ({reason:?})"
            )),
            // As responder the keys are known at QM 2: the key log gets them then, so that the
            // ESP of an initiator that never confirms (or not yet) still decrypts.
            ike::Event::ChildOffered(child) => self.log_keys(|k| k.child_sa(&child)),
            ike::Event::ChildDeleted {
                peer,
                inbound_spi,
                reason,
                ..
            } => log_sa_deleted(peer, inbound_spi, &reason),
            ike::Event::PeerDown { peer } => log(&format!("%CRYPTO-4-DPD: {peer} is dead")),
            other => log(&format!("%CRYPTO-4-IKMP: {other:?}")),
        }
    }

    /// Writes to the key log, when there is one (a failed write loses those lines only).
    fn log_keys(&mut self, write: impl FnOnce(&mut keylog::KeyLog) -> io::Result<()>) {
        if let Some(key_log) = &mut self.key_log {
            let _ = write(key_log);
        }
    }

    fn ikev2_event(&mut self, event: ikev2::Event) {
        match event {
            ikev2::Event::Keyed { keys, prf_keys, .. } => {
                self.log_keys(|k| k.ikev2(&keys, &prf_keys));
            }
            ikev2::Event::Established {
                peer,
                role,
                keys,
                nat_detected,
                ..
            } => {
                log(&format!(
                    "%IKEV2-5-SA_UP: IKEv2 SA with {peer} established ({role:?}, {}, {}{})",
                    keys.encryption,
                    keys.integrity,
                    if nat_detected { ", NAT detected" } else { "" }
                ));
            }
            ikev2::Event::Rekeyed {
                peer,
                keys,
                prf_keys,
                ..
            } => {
                log(&format!("%IKEV2-5-SA_REKEY: IKEv2 SA with {peer} rekeyed"));
                self.log_keys(|k| k.ikev2(&keys, &prf_keys));
            }
            ikev2::Event::ChildDeleted {
                peer,
                inbound_spi,
                reason,
                ..
            } => log_sa_deleted(peer, inbound_spi, &reason),
            ikev2::Event::Deleted { peer, reason, .. } => log(&format!(
                "%IKEV2-5-SA_DOWN: IKEv2 SA with {peer} deleted ({reason:?})"
            )),
            ikev2::Event::PeerDead { peer } => log(&format!("%IKEV2-4-DPD: {peer} is dead")),
            other => log(&format!("%IKEV2-4-IKE: {other:?}")),
        }
    }

    fn shutdown(&mut self, now: Instant) {
        log("%DMVPN-5-STOP: shutting down");
        self.machine.shutdown(now);
        // The EIGRP goodbye leaves first, under the SAs it was sealed with, and with a head start:
        // IKE's Deletes below go out at once on the IKE socket, a peer reads its ESP and IKE
        // sockets on separate threads, and one that handles a Delete first drops the goodbye.
        self.flush();
        self.send_outbox();
        std::thread::sleep(GOODBYE_HEAD_START);
        self.machine.delete_all(now);
        self.flush();
    }
}
