//! `dmvpn`: decode, check and decrypt DMVPN captures.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "parquet")]
use cli::args::ExportFormat;
use cli::args::{CaptureArgs, Cli, Command, Select, Selection};
use cli::decode::decode;
use cli::decrypt::decrypt;
use cli::exit::{EXIT_ERROR, Failure};
#[cfg(feature = "parquet")]
use cli::export::export;
use cli::input::{Input, Output, stdout_is_live};
use cli::man::{completions, man_pages};
use cli::replay::{replay, replay_into};
use cli::sessions::sessions;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version succeed; a usage error is 1, as tshark's (2 is the capture's).
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let live = stdout_is_live();
    let colour = cli.color.enabled();
    let result = match cli.command {
        Command::Completions { shell } => completions(shell),
        Command::Man { dir } => man_pages(dir.as_deref()),
        Command::Decode {
            input,
            keys,
            format,
            threads,
            select,
        } => on_captures(&input, &select, |input, select| {
            let output = Output { live, colour };
            decode(input, &keys.files, format, threads, output, select)
        }),
        Command::Decrypt {
            input,
            keys,
            output,
            select,
        } => on_captures(&input, &select, |input, select| {
            decrypt(input, &keys.files, &output, live, select)
        }),
        Command::Sessions {
            input,
            keys,
            psk,
            format,
            fail_on,
            select,
        } => on_captures(&input, &select, |input, select| {
            sessions(input, &keys.files, &psk, format, fail_on, select)
        }),
        #[cfg(feature = "parquet")]
        Command::Export {
            input,
            keys,
            format: ExportFormat::Parquet,
            output,
        } => export(&input.captures, &keys.files, &output),
        Command::Replay {
            file,
            into: Some(role),
            nbma,
            prefix_len,
            keys,
            ..
        } => replay_into(Input::new(file), role, nbma, prefix_len, &keys.files),
        Command::Replay {
            file,
            iface,
            speed,
            pps,
            topspeed,
            loops,
            rewrite,
            src_mac,
            dst_mac,
            ..
        } => {
            let pace = match (speed, pps, topspeed) {
                (_, _, true) => dmvpn::replay::Pace::TopSpeed,
                (_, Some(pps), _) => dmvpn::replay::Pace::Pps(pps),
                (speed, None, false) => dmvpn::replay::Pace::Original {
                    speed: speed.unwrap_or(1.0),
                },
            };
            let mut options = dmvpn::replay::Options::new(pace);
            options.loops = loops;
            options.ethernet = dmvpn::replay::EthernetAddrs {
                src: src_mac,
                dst: dst_mac,
            };
            replay(
                Input::new(file),
                iface.as_deref().unwrap_or_default(),
                options,
                &rewrite,
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Parses the frame selection, opens the captures, and runs `command` on them.
fn on_captures(
    input: &CaptureArgs,
    select: &Select,
    command: impl FnOnce(&Input, &Selection) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let select = select.parse()?;
    command(&Input::from_args(&input.captures)?, &select)
}
