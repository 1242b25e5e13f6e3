//! `dmvpn-router`: check a DMVPN hub or spoke configuration, run it, and show its state.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dmvpn_router::config::cloud::{self, Member, Severity};
use dmvpn_router::config::{Config, ErrorKind, Options, Summary};
use dmvpn_router::io::map::InterfaceMap;
use dmvpn_router::io::{RunOptions, query, socket_path};
use dmvpn_router::simulate::{self, Scenario, WhatIf, options as sim};

/// A DMVPN Phase 1 reference router (hub or spoke) from an IOS-style configuration.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check configurations: each on its own (its summary, or every error with its
    /// line), then, given a hub and its spokes (told apart by content), the whole cloud: each
    /// finding names both files and lines, what IOS would do, and the fix. Exits 1 on any error.
    Check {
        /// The configuration files (IOS text, as `show running-config` prints it or as typed).
        #[arg(required = true, num_args = 1..)]
        configs: Vec<PathBuf>,
        /// Commands the router cannot run are warnings (and skipped) instead of errors; every
        /// command skipped is listed (without it, only their count).
        #[arg(long)]
        lenient: bool,
    },
    /// Run the configuration: TUN device, raw GRE/ESP sockets, IKE, NHRP, EIGRP, until SIGINT
    /// or SIGTERM. Starts as root (CAP_NET_ADMIN and CAP_NET_RAW) to open its devices, then
    /// becomes `--user` with `no_new_privs`, keeping at most CAP_NET_ADMIN (for `ip route`).
    Run {
        /// The configuration file.
        config: PathBuf,
        /// Unsupported commands are warnings (and skipped) instead of errors.
        #[arg(long)]
        lenient: bool,
        /// Bind the NBMA sockets to this interface too (SO_BINDTODEVICE).
        #[arg(long, value_name = "IF")]
        nbma_iface: Option<String>,
        /// An IOS interface onto a Linux device, e.g. `FastEthernet0/0=eth0` (any IOS spelling):
        /// its address is set on the device, the tunnel source's device carries the NBMA
        /// sockets, a mapped `Tunnel0` names the TUN device, underlay routes through it are
        /// installed. Repeatable.
        #[arg(long = "map", value_name = "IOS=LINUX")]
        maps: Vec<InterfaceMap>,
        /// Append Wireshark `esp_sa`, `ikev1_decryption_table` and `ikev2_decryption_table`
        /// lines to files in DIR, and `dmvpn_ikev2_decryption_table` (the IKEv2 lines with
        /// SK_d, SK_pi and SK_pr, for `dmvpn`) (they hold live keys: off by default).
        #[arg(long, value_name = "DIR")]
        key_log: Option<PathBuf>,
        /// Directory of the control socket (`<hostname>.sock`).
        #[arg(long, value_name = "DIR", default_value = "/run/dmvpn-router")]
        run_dir: PathBuf,
        /// Log every event, not only state changes.
        #[arg(long, short)]
        verbose: bool,
        /// The user to run as once the devices are open (`root` stays root). Default: dmvpn
        /// (`useradd --system --no-create-home --shell /usr/sbin/nologin dmvpn`).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// The group of the run directory and the control socket (0660), whose members may run
        /// `dmvpn-router show`. Default: the user's primary group.
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
    },
    /// Run a whole cloud from its configurations in virtual time, no routers needed: each
    /// router's `show` output, a reachability matrix, a timeline and the time to converge,
    /// the findings (`check`'s and the run's), spoke-to-spoke flows (via the hub or direct,
    /// moment by moment) and direct tunnels (Phase 2/3). What-ifs: --loss, --fail, --restart,
    /// --partition, --change. Exits 1 when a finding is an error or a probe fails.
    #[command(after_help = "Examples:\n  \
        dmvpn-router simulate R1.cfg R2.cfg R3.cfg\n  \
        dmvpn-router simulate R1.cfg R2.cfg R3.cfg --fail R1@2m --restart R1@3m --duration 6m\n  \
        dmvpn-router simulate R1.cfg R2.cfg R3.cfg --partition R1,R2@1m-2m --format json\n  \
        dmvpn-router simulate R1.cfg R2.cfg R3.cfg --pcap cloud.pcapng --key-log keys/\n  \
        dmvpn sessions cloud.pcapng --keys keys/esp_sa --keys keys/ikev1_decryption_table")]
    Simulate {
        /// The configurations: a hub and its spokes, in any order.
        #[arg(required = true, num_args = 1..)]
        configs: Vec<PathBuf>,
        /// How long to run, in virtual time (`90s`, `10m`, `1h`).
        #[arg(long, default_value = "10m", value_parser = sim::parse_time)]
        duration: dmvpn_proto::Duration,
        /// The seed of every random choice (SPIs, cookies, loss): the same seed, the same run.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Take the `show` output and the reachability matrix at this time instead of the end.
        #[arg(long, value_parser = sim::parse_time)]
        at: Option<dmvpn_proto::Duration>,
        /// `text` or `json` (one document).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        /// Percentage of packets each NBMA hop loses (0-100).
        #[arg(long, default_value = "0", value_parser = sim::parse_loss)]
        loss: u32,
        /// A router stops at T: `R2@30s`. Repeatable.
        #[arg(long, value_name = "ROUTER@T", value_parser = sim::parse_router_at)]
        fail: Vec<(String, dmvpn_proto::Duration)>,
        /// A router reboots at T: `R1@2m`. Repeatable.
        #[arg(long, value_name = "ROUTER@T", value_parser = sim::parse_router_at)]
        restart: Vec<(String, dmvpn_proto::Duration)>,
        /// The network between two routers is cut from T to T2: `R1,R2@1m-2m`. Repeatable.
        #[arg(long, value_name = "A,B@T-T2", value_parser = sim::parse_partition)]
        partition: Vec<(String, String, dmvpn_proto::Duration, dmvpn_proto::Duration)>,
        /// A router reloads with another configuration at T: `R2=R2-new.cfg@1m`. Repeatable.
        #[arg(long, value_name = "ROUTER=FILE@T", value_parser = sim::parse_change)]
        change: Vec<(String, String, dmvpn_proto::Duration)>,
        /// A router sits behind a one-to-one NAT with this outside address: `R2=203.0.113.2`.
        #[arg(long, value_name = "ROUTER=ADDRESS", value_parser = sim::parse_nat)]
        nat: Vec<(String, std::net::Ipv4Addr)>,
        /// Write the NBMA traffic as pcapng, one interface per router.
        #[arg(long, value_name = "OUT.pcapng")]
        pcap: Option<PathBuf>,
        /// Write the keys as Wireshark's `esp_sa`, `ikev1_decryption_table` and
        /// `ikev2_decryption_table` into DIR, and `dmvpn_ikev2_decryption_table` (the IKEv2
        /// lines with SK_d, SK_pi and SK_pr, for `dmvpn sessions --psk`).
        #[arg(long, value_name = "DIR")]
        key_log: Option<PathBuf>,
        /// Commands the router cannot run are warnings (and skipped) instead of errors.
        #[arg(long)]
        lenient: bool,
        /// A spoke-to-spoke flow: `R2,R3`. Repeatable; default: every two spokes.
        #[arg(long, value_name = "FROM,TO", value_parser = sim::parse_flow)]
        flow: Vec<(String, String)>,
        /// When the flows send: `30s-90s` (the default); `0-0` for no flows.
        #[arg(long, value_name = "T-T2", value_parser = sim::parse_window)]
        flows: Option<(dmvpn_proto::Duration, dmvpn_proto::Duration)>,
        /// How often each flow sends a packet.
        #[arg(long, default_value = "1s", value_parser = sim::parse_time)]
        flow_every: dmvpn_proto::Duration,
    },
    /// Ask a running router: `show dmvpn`, `ip nhrp`, `ip nhrp nhs`, `ip eigrp neighbors`,
    /// `ip route`, `crypto isakmp sa`, `crypto ikev2 sa [detailed]`, `crypto ipsec sa`, `counters`.
    Show {
        /// The router's hostname (its control socket is `<run-dir>/<name>.sock`); may be
        /// omitted when only one router runs.
        #[arg(long)]
        name: Option<String>,
        /// Directory of the control sockets.
        #[arg(long, value_name = "DIR", default_value = "/run/dmvpn-router")]
        run_dir: PathBuf,
        /// The command words, e.g. `ip nhrp` or `crypto ipsec sa`.
        #[arg(required = true, num_args = 1..)]
        what: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { configs, lenient } => check(&configs, lenient),
        Command::Run {
            config,
            lenient,
            nbma_iface,
            maps,
            key_log,
            run_dir,
            verbose,
            user,
            group,
        } => {
            let Some(parsed) = load(&config, lenient) else {
                return ExitCode::FAILURE;
            };
            let options = RunOptions {
                nbma_iface,
                key_log,
                run_dir,
                verbose,
                maps,
                user,
                group,
            };
            match dmvpn_router::io::run(&parsed, &options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {}: {e}", config.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Show {
            name,
            run_dir,
            what,
        } => show(&run_dir, name.as_deref(), &what.join(" ")),
        Command::Simulate {
            configs,
            duration,
            seed,
            at,
            format,
            loss,
            fail,
            restart,
            partition,
            change,
            nat,
            pcap,
            key_log,
            lenient,
            flow,
            flows,
            flow_every,
        } => {
            let mut routers = Vec::new();
            for path in &configs {
                let Some(member) = load_member(path, lenient) else {
                    return ExitCode::FAILURE;
                };
                routers.push(member);
            }
            let mut scenario = Scenario::new(routers);
            scenario.duration = duration;
            scenario.seed = seed;
            scenario.at = at;
            scenario.loss = loss;
            scenario.nat = nat;
            scenario.capture = pcap.is_some() || key_log.is_some();
            scenario.flows.pairs = flow;
            if let Some((from, until)) = flows {
                (scenario.flows.from, scenario.flows.until) = (from, until);
            }
            scenario.flows.every = flow_every;
            let what_ifs = &mut scenario.what_ifs;
            for (router, at) in fail {
                what_ifs.push(WhatIf::Fail { router, at });
            }
            for (router, at) in restart {
                what_ifs.push(WhatIf::Restart { router, at });
            }
            for (a, b, from, until) in partition {
                what_ifs.push(WhatIf::Partition { a, b, from, until });
            }
            for (router, file, at) in change {
                let Some(config) = load_member(&PathBuf::from(file), lenient) else {
                    return ExitCode::FAILURE;
                };
                let config = Box::new(config);
                what_ifs.push(WhatIf::Change { router, config, at });
            }
            simulate_run(&scenario, &format, pcap.as_deref(), key_log.as_deref())
        }
    }
}

fn simulate_run(
    scenario: &Scenario,
    format: &str,
    pcap: Option<&std::path::Path>,
    key_log: Option<&std::path::Path>,
) -> ExitCode {
    let outcome = match simulate::run(scenario) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = &outcome.report;
    if format == "json" {
        print!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    if let Some(capture) = &outcome.capture {
        if let Some(path) = pcap {
            let written =
                simulate::capture::write_pcapng(path, &capture.interfaces, &capture.packets);
            if let Err(e) = written {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!("{}: {} packets", path.display(), capture.packets.len());
        }
        if let Some(dir) = key_log {
            if let Err(e) = capture.keys.write(dir) {
                eprintln!("error: {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            let (esp, ikev1, ikev2) = capture.keys.len();
            eprintln!(
                "{}: {esp} esp_sa, {ikev1} ikev1_decryption_table and {ikev2} ikev2_decryption_table lines",
                dir.display()
            );
        }
    }
    let failed = report.findings.iter().any(|f| f.severity == "error")
        || report.matrix.iter().any(|p| !p.pass);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn read(path: &PathBuf) -> Option<String> {
    let shown = path.display();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                eprintln!(
                    "error: {shown}: not UTF-8 text (byte {})",
                    e.utf8_error().valid_up_to()
                );
                None
            }
        },
        Err(e) => {
            eprintln!("error: {shown}: {e}");
            None
        }
    }
}

/// Reads and parses a configuration file, printing warnings (the skipped commands listed with
/// `lenient`, else counted) and errors prefixed with its path.
fn load_member(path: &PathBuf, lenient: bool) -> Option<Member> {
    let shown = path.display();
    let text = read(path)?;
    match Member::parse_with_warnings(&shown.to_string(), &text, Options { lenient }) {
        Ok((member, warnings)) => {
            let skipped =
                |w: &&dmvpn_router::config::Diagnostic| matches!(w.kind, ErrorKind::Skipped { .. });
            for warning in &warnings {
                if lenient || !skipped(&warning) {
                    eprintln!("warning: {shown}:{warning}");
                }
            }
            let count = warnings.iter().filter(skipped).count();
            if count > 0 && !lenient {
                eprintln!(
                    "note: {shown}: {count} command(s) IOS takes and this router does not use were skipped (--lenient lists them)"
                );
            }
            Some(member)
        }
        Err(errors) => {
            for error in &errors.0 {
                eprintln!("error: {shown}:{error}");
            }
            eprintln!("{shown}: {} error(s)", errors.0.len());
            None
        }
    }
}

fn load(path: &PathBuf, lenient: bool) -> Option<Config> {
    load_member(path, lenient).map(|m| m.config)
}

fn check(paths: &[PathBuf], lenient: bool) -> ExitCode {
    let loaded: Vec<Option<Member>> = paths.iter().map(|p| load_member(p, lenient)).collect();
    let mut ok = true;
    let mut members = Vec::new();
    for (path, member) in paths.iter().zip(loaded) {
        match member {
            Some(member) => {
                if paths.len() == 1 {
                    print!("{}", Summary(&member.config));
                } else {
                    let role =
                        cloud::role(&member).map_or_else(|| "?".to_owned(), |r| r.to_string());
                    println!(
                        "{}: {role} {}",
                        path.display(),
                        member.config.hostname.as_deref().unwrap_or("")
                    );
                }
                members.push(member);
            }
            None => ok = false,
        }
    }
    if !ok {
        return ExitCode::FAILURE;
    }
    let findings = cloud::check(&members);
    for finding in &findings {
        println!("{finding}");
    }
    let errors = (findings.iter())
        .filter(|f| f.severity == Severity::Error)
        .count();
    let what = if paths.len() == 1 {
        paths[0].display().to_string()
    } else {
        format!("cloud of {} routers", paths.len())
    };
    if errors > 0 {
        println!(
            "{what}: {errors} error(s), {} warning(s)",
            findings.len() - errors
        );
        ExitCode::FAILURE
    } else if findings.is_empty() {
        println!("{what}: ok");
        ExitCode::SUCCESS
    } else {
        println!("{what}: ok, {} warning(s)", findings.len());
        ExitCode::SUCCESS
    }
}

fn show(run_dir: &std::path::Path, name: Option<&str>, command: &str) -> ExitCode {
    let path = match name {
        Some(name) => socket_path(run_dir, name),
        None => {
            let sockets: Vec<PathBuf> = std::fs::read_dir(run_dir)
                .map(|dir| {
                    dir.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "sock"))
                        .collect()
                })
                .unwrap_or_default();
            match sockets.as_slice() {
                [one] => one.clone(),
                [] => {
                    eprintln!("error: no router runs (no socket in {})", run_dir.display());
                    return ExitCode::FAILURE;
                }
                _ => {
                    eprintln!(
                        "error: several routers run in {}: say which with --name",
                        run_dir.display()
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    match query(&path, command) {
        Ok(answer) => {
            print!("{answer}");
            if answer.starts_with('%') {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
