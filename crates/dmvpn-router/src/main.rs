//! `dmvpn-router`: check a DMVPN hub or spoke configuration, run it, and show its state.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dmvpn_router::config::{Config, Options, Summary};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config, lenient } => check(&config, lenient),
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
