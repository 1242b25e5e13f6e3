//! `dmvpn-router`: check a DMVPN hub or spoke configuration, run it, and show its state.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dmvpn_router::config::{Config, Options, Summary};
use dmvpn_router::io::{RunOptions, query, socket_path};

/// A DMVPN Phase 1 reference router (hub or spoke) from an IOS-style configuration.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check a configuration: print its summary, or every error with its line.
    Check {
        /// The configuration file.
        config: PathBuf,
        /// Unsupported commands are warnings (and skipped) instead of errors.
        #[arg(long)]
        lenient: bool,
    },
    /// Run the configuration: TUN device, raw GRE/ESP sockets, IKE, NHRP, EIGRP, until SIGINT
    /// or SIGTERM. Needs root (CAP_NET_ADMIN and CAP_NET_RAW).
    Run {
        /// The configuration file.
        config: PathBuf,
        /// Unsupported commands are warnings (and skipped) instead of errors.
        #[arg(long)]
        lenient: bool,
        /// Bind the NBMA sockets to this interface too (SO_BINDTODEVICE).
        #[arg(long, value_name = "IF")]
        nbma_iface: Option<String>,
        /// Append Wireshark `esp_sa` and `ikev1_decryption_table` lines to files in DIR (they
        /// hold live keys: off by default).
        #[arg(long, value_name = "DIR")]
        key_log: Option<PathBuf>,
        /// Directory of the control socket (`<hostname>.sock`).
        #[arg(long, value_name = "DIR", default_value = "/run/dmvpn-router")]
        run_dir: PathBuf,
        /// Log every event, not only state changes.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Ask a running router: `show ip nhrp`, `ip nhrp nhs`, `ip eigrp neighbors`, `ip route`,
    /// `crypto isakmp sa`, `crypto ipsec sa`, `counters`.
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
        Command::Check { config, lenient } => check(&config, lenient),
        Command::Run {
            config,
            lenient,
            nbma_iface,
            key_log,
            run_dir,
            verbose,
        } => {
            let Some(parsed) = load(&config, lenient) else {
                return ExitCode::FAILURE;
            };
            let options = RunOptions {
                nbma_iface,
                key_log,
                run_dir,
                verbose,
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
    }
}

/// Reads and parses a configuration file, printing warnings (and errors) prefixed with its path.
fn load(path: &PathBuf, lenient: bool) -> Option<Config> {
    let shown = path.display();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                eprintln!(
                    "error: {shown}: not UTF-8 text (byte {})",
                    e.utf8_error().valid_up_to()
                );
                return None;
            }
        },
        Err(e) => {
            eprintln!("error: {shown}: {e}");
            return None;
        }
    };
    match Config::parse(&text, Options { lenient }) {
        Ok(parsed) => {
            for warning in &parsed.warnings {
                eprintln!("warning: {shown}:{warning}");
            }
            Some(parsed.config)
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

fn check(path: &PathBuf, lenient: bool) -> ExitCode {
    match load(path, lenient) {
        Some(config) => {
            print!("{}", Summary(&config));
            println!("{}: ok", path.display());
            ExitCode::SUCCESS
        }
        None => ExitCode::FAILURE,
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
