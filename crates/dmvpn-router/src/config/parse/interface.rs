//! Interface configuration mode: addresses, `tunnel`, `ip nhrp` and the EIGRP interface lines.

use std::net::Ipv4Addr;

use super::{
    Fail, INTERFACE, INTERFACE_IP, NHRP_PASSWORD_MAX, Origin, Parser, Place, Result, Words,
};
use crate::config::{
    ErrorKind, Interface, InterfaceAddress, MulticastMap, NhrpMap, Nhs, Secret, Tunnel, TunnelMode,
    TunnelSource, grammar,
};

impl Parser {
    pub(super) fn interface<'a>(
        &mut self,
        index: usize,
        words: &mut Words<'a>,
        line: &'a str,
    ) -> Result<()> {
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
                    self.end_once(words, Origin::Shutdown(index), place, "shutdown")?;
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
                    self.end_once(words, Origin::Address(index), place, "ip address")?;
                    self.iface(index).address = Some(InterfaceAddress { address, mask });
                }
                1 => {
                    let (_, mtu) = words.number("ip mtu", 68, 17_916)?;
                    self.end_once(words, Origin::Mtu(index), place, "ip mtu")?;
                    self.iface(index).mtu = u16::try_from(mtu).ok();
                }
                2 => {
                    words.keyword_in(
                        &["adjust-mss"],
                        &["header-compression", "compression-connections"],
                        "`adjust-mss`",
                    )?;
                    let (_, mss) = words.number("tcp adjust-mss", 500, 1460)?;
                    self.end_once(words, Origin::AdjustMss(index), place, "ip tcp adjust-mss")?;
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
                self.end_once(words, Origin::Shutdown(index), place, "shutdown")?;
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
    pub(super) fn no_eigrp_command(
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
    pub(super) fn iface(&mut self, index: usize) -> &mut Interface {
        &mut self.config.interfaces[index]
    }

    pub(super) fn tunnel(&mut self, index: usize) -> &mut Tunnel {
        self.iface(index).tunnel.get_or_insert_with(Tunnel::default)
    }

    pub(super) fn tunnel_command(
        &mut self,
        index: usize,
        words: &mut Words<'_>,
        place: Place,
    ) -> Result<()> {
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
                self.end_once(words, Origin::TunnelSource(index), place, "tunnel source")?;
                self.tunnel(index).source = Some(source);
            }
            1 => {
                let (_, address) = words.address("a destination address")?;
                self.end_once(
                    words,
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
                self.end_once(words, Origin::TunnelMode(index), place, "tunnel mode")?;
                self.tunnel(index).mode = Some(mode);
            }
            3 => {
                let (_, key) = words.number("tunnel key", 0, u64::from(u32::MAX))?;
                self.end_once(words, Origin::TunnelKey(index), place, "tunnel key")?;
                self.tunnel(index).key = u32::try_from(key).ok();
            }
            _ => {
                words.keyword(&["ipsec"], "`ipsec`")?;
                words.keyword(&["profile"], "`profile`")?;
                let (column, name) = words.word("a profile name")?;
                // `shared`: several tunnels on one source share the SAs; one tunnel here.
                words.eat_abbreviated("shared");
                self.end_once(
                    words,
                    Origin::Protection(index),
                    Place { column, ..place },
                    "tunnel protection",
                )?;
                self.tunnel(index).protection = Some(name.to_owned());
            }
        }
        Ok(())
    }

    pub(super) fn nhrp(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
        match words.keyword_in(
            &[
                "network-id",
                "nhs",
                "map",
                "authentication",
                "holdtime",
                "registration",
                "redirect",
                "shortcut",
            ],
            grammar::NHRP_IOS,
            "an `ip nhrp` command",
        )? {
            0 => {
                let (_, id) = words.number("nhrp network-id", 1, u64::from(u32::MAX))?;
                self.end_once(words, Origin::NetworkId(index), place, "ip nhrp network-id")?;
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
                self.end_once(words, Origin::Holdtime(index), place, "ip nhrp holdtime")?;
                self.tunnel(index).nhrp.holdtime = u16::try_from(seconds).ok();
            }
            6 => {
                // `ip nhrp redirect [timeout S]`: again is a no-op in IOS (the last timeout wins).
                let mut timeout = None;
                if words.peek().is_some() {
                    words.keyword(&["timeout"], "`timeout`")?;
                    let (_, seconds) = words.number("nhrp redirect timeout", 2, 30)?;
                    timeout = u16::try_from(seconds).ok();
                }
                words.end()?;
                self.origins.set(Origin::Redirect(index), place);
                self.tunnel(index).nhrp.redirect = Some(timeout);
            }
            7 => {
                words.end()?;
                self.origins.set(Origin::Shortcut(index), place);
                self.tunnel(index).nhrp.shortcut = true;
            }
            _ => {
                let column = words.column();
                if words.keyword(&["timeout", "no-unique"], "`timeout` or `no-unique`")? == 0 {
                    let (_, seconds) = words.number("nhrp registration timeout", 1, 65535)?;
                    self.end_once(
                        words,
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
    pub(super) fn nhs(&mut self, index: usize, words: &mut Words<'_>, place: Place) -> Result<()> {
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
            let first = Origin::Nhs(index, first);
            return Err(self.origins.duplicate(first, column, "this nhs"));
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

    pub(super) fn add_multicast(&mut self, index: usize, map: MulticastMap, place: Place) {
        let list = &mut self.tunnel(index).nhrp.multicast;
        if list.contains(&map) {
            return; // IOS takes it again as a no-op
        }
        list.push(map);
        let n = list.len() - 1;
        self.origins.set(Origin::Multicast(index, n), place);
    }

    /// `ip nhrp map TUNNEL NBMA`, `ip nhrp map multicast dynamic|NBMA`.
    pub(super) fn nhrp_map(
        &mut self,
        index: usize,
        words: &mut Words<'_>,
        place: Place,
    ) -> Result<()> {
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
            let first = Origin::Map(index, first);
            return Err(self
                .origins
                .duplicate(first, column, "a map for this address"));
        }
        maps.push(NhrpMap { tunnel, nbma });
        let n = maps.len() - 1;
        self.origins
            .set(Origin::Map(index, n), Place { column, ..place });
        Ok(())
    }
}
