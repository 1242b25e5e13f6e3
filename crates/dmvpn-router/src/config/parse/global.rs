//! Global configuration mode: `hostname`, `banner`, `ip route`, `router eigrp`, `interface`.

use std::net::Ipv4Addr;

use super::{Fail, GLOBAL, Mode, Origin, Parser, Place, Result, Words};
use crate::config::{
    Eigrp, ErrorKind, Interface, IpRoute, Prefix, Tunnel,
    grammar::{self, Match},
};

impl Parser {
    pub(super) fn global(&mut self, words: &mut Words<'_>) -> Result<()> {
        let (column, _) = words.peek().ok_or(Fail::at(1, ErrorKind::NoMode))?;
        match words.keyword_in(GLOBAL, grammar::GLOBAL_IOS, "a global command")? {
            0 => {
                let (_, name) = words.word("a host name")?;
                self.end_once(words, Origin::Hostname, self.place(column), "hostname")?;
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
    pub(super) fn banner(&mut self, words: &mut Words<'_>) -> Result<()> {
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

    pub(super) fn router(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
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
    pub(super) fn route(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
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
        // `mask` is contiguous (`Words::mask`).
        let prefix = Prefix::new(address, mask.to_bits().leading_ones() as u8);
        if prefix.addr() != address {
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
    pub(super) fn interface_word(
        &self,
        words: &mut Words<'_>,
        first: &str,
        column: usize,
    ) -> Result<String> {
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

    pub(super) fn interface_header(&mut self, words: &mut Words<'_>) -> Result<()> {
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
}
