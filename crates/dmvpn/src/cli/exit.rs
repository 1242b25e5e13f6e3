//! Exit statuses, and what a command prints when it stops before the end: the error and a hint.

use std::io;
use std::process::ExitCode;

use dmvpn::capture::CaptureError;

use super::args::FailOn;

/// Exit status: bad arguments, key files or output.
pub(crate) const EXIT_ERROR: u8 = 1;
/// Exit status: the capture could not be read (entirely), as tshark.
pub(crate) const EXIT_CAPTURE: u8 = 2;
/// Exit status: `sessions --fail-on` found a finding of that severity or worse.
pub(crate) const EXIT_FINDINGS: u8 = 3;
/// Exit status: standard output closed by its reader (128 + SIGPIPE).
pub(crate) const EXIT_CLOSED_PIPE: u8 = 141;

/// Why a command stopped before the end (see `AFTER_HELP` for the exit statuses).
#[derive(Debug)]
pub(crate) enum Failure {
    /// Standard output was closed by its reader: stop quietly.
    ClosedPipe,
    /// The capture could not be opened, or read to its end (every whole frame before the fault
    /// has been handled).
    Capture {
        /// How to name it: `The file "x.pcap"`, `The standard input`.
        input: String,
        error: CaptureError,
    },
    /// Files of a capture set that could not be read to their end (the others were read).
    Set(Vec<dmvpn::capture::set::SetError>),
    /// `sessions --fail-on`: this many findings of that severity or worse.
    Findings(usize, FailOn),
    /// Anything else: key files, an output file, a missing router.
    Other(Box<dyn std::error::Error>),
}

impl Failure {
    pub(crate) fn other(error: impl Into<Box<dyn std::error::Error>>) -> Self {
        Self::Other(error.into())
    }

    /// A write to standard output failed.
    pub(crate) fn stdout(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Self::ClosedPipe
        } else {
            Self::other(format!("standard output: cannot write: {error}"))
        }
    }

    /// Prints what went wrong (nothing for a closed pipe) and returns the exit status.
    pub(crate) fn report(self) -> ExitCode {
        match self {
            Self::ClosedPipe => ExitCode::from(EXIT_CLOSED_PIPE),
            Self::Capture { input, error } => {
                eprintln!("dmvpn: {}", capture_message(&input, &error));
                if let Some(hint) = capture_hint(&error) {
                    eprintln!("  hint: {hint}");
                }
                ExitCode::from(EXIT_CAPTURE)
            }
            Self::Set(errors) => {
                for set_error in &errors {
                    let input = format!("The file \"{}\"", set_error.path.display());
                    if set_error.error.position().and_then(|at| at.frame).is_some() {
                        eprintln!("dmvpn: {}", capture_message(&input, &set_error.error));
                    } else {
                        eprintln!("dmvpn: {set_error}");
                    }
                    if let Some(hint) = capture_hint(&set_error.error) {
                        eprintln!("  hint: {hint}");
                    }
                }
                ExitCode::from(EXIT_CAPTURE)
            }
            Self::Other(error) => {
                eprintln!("dmvpn: {error}");
                if let Some(hint) = other_hint(error.as_ref()) {
                    eprintln!("  hint: {hint}");
                }
                ExitCode::from(EXIT_ERROR)
            }
            Self::Findings(count, at) => {
                let name = at.severity().name();
                eprintln!(
                    "dmvpn: {count} finding(s) of severity {name} or worse (--fail-on {name})"
                );
                ExitCode::from(EXIT_FINDINGS)
            }
        }
    }
}

/// What to try for a capture that cannot be read.
fn capture_hint(error: &CaptureError) -> Option<&'static str> {
    match error {
        CaptureError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => Some(
            "check the path; `-` reads the capture from standard input (`tcpdump -w - | dmvpn decode -`)",
        ),
        CaptureError::Open { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
            Some(
                "the file is not readable by this user (captures made by tcpdump as root often are not)",
            )
        }
        CaptureError::Open { source, .. } if source.raw_os_error() == Some(21) => {
            Some("this is a folder: give a capture file in it")
        }
        CaptureError::UnknownFormat { .. } | CaptureError::Empty => Some(
            "dmvpn reads pcap and pcapng, gzip-compressed or not; `editcap -F pcapng IN OUT` converts \
             the other formats Wireshark reads",
        ),
        _ => None,
    }
}

/// What to try for a key file that is not one.
fn other_hint(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let keys = error.downcast_ref::<dmvpn::keys::KeysError>()?;
    Some(match keys {
        dmvpn::keys::KeysError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            "check the path given to --keys"
        }
        _ => {
            "--keys takes Wireshark's `esp_sa` file (ESP SAs, as Preferences > Protocols > ESP \
             writes it), an `ikev1_decryption_table` (IKEv1 keys by initiator cookie), or, for \
             `sessions`, IOS `crypto isakmp key SECRET address A.B.C.D` lines; `dmvpn decode --help` \
             says more"
        }
    })
}

/// tshark's words for a capture that stops early, and where it stops.
fn capture_message(input: &str, error: &CaptureError) -> String {
    let Some(at) = error.position() else {
        return error.to_string();
    };
    let Some(frame) = at.frame else {
        return error.to_string();
    };
    let offset = at.offset;
    match error {
        CaptureError::Truncated {
            what,
            needed,
            available,
            ..
        } => format!(
            "{input} appears to have been cut short in the middle of a packet: frame {frame} at \
             byte offset {offset} is incomplete (the capture ends inside its {what}: {needed} bytes \
             needed, {available} present)"
        ),
        CaptureError::CompressedTruncated { .. } => format!(
            "{input} appears to have been cut short in the middle of a packet: its gzip-compressed \
             stream ends before its end, at frame {frame} (byte offset {offset} of the \
             decompressed capture)"
        ),
        _ => format!("{input} appears to be damaged or corrupt: {error}"),
    }
}
