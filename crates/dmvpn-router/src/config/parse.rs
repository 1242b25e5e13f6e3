//! The line parser: words with their columns, global commands and the sub-modes they open.

use std::collections::HashMap;
use std::net::Ipv4Addr;

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

    /// The index in `keywords` of the next word; another word is an unsupported command.
    fn keyword(&mut self, keywords: &[&str], expected: &'static str) -> Result<usize> {
        let (column, word) = self.word(expected)?;
        keywords
            .iter()
            .position(|k| word.eq_ignore_ascii_case(k))
            .ok_or_else(|| self.unsupported(column))
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
    /// Under an unsupported command: its indented lines are part of that error or warning.
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
}

struct Parser {
    config: Config,
    origins: Origins,
    mode: Mode,
    line: usize,
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
    };
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for (index, raw) in text.lines().enumerate() {
        parser.line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('!') {
            continue;
        }
        let indented = raw.starts_with(char::is_whitespace);
        if !indented && !matches!(parser.mode, Mode::End) {
            parser.mode = Mode::Global;
        }
        let mut words = Words::new(raw, parser.mode.name());
        let outcome = match parser.mode {
            Mode::End => Err(Fail::at(words.column(), ErrorKind::AfterEnd)),
            Mode::Skip => continue,
            Mode::Global if indented => Err(Fail::at(words.column(), ErrorKind::NoMode)),
            Mode::Global => parser.global(&mut words),
            Mode::Interface(i) => parser.interface(i, &mut words, raw),
            Mode::Eigrp(i) => parser.eigrp(i, &mut words),
            Mode::Policy(i) => parser.policy(i, &mut words),
            Mode::TransformSet(i) => parser.transform_mode(i, &mut words),
            Mode::Profile(i) => parser.profile(i, &mut words),
        };
        let Err(fail) = outcome else { continue };
        let unsupported = matches!(fail.kind, ErrorKind::Unsupported { .. });
        if !indented && !matches!(parser.mode, Mode::End) {
            // A global command that failed opens no mode: its indented lines go with it.
            parser.mode = Mode::Skip;
        }
        let diagnostic = Diagnostic {
            line: parser.line,
            column: fail.column,
            text: raw.to_owned(),
            kind: fail.kind,
        };
        if unsupported && options.lenient {
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

impl Parser {
    fn place(&self, column: usize) -> Place {
        Place {
            line: self.line,
            column,
        }
    }

    fn global(&mut self, words: &mut Words<'_>) -> Result<()> {
        const GLOBAL: &[&str] = &["hostname", "interface", "router", "crypto", "ip", "end"];
        let (column, _) = words.peek().ok_or(Fail::at(1, ErrorKind::NoMode))?;
        match words.keyword(GLOBAL, "a command")? {
            0 => {
                let (_, name) = words.word("a host name")?;
                words.end()?;
                self.origins
                    .once(Origin::Hostname, self.place(column), "hostname")?;
                self.config.hostname = Some(name.to_owned());
            }
            1 => self.interface_header(words)?,
            2 => {
                words.keyword(&["eigrp"], "`eigrp`")?;
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
                self.mode = Mode::Eigrp(index);
            }
            3 => self.crypto(words, column)?,
            4 => {
                words.keyword(&["route"], "`route`")?;
                let (_, address) = words.address("a destination")?;
                let (mask_column, mask) = words.mask()?;
                let (hop_column, next_hop) = words.address("a next-hop address")?;
                words.end()?;
                let prefix = Prefix { address, mask };
                if prefix.network() != address {
                    return Err(Fail::at(mask_column, ErrorKind::HostBits { address, mask }));
                }
                let routes = &mut self.config.routes;
                if let Some(first) = routes.iter().position(|r| r.prefix == prefix) {
                    let first = self.origins.get(Origin::Route(first));
                    return Err(Fail::at(
                        column,
                        ErrorKind::Duplicate {
                            what: "a route to this prefix",
                            first: first.map_or(0, |p| p.line),
                        },
                    ));
                }
                routes.push(IpRoute { prefix, next_hop });
                let n = routes.len() - 1;
                self.origins.set(
                    Origin::Route(n),
                    Place {
                        line: self.line,
                        column: hop_column,
                    },
                );
            }
            _ => {
                words.end()?;
                self.mode = Mode::End;
            }
        }
        Ok(())
    }

    fn interface_header(&mut self, words: &mut Words<'_>) -> Result<()> {
        let (column, first) = words.word("an interface name")?;
        let tunnel_prefix = first
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("tunnel"));
        let name = if tunnel_prefix {
            // `Tunnel0`, `tunnel0` or `tunnel 0`: IOS writes `Tunnel0`.
            let digits = if first.len() == 6 {
                words.word("a tunnel number")?.1
            } else {
                first.get(6..).unwrap_or_default()
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Fail::at(
                    column,
                    ErrorKind::Expected {
                        expected: "a tunnel number",
                        found: Some(digits.to_owned()),
                    },
                ));
            }
            match digits.parse::<u32>() {
                Ok(n) if n <= 2_147_483_647 => format!("Tunnel{n}"),
                _ => {
                    return Err(Fail::at(
                        column,
                        ErrorKind::OutOfRange {
                            what: "tunnel number",
                            value: digits.to_owned(),
                            min: 0,
                            max: 2_147_483_647,
                        },
                    ));
                }
            }
        } else {
            first.to_owned()
        };
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
        self.mode = Mode::Interface(index);
        Ok(())
    }

    fn crypto(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        match words.keyword(&["isakmp", "ipsec"], "`isakmp` or `ipsec`")? {
            0 => match words.keyword(&["policy", "key"], "`policy` or `key`")? {
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
                    self.mode = Mode::Policy(index);
                }
                _ => {
                    // `crypto isakmp key [0] KEY address A [MASK]`; 6 (encrypted) is not taken.
                    let (key_column, mut key) = words.word("a pre-shared key")?;
                    if key == "6" {
                        return Err(words.unsupported(key_column));
                    }
                    // `0` is the "unencrypted" type, unless it is the key itself.
                    let typed = words
                        .peek()
                        .is_some_and(|(_, w)| !w.eq_ignore_ascii_case("address"));
                    if key == "0" && typed {
                        key = words.word("a pre-shared key")?.1;
                    }
                    words.keyword(&["address"], "`address`")?;
                    let (_, address) = words.address("a peer address")?;
                    let mask = match words.peek() {
                        Some(_) => Some(words.mask()?.1),
                        None => None,
                    };
                    words.end()?;
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
                }
            },
            _ => match words.keyword(
                &["transform-set", "profile"],
                "`transform-set` or `profile`",
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
                    self.mode = Mode::Profile(index);
                }
            },
        }
        Ok(())
    }

    fn transform_set(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        const CIPHERS: &[&str] = &["esp-des", "esp-3des", "esp-aes", "esp-gcm", "esp-null"];
        const HMACS: &[&str] = &[
            "esp-md5-hmac",
            "esp-sha-hmac",
            "esp-sha256-hmac",
            "esp-sha384-hmac",
            "esp-sha512-hmac",
        ];
        let (_, name) = words.word("a transform-set name")?;
        let (mut encryption, mut integrity) = (None, None);
        while let Some((word_column, word)) = words.peek() {
            let lower = word.to_ascii_lowercase();
            if let Some(i) = CIPHERS.iter().position(|c| *c == lower) {
                words.next += 1;
                if encryption.is_some() {
                    return Err(Fail::at(
                        word_column,
                        ErrorKind::Duplicate {
                            what: "esp encryption transform",
                            first: self.line,
                        },
                    ));
                }
                encryption = Some(match i {
                    0 => EspEncryption::Des,
                    1 => EspEncryption::TripleDes,
                    2 => EspEncryption::Aes(key_bits(words, &[128, 192, 256])?.unwrap_or(128)),
                    3 => EspEncryption::Gcm(key_bits(words, &[128, 256])?.unwrap_or(128)),
                    _ => EspEncryption::Null,
                });
            } else if let Some(i) = HMACS.iter().position(|c| *c == lower) {
                words.next += 1;
                if integrity.is_some() {
                    return Err(Fail::at(
                        word_column,
                        ErrorKind::Duplicate {
                            what: "esp integrity transform",
                            first: self.line,
                        },
                    ));
                }
                integrity = Some(match i {
                    0 => EspIntegrity::Md5,
                    1 => EspIntegrity::Sha,
                    2 => EspIntegrity::Sha256,
                    3 => EspIntegrity::Sha384,
                    _ => EspIntegrity::Sha512,
                });
            } else {
                // ah-*, comp-lzs, esp-seal …
                return Err(words.unsupported(word_column));
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
        self.mode = Mode::TransformSet(index);
        Ok(())
    }

    fn interface<'a>(&mut self, index: usize, words: &mut Words<'a>, line: &'a str) -> Result<()> {
        let (column, _) = words.peek().ok_or(Fail::at(1, ErrorKind::NoMode))?;
        let place = self.place(column);
        let negated = words.eat("no");
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
        if negated {
            match words.keyword(&["shutdown", "ip"], "`shutdown` or `ip`")? {
                0 => {
                    words.end()?;
                    self.origins
                        .once(Origin::Shutdown(index), place, "shutdown")?;
                    self.iface(index).shutdown = Some(false);
                }
                _ => {
                    let which = words.keyword(
                        &["split-horizon", "next-hop-self"],
                        "`split-horizon` or `next-hop-self`",
                    )?;
                    words.keyword(&["eigrp"], "`eigrp`")?;
                    let (_, asn) = words.number("an eigrp as number", 1, 65535)?;
                    words.end()?;
                    let asn = u16::try_from(asn).unwrap_or(u16::MAX);
                    if !is_tunnel {
                        return Err(not_tunnel(if which == 0 {
                            "no ip split-horizon eigrp"
                        } else {
                            "no ip next-hop-self eigrp"
                        }));
                    }
                    let line_no = self.line;
                    let tunnel = self.tunnel(index);
                    let list = if which == 0 {
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
                    let origin = if which == 0 {
                        Origin::SplitHorizon(index, n)
                    } else {
                        Origin::NextHopSelf(index, n)
                    };
                    self.origins.set(origin, place);
                }
            }
            return Ok(());
        }
        match words.keyword(
            &["description", "ip", "shutdown", "tunnel"],
            "an interface command",
        )? {
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
            1 => match words.keyword(&["address", "mtu", "tcp", "nhrp"], "an `ip` command")? {
                0 => {
                    let (_, address) = words.address("an ip address")?;
                    let (_, mask) = words.mask()?;
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
                    words.keyword(&["adjust-mss"], "`adjust-mss`")?;
                    let (_, mss) = words.number("tcp adjust-mss", 500, 1460)?;
                    words.end()?;
                    self.origins
                        .once(Origin::AdjustMss(index), place, "ip tcp adjust-mss")?;
                    self.iface(index).adjust_mss = u16::try_from(mss).ok();
                }
                _ => {
                    if !is_tunnel {
                        return Err(not_tunnel("ip nhrp"));
                    }
                    self.nhrp(index, words, place)?;
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

    // The indices below are the parser's own (pushed before the mode that carries them).
    fn iface(&mut self, index: usize) -> &mut Interface {
        &mut self.config.interfaces[index]
    }

    fn tunnel(&mut self, index: usize) -> &mut Tunnel {
        self.iface(index).tunnel.get_or_insert_with(Tunnel::default)
    }

    fn tunnel_command(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
        match words.keyword(
            &["source", "destination", "mode", "key", "protection"],
            "a `tunnel` command",
        )? {
            0 => {
                let (_, word) = words.word("an interface or address")?;
                let source = match word.parse() {
                    Ok(address) => TunnelSource::Address(address),
                    Err(_) => TunnelSource::Interface(word.to_owned()),
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
                words.keyword(&["gre"], "`gre`")?;
                let mode = match words.keyword(&["multipoint", "ip"], "`multipoint` or `ip`")? {
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
        match words.keyword(
            &["network-id", "nhs", "map", "authentication", "holdtime"],
            "an `ip nhrp` command",
        )? {
            0 => {
                let (_, id) = words.number("nhrp network-id", 1, u64::from(u32::MAX))?;
                words.end()?;
                self.origins
                    .once(Origin::NetworkId(index), place, "ip nhrp network-id")?;
                self.tunnel(index).nhrp.network_id = u32::try_from(id).ok();
            }
            1 => {
                let (column, address) = words.address("an nhs address")?;
                let nbma = if words.eat("nbma") {
                    Some(words.address("an nbma address")?.1)
                } else {
                    None
                };
                words.end()?;
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
            }
            2 => {
                if words.eat("multicast") {
                    let (column, word) = words.word("`dynamic` or an nbma address")?;
                    let map = if word.eq_ignore_ascii_case("dynamic") {
                        MulticastMap::Dynamic
                    } else {
                        MulticastMap::Nbma(word.parse().map_err(|_| {
                            Fail::at(
                                column,
                                ErrorKind::Expected {
                                    expected: "`dynamic` or an nbma address",
                                    found: Some(word.to_owned()),
                                },
                            )
                        })?)
                    };
                    words.end()?;
                    let list = &mut self.tunnel(index).nhrp.multicast;
                    if let Some(first) = list.iter().position(|m| *m == map) {
                        let first = self.origins.get(Origin::Multicast(index, first));
                        return Err(Fail::at(
                            column,
                            ErrorKind::Duplicate {
                                what: "this multicast map",
                                first: first.map_or(0, |p| p.line),
                            },
                        ));
                    }
                    list.push(map);
                    let n = list.len() - 1;
                    self.origins
                        .set(Origin::Multicast(index, n), Place { column, ..place });
                } else {
                    let (column, tunnel) = words.address("a tunnel address or `multicast`")?;
                    let (_, nbma) = words.address("an nbma address")?;
                    words.end()?;
                    let maps = &mut self.tunnel(index).nhrp.maps;
                    if let Some(first) = maps.iter().position(|m| m.tunnel == tunnel) {
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
                }
            }
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
            _ => {
                let (_, seconds) = words.number("nhrp holdtime", 1, 65535)?;
                words.end()?;
                self.origins
                    .once(Origin::Holdtime(index), place, "ip nhrp holdtime")?;
                self.tunnel(index).nhrp.holdtime = u16::try_from(seconds).ok();
            }
        }
        Ok(())
    }

    fn eigrp(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let negated = words.eat("no");
        if negated {
            words.keyword(&["auto-summary"], "`auto-summary`")?;
            words.end()?;
            self.origins
                .once(Origin::AutoSummary(index), place, "auto-summary")?;
            self.router(index).auto_summary = Some(false);
            return Ok(());
        }
        match words.keyword(
            &["network", "auto-summary", "eigrp"],
            "a `router eigrp` command",
        )? {
            0 => {
                let (_, address) = words.address("a network address")?;
                let wildcard = match words.peek() {
                    Some(_) => Some(words.address("a wildcard mask")?.1),
                    None => None,
                };
                words.end()?;
                let network = Network { address, wildcard };
                let networks = &mut self.router(index).networks;
                if let Some(first) = networks.iter().position(|n| *n == network) {
                    let first = self.origins.get(Origin::Network(index, first));
                    return Err(Fail::at(
                        column,
                        ErrorKind::Duplicate {
                            what: "this network",
                            first: first.map_or(0, |p| p.line),
                        },
                    ));
                }
                networks.push(network);
                let n = networks.len() - 1;
                self.origins.set(Origin::Network(index, n), place);
            }
            1 => {
                words.end()?;
                self.origins
                    .once(Origin::AutoSummary(index), place, "auto-summary")?;
                self.router(index).auto_summary = Some(true);
            }
            _ => {
                words.keyword(&["router-id"], "`router-id`")?;
                let (_, id) = words.address("a router id")?;
                words.end()?;
                self.origins
                    .once(Origin::RouterId(index), place, "eigrp router-id")?;
                self.router(index).router_id = Some(id);
            }
        }
        Ok(())
    }

    fn router(&mut self, index: usize) -> &mut Eigrp {
        &mut self.config.eigrp[index]
    }

    fn policy(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        match words.keyword(
            &["encryption", "hash", "group", "authentication", "lifetime"],
            "an isakmp policy command",
        )? {
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
                let hash = match words.keyword(&["md5", "sha", "sha256"], "md5, sha or sha256")? {
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
                let (group_column, word) = words.word("a diffie-hellman group")?;
                let group = word
                    .parse()
                    .ok()
                    .and_then(DhGroup::from_number)
                    .ok_or_else(|| words.unsupported(group_column))?;
                words.end()?;
                self.origins
                    .once(Origin::PolicyGroup(index), place, "group")?;
                self.isakmp(index).group = Some(group);
            }
            3 => {
                words.keyword(&["pre-share"], "`pre-share`")?;
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
        words.keyword(&["mode"], "`mode`")?;
        let mode = match words.keyword(&["transport", "tunnel"], "`transport` or `tunnel`")? {
            0 => EspMode::Transport,
            _ => EspMode::Tunnel,
        };
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
        words.keyword(&["set"], "`set`")?;
        match words.keyword(
            &["transform-set", "pfs", "security-association"],
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
                let (group_column, word) = words.word("a pfs group")?;
                let group = word
                    .to_ascii_lowercase()
                    .strip_prefix("group")
                    .and_then(|n| n.parse().ok())
                    .and_then(DhGroup::from_number)
                    .ok_or_else(|| words.unsupported(group_column))?;
                words.end()?;
                self.origins
                    .once(Origin::ProfilePfs(index), place, "set pfs")?;
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    profile.pfs = Some(group);
                }
            }
            _ => {
                words.keyword(&["lifetime"], "`lifetime`")?;
                let profile = self.config.ipsec_profiles.get_mut(index);
                if words.keyword(&["seconds", "kilobytes"], "`seconds` or `kilobytes`")? == 0 {
                    let (_, seconds) = words.number("ipsec sa lifetime", 120, 2_592_000)?;
                    words.end()?;
                    self.origins.once(
                        Origin::ProfileLifetime(index),
                        place,
                        "set security-association lifetime seconds",
                    )?;
                    if let Some(profile) = profile {
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
                    if let Some(profile) = profile {
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
