//! IOS's grammar as far as the parser needs it: the keywords valid in each mode (those the router
//! runs and those IOS accepts that the router does not use), IOS's abbreviation rule, a
//! suggestion for a mistyped word, and interface names in every IOS spelling.
//!
//! IOS takes a keyword when the word typed is the whole keyword or a prefix of it that no other
//! keyword valid at that point shares (`encr` is `encryption` in `crypto isakmp policy` mode, where
//! nothing else begins with `encr`; `e` is ambiguous between `encryption` and `exit`). The lists
//! below are IOS 15's keywords at each point; a word that matches none of them is what IOS
//! answers with `% Invalid input detected`.

/// What a word is at some point of a command.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum Match {
    /// The index of a keyword the router runs.
    Ours(usize),
    /// A keyword IOS accepts here that the router does not use (its canonical spelling).
    Ios(&'static str),
    /// A prefix of several keywords.
    Ambiguous(Vec<&'static str>),
    /// Not a keyword here; the closest keyword when one is near.
    Invalid(Option<&'static str>),
}

/// Matches `word` against the keywords valid at this point, the router's (`ours`) and IOS's
/// others (`ios`), by IOS's rule: the whole keyword, else a prefix of exactly one.
pub(crate) fn lookup(word: &str, ours: &[&'static str], ios: &[&'static str]) -> Match {
    let all = || ours.iter().chain(ios.iter()).copied();
    let of = |keyword: &'static str| match ours.iter().position(|k| *k == keyword) {
        Some(index) => Match::Ours(index),
        None => Match::Ios(keyword),
    };
    if let Some(keyword) = all().find(|k| k.eq_ignore_ascii_case(word)) {
        return of(keyword);
    }
    let prefixed: Vec<&'static str> = all()
        .filter(|k| {
            !word.is_empty()
                && k.len() >= word.len()
                && k.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
        })
        .collect();
    match prefixed.as_slice() {
        [one] => of(one),
        [] => Match::Invalid(suggest(&word.to_ascii_lowercase(), all())),
        _ => {
            let mut many = prefixed;
            many.sort_unstable();
            many.dedup();
            Match::Ambiguous(many)
        }
    }
}

/// The keyword closest to a word IOS would refuse: one that the word begins with (`pre-shared`
/// → `pre-share`), or one within a small edit distance (`3dess` → `3des`, `encyption` →
/// `encryption`).
pub(crate) fn suggest(
    word: &str,
    keywords: impl Iterator<Item = &'static str>,
) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    for keyword in keywords {
        let k = keyword.to_ascii_lowercase();
        let distance = if word.len() > k.len() && word.starts_with(&k) && k.len() >= 3 {
            word.len() - k.len()
        } else {
            edit_distance(word, &k)
        };
        // Close enough that it is a typo, not another word: at most 2 edits, and fewer than a
        // third of the keyword.
        if distance <= 2 && distance * 3 <= k.len() && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, keyword));
        }
    }
    best.map(|(_, k)| k)
}

/// Damerau-Levenshtein (optimal string alignment) distance, on bytes; long words are cut to 64
/// bytes so the cost stays bounded.
fn edit_distance(a: &str, b: &str) -> usize {
    let a = &a.as_bytes()[..a.len().min(64)];
    let b = &b.as_bytes()[..b.len().min(64)];
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[a.len() * width + b.len()]
}

/// Global configuration commands IOS has besides the router's (`hostname`, `interface`,
/// `router`, `crypto`, `ip`, `banner`, `version`, `end`, `no`, `exit`).
pub(crate) const GLOBAL_IOS: &[&str] = &[
    "aaa",
    "access-list",
    "access-session",
    "alias",
    "appfw",
    "application",
    "archive",
    "arp",
    "authentication",
    "bfd",
    "bfd-template",
    "boot",
    "boot-end-marker",
    "boot-start-marker",
    "bridge",
    "call",
    "call-home",
    "call-manager-fallback",
    "card",
    "ccm-manager",
    "cdp",
    "chat-script",
    "class-map",
    "clock",
    "config-register",
    "control-plane",
    "controller",
    "cts",
    "default",
    "device-sensor",
    "diagnostic",
    "dial-peer",
    "dialer-list",
    "do",
    "dot11",
    "dot1x",
    "dspfarm",
    "enable",
    "energywise",
    "ephone",
    "ephone-dn",
    "epm",
    "errdisable",
    "ethernet",
    "event",
    "exception",
    "fhrp",
    "file",
    "flow",
    "frame-relay",
    "gatekeeper",
    "gateway",
    "hw-module",
    "ipc",
    "ipv6",
    "isdn",
    "key",
    "kron",
    "l2tp",
    "l2tp-class",
    "license",
    "line",
    "lldp",
    "logging",
    "login",
    "mac",
    "mac-address-table",
    "macro",
    "memory",
    "memory-size",
    "mgcp",
    "mls",
    "mmi",
    "monitor",
    "mpls",
    "multilink",
    "nat64",
    "netconf",
    "netconf-yang",
    "network-clock",
    "network-clock-participate",
    "ntp",
    "object-group",
    "parameter-map",
    "parser",
    "password",
    "platform",
    "policy-map",
    "port-channel",
    "power",
    "priority-list",
    "privilege",
    "process-max-time",
    "pseudowire-class",
    "ptp",
    "qos",
    "queue-list",
    "radius",
    "radius-server",
    "redundancy",
    "resource",
    "restconf",
    "rmon",
    "route-map",
    "sccp",
    "scheduler",
    "security",
    "segment-routing",
    "service",
    "sip-ua",
    "snmp",
    "snmp-server",
    "spanning-tree",
    "stack-mac",
    "stcapp",
    "subscriber",
    "switch",
    "system",
    "table-map",
    "tacacs",
    "tacacs-server",
    "telemetry",
    "telephony-service",
    "template",
    "tftp-server",
    "track",
    "transceiver",
    "udld",
    "username",
    "virtual-service",
    "vlan",
    "voice",
    "voice-card",
    "voice-class",
    "voice-port",
    "vpdn",
    "vpdn-group",
    "vrf",
    "vstack",
    "vtp",
    "wism",
    "wsma",
    "x25",
    "xconnect",
    "zone",
    "zone-pair",
];

/// `ip …` in global mode, besides `route`.
pub(crate) const GLOBAL_IP_IOS: &[&str] = &[
    "access-list",
    "accounting",
    "accounting-list",
    "accounting-threshold",
    "accounting-transits",
    "admission",
    "alias",
    "arp",
    "as-path",
    "auth-proxy",
    "bgp-community",
    "bootp",
    "cef",
    "classless",
    "community-list",
    "ddns",
    "default-gateway",
    "default-network",
    "device",
    "dhcp",
    "dhcp-client",
    "dhcp-server",
    "dns",
    "domain",
    "domain-list",
    "domain-lookup",
    "domain-name",
    "dvmrp",
    "explicit-path",
    "extcommunity-list",
    "finger",
    "flow",
    "flow-aggregation",
    "flow-cache",
    "flow-export",
    "flow-top-talkers",
    "forward-protocol",
    "ftp",
    "gdoi",
    "gratuitous-arps",
    "host",
    "host-list",
    "http",
    "icmp",
    "igmp",
    "inspect",
    "ips",
    "local",
    "mfib",
    "mrm",
    "mroute",
    "msdp",
    "multicast",
    "multicast-routing",
    "name-server",
    "nat",
    "nbar",
    "options",
    "ospf",
    "pim",
    "policy-list",
    "port-map",
    "prefix-list",
    "radius",
    "rcmd",
    "reflexive-list",
    "routing",
    "rsvp",
    "rtcp",
    "sap",
    "scp",
    "security",
    "sla",
    "source-route",
    "ssh",
    "subnet-zero",
    "tacacs",
    "tcp",
    "telnet",
    "tftp",
    "trigger-authentication",
    "urd",
    "vrf",
    "wccp",
];

/// `router …` protocols besides EIGRP.
pub(crate) const ROUTER_IOS: &[&str] = &[
    "bgp", "isis", "iso-igrp", "lisp", "mobile", "odr", "ospf", "ospfv3", "rip",
];

/// `crypto …` besides `isakmp`, `ipsec`, `call` and `ikev2`.
pub(crate) const CRYPTO_IOS: &[&str] = &[
    "ca",
    "ctcp",
    "dynamic-map",
    "engine",
    "gdoi",
    "identity",
    "key",
    "keyring",
    "logging",
    "map",
    "mib",
    "pki",
    "vpn",
];

/// `crypto isakmp …` besides `policy` and `key`.
pub(crate) const ISAKMP_IOS: &[&str] = &[
    "aggressive-mode",
    "client",
    "default",
    "enable",
    "fragmentation",
    "identity",
    "invalid-spi-recovery",
    "keepalive",
    "nat",
    "nat-traversal",
    "peer",
    "profile",
    "xauth",
];

/// `crypto ipsec …` besides `transform-set` and `profile`.
pub(crate) const IPSEC_IOS: &[&str] = &[
    "client",
    "df-bit",
    "fragmentation",
    "ipv4-nat-transparency",
    "nat-transparency",
    "optional",
    "security-association",
];

/// Interface commands besides `description`, `ip`, `shutdown`, `tunnel`, `no`, `exit`.
pub(crate) const INTERFACE_IOS: &[&str] = &[
    "access-session",
    "arp",
    "async",
    "atm",
    "authentication",
    "auto",
    "backup",
    "bandwidth",
    "bfd",
    "carrier-delay",
    "cdp",
    "channel-group",
    "channel-protocol",
    "clock",
    "compress",
    "crypto",
    "default",
    "delay",
    "device-tracking",
    "dialer",
    "dialer-group",
    "do",
    "dot1x",
    "dsl",
    "duplex",
    "encapsulation",
    "ethernet",
    "fair-queue",
    "flowcontrol",
    "frame-relay",
    "glbp",
    "hold-queue",
    "ipv6",
    "ipx",
    "isdn",
    "keepalive",
    "l2protocol-tunnel",
    "lacp",
    "lldp",
    "load-interval",
    "logging",
    "mab",
    "mac-address",
    "macro",
    "media-type",
    "mls",
    "modem",
    "mop",
    "mpls",
    "mtu",
    "multilink",
    "negotiation",
    "ntp",
    "pagp",
    "peer",
    "physical-layer",
    "power",
    "ppp",
    "pppoe",
    "pppoe-client",
    "priority-group",
    "priority-queue",
    "ptp",
    "pvc",
    "qos",
    "random-detect",
    "rate-limit",
    "serial",
    "service",
    "service-policy",
    "snmp",
    "source",
    "spanning-tree",
    "speed",
    "standby",
    "storm-control",
    "switchport",
    "traffic-shape",
    "tx-ring-limit",
    "udld",
    "vrf",
    "vrrp",
    "wrr-queue",
    "x25",
    "xconnect",
    "zone-member",
];

/// `ip …` in interface mode besides the router's.
pub(crate) const INTERFACE_IP_IOS: &[&str] = &[
    "access-group",
    "accounting",
    "admission",
    "auth-proxy",
    "authentication",
    "bandwidth-percent",
    "broadcast-address",
    "cgmp",
    "dampening-change",
    "dampening-interval",
    "ddns",
    "dhcp",
    "directed-broadcast",
    "dvmrp",
    "flow",
    "hello-interval",
    "helper-address",
    "hold-time",
    "igmp",
    "information-reply",
    "inspect",
    "ips",
    "irdp",
    "load-sharing",
    "local-proxy-arp",
    "mask-reply",
    "mfib",
    "mobile",
    "mrm",
    "mroute-cache",
    "multicast",
    "nat",
    "nbar",
    "ospf",
    "pgm",
    "pim",
    "policy",
    "probe",
    "proxy-arp",
    "redirects",
    "reflexive-list",
    "rgmp",
    "rip",
    "route-cache",
    "router",
    "rsvp",
    "rtp",
    "sap",
    "security",
    "sticky-arp",
    "summary-address",
    "traffic-export",
    "unnumbered",
    "unreachables",
    "urd",
    "verify",
    "virtual-reassembly",
    "vrf",
    "wccp",
];

/// `ip nhrp …` besides the router's.
pub(crate) const NHRP_IOS: &[&str] = &[
    "attribute",
    "cache",
    "event-publisher",
    "group",
    "interest",
    "max-send",
    "path-preference",
    "purge-request",
    "record",
    "responder",
    "route-watch",
    "server-only",
    "trigger-svc",
    "use",
];

/// `tunnel …` besides the router's.
pub(crate) const TUNNEL_IOS: &[&str] = &[
    "bandwidth",
    "checksum",
    "entropy",
    "path-mtu-discovery",
    "route-via",
    "sequence-datagrams",
    "tos",
    "ttl",
    "udlr",
    "vrf",
];

/// `tunnel mode …` besides `gre`.
pub(crate) const TUNNEL_MODE_IOS: &[&str] = &[
    "aurp", "cayman", "dvmrp", "eon", "ethernet", "ipip", "ipsec", "iptalk", "ipv6", "ipv6ip",
    "l2tpv3", "mpls", "nos", "rbscp", "udp", "vxlan",
];

/// `router eigrp` mode besides the router's.
pub(crate) const EIGRP_IOS: &[&str] = &[
    "address-family",
    "bfd",
    "default",
    "default-information",
    "default-metric",
    "distance",
    "distribute-list",
    "exit",
    "maximum-paths",
    "metric",
    "neighbor",
    "offset-list",
    "passive-interface",
    "redistribute",
    "shutdown",
    "summary-metric",
    "timers",
    "topology",
    "traffic-share",
    "variance",
];

/// `eigrp …` in `router eigrp` mode besides `router-id`.
pub(crate) const EIGRP_EIGRP_IOS: &[&str] = &[
    "default-route-tag",
    "event-log-size",
    "event-logging",
    "log-neighbor-changes",
    "log-neighbor-warnings",
    "stub",
];

/// IOS interface types, in the order an abbreviation shared by several is resolved (as on an
/// ISR: `f0/0` is FastEthernet, `e0/0` Ethernet, `t0` Tunnel).
const INTERFACE_TYPES: &[&str] = &[
    "Ethernet",
    "FastEthernet",
    "GigabitEthernet",
    "Serial",
    "Tunnel",
    "Loopback",
    "TenGigabitEthernet",
    "Vlan",
    "Port-channel",
    "Dialer",
    "Virtual-Template",
    "Virtual-Access",
    "Virtual-PPP",
    "Multilink",
    "Null",
    "BVI",
    "Cellular",
    "ATM",
    "Async",
    "Embedded-Service-Engine",
    "FortyGigabitEthernet",
    "HundredGigE",
    "TwentyFiveGigE",
    "TwoGigabitEthernet",
    "NVI",
    "Wlan-GigabitEthernet",
];

/// Whether `text` is an IOS interface number: `0`, `0/0`, `0/0/1`, `0/1.100`, `1:0`.
fn is_interface_number(text: &str) -> bool {
    let mut previous_digit = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '0'..='9' => {
                previous_digit = true;
                any = true;
            }
            '/' | '.' | ':' if previous_digit => previous_digit = false,
            _ => return false,
        }
    }
    any && previous_digit
}

/// The IOS name of an interface written `type` and `number`, in any case and abbreviation
/// (`f0/0`, `Fa0/0`, `fastethernet 0/0` → `FastEthernet0/0`; `tu0` → `Tunnel0`; `lo1` →
/// `Loopback1`). `None` when `kind` is no IOS type or `number` no interface number (a Linux name
/// such as `lan0` is then kept as written).
pub(crate) fn interface_name(kind: &str, number: &str) -> Option<String> {
    if kind.is_empty() || !is_interface_number(number) {
        return None;
    }
    let lower = kind.to_ascii_lowercase();
    let canonical = INTERFACE_TYPES
        .iter()
        .find(|t| t.to_ascii_lowercase().starts_with(&lower))?;
    Some(format!("{canonical}{number}"))
}

/// Splits `FastEthernet0/0` into `FastEthernet` and `0/0`.
pub(crate) fn split_interface(word: &str) -> (&str, &str) {
    let at = word
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(word.len());
    word.split_at(at)
}

/// The IOS name of a one-word interface name (`f0/0`), or the word as written when it is not an
/// IOS name (`eth0` is IOS's `Ethernet0`; `lan0` stays `lan0`).
#[must_use]
pub fn canonical_interface(word: &str) -> String {
    let (kind, number) = split_interface(word);
    interface_name(kind, number).unwrap_or_else(|| word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations() {
        let policy = &["encryption", "hash", "group", "authentication", "lifetime"];
        let ios = &["default", "exit", "no"];
        assert_eq!(lookup("encr", policy, ios), Match::Ours(0));
        assert_eq!(lookup("AUTH", policy, ios), Match::Ours(3));
        assert_eq!(lookup("exit", policy, ios), Match::Ios("exit"));
        assert_eq!(
            lookup("e", policy, ios),
            Match::Ambiguous(vec!["encryption", "exit"])
        );
        assert_eq!(lookup("", policy, ios), Match::Invalid(None));
        assert_eq!(
            lookup("encyption", policy, ios),
            Match::Invalid(Some("encryption"))
        );
        // An exact keyword wins over the longer ones it prefixes.
        assert_eq!(lookup("sha", &["sha", "sha256"], &[]), Match::Ours(0));
        assert_eq!(
            lookup("pre-shared", &["pre-share"], &["rsa-encr", "rsa-sig"]),
            Match::Invalid(Some("pre-share"))
        );
        assert_eq!(
            lookup("3dess", &["des", "3des", "aes"], &[]),
            Match::Invalid(Some("3des"))
        );
        assert_eq!(
            lookup("xyzzy", &["des", "3des", "aes"], &[]),
            Match::Invalid(None)
        );
    }

    #[test]
    fn interface_names() {
        for (written, name) in [
            ("f0/0", "FastEthernet0/0"),
            ("Fa0/0", "FastEthernet0/0"),
            ("FastEthernet0/0", "FastEthernet0/0"),
            ("fastethernet0/1.100", "FastEthernet0/1.100"),
            ("g0/0/1", "GigabitEthernet0/0/1"),
            ("Gi1", "GigabitEthernet1"),
            ("tu0", "Tunnel0"),
            ("Tunnel10", "Tunnel10"),
            ("lo0", "Loopback0"),
            ("e0/0", "Ethernet0/0"),
            ("eth0", "Ethernet0"),
            ("te1/1", "TenGigabitEthernet1/1"),
            ("lan0", "lan0"),
            ("f0/", "f0/"),
            ("Tunnel", "Tunnel"),
        ] {
            assert_eq!(canonical_interface(written), name, "{written}");
        }
        assert_eq!(
            interface_name("Fa", "0/0").as_deref(),
            Some("FastEthernet0/0")
        );
        assert_eq!(interface_name("x", "0"), None);
    }
}
