//! `--map IOS=LINUX`: the configuration's IOS interfaces onto the host's Linux devices, so an
//! IOS configuration (`interface FastEthernet0/0`, `tunnel source FastEthernet0/0`) runs
//! unchanged.
//!
//! A mapped interface is the router's as IOS's interfaces are IOS's: its `ip address` is added to
//! the device (when not there yet) and the link set up unless the interface is `shutdown`;
//! `ip address dhcp` takes the address the device already has (its DHCP client's); the tunnel
//! source's device is the NBMA sockets' device (`SO_BINDTODEVICE`); a mapped `TunnelN` names the
//! TUN device; an underlay `ip route` (the default route to the ISP) whose next hop is on a
//! mapped interface is installed through it. What the router adds stays when it stops, as an
//! interface's configuration does.

use std::net::Ipv4Addr;
use std::process::Command;

use crate::config::{Config, InterfaceAddress, TunnelSource, canonical_interface};

/// One `--map IOS=LINUX`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct InterfaceMap {
    /// The IOS interface, as IOS names it (`FastEthernet0/0`).
    pub ios: String,
    /// The Linux device.
    pub linux: String,
}

impl core::str::FromStr for InterfaceMap {
    type Err = String;

    /// `IOS=LINUX`, the IOS name in any IOS spelling (`f0/0=eth0`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ios, linux) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: expected IOS-INTERFACE=LINUX-DEVICE"))?;
        let (ios, linux) = (ios.trim(), linux.trim());
        // Linux limits device names to 15 bytes, without `/` or spaces.
        let valid_linux = !linux.is_empty()
            && linux.len() <= 15
            && !linux.contains(|c: char| c == '/' || c.is_whitespace())
            && linux != "."
            && linux != "..";
        if ios.is_empty() || !valid_linux {
            return Err(format!(
                "`{text}`: expected IOS-INTERFACE=LINUX-DEVICE (a Linux name of 1 to 15 characters)"
            ));
        }
        Ok(Self {
            ios: canonical_interface(ios),
            linux: linux.to_owned(),
        })
    }
}

/// The Linux device of an IOS interface, when mapped.
#[must_use]
pub fn device<'a>(maps: &'a [InterfaceMap], ios: &str) -> Option<&'a str> {
    maps.iter()
        .find(|m| m.ios.eq_ignore_ascii_case(ios))
        .map(|m| m.linux.as_str())
}

/// What applying the maps did, one line each (for the log).
pub type Actions = Vec<String>;

/// Checks the maps against the configuration, configures the mapped devices, and gives back the
/// configuration with each DHCP address the device has filled in.
///
/// # Errors
///
/// A map naming no interface of the configuration, a device that does not exist, an `ip`
/// command that fails, or a DHCP interface whose device has no address yet.
pub fn apply(config: &Config, maps: &[InterfaceMap]) -> Result<(Config, Actions), String> {
    let mut config = config.clone();
    let mut actions = Vec::new();
    for map in maps {
        if config.interface(&map.ios).is_none() {
            return Err(format!(
                "--map {}={}: the configuration has no interface {}",
                map.ios, map.linux, map.ios
            ));
        }
        let is_tunnel = config
            .interface(&map.ios)
            .is_some_and(|i| i.tunnel.is_some());
        if !is_tunnel
            && !std::path::Path::new("/sys/class/net")
                .join(&map.linux)
                .exists()
        {
            return Err(format!(
                "--map {}={}: there is no device {}",
                map.ios, map.linux, map.linux
            ));
        }
    }
    for interface in &mut config.interfaces {
        let Some(linux) = device(maps, &interface.name) else {
            continue;
        };
        if interface.tunnel.is_some() {
            continue;
        }
        if interface.dhcp {
            let prefix = device_address(linux)?.ok_or_else(|| {
                format!(
                    "{} ({linux}) is `ip address dhcp` and {linux} has no IPv4 address yet",
                    interface.name
                )
            })?;
            actions.push(format!(
                "{} is {linux}: leased address {prefix}",
                interface.name
            ));
            interface.address = Some(prefix);
            interface.dhcp = false;
            continue;
        }
        if let Some(prefix) = interface.address {
            let have = device_addresses(linux)?;
            if !have.contains(&prefix) {
                let cidr = prefix.to_string();
                ip(&["addr", "add", &cidr, "dev", linux])?;
                actions.push(format!(
                    "{} is {linux}: address {cidr} added",
                    interface.name
                ));
            }
        }
        if interface.shutdown != Some(true) {
            ip(&["link", "set", linux, "up"])?;
        }
    }
    for route in &config.routes {
        if config.tunnel_routes().any(|(r, _)| r == route) {
            continue;
        }
        let Some(hop) = route.next_hop else {
            continue;
        };
        let out = match &route.interface {
            Some(name) => device(maps, name),
            None => config
                .interfaces
                .iter()
                .filter(|i| i.tunnel.is_none())
                .find(|i| i.address.is_some_and(|a| a.contains(hop)))
                .and_then(|i| device(maps, &i.name)),
        };
        let Some(linux) = out else { continue };
        let destination = route.prefix.to_string();
        let hop = hop.to_string();
        ip(&["route", "replace", &destination, "via", &hop, "dev", linux])?;
        actions.push(format!(
            "underlay route {destination} via {hop} dev {linux}"
        ));
    }
    Ok((config, actions))
}

/// The NBMA sockets' device: the mapped device of the tunnel source.
#[must_use]
pub fn nbma_device<'a>(config: &Config, maps: &'a [InterfaceMap]) -> Option<&'a str> {
    match config.tunnel()?.source.as_ref()? {
        TunnelSource::Interface(name) => device(maps, name),
        TunnelSource::Address(address) => {
            let interface = config
                .interfaces
                .iter()
                .find(|i| i.address.is_some_and(|a| a.address == *address))?;
            device(maps, &interface.name)
        }
    }
}

fn ip(args: &[&str]) -> Result<String, String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The IPv4 addresses of a device (`ip -4 -o addr show dev X`: `N: X inet A/L …`).
fn device_addresses(linux: &str) -> Result<Vec<InterfaceAddress>, String> {
    let text = ip(&["-4", "-o", "addr", "show", "dev", linux])?;
    Ok(text.lines().filter_map(parse_inet).collect())
}

fn device_address(linux: &str) -> Result<Option<InterfaceAddress>, String> {
    Ok(device_addresses(linux)?.into_iter().next())
}

/// The `inet A/L` of one line of `ip -o addr`.
fn parse_inet(line: &str) -> Option<InterfaceAddress> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == "inet")?;
    let (address, len) = words.next()?.split_once('/')?;
    let address: Ipv4Addr = address.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let mask = u32::MAX.checked_shl(32 - len.min(32)).unwrap_or(0);
    Some(InterfaceAddress {
        address,
        mask: Ipv4Addr::from_bits(if len == 0 { 0 } else { mask }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_parse_in_any_ios_spelling() {
        let map: InterfaceMap = "f0/0=eth0".parse().unwrap();
        assert_eq!(
            map,
            InterfaceMap {
                ios: "FastEthernet0/0".to_owned(),
                linux: "eth0".to_owned()
            }
        );
        let map: InterfaceMap = "Tunnel0=tun-r1".parse().unwrap();
        assert_eq!(map.ios, "Tunnel0");
        for bad in [
            "eth0",
            "=eth0",
            "f0/0=",
            "f0/0=a/b",
            "f0/0=abcdefghijklmnop",
        ] {
            assert!(bad.parse::<InterfaceMap>().is_err(), "{bad}");
        }
        let maps = ["Fa0/0=eth0".parse().unwrap(), "lo0=lo".parse().unwrap()];
        assert_eq!(device(&maps, "FastEthernet0/0"), Some("eth0"));
        assert_eq!(device(&maps, "Loopback0"), Some("lo"));
        assert_eq!(device(&maps, "Loopback1"), None);
    }

    #[test]
    fn inet_lines() {
        let line = "2: eth0    inet 100.1.2.2/24 brd 100.1.2.255 scope global eth0\\       valid_lft forever";
        let prefix = parse_inet(line).unwrap();
        assert_eq!(prefix.to_string(), "100.1.2.2/24");
        assert_eq!(prefix.mask, Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(
            parse_inet("1: lo    inet 1.1.1.1/32 scope global lo")
                .unwrap()
                .prefix_len(),
            32
        );
        assert_eq!(parse_inet("garbage"), None);
        assert_eq!(
            parse_inet("x inet 1.2.3.4/40"),
            Some(InterfaceAddress {
                address: Ipv4Addr::new(1, 2, 3, 4),
                mask: Ipv4Addr::BROADCAST
            })
        );
    }

    #[test]
    fn nbma_device_follows_the_tunnel_source() {
        let config = Config::parse(
            include_str!("../../../../testdata/router/tutorial/R2.cfg"),
            crate::config::Options::default(),
        )
        .unwrap()
        .config;
        let maps = ["f0/0=eth0".parse().unwrap()];
        assert_eq!(nbma_device(&config, &maps), Some("eth0"));
        assert_eq!(nbma_device(&config, &[]), None);
    }
}
