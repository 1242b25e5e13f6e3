//! The line parser: the loop over lines and the modes they open. Words with their columns
//! are [`words`]; each configuration mode's commands have their own file.

use std::collections::HashMap;

use super::grammar::{self, Match};
use super::{
    Config, Diagnostic, ErrorKind, Ikev2Policy, Ikev2Profile, Ikev2Proposal, IpsecProfile, Keyring,
    KeyringPeer, Options,
};

mod eigrp;
mod global;
mod ikev2;
mod interface;
mod ipsec;
mod isakmp;
mod words;

use words::Words;

/// Longest `ip nhrp authentication` string: the Cisco extension carries 8 bytes.
pub(super) const NHRP_PASSWORD_MAX: usize = 8;

/// Most transform sets one `set transform-set` line names (IOS: up to six, tried in order).
pub(super) const MAX_PROFILE_TRANSFORM_SETS: usize = 6;

/// What a diagnostic is about, so the semantic checks can point at the line that made it.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub(crate) enum Origin {
    Hostname,
    Interface(usize),
    Description(usize),
    Address(usize),
    Mtu(usize),
    AdjustMss(usize),
    Shutdown(usize),
    TunnelSource(usize),
    TunnelDestination(usize),
    TunnelMode(usize),
    TunnelKey(usize),
    Protection(usize),
    NetworkId(usize),
    Authentication(usize),
    Holdtime(usize),
    RegistrationTimeout(usize),
    Redirect(usize),
    Shortcut(usize),
    Map(usize, usize),
    Multicast(usize, usize),
    Nhs(usize, usize),
    SplitHorizon(usize, usize),
    NextHopSelf(usize, usize),
    Eigrp(usize),
    Network(usize, usize),
    AutoSummary(usize),
    RouterId(usize),
    Policy(usize),
    PolicyEncryption(usize),
    PolicyHash(usize),
    PolicyGroup(usize),
    PolicyAuthentication(usize),
    PolicyLifetime(usize),
    Key(usize),
    TransformSet(usize),
    TransformMode(usize),
    Profile(usize),
    ProfileSet(usize, usize),
    ProfilePfs(usize),
    ProfileLifetime(usize),
    ProfileLifetimeKb(usize),
    ProfileIkev2(usize),
    Route(usize),
    Ikev2Proposal(usize),
    Ikev2Policy(usize),
    Ikev2PolicyProposal(usize, usize),
    Keyring(usize),
    KeyringPeer(usize, usize),
    KeyringPeerAddress(usize, usize),
    KeyringPeerKey(usize, usize),
    Ikev2Profile(usize),
    Ikev2ProfileMatch(usize),
    Ikev2ProfileIdentity(usize),
    Ikev2ProfileAuthLocal(usize),
    Ikev2ProfileAuthRemote(usize),
    Ikev2ProfileKeyring(usize),
    Ikev2ProfileLifetime(usize),
    Ikev2ProfileDpd(usize),
    CookieChallenge,
}

/// Where a command was: its line and the column of the word that matters.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct Place {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// The place of every command, by what it set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Origins(HashMap<Origin, Place>);

impl Origins {
    pub(crate) fn get(&self, origin: Origin) -> Option<Place> {
        self.0.get(&origin).copied()
    }

    /// Records a command that may appear once; a second one is an error naming the first.
    fn once(&mut self, origin: Origin, place: Place, what: &'static str) -> Result<()> {
        if self.0.contains_key(&origin) {
            return Err(self.duplicate(origin, place.column, what));
        }
        self.0.insert(origin, place);
        Ok(())
    }

    /// The error of a line at `column` repeating what `first` said.
    fn duplicate(&self, first: Origin, column: usize, what: &'static str) -> Fail {
        Fail::at(
            column,
            ErrorKind::Duplicate {
                what,
                first: self.get(first).map_or(0, |p| p.line),
            },
        )
    }

    fn set(&mut self, origin: Origin, place: Place) {
        self.0.entry(origin).or_insert(place);
    }
}

/// A block IOS names on its opening line (`crypto ikev2 proposal NAME`, ` peer NAME`): a
/// second line with the name enters the block again.
trait Named: Default {
    fn name(&self) -> &str;
    fn set_name(&mut self, name: &str);
}

macro_rules! named {
    ($($block:ty),*) => {$(
        impl Named for $block {
            fn name(&self) -> &str {
                &self.name
            }
            fn set_name(&mut self, name: &str) {
                name.clone_into(&mut self.name);
            }
        }
    )*};
}

named!(
    Ikev2Proposal,
    Ikev2Policy,
    Keyring,
    KeyringPeer,
    Ikev2Profile,
    IpsecProfile
);

/// A line opening a named block: where it is, and the name.
struct Opening<'a> {
    origins: &'a mut Origins,
    at: Place,
    name: &'a str,
}

impl Opening<'_> {
    /// The index of the block with the name in `list`, added (with its place) if it is new.
    fn block<T: Named>(&mut self, list: &mut Vec<T>, origin: impl Fn(usize) -> Origin) -> usize {
        if let Some(index) = list.iter().position(|b| b.name() == self.name) {
            return index;
        }
        let mut new = T::default();
        new.set_name(self.name);
        list.push(new);
        self.origins.set(origin(list.len() - 1), self.at);
        list.len() - 1
    }
}

/// A failed line: the column and what is wrong.
#[derive(Debug)]
struct Fail {
    column: usize,
    kind: ErrorKind,
}

impl Fail {
    const fn at(column: usize, kind: ErrorKind) -> Self {
        Self { column, kind }
    }
}

type Result<T> = core::result::Result<T, Fail>;

/// The sub-mode the parser is in.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Global,
    Interface(usize),
    Eigrp(usize),
    Policy(usize),
    TransformSet(usize),
    Profile(usize),
    Ikev2Proposal(usize),
    Ikev2Policy(usize),
    Keyring(usize),
    /// A keyring's `peer` block: (keyring, peer).
    KeyringPeer(usize, usize),
    Ikev2Profile(usize),
    /// Under a command that was skipped or refused: its sub-mode lines go with it.
    Skip,
    /// After `end`.
    End,
}

impl Mode {
    const fn name(self) -> Option<&'static str> {
        match self {
            Self::Interface(_) => Some("interface"),
            Self::Eigrp(_) => Some("router eigrp"),
            Self::Policy(_) => Some("crypto isakmp policy"),
            Self::TransformSet(_) => Some("crypto ipsec transform-set"),
            Self::Profile(_) => Some("crypto ipsec profile"),
            Self::Ikev2Proposal(_) => Some("crypto ikev2 proposal"),
            Self::Ikev2Policy(_) => Some("crypto ikev2 policy"),
            Self::Keyring(_) => Some("crypto ikev2 keyring"),
            Self::KeyringPeer(..) => Some("crypto ikev2 keyring peer"),
            Self::Ikev2Profile(_) => Some("crypto ikev2 profile"),
            Self::Global | Self::Skip | Self::End => None,
        }
    }

    /// The mode `exit` returns to: a keyring's from a peer's, else global configuration.
    const fn parent(self) -> Self {
        match self {
            Self::KeyringPeer(keyring, _) => Self::Keyring(keyring),
            _ => Self::Global,
        }
    }

    const fn is_sub_mode(self) -> bool {
        !matches!(self, Self::Global | Self::Skip | Self::End)
    }
}

/// The global commands the router reads (besides IOS's others, [`grammar::GLOBAL_IOS`]).
const GLOBAL: &[&str] = &[
    "hostname",
    "interface",
    "router",
    "crypto",
    "ip",
    "end",
    "banner",
    "version",
    "no",
    "exit",
];

const INTERFACE: &[&str] = &["description", "ip", "shutdown", "tunnel", "no", "exit"];
const INTERFACE_IP: &[&str] = &[
    "address",
    "mtu",
    "tcp",
    "nhrp",
    "split-horizon",
    "next-hop-self",
];
const EIGRP: &[&str] = &[
    "network",
    "auto-summary",
    "eigrp",
    "maximum-prefix",
    "no",
    "exit",
];
const POLICY: &[&str] = &[
    "encryption",
    "hash",
    "group",
    "authentication",
    "lifetime",
    "no",
    "exit",
    "default",
];
const TRANSFORM: &[&str] = &["mode", "no", "exit", "default"];
/// `crypto ikev2 proposal` mode: the router's four, then IOS's others.
const IKEV2_PROPOSAL: &[&str] = &[
    "encryption",
    "integrity",
    "prf",
    "group",
    "default",
    "exit",
    "no",
];
const IKEV2_POLICY: &[&str] = &["proposal", "match", "default", "exit", "no"];
const KEYRING: &[&str] = &["peer", "description", "exit", "no"];
const KEYRING_PEER: &[&str] = &[
    "address",
    "pre-shared-key",
    "description",
    "exit",
    "hostname",
    "identity",
    "no",
];
const IKEV2_PROFILE: &[&str] = &[
    "match",
    "identity",
    "authentication",
    "keyring",
    "lifetime",
    "dpd",
    "aaa",
    "config-exchange",
    "default",
    "description",
    "dynamic",
    "exit",
    "ivrf",
    "nat",
    "no",
    "pki",
    "redirect",
    "shutdown",
    "virtual-template",
];
const PROFILE: &[&str] = &[
    "set",
    "description",
    "responder-only",
    "no",
    "exit",
    "default",
];

/// `show running-config`'s own lines that are no command: `Building configuration...` and
/// `Current configuration : N bytes`.
fn is_frame(trimmed: &str) -> bool {
    trimmed.starts_with("Building configuration")
        || trimmed.starts_with("Current configuration")
        || trimmed.starts_with("Last configuration change")
        || trimmed.starts_with("NVRAM config last updated")
}

/// A pasted prompt at the start of a line: `R1#`, `R1>` (an exec line: the whole line is no
/// configuration) or `R1(config-if)#` (the command follows). The prompt's length in bytes and
/// whether it is a configuration prompt.
fn prompt(raw: &str) -> Option<(usize, bool)> {
    let host = raw
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(raw.len());
    if host == 0 {
        return None;
    }
    let rest = &raw[host..];
    // `(config)`, `(config-if)`, `(config-isakmp)`, `(cfg-crypto-trans)`, `(ipsec-profile)`.
    if let Some(after) = rest.strip_prefix('(') {
        let close = after.find(")#")?;
        let mode = &after[..close];
        if mode.is_empty() || !mode.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        return Some((host + 1 + close + 2, true));
    }
    match rest.chars().next() {
        Some('#' | '>') => Some((host + 1, false)),
        _ => None,
    }
}

struct Parser {
    config: Config,
    origins: Origins,
    mode: Mode,
    line: usize,
    /// Whether the current block has had an indented line (`show running-config`'s shape, where
    /// an unindented line leaves the block); without one, a block is typed IOS's way and a line
    /// stays in it while it is one of the block's commands.
    block_indented: bool,
    /// The delimiter of the banner being read.
    banner: Option<String>,
    /// Whether a configuration command has been read (exec lines before it are skipped).
    started: bool,
    /// The indentation of a sub-mode command that was skipped: deeper lines are its own.
    skip_deeper: Option<usize>,
}

/// Parses `text`: the configuration, where each command was, the errors and the warnings.
pub(super) fn parse(
    text: &str,
    options: Options,
) -> (Config, Origins, Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut parser = Parser {
        config: Config::default(),
        origins: Origins::default(),
        mode: Mode::Global,
        line: 0,
        block_indented: false,
        banner: None,
        started: false,
        skip_deeper: None,
    };
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for (index, original) in text.lines().enumerate() {
        parser.line = index + 1;
        // A byte-order mark (a file saved by a Windows editor) is no part of the first command.
        let raw = if index == 0 {
            original.trim_start_matches('\u{feff}')
        } else {
            original
        };
        if let Some(delimiter) = &parser.banner {
            if raw.contains(delimiter.as_str()) {
                parser.banner = None;
            }
            continue;
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('!') || is_frame(trimmed) {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if let Some(depth) = parser.skip_deeper {
            if indent > depth {
                continue; // the sub-mode of a command skipped inside a block (an ATM `pvc`)
            }
            parser.skip_deeper = None;
        }
        let mut words = Words::new(raw, None);
        let mut indented = indent > 0;
        if !indented && let Some((len, config)) = prompt(raw) {
            if !config || !words.strip_prefix(raw, len) {
                continue; // an exec line (`R1#show running-config`), or a bare prompt
            }
            indented = false;
        }
        if !parser.started && words.is_exec() {
            continue; // `enable`, `configure terminal` before the configuration
        }
        if matches!(parser.mode, Mode::End) && !indented {
            // After `end`, IOS is at the exec prompt: `write memory`, `show …` are no
            // configuration, and `configure terminal` starts another.
            if words.is_configure() {
                parser.mode = Mode::Global;
                continue;
            }
            if words.is_exec() || words.is_exec_after_end() {
                continue;
            }
        }
        parser.started = true;
        if words.is_exit() && parser.mode.is_sub_mode() {
            parser.mode = parser.mode.parent();
            continue;
        }
        if indented {
            parser.block_indented = true;
        } else {
            match parser.mode {
                Mode::End => {}
                mode if mode.is_sub_mode() => {
                    if parser.block_indented || !words.belongs_to(mode) {
                        parser.mode = Mode::Global;
                    }
                }
                // A skipped block typed without indentation keeps what is not a global command.
                Mode::Skip if !parser.block_indented && !words.is_global() => continue,
                _ => parser.mode = Mode::Global,
            }
        }
        words.mode = parser.mode.name();
        let was_global = matches!(parser.mode, Mode::Global);
        let outcome = match parser.mode {
            Mode::End => Err(Fail::at(words.column(), ErrorKind::AfterEnd)),
            Mode::Skip => continue,
            Mode::Global if indented => Err(Fail::at(words.column(), ErrorKind::NoMode)),
            Mode::Global => {
                parser.block_indented = false;
                parser.global(&mut words)
            }
            Mode::Interface(i) => parser.interface(i, &mut words, raw),
            Mode::Eigrp(i) => parser.eigrp(i, &mut words),
            Mode::Policy(i) => parser.policy(i, &mut words),
            Mode::TransformSet(i) => parser.transform_mode(i, &mut words),
            Mode::Profile(i) => parser.profile(i, &mut words),
            Mode::Ikev2Proposal(i) => parser.ikev2_proposal(i, &mut words),
            Mode::Ikev2Policy(i) => parser.ikev2_policy(i, &mut words),
            Mode::Keyring(i) => parser.keyring(i, &mut words),
            // `peer` in a peer's block starts the keyring's next peer.
            Mode::KeyringPeer(i, _) if words.starts_with_peer() => parser.keyring(i, &mut words),
            Mode::KeyringPeer(i, p) => parser.keyring_peer((i, p), &mut words, raw),
            Mode::Ikev2Profile(i) => parser.ikev2_profile(i, &mut words),
        };
        let Err(fail) = outcome else { continue };
        if was_global && !matches!(parser.mode, Mode::End) {
            // A global command that failed opens no mode: its sub-mode lines go with it.
            parser.mode = Mode::Skip;
        }
        let diagnostic = Diagnostic {
            line: parser.line,
            column: fail.column,
            text: original.to_owned(),
            kind: fail.kind,
        };
        let skipped = match diagnostic.kind {
            ErrorKind::Skipped { .. } => true,
            ErrorKind::Unsupported { .. } => options.lenient,
            _ => false,
        };
        if skipped && !was_global {
            parser.skip_deeper = Some(indent);
        }
        if skipped {
            warnings.push(diagnostic);
        } else {
            errors.push(diagnostic);
        }
        if matches!(parser.mode, Mode::End) {
            break; // one error for whatever follows `end`
        }
    }
    (parser.config, parser.origins, errors, warnings)
}

fn known(word: &str, ours: &[&'static str], ios: &[&'static str]) -> bool {
    matches!(
        grammar::lookup(word, ours, ios),
        Match::Ours(_) | Match::Ios(_)
    )
}

fn belongs(words: &[&str], mode: Mode) -> bool {
    let Some((&first, rest)) = words.split_first() else {
        return false;
    };
    let (ours, ios): (&[&'static str], &[&'static str]) = match mode {
        Mode::Interface(_) => (INTERFACE, grammar::INTERFACE_IOS),
        Mode::Eigrp(_) => (EIGRP, grammar::EIGRP_IOS),
        Mode::Policy(_) => (POLICY, &[]),
        Mode::TransformSet(_) => (TRANSFORM, &[]),
        Mode::Profile(_) => (PROFILE, &[]),
        Mode::Ikev2Proposal(_) => (IKEV2_PROPOSAL, &[]),
        Mode::Ikev2Policy(_) => (IKEV2_POLICY, &[]),
        Mode::Keyring(_) => (KEYRING, &[]),
        Mode::KeyringPeer(..) => (KEYRING_PEER, &["peer"]),
        Mode::Ikev2Profile(_) => (IKEV2_PROFILE, &[]),
        Mode::Global | Mode::Skip | Mode::End => return false,
    };
    // IOS tries the sub-mode first: one of the router's commands of the block stays in it;
    // another of IOS's stays unless it is a global command too.
    let keyword = match grammar::lookup(first, ours, ios) {
        Match::Ours(index) => ours[index],
        Match::Ios(_) => return !known(first, GLOBAL, grammar::GLOBAL_IOS),
        Match::Ambiguous(_) | Match::Invalid(_) => return false,
    };
    match (keyword, mode, rest.first()) {
        ("no", _, _) => belongs(rest, mode),
        // `ip` belongs to an interface when what follows is one of the router's interface `ip`
        // commands, or another that is no global one (`ip dhcp pool` opens a global mode).
        ("ip", Mode::Interface(_), Some(second)) => {
            matches!(grammar::lookup(second, INTERFACE_IP, &[]), Match::Ours(_))
                || (known(second, INTERFACE_IP, grammar::INTERFACE_IP_IOS)
                    && !known(second, &["route"], grammar::GLOBAL_IP_IOS))
        }
        ("ip", _, _) => false,
        _ => true,
    }
}

impl Parser {
    /// Ends a command that may appear once in its block: nothing may follow on the line, and
    /// a second one is an error naming the first.
    fn end_once(
        &mut self,
        words: &Words<'_>,
        origin: Origin,
        place: Place,
        what: &'static str,
    ) -> Result<()> {
        words.end()?;
        self.origins.once(origin, place, what)
    }

    fn place(&self, column: usize) -> Place {
        Place {
            line: self.line,
            column,
        }
    }

    fn enter(&mut self, mode: Mode) {
        self.mode = mode;
        self.block_indented = false;
    }
}
