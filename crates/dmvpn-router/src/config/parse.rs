//! The line parser: words with their columns, global commands and the sub-modes they open.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::grammar::{self, Match};
use super::{
    Config, DhGroup, Diagnostic, Eigrp, ErrorKind, EspEncryption, EspIntegrity, EspMode,
    IkeEncryption, IkeHash, Interface, IpRoute, IpsecProfile, IsakmpKey, IsakmpPolicy,
    MulticastMap, Network, NhrpMap, Nhs, Options, Prefix, Secret, TransformSet, Tunnel, TunnelMode,
    TunnelSource,
};

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
    Route(usize),
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
        if let Some(first) = self.0.get(&origin) {
            return Err(Fail::at(
                place.column,
                ErrorKind::Duplicate {
                    what,
                    first: first.line,
                },
            ));
        }
        self.0.insert(origin, place);
        Ok(())
    }

    fn set(&mut self, origin: Origin, place: Place) {
        self.0.entry(origin).or_insert(place);
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

/// The words of one line, each with its column (in characters, from 1).
struct Words<'a> {
    words: Vec<(usize, &'a str)>,
    next: usize,
    /// The whole line without its indentation, for [`ErrorKind::Unsupported`].
    command: &'a str,
    /// The column just past the last character, for errors at the end of the line.
    end: usize,
    mode: Option<&'static str>,
    /// The keywords matched so far, as IOS spells them (for [`ErrorKind::Skipped`]).
    path: Vec<&'static str>,
}

impl<'a> Words<'a> {
    fn new(line: &'a str, mode: Option<&'static str>) -> Self {
        let mut words = Vec::new();
        let mut start = None;
        let mut column = 0;
        for (byte, c) in line.char_indices() {
            column += 1;
            match (c.is_whitespace(), start) {
                (false, None) => start = Some((byte, column)),
                (true, Some((from, col))) => {
                    words.push((col, &line[from..byte]));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some((from, col)) = start {
            words.push((col, &line[from..]));
        }
        Self {
            words,
            next: 0,
            command: line.trim(),
            end: column + 1,
            mode,
            path: Vec::new(),
        }
    }

    fn peek(&self) -> Option<(usize, &'a str)> {
        self.words.get(self.next).copied()
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end, |(column, _)| column)
    }

    /// The next word, which must exist.
    fn word(&mut self, expected: &'static str) -> Result<(usize, &'a str)> {
        let word = self.peek().ok_or(Fail::at(
            self.end,
            ErrorKind::Expected {
                expected,
                found: None,
            },
        ))?;
        self.next += 1;
        Ok(word)
    }

    /// The next word if it is `keyword` (without case).
    fn eat(&mut self, keyword: &str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case(keyword));
        if hit {
            self.next += 1;
        }
        hit
    }

    /// The index in `keywords` of the next word, by IOS's abbreviation rule; any other word is
    /// refused as IOS refuses it (with the closest keyword as a suggestion).
    fn keyword(&mut self, keywords: &[&'static str], expected: &'static str) -> Result<usize> {
        self.keyword_in(keywords, &[], expected)
    }

    /// The index in `ours` of the next word, among the keywords IOS takes at this point (`ours`
    /// and `ios`). One of `ios` is [`ErrorKind::Skipped`]: IOS takes it, the router does not use
    /// it.
    fn keyword_in(
        &mut self,
        ours: &[&'static str],
        ios: &[&'static str],
        expected: &'static str,
    ) -> Result<usize> {
        let (column, word) = self.word(expected)?;
        match grammar::lookup(word, ours, ios) {
            Match::Ours(index) => {
                self.path.push(ours[index]);
                Ok(index)
            }
            Match::Ios(keyword) => {
                self.path.push(keyword);
                Err(self.skipped(column))
            }
            Match::Ambiguous(candidates) => Err(Fail::at(
                column,
                ErrorKind::Ambiguous {
                    word: word.to_owned(),
                    candidates,
                },
            )),
            Match::Invalid(suggestion) => Err(Fail::at(
                column,
                ErrorKind::Invalid {
                    word: word.to_owned(),
                    expected,
                    suggestion,
                },
            )),
        }
    }

    /// The next word if it is `keyword` or an abbreviation of it (`keyword` being the only
    /// keyword valid here that it abbreviates).
    fn eat_abbreviated(&mut self, keyword: &'static str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|(_, w)| grammar::lookup(w, &[keyword], &[]) == Match::Ours(0));
        if hit {
            self.next += 1;
            self.path.push(keyword);
        }
        hit
    }

    /// The command IOS takes and the router skips, named by its keywords (never its values,
    /// which may be secrets).
    fn skipped(&self, column: usize) -> Fail {
        Fail::at(
            column,
            ErrorKind::Skipped {
                command: self.path.join(" "),
                mode: self.mode,
            },
        )
    }

    fn unsupported(&self, column: usize) -> Fail {
        Fail::at(
            column,
            ErrorKind::Unsupported {
                command: self.command.to_owned(),
                mode: self.mode,
            },
        )
    }

    fn number(&mut self, what: &'static str, min: u64, max: u64) -> Result<(usize, u64)> {
        let (column, word) = self.word(what)?;
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Fail::at(
                column,
                ErrorKind::Expected {
                    expected: what,
                    found: Some(word.to_owned()),
                },
            ));
        }
        // Digits only: an overflow is out of range too.
        match word.parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok((column, value)),
            _ => Err(Fail::at(
                column,
                ErrorKind::OutOfRange {
                    what,
                    value: word.to_owned(),
                    min,
                    max,
                },
            )),
        }
    }

    fn address(&mut self, what: &'static str) -> Result<(usize, Ipv4Addr)> {
        let (column, word) = self.word(what)?;
        let address = word.parse().map_err(|_| {
            Fail::at(
                column,
                ErrorKind::Expected {
                    expected: what,
                    found: Some(word.to_owned()),
                },
            )
        })?;
        Ok((column, address))
    }

    fn mask(&mut self) -> Result<(usize, Ipv4Addr)> {
        let (column, mask) = self.address("a subnet mask")?;
        let bits = mask.to_bits();
        if bits.leading_ones() + bits.trailing_zeros() < 32 {
            return Err(Fail::at(column, ErrorKind::InvalidMask { mask }));
        }
        Ok((column, mask))
    }

    /// The rest of the line from the next word on, as written (for `description`).
    fn rest(&mut self, line: &'a str) -> Option<&'a str> {
        let (column, _) = self.peek()?;
        self.next = self.words.len();
        let start = line.char_indices().nth(column - 1).map_or(0, |(b, _)| b);
        line.get(start..).map(str::trim_end)
    }

    /// The words from the one at `column` on, as written (joined by single spaces).
    fn rest_from(&mut self, column: usize) -> String {
        let from = self
            .words
            .iter()
            .position(|(c, _)| *c >= column)
            .unwrap_or(self.words.len());
        self.next = self.words.len();
        let rest: Vec<&str> = self.words[from..].iter().map(|(_, w)| *w).collect();
        rest.join(" ")
    }

    /// Nothing may follow.
    fn end(&self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some((column, word)) => Err(Fail::at(
                column,
                ErrorKind::TrailingWords {
                    word: word.to_owned(),
                },
            )),
        }
    }
}

/// The sub-mode the parser is in.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Global,
    Interface(usize),
    Eigrp(usize),
    Policy(usize),
    TransformSet(usize),
    Profile(usize),
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
            Self::Global | Self::Skip | Self::End => None,
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
const EIGRP: &[&str] = &["network", "auto-summary", "eigrp", "no", "exit"];
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
            parser.mode = Mode::Global;
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

impl<'a> Words<'a> {
    /// Drops a pasted prompt of `len` bytes from the first word; whether a command is left.
    fn strip_prefix(&mut self, raw: &'a str, len: usize) -> bool {
        let Some(&(column, word)) = self.words.first() else {
            return false;
        };
        let prompt_chars = raw.get(..len).map_or(0, |p| p.chars().count());
        let cut = prompt_chars.saturating_sub(column - 1);
        let rest_byte = word.char_indices().nth(cut).map_or(word.len(), |(b, _)| b);
        let rest = &word[rest_byte..];
        if rest.is_empty() {
            self.words.remove(0);
        } else {
            self.words[0] = (column + cut, rest);
        }
        self.command = raw.get(len..).map_or("", str::trim);
        !self.words.is_empty()
    }

    fn first(&self) -> Option<&str> {
        self.words.first().map(|(_, w)| *w)
    }

    fn nth(&self, n: usize) -> Option<&str> {
        self.words.get(n).map(|(_, w)| *w)
    }

    /// `exit` (or an abbreviation IOS takes for it).
    fn is_exit(&self) -> bool {
        self.words.len() == 1
            && self
                .first()
                .is_some_and(|w| w.len() >= 3 && "exit".starts_with(&w.to_ascii_lowercase()))
    }

    /// An exec command pasted before the configuration: `enable`, `configure terminal`,
    /// `show running-config`, `terminal length 0`.
    fn is_exec(&self) -> bool {
        let lower = |w: &str| w.to_ascii_lowercase();
        let abbreviates =
            |w: &str, keyword: &str, min: usize| w.len() >= min && keyword.starts_with(w);
        match (
            self.first().map(lower),
            self.nth(1).map(lower),
            self.words.len(),
        ) {
            (Some(w), None, 1) => abbreviates(&w, "enable", 2),
            (Some(w), Some(t), 2) if abbreviates(&w, "configure", 4) => {
                abbreviates(&t, "terminal", 1)
            }
            (Some(w), Some(t), _) if abbreviates(&w, "show", 2) => {
                abbreviates(&t, "running-config", 3) || abbreviates(&t, "startup-config", 3)
            }
            (Some(w), Some(t), _) if abbreviates(&w, "terminal", 4) => {
                abbreviates(&t, "length", 3) || abbreviates(&t, "width", 3)
            }
            _ => false,
        }
    }

    /// `configure terminal` (`conf t`).
    fn is_configure(&self) -> bool {
        let lower = |w: &str| w.to_ascii_lowercase();
        match (
            self.first().map(lower),
            self.nth(1).map(lower),
            self.words.len(),
        ) {
            (Some(w), Some(t), 2) => {
                w.len() >= 4 && "configure".starts_with(&w) && "terminal".starts_with(&t)
            }
            _ => false,
        }
    }

    /// An exec command typed after `end`: `write [memory]`, `copy running-config …`, `disable`.
    fn is_exec_after_end(&self) -> bool {
        self.first().is_some_and(|w| {
            let w = w.to_ascii_lowercase();
            ["write", "copy", "disable", "exit", "logout", "reload"]
                .iter()
                .any(|k| w.len() >= 2 && k.starts_with(&w))
        })
    }

    /// Whether the first word is a global command.
    fn is_global(&self) -> bool {
        self.first().is_some_and(|w| {
            matches!(
                grammar::lookup(w, GLOBAL, grammar::GLOBAL_IOS),
                Match::Ours(_) | Match::Ios(_)
            )
        })
    }

    /// For an unindented line in a block typed without indentation: whether it is one of the
    /// block's commands rather than a global one (IOS tries the sub-mode first).
    fn belongs_to(&self, mode: Mode) -> bool {
        let words: Vec<&str> = self.words.iter().map(|(_, w)| *w).collect();
        belongs(&words, mode)
    }
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

    fn global(&mut self, words: &mut Words<'_>) -> Result<()> {
        let (column, _) = words.peek().ok_or(Fail::at(1, ErrorKind::NoMode))?;
        match words.keyword_in(GLOBAL, grammar::GLOBAL_IOS, "a global command")? {
            0 => {
                let (_, name) = words.word("a host name")?;
                words.end()?;
                self.origins
                    .once(Origin::Hostname, self.place(column), "hostname")?;
                self.config.hostname = Some(name.to_owned());
            }
            1 => self.interface_header(words)?,
            2 => self.router(words, column)?,
            3 => self.crypto(words, column)?,
            4 => {
                words.keyword_in(&["route"], grammar::GLOBAL_IP_IOS, "an `ip` command")?;
                self.route(words, column)?;
            }
            5 => {
                words.end()?;
                self.mode = Mode::End;
            }
            6 => self.banner(words)?,
            7 => {
                // `version 15.4`: the software that printed the configuration.
                words.word("a version")?;
                words.end()?;
            }
            8 => {
                // `no …`: turning off something the router does not run.
                let negated = words.keyword_in(GLOBAL, grammar::GLOBAL_IOS, "a global command")?;
                if negated == 4 {
                    words.keyword_in(&["route"], grammar::GLOBAL_IP_IOS, "an `ip` command")?;
                }
                return Err(words.skipped(column));
            }
            _ => words.end()?, // `exit` at the top: nothing to leave
        }
        Ok(())
    }

    /// `banner [motd|login|exec|…] DELIMITER text DELIMITER`; the text may run over lines.
    fn banner(&mut self, words: &mut Words<'_>) -> Result<()> {
        const KINDS: &[&str] = &[
            "config-save",
            "exec",
            "incoming",
            "login",
            "motd",
            "prompt-timeout",
            "slip-ppp",
        ];
        let column = words.column();
        if let Some((_, word)) = words.peek()
            && word.len() > 1
            && let Match::Ours(_) = grammar::lookup(word, KINDS, &[])
        {
            words.next += 1;
        }
        let Some((start, _)) = words.peek() else {
            return Err(Fail::at(
                words.end,
                ErrorKind::Expected {
                    expected: "a banner delimiter",
                    found: None,
                },
            ));
        };
        // The text from the delimiter on, as written.
        let text = words.rest_from(start);
        // `show running-config` writes the delimiter (a control character) as `^C`.
        let delimiter: String = if text.starts_with("^C") {
            "^C".to_owned()
        } else {
            text.chars().next().map(String::from).unwrap_or_default()
        };
        let after = text.get(delimiter.len()..).unwrap_or_default();
        if !after.contains(delimiter.as_str()) {
            self.banner = Some(delimiter);
        }
        Err(words.skipped(column))
    }

    fn router(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        words.keyword_in(&["eigrp"], grammar::ROUTER_IOS, "a routing protocol")?;
        let (as_column, word) = words.word("an eigrp as number or name")?;
        if !word.bytes().all(|b| b.is_ascii_digit()) {
            // `router eigrp NAME`: named mode (address families) is not run.
            return Err(words.unsupported(as_column));
        }
        words.next -= 1;
        let (_, asn) = words.number("an eigrp as number", 1, 65535)?;
        words.end()?;
        let asn = u16::try_from(asn).unwrap_or(u16::MAX);
        let index = match self.config.eigrp.iter().position(|e| e.asn == asn) {
            Some(index) => index,
            None => {
                self.config.eigrp.push(Eigrp {
                    asn,
                    ..Eigrp::default()
                });
                self.origins.set(
                    Origin::Eigrp(self.config.eigrp.len() - 1),
                    self.place(column),
                );
                self.config.eigrp.len() - 1
            }
        };
        self.enter(Mode::Eigrp(index));
        Ok(())
    }

    /// `ip route [vrf V] A M {NEXT-HOP | INTERFACE [NEXT-HOP]} [DISTANCE] [name N] [permanent]
    /// [tag T] [track N]`.
    fn route(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        if words
            .peek()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case("vrf"))
        {
            words.next += 1;
            words.path.push("vrf");
            return Err(words.skipped(column));
        }
        let (_, address) = words.address("a destination")?;
        let (mask_column, mask) = words.mask()?;
        let (hop_column, first) = words.word("a next-hop address or an interface")?;
        let (mut next_hop, mut interface) = (None, None);
        match first.parse::<Ipv4Addr>() {
            Ok(hop) => next_hop = Some(hop),
            Err(_) => {
                interface = Some(self.interface_word(words, first, hop_column)?);
                if let Some((_, word)) = words.peek()
                    && let Ok(hop) = word.parse::<Ipv4Addr>()
                {
                    words.next += 1;
                    next_hop = Some(hop);
                }
            }
        }
        let mut distance = None;
        while let Some((option_column, word)) = words.peek() {
            if word.bytes().all(|b| b.is_ascii_digit()) && distance.is_none() {
                distance = Some(words.number("an administrative distance", 1, 255)?.1);
                continue;
            }
            match words.keyword(
                &["name", "permanent", "tag", "track", "multicast"],
                "a distance, `name`, `permanent`, `tag` or `track`",
            )? {
                0 => {
                    words.word("a route name")?;
                }
                1 | 4 => {}
                2 => {
                    words.number("a route tag", 0, u64::from(u32::MAX))?;
                }
                _ => {
                    words.number("a track object", 1, 1000)?;
                }
            }
            let _ = option_column;
        }
        words.end()?;
        let prefix = Prefix { address, mask };
        if prefix.network() != address {
            return Err(Fail::at(mask_column, ErrorKind::HostBits { address, mask }));
        }
        let route = IpRoute {
            prefix,
            next_hop,
            interface,
            distance: distance.and_then(|d| u8::try_from(d).ok()),
        };
        if self.config.routes.contains(&route) {
            return Ok(()); // IOS takes the same route twice as once
        }
        self.config.routes.push(route);
        let n = self.config.routes.len() - 1;
        self.origins.set(
            Origin::Route(n),
            Place {
                line: self.line,
                column: hop_column,
            },
        );
        Ok(())
    }

    /// An interface name in one word (`f0/0`) or two (`FastEthernet 0/0`), as IOS names it.
    fn interface_word(&self, words: &mut Words<'_>, first: &str, column: usize) -> Result<String> {
        let (kind, number) = grammar::split_interface(first);
        if number.is_empty()
            && let Some((_, next)) = words.peek()
            && let Some(name) = grammar::interface_name(kind, next)
        {
            words.next += 1;
            return Ok(name);
        }
        if first.parse::<Ipv4Addr>().is_ok() || first.is_empty() {
            return Err(Fail::at(
                column,
                ErrorKind::Expected {
                    expected: "an interface",
                    found: Some(first.to_owned()),
                },
            ));
        }
        Ok(grammar::canonical_interface(first))
    }

    fn interface_header(&mut self, words: &mut Words<'_>) -> Result<()> {
        let (column, first) = words.word("an interface name")?;
        let tunnel_prefix = first
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("tunnel"));
        let (kind, number) = grammar::split_interface(first);
        let spaced = number.is_empty()
            && words
                .peek()
                .is_some_and(|(_, w)| grammar::interface_name(kind, w).is_some());
        let number = if spaced {
            words.word("an interface number")?.1
        } else {
            number
        };
        let name = match grammar::interface_name(kind, number) {
            Some(name) if name.starts_with("Tunnel") => {
                // IOS's tunnel numbers are 0..=2147483647.
                if number.parse::<u32>().is_ok_and(|n| n <= 2_147_483_647) {
                    name
                } else {
                    return Err(Fail::at(
                        column,
                        ErrorKind::OutOfRange {
                            what: "tunnel number",
                            value: number.to_owned(),
                            min: 0,
                            max: 2_147_483_647,
                        },
                    ));
                }
            }
            Some(name) => name,
            None if tunnel_prefix => {
                let digits = if first.len() == 6 {
                    words.word("a tunnel number")?.1
                } else {
                    first.get(6..).unwrap_or_default()
                };
                return Err(Fail::at(
                    column,
                    ErrorKind::Expected {
                        expected: "a tunnel number",
                        found: Some(digits.to_owned()),
                    },
                ));
            }
            None => first.to_owned(),
        };
        // A sub-interface's type (`interface Fa0/0.10 point-to-point`) changes nothing here.
        if let Some((_, word)) = words.peek()
            && let Match::Ours(_) = grammar::lookup(word, &["point-to-point", "multipoint"], &[])
        {
            words.next += 1;
        }
        words.end()?;
        let tunnel = name.starts_with("Tunnel");
        let existing =
            (self.config.interfaces.iter()).position(|i| i.name.eq_ignore_ascii_case(&name));
        let index = match existing {
            Some(index) => index,
            None => {
                self.config.interfaces.push(Interface {
                    name,
                    tunnel: tunnel.then(Tunnel::default),
                    ..Interface::default()
                });
                let index = self.config.interfaces.len() - 1;
                self.origins
                    .set(Origin::Interface(index), self.place(column));
                index
            }
        };
        self.enter(Mode::Interface(index));
        Ok(())
    }

    fn crypto(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        match words.keyword_in(
            &["isakmp", "ipsec"],
            grammar::CRYPTO_IOS,
            "a `crypto` command",
        )? {
            0 => match words.keyword_in(
                &["policy", "key"],
                grammar::ISAKMP_IOS,
                "a `crypto isakmp` command",
            )? {
                0 => {
                    let (_, priority) = words.number("an isakmp policy priority", 1, 10_000)?;
                    words.end()?;
                    let priority = u16::try_from(priority).unwrap_or(u16::MAX);
                    let place = self.place(column);
                    let policies = &mut self.config.isakmp_policies;
                    let index = match policies.iter().position(|p| p.priority == priority) {
                        Some(index) => index,
                        None => {
                            policies.push(IsakmpPolicy {
                                priority,
                                ..IsakmpPolicy::default()
                            });
                            self.origins.set(Origin::Policy(policies.len() - 1), place);
                            policies.len() - 1
                        }
                    };
                    self.enter(Mode::Policy(index));
                }
                _ => self.isakmp_key(words, column)?,
            },
            _ => match words.keyword_in(
                &["transform-set", "profile"],
                grammar::IPSEC_IOS,
                "a `crypto ipsec` command",
            )? {
                0 => self.transform_set(words, column)?,
                _ => {
                    let (_, name) = words.word("a profile name")?;
                    words.end()?;
                    let place = self.place(column);
                    let profiles = &mut self.config.ipsec_profiles;
                    let index = match profiles.iter().position(|p| p.name == name) {
                        Some(index) => index,
                        None => {
                            profiles.push(IpsecProfile {
                                name: name.to_owned(),
                                ..IpsecProfile::default()
                            });
                            self.origins.set(Origin::Profile(profiles.len() - 1), place);
                            profiles.len() - 1
                        }
                    };
                    self.enter(Mode::Profile(index));
                }
            },
        }
        Ok(())
    }

    /// `crypto isakmp key [0|6] KEY {address A [MASK] | address ipv6 … | hostname H}
    /// [no-xauth]`. `address 0.0.0.0` without a mask is IOS's wildcard, as `0.0.0.0 0.0.0.0`.
    fn isakmp_key(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        let (key_column, mut key) = words.word("a pre-shared key")?;
        let typed = |words: &Words<'_>| {
            words.peek().is_some_and(|(_, w)| {
                !matches!(
                    grammar::lookup(w, &["address", "hostname"], &[]),
                    Match::Ours(_)
                )
            })
        };
        if key == "6" && typed(words) {
            // IOS's type 6 is encrypted with the router's master key: it cannot be read here.
            return Err(Fail::at(
                key_column,
                ErrorKind::Unsupported {
                    command:
                        "crypto isakmp key 6 (an encrypted key: paste it in clear text, as type 0)"
                            .to_owned(),
                    mode: None,
                },
            ));
        }
        // `0` is the "unencrypted" type, unless it is the key itself.
        if key == "0" && typed(words) {
            key = words.word("a pre-shared key")?.1;
        }
        let kind_column = words.column();
        if words.keyword(&["address", "hostname"], "`address` or `hostname`")? == 1 {
            // A key by peer name needs IKE identities by name: not run.
            return Err(words.unsupported(kind_column));
        }
        if words
            .peek()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case("ipv6"))
        {
            words.path = vec!["crypto", "isakmp", "key", "address", "ipv6"];
            return Err(words.skipped(column));
        }
        let (_, address) = words.address("a peer address")?;
        let mut mask = match words.peek() {
            Some((_, w)) if w.parse::<Ipv4Addr>().is_ok() => Some(words.mask()?.1),
            _ => None,
        };
        words.eat_abbreviated("no-xauth");
        words.end()?;
        if address.is_unspecified() && mask.is_none() {
            mask = Some(Ipv4Addr::UNSPECIFIED);
        }
        let index = self.config.isakmp_keys.len();
        if let Some(first) = self
            .config
            .isakmp_keys
            .iter()
            .position(|k| k.address == address && k.mask == mask)
        {
            return Err(Fail::at(
                column,
                ErrorKind::Duplicate {
                    what: "crypto isakmp key for this address",
                    first: self.origins.get(Origin::Key(first)).map_or(0, |p| p.line),
                },
            ));
        }
        self.config.isakmp_keys.push(IsakmpKey {
            key: Secret::new(key),
            address,
            mask,
        });
        self.origins.set(Origin::Key(index), self.place(key_column));
        Ok(())
    }

    fn transform_set(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        const OURS: &[&str] = &[
            "esp-des",
            "esp-3des",
            "esp-aes",
            "esp-gcm",
            "esp-null",
            "esp-md5-hmac",
            "esp-sha-hmac",
            "esp-sha256-hmac",
            "esp-sha384-hmac",
            "esp-sha512-hmac",
        ];
        const IOS: &[&str] = &[
            "ah-md5-hmac",
            "ah-sha-hmac",
            "ah-sha256-hmac",
            "ah-sha384-hmac",
            "ah-sha512-hmac",
            "comp-lzs",
            "esp-gmac",
            "esp-seal",
        ];
        let (_, name) = words.word("a transform-set name")?;
        let (mut encryption, mut integrity) = (None, None);
        while let Some((word_column, _)) = words.peek() {
            let index = match words.keyword_in(OURS, IOS, "a transform") {
                Ok(index) => index,
                Err(Fail {
                    kind: ErrorKind::Skipped { .. },
                    ..
                }) => return Err(words.unsupported(word_column)),
                Err(fail) => return Err(fail),
            };
            let duplicate = |what| {
                Fail::at(
                    word_column,
                    ErrorKind::Duplicate {
                        what,
                        first: self.line,
                    },
                )
            };
            if index < 5 {
                if encryption.is_some() {
                    return Err(duplicate("esp encryption transform"));
                }
                encryption = Some(match index {
                    0 => EspEncryption::Des,
                    1 => EspEncryption::TripleDes,
                    2 => EspEncryption::Aes(key_bits(words, &[128, 192, 256])?.unwrap_or(128)),
                    3 => EspEncryption::Gcm(key_bits(words, &[128, 256])?.unwrap_or(128)),
                    _ => EspEncryption::Null,
                });
            } else {
                if integrity.is_some() {
                    return Err(duplicate("esp integrity transform"));
                }
                integrity = Some(match index {
                    5 => EspIntegrity::Md5,
                    6 => EspIntegrity::Sha,
                    7 => EspIntegrity::Sha256,
                    8 => EspIntegrity::Sha384,
                    _ => EspIntegrity::Sha512,
                });
            }
        }
        let Some(encryption) = encryption else {
            return Err(Fail::at(
                words.end,
                ErrorKind::Expected {
                    expected: "an esp encryption transform (esp-des, esp-3des, esp-aes, esp-gcm or esp-null)",
                    found: None,
                },
            ));
        };
        if matches!(encryption, EspEncryption::Gcm(_)) && integrity.is_some() {
            return Err(Fail::at(
                column,
                ErrorKind::Conflict {
                    command: "esp-gcm",
                    other: "an esp-*-hmac transform (gcm authenticates by itself)",
                },
            ));
        }
        if let Some(first) = self
            .config
            .transform_sets
            .iter()
            .position(|t| t.name == name)
        {
            return Err(Fail::at(
                column,
                ErrorKind::Duplicate {
                    what: "this transform-set",
                    first: self
                        .origins
                        .get(Origin::TransformSet(first))
                        .map_or(0, |p| p.line),
                },
            ));
        }
        self.config.transform_sets.push(TransformSet {
            name: name.to_owned(),
            encryption,
            integrity,
            mode: None,
        });
        let index = self.config.transform_sets.len() - 1;
        self.origins
            .set(Origin::TransformSet(index), self.place(column));
        self.enter(Mode::TransformSet(index));
        Ok(())
    }

    fn interface<'a>(&mut self, index: usize, words: &mut Words<'a>, line: &'a str) -> Result<()> {
        let (column, _) = words.peek().ok_or(Fail::at(1, ErrorKind::NoMode))?;
        let place = self.place(column);
        let negated = words.eat("no");
        if negated {
            words.path.push("no");
        }
        let interface_name = self
            .config
            .interfaces
            .get(index)
            .map(|i| i.name.clone())
            .unwrap_or_default();
        let is_tunnel = self
            .config
            .interfaces
            .get(index)
            .is_some_and(|i| i.tunnel.is_some());
        let not_tunnel = |command: &'static str| {
            Fail::at(
                column,
                ErrorKind::NotATunnel {
                    command,
                    interface: interface_name.clone(),
                },
            )
        };
        let command = words.keyword_in(
            &INTERFACE[..4],
            grammar::INTERFACE_IOS,
            "an interface command",
        )?;
        if negated {
            match command {
                2 => {
                    words.end()?;
                    self.origins
                        .once(Origin::Shutdown(index), place, "shutdown")?;
                    self.iface(index).shutdown = Some(false);
                }
                1 => {
                    let which = words.keyword_in(
                        INTERFACE_IP,
                        grammar::INTERFACE_IP_IOS,
                        "an interface `ip` command",
                    )?;
                    match which {
                        // `no ip address`: how IOS shows an interface without one.
                        0 => words.end()?,
                        4 | 5 => self.no_eigrp_command(index, words, which == 4, column)?,
                        _ => return Err(words.skipped(column)),
                    }
                    if which >= 4 && !is_tunnel {
                        return Err(not_tunnel(if which == 4 {
                            "no ip split-horizon eigrp"
                        } else {
                            "no ip next-hop-self eigrp"
                        }));
                    }
                }
                _ => return Err(words.skipped(column)),
            }
            return Ok(());
        }
        match command {
            0 => {
                let text = words.rest(line).ok_or(Fail::at(
                    words.end,
                    ErrorKind::Expected {
                        expected: "a description",
                        found: None,
                    },
                ))?;
                self.origins
                    .once(Origin::Description(index), place, "description")?;
                self.iface(index).description = Some(text.to_owned());
            }
            1 => match words.keyword_in(
                INTERFACE_IP,
                grammar::INTERFACE_IP_IOS,
                "an interface `ip` command",
            )? {
                0 => {
                    if words.eat_abbreviated("dhcp") {
                        // `ip address dhcp [client-id IF] [hostname H]`: the address is leased.
                        words.next = words.words.len();
                        self.origins
                            .once(Origin::Address(index), place, "ip address")?;
                        self.iface(index).dhcp = true;
                        return Ok(());
                    }
                    if words.eat_abbreviated("negotiated") {
                        return Err(words.skipped(column));
                    }
                    let (_, address) = words.address("an ip address")?;
                    let (_, mask) = words.mask()?;
                    if words.eat_abbreviated("secondary") {
                        return Err(words.skipped(column));
                    }
                    words.end()?;
                    self.origins
                        .once(Origin::Address(index), place, "ip address")?;
                    self.iface(index).address = Some(Prefix { address, mask });
                }
                1 => {
                    let (_, mtu) = words.number("ip mtu", 68, 17_916)?;
                    words.end()?;
                    self.origins.once(Origin::Mtu(index), place, "ip mtu")?;
                    self.iface(index).mtu = u16::try_from(mtu).ok();
                }
                2 => {
                    words.keyword_in(
                        &["adjust-mss"],
                        &["header-compression", "compression-connections"],
                        "`adjust-mss`",
                    )?;
                    let (_, mss) = words.number("tcp adjust-mss", 500, 1460)?;
                    words.end()?;
                    self.origins
                        .once(Origin::AdjustMss(index), place, "ip tcp adjust-mss")?;
                    self.iface(index).adjust_mss = u16::try_from(mss).ok();
                }
                3 => {
                    if !is_tunnel {
                        return Err(not_tunnel("ip nhrp"));
                    }
                    self.nhrp(index, words, place)?;
                }
                _ => {
                    // `ip split-horizon [eigrp AS]`, `ip next-hop-self eigrp AS`: IOS's defaults.
                    words.next = words.words.len();
                }
            },
            2 => {
                words.end()?;
                self.origins
                    .once(Origin::Shutdown(index), place, "shutdown")?;
                self.iface(index).shutdown = Some(true);
            }
            _ => {
                if !is_tunnel {
                    return Err(not_tunnel("tunnel"));
                }
                self.tunnel_command(index, words, place)?;
            }
        }
        Ok(())
    }

    /// `no ip split-horizon eigrp AS` / `no ip next-hop-self eigrp AS`.
    fn no_eigrp_command(
        &mut self,
        index: usize,
        words: &mut Words<'_>,
        split_horizon: bool,
        column: usize,
    ) -> Result<()> {
        if words.peek().is_none() {
            // `no ip split-horizon`: RIP's, not EIGRP's.
            return Err(words.skipped(column));
        }
        words.keyword(&["eigrp"], "`eigrp`")?;
        let (_, asn) = words.number("an eigrp as number", 1, 65535)?;
        words.end()?;
        let asn = u16::try_from(asn).unwrap_or(u16::MAX);
        if self.iface(index).tunnel.is_none() {
            return Ok(()); // the caller says why
        }
        let place = self.place(column);
        let line_no = self.line;
        let tunnel = self.tunnel(index);
        let list = if split_horizon {
            &mut tunnel.no_split_horizon
        } else {
            &mut tunnel.no_next_hop_self
        };
        if list.contains(&asn) {
            return Err(Fail::at(
                column,
                ErrorKind::Duplicate {
                    what: "this command",
                    first: line_no,
                },
            ));
        }
        list.push(asn);
        let n = list.len() - 1;
        let origin = if split_horizon {
            Origin::SplitHorizon(index, n)
        } else {
            Origin::NextHopSelf(index, n)
        };
        self.origins.set(origin, place);
        Ok(())
    }

    // The indices below are the parser's own (pushed before the mode that carries them).
    fn iface(&mut self, index: usize) -> &mut Interface {
        &mut self.config.interfaces[index]
    }

    fn tunnel(&mut self, index: usize) -> &mut Tunnel {
        self.iface(index).tunnel.get_or_insert_with(Tunnel::default)
    }

    fn tunnel_command(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
        match words.keyword_in(
            &["source", "destination", "mode", "key", "protection"],
            grammar::TUNNEL_IOS,
            "a `tunnel` command",
        )? {
            0 => {
                let (column, word) = words.word("an interface or address")?;
                let source = match word.parse() {
                    Ok(address) => TunnelSource::Address(address),
                    Err(_) => TunnelSource::Interface(self.interface_word(words, word, column)?),
                };
                words.end()?;
                self.origins
                    .once(Origin::TunnelSource(index), place, "tunnel source")?;
                self.tunnel(index).source = Some(source);
            }
            1 => {
                let (_, address) = words.address("a destination address")?;
                words.end()?;
                self.origins.once(
                    Origin::TunnelDestination(index),
                    place,
                    "tunnel destination",
                )?;
                self.tunnel(index).destination = Some(address);
            }
            2 => {
                let column = words.column();
                let unsupported = |words: &Words<'_>, fail: Fail| match fail.kind {
                    ErrorKind::Skipped { .. } => words.unsupported(column),
                    _ => fail,
                };
                words
                    .keyword_in(&["gre"], grammar::TUNNEL_MODE_IOS, "a tunnel mode")
                    .map_err(|f| unsupported(words, f))?;
                let mode = match words
                    .keyword_in(&["multipoint", "ip"], &["ipv6"], "`multipoint` or `ip`")
                    .map_err(|f| unsupported(words, f))?
                {
                    0 => TunnelMode::GreMultipoint,
                    _ => TunnelMode::GreIp,
                };
                words.end()?;
                self.origins
                    .once(Origin::TunnelMode(index), place, "tunnel mode")?;
                self.tunnel(index).mode = Some(mode);
            }
            3 => {
                let (_, key) = words.number("tunnel key", 0, u64::from(u32::MAX))?;
                words.end()?;
                self.origins
                    .once(Origin::TunnelKey(index), place, "tunnel key")?;
                self.tunnel(index).key = u32::try_from(key).ok();
            }
            _ => {
                words.keyword(&["ipsec"], "`ipsec`")?;
                words.keyword(&["profile"], "`profile`")?;
                let (column, name) = words.word("a profile name")?;
                // `shared`: several tunnels on one source share the SAs; one tunnel here.
                words.eat_abbreviated("shared");
                words.end()?;
                self.origins.once(
                    Origin::Protection(index),
                    Place { column, ..place },
                    "tunnel protection",
                )?;
                self.tunnel(index).protection = Some(name.to_owned());
            }
        }
        Ok(())
    }

    fn nhrp(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
        match words.keyword_in(
            &[
                "network-id",
                "nhs",
                "map",
                "authentication",
                "holdtime",
                "registration",
            ],
            grammar::NHRP_IOS,
            "an `ip nhrp` command",
        )? {
            0 => {
                let (_, id) = words.number("nhrp network-id", 1, u64::from(u32::MAX))?;
                words.end()?;
                self.origins
                    .once(Origin::NetworkId(index), place, "ip nhrp network-id")?;
                self.tunnel(index).nhrp.network_id = u32::try_from(id).ok();
            }
            1 => self.nhs(index, words, place)?,
            2 => self.nhrp_map(index, words, place)?,
            3 => {
                let (column, secret) = words.word("an authentication string")?;
                words.end()?;
                let len = secret.chars().count();
                if len > NHRP_PASSWORD_MAX {
                    return Err(Fail::at(
                        column,
                        ErrorKind::SecretLength {
                            what: "nhrp authentication",
                            len,
                            max: NHRP_PASSWORD_MAX,
                        },
                    ));
                }
                self.origins.once(
                    Origin::Authentication(index),
                    place,
                    "ip nhrp authentication",
                )?;
                self.tunnel(index).nhrp.authentication = Some(Secret::new(secret));
            }
            4 => {
                let (_, seconds) = words.number("nhrp holdtime", 1, 65535)?;
                words.end()?;
                self.origins
                    .once(Origin::Holdtime(index), place, "ip nhrp holdtime")?;
                self.tunnel(index).nhrp.holdtime = u16::try_from(seconds).ok();
            }
            _ => {
                let column = words.column();
                if words.keyword(&["timeout", "no-unique"], "`timeout` or `no-unique`")? == 0 {
                    let (_, seconds) = words.number("nhrp registration timeout", 1, 65535)?;
                    words.end()?;
                    self.origins.once(
                        Origin::RegistrationTimeout(index),
                        Place { column, ..place },
                        "ip nhrp registration timeout",
                    )?;
                    self.tunnel(index).nhrp.registration_timeout = u16::try_from(seconds).ok();
                } else {
                    words.end()?;
                    self.tunnel(index).nhrp.no_unique = true;
                }
            }
        }
        Ok(())
    }

    /// `ip nhrp nhs A [nbma B] [multicast] [priority N] [cluster N]`; `ip nhrp nhs dynamic …`
    /// (the NHS learnt from its NBMA address) is not run.
    fn nhs(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
        let column = words.column();
        if let Some((_, word)) = words.peek()
            && word.parse::<Ipv4Addr>().is_err()
        {
            words.keyword_in(
                &["dynamic"],
                &["cluster", "fallback"],
                "an nhs address or `dynamic`",
            )?;
            return Err(words.unsupported(column));
        }
        let (column, address) = words.address("an nhs address")?;
        let (mut nbma, mut multicast) = (None, false);
        while words.peek().is_some() {
            match words.keyword(
                &["nbma", "multicast", "priority", "cluster"],
                "`nbma`, `multicast`, `priority` or `cluster`",
            )? {
                0 => nbma = Some(words.address("an nbma address")?.1),
                1 => multicast = true,
                2 => {
                    words.number("an nhs priority", 0, 255)?;
                }
                _ => {
                    words.number("an nhs cluster", 0, 10)?;
                }
            }
        }
        words.end()?;
        if multicast && nbma.is_none() {
            return Err(Fail::at(
                column,
                ErrorKind::Expected {
                    expected: "`nbma ADDRESS` before `multicast`",
                    found: None,
                },
            ));
        }
        let nhs = &mut self.tunnel(index).nhrp.nhs;
        if let Some(first) = nhs.iter().position(|n| n.address == address) {
            let first = self.origins.get(Origin::Nhs(index, first));
            return Err(Fail::at(
                column,
                ErrorKind::Duplicate {
                    what: "this nhs",
                    first: first.map_or(0, |p| p.line),
                },
            ));
        }
        nhs.push(Nhs { address, nbma });
        let n = nhs.len() - 1;
        self.origins
            .set(Origin::Nhs(index, n), Place { column, ..place });
        if let (true, Some(nbma)) = (multicast, nbma) {
            // The single-line form of `ip nhrp map multicast NBMA`.
            self.add_multicast(index, MulticastMap::Nbma(nbma), Place { column, ..place });
        }
        Ok(())
    }

    fn add_multicast(&mut self, index: usize, map: MulticastMap, place: Place) {
        let list = &mut self.tunnel(index).nhrp.multicast;
        if list.contains(&map) {
            return; // IOS takes it again as a no-op
        }
        list.push(map);
        let n = list.len() - 1;
        self.origins.set(Origin::Multicast(index, n), place);
    }

    /// `ip nhrp map TUNNEL NBMA`, `ip nhrp map multicast dynamic|NBMA`.
    fn nhrp_map(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
        let (column, word) = words.peek().ok_or(Fail::at(
            words.end,
            ErrorKind::Expected {
                expected: "a tunnel address or `multicast`",
                found: None,
            },
        ))?;
        if word.parse::<Ipv4Addr>().is_err() {
            words.keyword_in(
                &["multicast"],
                &["group"],
                "a tunnel address or `multicast`",
            )?;
            let (value_column, value) = words.word("`dynamic` or an nbma address")?;
            let map = match value.parse() {
                Ok(nbma) => MulticastMap::Nbma(nbma),
                Err(_) => {
                    words.next -= 1;
                    words.keyword(&["dynamic"], "`dynamic` or an nbma address")?;
                    MulticastMap::Dynamic
                }
            };
            words.end()?;
            self.add_multicast(
                index,
                map,
                Place {
                    column: value_column,
                    ..place
                },
            );
            return Ok(());
        }
        let (_, tunnel) = words.address("a tunnel address or `multicast`")?;
        let (_, nbma) = words.address("an nbma address")?;
        words.end()?;
        let maps = &mut self.tunnel(index).nhrp.maps;
        if let Some(first) = maps.iter().position(|m| m.tunnel == tunnel) {
            if maps[first].nbma == nbma {
                return Ok(());
            }
            let first = self.origins.get(Origin::Map(index, first));
            return Err(Fail::at(
                column,
                ErrorKind::Duplicate {
                    what: "a map for this address",
                    first: first.map_or(0, |p| p.line),
                },
            ));
        }
        maps.push(NhrpMap { tunnel, nbma });
        let n = maps.len() - 1;
        self.origins
            .set(Origin::Map(index, n), Place { column, ..place });
        Ok(())
    }

    fn eigrp(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let negated = words.eat("no");
        if negated {
            words.path.push("no");
            if words.keyword_in(&EIGRP[..3], grammar::EIGRP_IOS, "a `router eigrp` command")? == 1 {
                words.end()?;
                self.origins
                    .once(Origin::AutoSummary(index), place, "auto-summary")?;
                self.router_block(index).auto_summary = Some(false);
                return Ok(());
            }
            return Err(words.skipped(column));
        }
        match words.keyword_in(&EIGRP[..3], grammar::EIGRP_IOS, "a `router eigrp` command")? {
            0 => {
                let (_, address) = words.address("a network address")?;
                let wildcard = match words.peek() {
                    Some(_) => Some(words.address("a wildcard mask")?.1),
                    None => None,
                };
                words.end()?;
                let network = Network { address, wildcard };
                let networks = &mut self.router_block(index).networks;
                if networks.contains(&network) {
                    return Ok(()); // IOS takes it again as a no-op
                }
                networks.push(network);
                let n = networks.len() - 1;
                self.origins.set(Origin::Network(index, n), place);
            }
            1 => {
                words.end()?;
                self.origins
                    .once(Origin::AutoSummary(index), place, "auto-summary")?;
                self.router_block(index).auto_summary = Some(true);
            }
            _ => {
                words.keyword_in(
                    &["router-id"],
                    grammar::EIGRP_EIGRP_IOS,
                    "an `eigrp` command",
                )?;
                let (_, id) = words.address("a router id")?;
                words.end()?;
                self.origins
                    .once(Origin::RouterId(index), place, "eigrp router-id")?;
                self.router_block(index).router_id = Some(id);
            }
        }
        Ok(())
    }

    fn router_block(&mut self, index: usize) -> &mut Eigrp {
        &mut self.config.eigrp[index]
    }

    fn policy(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let unsupported = |words: &Words<'_>, fail: Fail| match fail.kind {
            ErrorKind::Skipped { .. } => Fail {
                column: fail.column,
                kind: words.unsupported(fail.column).kind,
            },
            _ => fail,
        };
        match words.keyword_in(&POLICY[..5], &POLICY[5..], "an isakmp policy command")? {
            0 => {
                let encryption = match words.keyword(&["des", "3des", "aes"], "des, 3des or aes")? {
                    0 => IkeEncryption::Des,
                    1 => IkeEncryption::TripleDes,
                    _ => IkeEncryption::Aes(key_bits(words, &[128, 192, 256])?.unwrap_or(128)),
                };
                words.end()?;
                self.origins
                    .once(Origin::PolicyEncryption(index), place, "encryption")?;
                self.isakmp(index).encryption = Some(encryption);
            }
            1 => {
                let hash = match words
                    .keyword_in(&["md5", "sha", "sha256"], &["sha384", "sha512"], "a hash")
                    .map_err(|f| unsupported(words, f))?
                {
                    0 => IkeHash::Md5,
                    1 => IkeHash::Sha,
                    _ => IkeHash::Sha256,
                };
                words.end()?;
                self.origins
                    .once(Origin::PolicyHash(index), place, "hash")?;
                self.isakmp(index).hash = Some(hash);
            }
            2 => {
                let (group_column, number) = words.number("a diffie-hellman group", 1, 32)?;
                let group = match DhGroup::from_number(number) {
                    Some(group) => group,
                    // IOS's other groups: the router does not have them.
                    None if [15, 16, 19, 20, 21, 24].contains(&number) => {
                        return Err(words.unsupported(group_column));
                    }
                    None => {
                        return Err(Fail::at(
                            group_column,
                            ErrorKind::Expected {
                                expected: "a diffie-hellman group (1, 2, 5, 14, 15, 16, 19, 20, 21 or 24)",
                                found: Some(number.to_string()),
                            },
                        ));
                    }
                };
                words.end()?;
                self.origins
                    .once(Origin::PolicyGroup(index), place, "group")?;
                self.isakmp(index).group = Some(group);
            }
            3 => {
                // Certificates: the policy is not offered (skipped, with a warning); with no
                // pre-share policy at all, the semantic check says so.
                words.keyword_in(
                    &["pre-share"],
                    &["ecdsa-sig", "rsa-encr", "rsa-sig"],
                    "an authentication method",
                )?;
                words.end()?;
                self.origins
                    .once(Origin::PolicyAuthentication(index), place, "authentication")?;
                self.isakmp(index).pre_share = true;
            }
            _ => {
                let (_, seconds) = words.number("isakmp lifetime", 60, 86_400)?;
                words.end()?;
                self.origins
                    .once(Origin::PolicyLifetime(index), place, "lifetime")?;
                self.isakmp(index).lifetime = u32::try_from(seconds).ok();
            }
        }
        Ok(())
    }

    fn isakmp(&mut self, index: usize) -> &mut IsakmpPolicy {
        &mut self.config.isakmp_policies[index]
    }

    fn transform_mode(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        words.keyword_in(&TRANSFORM[..1], &TRANSFORM[1..], "`mode`")?;
        let mode = match words.keyword(&["transport", "tunnel"], "`transport` or `tunnel`")? {
            0 => EspMode::Transport,
            _ => EspMode::Tunnel,
        };
        // `mode transport require`: no fallback to tunnel mode; transport is all there is here.
        words.eat_abbreviated("require");
        words.end()?;
        self.origins
            .once(Origin::TransformMode(index), self.place(column), "mode")?;
        if let Some(set) = self.config.transform_sets.get_mut(index) {
            set.mode = Some(mode);
        }
        Ok(())
    }

    fn profile(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        words.keyword_in(
            &PROFILE[..1],
            &PROFILE[1..],
            "a `crypto ipsec profile` command",
        )?;
        match words.keyword_in(
            &["transform-set", "pfs", "security-association"],
            &[
                "identity",
                "ikev2-profile",
                "isakmp-profile",
                "nat",
                "reverse-route",
            ],
            "`transform-set`, `pfs` or `security-association`",
        )? {
            0 => {
                // IOS takes up to six transform sets here; a seventh word is an error (one
                // diagnostic for the line, not one per undefined name of an endless list).
                let mut names = Vec::new();
                while names.len() < MAX_PROFILE_TRANSFORM_SETS
                    && let Some((name_column, name)) = words.peek()
                {
                    words.next += 1;
                    names.push((name_column, name.to_owned()));
                }
                if names.is_empty() {
                    words.word("a transform-set name")?;
                }
                words.end()?;
                if let Some(first) = self.origins.get(Origin::ProfileSet(index, 0)) {
                    return Err(Fail::at(
                        column,
                        ErrorKind::Duplicate {
                            what: "set transform-set",
                            first: first.line,
                        },
                    ));
                }
                for (n, (name_column, _)) in names.iter().enumerate() {
                    self.origins.set(
                        Origin::ProfileSet(index, n),
                        Place {
                            column: *name_column,
                            ..place
                        },
                    );
                }
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    profile.transform_sets = names.into_iter().map(|(_, n)| n).collect();
                }
            }
            1 => {
                // `set pfs` alone is group 1.
                let group = if words.peek().is_none() {
                    DhGroup::Group1
                } else {
                    let (group_column, _) = words.peek().unwrap_or((column, ""));
                    match words.keyword_in(
                        &["group1", "group2", "group5", "group14"],
                        &[
                            "group15", "group16", "group19", "group20", "group21", "group24",
                        ],
                        "a pfs group",
                    ) {
                        Ok(0) => DhGroup::Group1,
                        Ok(1) => DhGroup::Group2,
                        Ok(2) => DhGroup::Group5,
                        Ok(_) => DhGroup::Group14,
                        Err(Fail {
                            kind: ErrorKind::Skipped { .. },
                            ..
                        }) => return Err(words.unsupported(group_column)),
                        Err(fail) => return Err(fail),
                    }
                };
                words.end()?;
                self.origins
                    .once(Origin::ProfilePfs(index), place, "set pfs")?;
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    profile.pfs = Some(group);
                }
            }
            _ => {
                words.keyword_in(
                    &["lifetime"],
                    &["dfbit", "ecn", "idle-time", "level", "replay"],
                    "`lifetime`",
                )?;
                if words.keyword_in(
                    &["seconds", "kilobytes"],
                    &["days"],
                    "`seconds` or `kilobytes`",
                )? == 0
                {
                    let (_, seconds) = words.number("ipsec sa lifetime", 120, 2_592_000)?;
                    words.end()?;
                    self.origins.once(
                        Origin::ProfileLifetime(index),
                        place,
                        "set security-association lifetime seconds",
                    )?;
                    if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                        profile.lifetime = u32::try_from(seconds).ok();
                    }
                } else {
                    // IOS's range.
                    let (_, kb) =
                        words.number("ipsec sa lifetime in kilobytes", 2560, 4_294_967_295)?;
                    words.end()?;
                    self.origins.once(
                        Origin::ProfileLifetimeKb(index),
                        place,
                        "set security-association lifetime kilobytes",
                    )?;
                    if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                        profile.lifetime_kilobytes = Some(kb);
                    }
                }
            }
        }
        Ok(())
    }
}

/// An optional AES key size after `aes` / `esp-aes` / `esp-gcm`.
fn key_bits(words: &mut Words<'_>, allowed: &[u16]) -> Result<Option<u16>> {
    let Some((column, word)) = words.peek() else {
        return Ok(None);
    };
    if !word.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    words.next += 1;
    match word.parse::<u16>() {
        Ok(bits) if allowed.contains(&bits) => Ok(Some(bits)),
        _ => Err(Fail::at(
            column,
            ErrorKind::Expected {
                expected: if allowed.len() == 3 {
                    "a key size of 128, 192 or 256"
                } else {
                    "a key size of 128 or 256"
                },
                found: Some(word.to_owned()),
            },
        )),
    }
}
