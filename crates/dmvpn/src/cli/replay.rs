//! `dmvpn replay`: a capture sent onto an interface, or fed into a `dmvpn-proto` machine.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use super::args::IntoRole;
use super::exit::Failure;
use super::input::{Input, load_keys};

pub(crate) fn replay(
    mut input: Input,
    iface: &str,
    mut options: dmvpn::replay::Options,
    rewrite: &[String],
) -> Result<(), Failure> {
    for pair in rewrite {
        options.rewrite.add_str(pair).map_err(Failure::other)?;
    }
    if options.loops > 1 {
        input.rewindable()?;
    }
    // Fail on an unreadable capture before touching the interface; this reader makes the first
    // pass (standard input is read once).
    let mut first = Some(input.open()?);
    let mut socket = dmvpn::replay::PacketSocket::open(iface)
        .map_err(|error| Failure::other(format!("{iface}: {error}")))?;
    let start = Instant::now();
    let mut open = || first.take().map_or_else(|| input.open_reader(), Ok);
    let (stats, error) = dmvpn::replay::replay(&mut open, &options, &mut socket, |at| {
        if let Some(due) = start.checked_add(at) {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    })
    .map_err(|error| match error {
        dmvpn::replay::ReplayError::Capture(error) => input.failure(error),
        other => Failure::other(other),
    })?;
    eprintln!(
        "dmvpn: {} frame(s) sent on {iface} ({} bytes) in {:.3} s, {} rewritten, {} skipped, {} failed{}",
        stats.sent,
        stats.bytes,
        start.elapsed().as_secs_f64(),
        stats.rewritten,
        stats.skipped,
        stats.failed,
        stats
            .first_error
            .map_or_else(String::new, |e| format!(" (first error: {e})"))
    );
    error.map_or(Ok(()), |error| Err(input.failure(error)))
}

pub(crate) fn replay_into(
    mut input: Input,
    role: IntoRole,
    nbma: Option<std::net::Ipv4Addr>,
    prefix_len: u8,
    key_files: &[PathBuf],
) -> Result<(), Failure> {
    use dmvpn::replay::into::{self, IntoError, IntoOptions, Role};
    // Read once to report key file errors; the passes read them again.
    drop(load_keys(key_files).map_err(Failure::Other)?);
    let mut options = IntoOptions::new(match role {
        IntoRole::Hub => Role::Hub,
        IntoRole::Spoke => Role::Spoke,
    });
    options.nbma = nbma;
    options.prefix_len = prefix_len;
    // The machine is configured from a first pass, then fed in a second: the capture is read
    // three times.
    input.rewindable()?;
    let mut keys = || load_keys(key_files).unwrap_or_default();
    let played = into::play(&mut || input.open_reader(), &mut keys, &options);
    let (timeline, error) = played.map_err(|error| match error {
        IntoError::Capture(error) => input.failure(error),
        other => {
            // No router to play may come from a capture cut short: say both.
            let cut = input.open().map(|mut reader| {
                while let Ok(Some(_)) = reader.next_frame() {}
                input.finish(&mut reader)
            });
            match cut {
                Ok(Err(cut)) => {
                    eprintln!("dmvpn: {other}");
                    cut
                }
                _ => Failure::other(other),
            }
        }
    })?;
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(timeline.to_string().as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)?;
    error.map_or(Ok(()), |error| Err(input.failure(error)))
}
