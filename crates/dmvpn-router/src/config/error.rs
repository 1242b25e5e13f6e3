//! Diagnostics: what is wrong with a configuration, and where.

use core::fmt;
use std::net::Ipv4Addr;

/// One problem in a configuration, at a line and column of its text.
///
/// `line` and `column` count from 1; both are 0 for a [`crate::config::Config`] built in code
/// (there is no text to point at). `text` is the whole line as written, so the diagnostic can be
/// shown without the file.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Diagnostic {
    /// The line, from 1.
    pub line: usize,
    /// The column (in characters, from 1) of the word the problem is about.
    pub column: usize,
    /// The line's text, without its line ending.
    pub text: String,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl Diagnostic {
    /// A diagnostic with no position (for configurations built in code).
    #[must_use]
    pub const fn unplaced(kind: ErrorKind) -> Self {
        Self {
            line: 0,
            column: 0,
            text: String::new(),
            kind,
        }
    }
}

/// Writes `line:column: message`, then the line and a caret under the column, like rustc.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}", self.kind);
        }
        write!(f, "{}:{}: {}", self.line, self.column, self.kind)?;
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        write!(f, "\n{pad} |\n{number} | {}", redact(&self.text))?;
        // The caret goes under the column's character; tabs are kept so it lines up.
        let lead: String = self
            .text
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "\n{pad} | {lead}^")
    }
}

/// The line with its secrets masked (each character of the word after `key`, `secret`,
/// `password`, `community`, `key-string`, `authentication-key`, `message-digest-key` or `nhrp
/// authentication` becomes `*`, and after a one-digit encryption type, the word after it), so the
/// caret of a diagnostic still lines up. After `pre-shared-key` (an IKEv2 keyring's, whose key
/// is the rest of the line: `pre-shared-key [local|remote] [0] KEY…`) and `pre-share key`,
/// every word to the end of the line is masked.
pub(crate) fn redact(line: &str) -> String {
    const BEFORE: &[&str] = &[
        "key",
        "secret",
        "password",
        "community",
        "key-string",
        "authentication-key",
        "message-digest-key",
    ];
    let mut out = String::with_capacity(line.len());
    let (mut previous, mut before_previous) = ("", "");
    let mut mask_next = false;
    // After `pre-shared-key`: `Some(false)` while its keywords may come, `Some(true)` once
    // the key has begun (everything after is masked).
    let mut line_key: Option<bool> = None;
    let mut rest = line;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        if word.is_empty() {
            break;
        }
        let lower = word.to_ascii_lowercase();
        let more = !rest[end..].trim().is_empty();
        // Also IOS's abbreviations: `ip nhrp auth S`, `crypto isakmp ke K`.
        let abbreviates =
            |keyword: &str, min: usize| lower.len() >= min && keyword.starts_with(&lower);
        let secret_follows = BEFORE.contains(&lower.as_str())
            || (previous.eq_ignore_ascii_case("nhrp") && abbreviates("authentication", 2))
            || (previous.eq_ignore_ascii_case("isakmp") && abbreviates("key", 2));
        let keyword_or_type = more
            && ((word.len() == 1 && word.bytes().all(|b| b.is_ascii_digit()))
                || abbreviates("local", 1)
                || abbreviates("remote", 1));
        match line_key {
            Some(true) => out.extend(word.chars().map(|_| '*')),
            Some(false) if keyword_or_type => out.push_str(word),
            Some(false) => {
                out.extend(word.chars().map(|_| '*'));
                line_key = Some(true);
            }
            // `authentication local pre-share key KEY…`: the rest of the line.
            None if mask_next && before_previous.eq_ignore_ascii_case("pre-share") => {
                out.extend(word.chars().map(|_| '*'));
                line_key = Some(true);
            }
            None if mask_next => {
                if word.len() == 1 && word.bytes().all(|b| b.is_ascii_digit()) {
                    out.push_str(word); // the encryption type; the key follows
                } else {
                    out.extend(word.chars().map(|_| '*'));
                    mask_next = false;
                }
            }
            None => {
                out.push_str(word);
                // (`pre-share` is the method, `pre-shared` on the keyring's command)
                if abbreviates("pre-shared-key", 10) {
                    line_key = Some(false);
                } else {
                    mask_next = secret_follows;
                }
            }
        }
        before_previous = previous;
        previous = word;
        rest = &rest[end..];
    }
    out
}

/// Every diagnostic of a configuration that did not load, in line order.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Errors(pub Vec<Diagnostic>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// What is wrong with a line, or with the configuration as a whole.
///
/// The first group is syntax (one line on its own), the second semantics (lines that do not fit
/// together, or that the router cannot run). Messages are lowercase without a trailing period.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A command IOS takes that the router cannot run as IOS would (an error; a warning, and
    /// skipped, with [`crate::config::Options::lenient`]).
    #[error("unsupported command `{command}`{}", in_mode(mode))]
    Unsupported {
        /// The words that were not understood.
        command: String,
        /// The sub-mode the line was in, if any.
        mode: Option<&'static str>,
    },
    /// A command IOS takes that the router does not use: skipped, with a warning.
    #[error(
        "`{command}` skipped{}: IOS takes it, this router does not use it",
        in_mode(mode)
    )]
    Skipped {
        /// The command's keywords (its values are left out: they may be secrets).
        command: String,
        /// The sub-mode the line was in, if any.
        mode: Option<&'static str>,
    },
    /// A word IOS refuses here (`% Invalid input detected`), with the keyword it is closest to.
    #[error(
        "invalid input `{word}`: expected {expected}{}",
        did_you_mean(suggestion)
    )]
    Invalid {
        /// The word.
        word: String,
        /// What IOS takes here.
        expected: &'static str,
        /// The keyword one or two typos away, if any.
        suggestion: Option<&'static str>,
    },
    /// An abbreviation of several keywords (`% Ambiguous command`).
    #[error(
        "ambiguous command: `{word}` abbreviates {}",
        candidates_text(candidates)
    )]
    Ambiguous {
        /// The word.
        word: String,
        /// The keywords it abbreviates.
        candidates: Vec<&'static str>,
    },
    /// A keyword or value was expected and something else (or nothing) was found.
    #[error("expected {expected}, found {}", found_text(found))]
    Expected {
        /// What would have been understood.
        expected: &'static str,
        /// What was there (`None`: the line ended).
        found: Option<String>,
    },
    /// A number outside the range the command takes.
    #[error("{what} {value} is out of range {min}..={max}")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// The value as written.
        value: String,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A subnet mask whose one bits are not contiguous.
    #[error("{mask} is not a valid subnet mask")]
    InvalidMask {
        /// The mask.
        mask: Ipv4Addr,
    },
    /// A destination with bits set outside its mask.
    #[error("{address} has bits outside the mask {mask}")]
    HostBits {
        /// The destination.
        address: Ipv4Addr,
        /// The mask.
        mask: Ipv4Addr,
    },
    /// Words after a complete command.
    #[error("unexpected `{word}` after the end of the command")]
    TrailingWords {
        /// The first extra word.
        word: String,
    },
    /// An indented line with no sub-mode to belong to.
    #[error("indented line outside any sub-mode")]
    NoMode,
    /// A command that must appear once appears again.
    #[error("{what} is set twice (first at line {first})")]
    Duplicate {
        /// The command.
        what: &'static str,
        /// The line of the first one.
        first: usize,
    },
    /// A command that only a tunnel interface takes, on another interface.
    #[error("`{command}` is only valid on a tunnel interface, not on {interface}")]
    NotATunnel {
        /// The command.
        command: &'static str,
        /// The interface.
        interface: String,
    },
    /// A non-comment line after `end`.
    #[error("text after `end`")]
    AfterEnd,
    /// A secret longer than the protocol carries.
    #[error("{what} of {len} characters is longer than {max}")]
    SecretLength {
        /// The field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The most allowed.
        max: usize,
    },

    /// The router runs exactly one tunnel interface.
    #[error("the router runs one tunnel interface; this configuration has {count}")]
    TunnelCount {
        /// How many there are.
        count: usize,
    },
    /// A required command is missing from a block.
    #[error("{block} has no `{command}`")]
    Missing {
        /// The block (e.g. `interface Tunnel0`).
        block: String,
        /// The command it needs.
        command: &'static str,
    },
    /// Two commands of one block that cannot go together.
    #[error("`{command}` cannot be used with `{other}`")]
    Conflict {
        /// This command.
        command: &'static str,
        /// The one it conflicts with.
        other: &'static str,
    },
    /// A tunnel-side address outside the tunnel's subnet.
    #[error("{what} {address} is outside the tunnel subnet {network}/{prefix}")]
    OutsideTunnel {
        /// Which address.
        what: &'static str,
        /// The address.
        address: Ipv4Addr,
        /// The tunnel network.
        network: Ipv4Addr,
        /// Its prefix length.
        prefix: u8,
    },
    /// A name that refers to nothing defined.
    #[error("{what} `{name}` is not defined")]
    Undefined {
        /// What kind of name.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// An NHS whose NBMA address is known neither from `nbma` nor from an `ip nhrp map`.
    #[error("no nbma address for nhs {nhs}: add `nbma ADDRESS` or `ip nhrp map {nhs} ADDRESS`")]
    NhsWithoutNbma {
        /// The NHS.
        nhs: Ipv4Addr,
    },
    /// A point-to-point spoke whose NHS is not at the tunnel's destination.
    #[error("nhs nbma address {nbma} is not the tunnel destination {destination}")]
    NhsNotDestination {
        /// The NHS's NBMA address.
        nbma: Ipv4Addr,
        /// `tunnel destination`.
        destination: Ipv4Addr,
    },
    /// Two interfaces with addresses in one subnet.
    #[error("{address}/{prefix} overlaps with {other}")]
    Overlap {
        /// This address.
        address: Ipv4Addr,
        /// Its prefix length.
        prefix: u8,
        /// The interface it overlaps with.
        other: String,
    },
    /// An EIGRP interface command for an AS that has no `router eigrp`.
    #[error("there is no `router eigrp {asn}`")]
    NoSuchEigrp {
        /// The AS number.
        asn: u16,
    },
    /// IOS's default ISAKMP authentication (RSA signatures) or another method that is not
    /// pre-shared keys.
    #[error(
        "isakmp policy {priority} does not say `authentication pre-share` (only pre-shared keys are supported; the IOS default is rsa-sig)"
    )]
    NotPreShare {
        /// The policy.
        priority: u16,
    },
    /// No `crypto isakmp key` covers a peer the router must talk to.
    #[error("no `crypto isakmp key` covers peer {peer}")]
    NoKey {
        /// The peer's NBMA address.
        peer: Ipv4Addr,
    },
    /// An IKEv2 keyring peer whose `pre-shared-key local` and `remote` differ.
    #[error(
        "keyring peer `{peer}` has different `pre-shared-key local` and `pre-shared-key remote` keys: asymmetric keys are not supported (the router authenticates both ways with one key)"
    )]
    AsymmetricKey {
        /// The keyring peer's name.
        peer: String,
    },
    /// No peer of the IKEv2 keyring covers a peer the router must talk to.
    #[error("no peer of `crypto ikev2 keyring {keyring}` with a key covers peer {peer}")]
    NoKeyringKey {
        /// The peer's NBMA address.
        peer: Ipv4Addr,
        /// The keyring.
        keyring: String,
    },
    /// No IKEv2 proposal to offer from the local address: no policy matches it, or its
    /// proposals are undefined or incomplete.
    #[error("no `crypto ikev2 policy` for local address {local} has a complete proposal")]
    NoIkev2Proposal {
        /// The NBMA address.
        local: Ipv4Addr,
    },
    /// `tunnel protection` without any `crypto isakmp policy`.
    #[error("`tunnel protection` needs at least one `crypto isakmp policy`")]
    NoPolicy,
    /// An NHRP hub (`ip nhrp map multicast dynamic`, no NHS) on a point-to-point tunnel.
    #[error("a hub (no `ip nhrp nhs`) needs `tunnel mode gre multipoint`")]
    HubNotMultipoint,
    /// EIGRP will not run on an interface, because no `network` covers its address.
    #[error("eigrp {asn} does not run on {interface}: no `network` covers {address}")]
    NotCovered {
        /// The AS number.
        asn: u16,
        /// The interface.
        interface: String,
        /// Its address.
        address: Ipv4Addr,
    },
    /// A DMVPN Phase 2/3 command that does nothing, or does not work, with the rest of the
    /// tunnel (a warning: IOS takes it).
    #[error("`{command}` {why}")]
    Phase {
        /// The command.
        command: &'static str,
        /// Why it has no effect or breaks spoke-to-spoke tunnels.
        why: &'static str,
    },
}

impl ErrorKind {
    /// [`Self::Undefined`]: `name`, a `what`, is not defined.
    pub(crate) fn undefined(what: &'static str, name: &str) -> Self {
        Self::Undefined {
            what,
            name: name.to_owned(),
        }
    }
}

fn in_mode(mode: &Option<&'static str>) -> String {
    mode.map(|m| format!(" in {m} mode")).unwrap_or_default()
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

fn candidates_text(candidates: &[&'static str]) -> String {
    let quoted: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
    quoted.join(", ")
}

fn found_text(found: &Option<String>) -> String {
    found
        .as_ref()
        .map_or_else(|| "end of line".to_owned(), |word| format!("`{word}`"))
}
