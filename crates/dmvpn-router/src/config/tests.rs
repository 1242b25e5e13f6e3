//! Every statement, every error with its line and column, the semantic checks, and the round
//! trip of the example configurations in `testdata/router/`.

use std::net::Ipv4Addr;

use super::parse::{self, Origins};
use super::*;

const HUB: &str = include_str!("../../../../testdata/router/hub.cfg");
const SPOKE1: &str = include_str!("../../../../testdata/router/spoke1.cfg");
const SPOKE2: &str = include_str!("../../../../testdata/router/spoke2.cfg");

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

/// Syntax only (no semantic checks): the configuration and the errors, with the commands
/// skipped (warnings) among them in line order.
fn syntax(text: &str) -> (Config, Vec<Diagnostic>) {
    let (config, _, mut errors, warnings): (Config, Origins, _, _) =
        parse::parse(text, Options::default());
    errors.extend(warnings);
    errors.sort_by_key(|d| d.line);
    (config, errors)
}

/// Syntax that must be clean.
fn clean(text: &str) -> Config {
    let (config, errors) = syntax(text);
    assert!(errors.is_empty(), "{}", Errors(errors));
    config
}

fn tunnel(config: &Config) -> &Tunnel {
    config.tunnel().unwrap()
}

/// `text` loads without a warning and is written back to the same text; its config.
pub(super) fn round_trips(text: &str) -> Config {
    let parsed = Config::parse(text, Options::default()).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.config.to_string(), text);
    parsed.config
}

#[test]
fn examples_round_trip_as_text() {
    for text in [HUB, SPOKE1, SPOKE2] {
        round_trips(text);
    }
}

#[test]
fn examples_fields() {
    let hub = Config::parse(HUB, Options::default()).unwrap().config;
    assert_eq!(hub.hostname.as_deref(), Some("hub"));
    let t = tunnel(&hub);
    assert_eq!(t.role(), Role::Hub);
    assert!(t.is_multipoint());
    assert_eq!(t.nhrp.network_id, Some(123));
    assert_eq!(t.nhrp.holdtime, Some(300));
    assert_eq!(
        t.nhrp.authentication.as_ref().map(Secret::expose),
        Some("dmvpn")
    );
    assert_eq!(t.nhrp.multicast, [MulticastMap::Dynamic]);
    assert_eq!(t.no_split_horizon, [123]);
    assert_eq!(hub.nbma_address(), Some(ip("192.0.2.1")));
    assert_eq!(
        hub.isakmp_key_for(ip("198.51.100.7"))
            .map(|k| k.key.expose()),
        Some("lab-psk-secret")
    );
    let profile = hub.protection().unwrap();
    let set = hub.transform_set(&profile.transform_sets[0]).unwrap();
    assert_eq!(set.encryption, EspEncryption::Aes(128));
    assert_eq!(set.integrity, Some(EspIntegrity::Sha));
    assert_eq!(set.mode, Some(EspMode::Transport));
    let tunnel_if = hub.tunnel_interface().unwrap();
    assert_eq!(
        (tunnel_if.mtu, tunnel_if.adjust_mss),
        (Some(1400), Some(1360))
    );

    let spoke1 = Config::parse(SPOKE1, Options::default()).unwrap().config;
    let t = tunnel(&spoke1);
    assert_eq!(t.role(), Role::Spoke);
    assert!(!t.is_multipoint());
    assert_eq!(t.destination, Some(ip("192.0.2.1")));
    assert_eq!(t.nhs_nbma(&t.nhrp.nhs[0]), Some(ip("192.0.2.1")));
    assert_eq!(spoke1.isakmp_key_for(ip("192.0.2.2")), None);

    let spoke2 = Config::parse(SPOKE2, Options::default()).unwrap().config;
    let t = tunnel(&spoke2);
    assert!(t.is_multipoint());
    assert_eq!(
        t.nhrp.nhs,
        [Nhs {
            address: ip("10.99.200.1"),
            nbma: Some(ip("192.0.2.1"))
        }]
    );
    assert_eq!(t.nhrp.multicast, [MulticastMap::Nbma(ip("192.0.2.1"))]);
}

#[test]
fn every_statement() {
    let config = clean(
        "hostname r1\n\
         interface tunnel 7\n\
         \x20description the  overlay  \n\
         \x20ip address 10.0.0.1 255.255.255.0\n\
         \x20ip mtu 1400\n\
         \x20ip tcp adjust-mss 1360\n\
         \x20tunnel source 192.0.2.1\n\
         \x20tunnel destination 192.0.2.9\n\
         \x20tunnel mode gre ip\n\
         \x20tunnel key 4294967295\n\
         \x20tunnel protection ipsec profile P\n\
         \x20ip nhrp network-id 4294967295\n\
         \x20ip nhrp nhs 10.0.0.9\n\
         \x20ip nhrp nhs 10.0.0.8 nbma 192.0.2.8\n\
         \x20ip nhrp map 10.0.0.9 192.0.2.9\n\
         \x20ip nhrp map multicast dynamic\n\
         \x20ip nhrp map multicast 192.0.2.9\n\
         \x20ip nhrp authentication 12345678\n\
         \x20ip nhrp holdtime 65535\n\
         \x20no ip split-horizon eigrp 5\n\
         \x20no ip next-hop-self eigrp 5\n\
         \x20NO SHUTDOWN\n\
         Interface GigabitEthernet0/1\n\
         \x20ip address 192.168.1.1 255.255.255.0\n\
         \x20shutdown\n\
         router eigrp 5\n\
         \x20network 10.0.0.0 0.0.0.255\n\
         \x20network 192.168.1.0\n\
         \x20auto-summary\n\
         \x20eigrp router-id 1.1.1.1\n\
         crypto isakmp policy 1\n\
         \x20encryption aes 256\n\
         \x20hash sha256\n\
         \x20group 14\n\
         \x20authentication pre-share\n\
         \x20lifetime 3600\n\
         crypto isakmp policy 2\n\
         \x20encryption des\n\
         \x20hash sha\n\
         \x20group 5\n\
         crypto isakmp key 0 k1 address 192.0.2.0 255.255.255.0\n\
         crypto isakmp key 0 address 192.0.2.9\n\
         crypto ipsec transform-set T1 esp-3des esp-md5-hmac\n\
         \x20mode tunnel\n\
         crypto ipsec transform-set T2 esp-gcm 256\n\
         crypto ipsec transform-set T3 esp-sha512-hmac esp-des\n\
         crypto ipsec transform-set T4 esp-null esp-sha384-hmac\n\
         crypto ipsec transform-set T5 esp-aes 192 esp-sha256-hmac\n\
         crypto ipsec profile P\n\
         \x20set transform-set T1 T2\n\
         \x20set pfs group5\n\
         \x20set security-association lifetime seconds 7200\n\
         \x20set security-association lifetime kilobytes 2560\n\
         ip route 10.9.0.0 255.255.0.0 10.0.0.9\n\
         ip route 0.0.0.0 0.0.0.0 10.0.0.8\n\
         ! a comment\n\
         \x20  ! an indented comment\n\
         \n\
         end\n\
         !\n",
    );
    assert_eq!(config.hostname.as_deref(), Some("r1"));
    let i = &config.interfaces[0];
    assert_eq!(i.name, "Tunnel7");
    assert_eq!(i.description.as_deref(), Some("the  overlay"));
    assert_eq!(
        i.address,
        Some(InterfaceAddress {
            address: ip("10.0.0.1"),
            mask: ip("255.255.255.0")
        })
    );
    assert_eq!(
        (i.mtu, i.adjust_mss, i.shutdown),
        (Some(1400), Some(1360), Some(false))
    );
    let t = i.tunnel.as_ref().unwrap();
    assert_eq!(t.source, Some(TunnelSource::Address(ip("192.0.2.1"))));
    assert_eq!(t.destination, Some(ip("192.0.2.9")));
    assert_eq!(t.mode, Some(TunnelMode::GreIp));
    assert_eq!(t.key, Some(u32::MAX));
    assert_eq!(t.protection.as_deref(), Some("P"));
    assert_eq!(t.nhrp.network_id, Some(u32::MAX));
    assert_eq!(
        t.nhrp.nhs,
        [
            Nhs {
                address: ip("10.0.0.9"),
                nbma: None
            },
            Nhs {
                address: ip("10.0.0.8"),
                nbma: Some(ip("192.0.2.8"))
            }
        ]
    );
    assert_eq!(
        t.nhrp.maps,
        [NhrpMap {
            tunnel: ip("10.0.0.9"),
            nbma: ip("192.0.2.9")
        }]
    );
    assert_eq!(
        t.nhrp.multicast,
        [MulticastMap::Dynamic, MulticastMap::Nbma(ip("192.0.2.9"))]
    );
    assert_eq!(t.nhrp.authentication, Some(Secret::new("12345678")));
    assert_eq!(t.nhrp.holdtime, Some(65535));
    assert_eq!(
        (t.no_split_horizon.as_slice(), t.no_next_hop_self.as_slice()),
        (&[5][..], &[5][..])
    );
    let lan = &config.interfaces[1];
    assert_eq!(
        (lan.name.as_str(), lan.shutdown, lan.tunnel.is_none()),
        ("GigabitEthernet0/1", Some(true), true)
    );
    let eigrp = &config.eigrp[0];
    assert_eq!(eigrp.asn, 5);
    assert_eq!(
        eigrp.networks,
        [
            Network {
                address: ip("10.0.0.0"),
                wildcard: Some(ip("0.0.0.255"))
            },
            Network {
                address: ip("192.168.1.0"),
                wildcard: None
            }
        ]
    );
    assert_eq!(eigrp.networks[1].effective_wildcard(), ip("0.0.0.255"));
    assert!(eigrp.covers(ip("192.168.1.1")) && !eigrp.covers(ip("10.0.1.1")));
    assert_eq!(
        (eigrp.auto_summary, eigrp.router_id),
        (Some(true), Some(ip("1.1.1.1")))
    );
    let p = &config.isakmp_policies;
    assert_eq!(
        p[0],
        IsakmpPolicy {
            priority: 1,
            encryption: Some(Cipher::Aes256),
            hash: Some(Hash::Sha256),
            group: Some(Group::MODP_2048),
            pre_share: true,
            lifetime: Some(3600),
        }
    );
    assert_eq!(
        (
            p[1].encryption(),
            p[1].hash(),
            p[1].group(),
            p[1].lifetime()
        ),
        (Cipher::Des, Hash::Sha1, Group::MODP_1536, 86400)
    );
    assert!(!p[1].pre_share);
    let k = &config.isakmp_keys;
    assert_eq!(
        (k[0].key.expose(), k[0].address, k[0].mask),
        ("k1", ip("192.0.2.0"), Some(ip("255.255.255.0")))
    );
    assert_eq!((k[1].key.expose(), k[1].mask), ("0", None));
    assert_eq!(
        config
            .isakmp_key_for(ip("192.0.2.9"))
            .map(|k| k.key.expose()),
        Some("0")
    );
    assert_eq!(
        config
            .isakmp_key_for(ip("192.0.2.10"))
            .map(|k| k.key.expose()),
        Some("k1")
    );
    let sets: Vec<_> = config
        .transform_sets
        .iter()
        .map(|t| (t.name.as_str(), t.encryption, t.integrity, t.mode))
        .collect();
    assert_eq!(
        sets,
        [
            (
                "T1",
                EspEncryption::TripleDes,
                Some(EspIntegrity::Md5),
                Some(EspMode::Tunnel)
            ),
            ("T2", EspEncryption::Gcm(256), None, None),
            ("T3", EspEncryption::Des, Some(EspIntegrity::Sha512), None),
            ("T4", EspEncryption::Null, Some(EspIntegrity::Sha384), None),
            (
                "T5",
                EspEncryption::Aes(192),
                Some(EspIntegrity::Sha256),
                None
            ),
        ]
    );
    let profile = &config.ipsec_profiles[0];
    assert_eq!(profile.transform_sets, ["T1", "T2"]);
    assert_eq!(
        (profile.pfs, profile.lifetime, profile.lifetime_kilobytes),
        (Some(Group::MODP_1536), Some(7200), Some(2560))
    );
    assert_eq!(
        config.routes,
        [
            IpRoute {
                prefix: Prefix::new(ip("10.9.0.0"), 16),
                next_hop: Some(ip("10.0.0.9")),
                interface: None,
                distance: None,
            },
            IpRoute {
                prefix: Prefix::new(ip("0.0.0.0"), 0),
                next_hop: Some(ip("10.0.0.8")),
                interface: None,
                distance: None,
            },
        ]
    );
    // And the whole thing written back reads the same.
    assert_eq!(clean(&config.to_string()), config);
}

#[test]
fn reentering_a_block_adds_to_it() {
    let config = clean(
        "interface Tunnel0\n ip mtu 1400\nrouter eigrp 1\n network 10.0.0.0\ninterface tunnel0\n ip nhrp holdtime 9\nrouter eigrp 1\n no auto-summary\n",
    );
    assert_eq!(config.interfaces.len(), 1);
    assert_eq!(config.interfaces[0].mtu, Some(1400));
    assert_eq!(tunnel(&config).nhrp.holdtime, Some(9));
    assert_eq!(config.eigrp.len(), 1);
    assert_eq!(config.eigrp[0].auto_summary, Some(false));
}

#[test]
fn syntax_errors_with_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "hostname\n",
            1,
            9,
            "expected a host name, found end of line",
        ),
        (
            "hostname a b\n",
            1,
            12,
            "unexpected `b` after the end of the command",
        ),
        (
            "hostname a\nhostname b\n",
            2,
            1,
            "hostname is set twice (first at line 1)",
        ),
        (" ip mtu 1400\n", 1, 2, "indented line outside any sub-mode"),
        (
            "line vty 0 4\n login\n",
            1,
            1,
            "`line` skipped: IOS takes it, this router does not use it",
        ),
        (
            "interface Tunnel0\n ip nhrp record\n",
            2,
            10,
            "`ip nhrp record` skipped in interface mode: IOS takes it, this router does not use it",
        ),
        (
            "interface Tunnelx\n",
            1,
            11,
            "expected a tunnel number, found `x`",
        ),
        (
            "interface Tunnel2147483648\n",
            1,
            11,
            "tunnel number 2147483648 is out of range 0..=2147483647",
        ),
        (
            "interface eth0\n ip address 10.0.0.1\n",
            2,
            21,
            "expected a subnet mask, found end of line",
        ),
        (
            "interface eth0\n ip address 10.0.0.1 255.0.255.0\n",
            2,
            22,
            "255.0.255.0 is not a valid subnet mask",
        ),
        (
            "interface eth0\n ip address 10.0.0.300 255.0.0.0\n",
            2,
            13,
            "expected an ip address, found `10.0.0.300`",
        ),
        (
            "interface eth0\n ip address 10.0.0.1 255.0.0.0\n ip address 10.0.0.2 255.0.0.0\n",
            3,
            2,
            "ip address is set twice (first at line 2)",
        ),
        (
            "interface eth0\n ip mtu 67\n",
            2,
            9,
            "ip mtu 67 is out of range 68..=17916",
        ),
        (
            "interface eth0\n ip mtu x\n",
            2,
            9,
            "expected ip mtu, found `x`",
        ),
        (
            "interface eth0\n ip tcp adjust-mss 1461\n",
            2,
            20,
            "tcp adjust-mss 1461 is out of range 500..=1460",
        ),
        (
            "interface eth0\n tunnel key 1\n",
            2,
            2,
            "`tunnel` is only valid on a tunnel interface, not on Ethernet0",
        ),
        (
            "interface eth0\n ip nhrp holdtime 1\n",
            2,
            2,
            "`ip nhrp` is only valid on a tunnel interface, not on Ethernet0",
        ),
        (
            "interface eth0\n no ip split-horizon eigrp 1\n",
            2,
            2,
            "`no ip split-horizon eigrp` is only valid on a tunnel interface, not on Ethernet0",
        ),
        (
            "interface Tunnel0\n tunnel key 4294967296\n",
            2,
            13,
            "tunnel key 4294967296 is out of range 0..=4294967295",
        ),
        (
            "interface Tunnel0\n tunnel key 99999999999999999999999\n",
            2,
            13,
            "tunnel key 99999999999999999999999 is out of range 0..=4294967295",
        ),
        (
            "interface Tunnel0\n tunnel mode ipsec ipv4\n",
            2,
            14,
            "unsupported command `tunnel mode ipsec ipv4` in interface mode",
        ),
        (
            "interface Tunnel0\n tunnel mode gre\n",
            2,
            17,
            "expected `multipoint` or `ip`, found end of line",
        ),
        (
            "interface Tunnel0\n tunnel destination x\n",
            2,
            21,
            "expected a destination address, found `x`",
        ),
        (
            "interface Tunnel0\n tunnel protection ipsec profile\n",
            2,
            33,
            "expected a profile name, found end of line",
        ),
        (
            "interface Tunnel0\n ip nhrp network-id 0\n",
            2,
            21,
            "nhrp network-id 0 is out of range 1..=4294967295",
        ),
        (
            "interface Tunnel0\n ip nhrp nhs 10.0.0.1 nbma\n",
            2,
            27,
            "expected an nbma address, found end of line",
        ),
        (
            "interface Tunnel0\n ip nhrp nhs 10.0.0.1 prio 1 weight 2\n",
            2,
            30,
            "invalid input `weight`: expected `nbma`, `multicast`, `priority` or `cluster`",
        ),
        (
            "interface Tunnel0\n ip nhrp nhs 10.0.0.1\n ip nhrp nhs 10.0.0.1\n",
            3,
            14,
            "this nhs is set twice (first at line 2)",
        ),
        (
            "interface Tunnel0\n ip nhrp map 10.0.0.1\n",
            2,
            22,
            "expected an nbma address, found end of line",
        ),
        (
            "interface Tunnel0\n ip nhrp map 10.0.0.1 1.1.1.1\n ip nhrp map 10.0.0.1 1.1.1.2\n",
            3,
            14,
            "a map for this address is set twice (first at line 2)",
        ),
        (
            "interface Tunnel0\n ip nhrp map multicast static\n",
            2,
            24,
            "invalid input `static`: expected `dynamic` or an nbma address",
        ),
        (
            "interface Tunnel0\n ip nhrp nhs 10.0.0.1 multicast\n",
            2,
            14,
            "expected `nbma ADDRESS` before `multicast`, found end of line",
        ),
        (
            "interface Tunnel0\n ip nhrp authentication 123456789\n",
            2,
            25,
            "nhrp authentication of 9 characters is longer than 8",
        ),
        (
            "interface Tunnel0\n ip nhrp holdtime 65536\n",
            2,
            19,
            "nhrp holdtime 65536 is out of range 1..=65535",
        ),
        (
            "interface Tunnel0\n no ip split-horizon eigrp 0\n",
            2,
            28,
            "an eigrp as number 0 is out of range 1..=65535",
        ),
        (
            "interface Tunnel0\n no ip split-horizon eigrp 1\n no ip split-horizon eigrp 1\n",
            3,
            2,
            "this command is set twice (first at line 3)",
        ),
        (
            "interface Tunnel0\n no ip redirects\n",
            2,
            8,
            "`no ip redirects` skipped in interface mode: IOS takes it, this router does not use it",
        ),
        (
            "interface Tunnel0\n description\n",
            2,
            13,
            "expected a description, found end of line",
        ),
        (
            "router eigrp 65536\n",
            1,
            14,
            "an eigrp as number 65536 is out of range 1..=65535",
        ),
        (
            "router ospf 1\n network 10.0.0.0 0.0.0.255 area 0\n",
            1,
            8,
            "`router ospf` skipped: IOS takes it, this router does not use it",
        ),
        (
            "router eigrp 1\n network 10.0.0.0 0.0.0.255 x\n",
            2,
            29,
            "unexpected `x` after the end of the command",
        ),
        (
            "router eigrp 1\n network 10.0.0.0 x\n",
            2,
            19,
            "expected a wildcard mask, found `x`",
        ),
        (
            "router eigrp 1\n eigrp router-id\n",
            2,
            17,
            "expected a router id, found end of line",
        ),
        (
            "router eigrp 1\n eigrp stub\n",
            2,
            8,
            "`eigrp stub` skipped in router eigrp mode: IOS takes it, this router does not use it",
        ),
        (
            "router eigrp 1\n no auto-summary\n auto-summary\n",
            3,
            2,
            "auto-summary is set twice (first at line 2)",
        ),
        (
            "crypto isakmp policy 0\n",
            1,
            22,
            "an isakmp policy priority 0 is out of range 1..=10000",
        ),
        (
            "crypto isakmp policy 1\n encryption aes 512\n",
            2,
            17,
            "expected a key size of 128, 192 or 256, found `512`",
        ),
        (
            "crypto isakmp policy 1\n encryption blowfish\n",
            2,
            13,
            "invalid input `blowfish`: expected des, 3des or aes",
        ),
        (
            "crypto isakmp policy 1\n hash sha512\n",
            2,
            7,
            "unsupported command `hash sha512` in crypto isakmp policy mode",
        ),
        (
            "crypto isakmp policy 1\n group 24\n",
            2,
            8,
            "unsupported command `group 24` in crypto isakmp policy mode",
        ),
        (
            "crypto isakmp policy 1\n authentication rsa-sig\n",
            2,
            17,
            "`authentication rsa-sig` skipped in crypto isakmp policy mode: IOS takes it, this router does not use it",
        ),
        (
            "crypto isakmp policy 1\n lifetime 59\n",
            2,
            11,
            "isakmp lifetime 59 is out of range 60..=86400",
        ),
        (
            "crypto isakmp policy 1\n hash md5\n hash sha\n",
            3,
            2,
            "hash is set twice (first at line 2)",
        ),
        (
            "crypto isakmp key 6 xyz address 1.1.1.1\n",
            1,
            19,
            "unsupported command `crypto isakmp key 6 (an encrypted key: paste it in clear text, as type 0)`",
        ),
        (
            "crypto isakmp key k address\n",
            1,
            28,
            "expected a peer address, found end of line",
        ),
        (
            "crypto isakmp key k hostname h\n",
            1,
            21,
            "unsupported command `crypto isakmp key k hostname h`",
        ),
        (
            "crypto isakmp key k address 1.1.1.1 255.0.0.1\n",
            1,
            37,
            "255.0.0.1 is not a valid subnet mask",
        ),
        (
            "crypto isakmp key k address 1.1.1.1\ncrypto isakmp key j address 1.1.1.1\n",
            2,
            1,
            "crypto isakmp key for this address is set twice (first at line 1)",
        ),
        (
            "crypto ipsec transform-set T\n",
            1,
            29,
            "expected an esp encryption transform (esp-des, esp-3des, esp-aes, esp-gcm or esp-null), found end of line",
        ),
        (
            "crypto ipsec transform-set T ah-sha-hmac\n",
            1,
            30,
            "unsupported command `crypto ipsec transform-set T ah-sha-hmac`",
        ),
        (
            "crypto ipsec transform-set T esp-aes 100\n",
            1,
            38,
            "expected a key size of 128, 192 or 256, found `100`",
        ),
        (
            "crypto ipsec transform-set T esp-gcm 192\n",
            1,
            38,
            "expected a key size of 128 or 256, found `192`",
        ),
        (
            "crypto ipsec transform-set T esp-aes esp-3des\n",
            1,
            38,
            "esp encryption transform is set twice (first at line 1)",
        ),
        (
            "crypto ipsec transform-set T esp-aes esp-sha-hmac esp-md5-hmac\n",
            1,
            51,
            "esp integrity transform is set twice (first at line 1)",
        ),
        (
            "crypto ipsec transform-set T esp-gcm esp-sha-hmac\n",
            1,
            1,
            "`esp-gcm` cannot be used with `an esp-*-hmac transform (gcm authenticates by itself)`",
        ),
        (
            "crypto ipsec transform-set T esp-aes\ncrypto ipsec transform-set T esp-3des\n",
            2,
            1,
            "this transform-set is set twice (first at line 1)",
        ),
        (
            "crypto ipsec transform-set T esp-aes\n mode beet\n",
            2,
            7,
            "invalid input `beet`: expected `transport` or `tunnel`",
        ),
        (
            "crypto ipsec profile P\n set transform-set\n",
            2,
            19,
            "expected a transform-set name, found end of line",
        ),
        (
            "crypto ipsec profile P\n set pfs group3\n",
            2,
            10,
            "invalid input `group3`: expected a pfs group (did you mean `group1`?)",
        ),
        (
            "crypto ipsec profile P\n set security-association lifetime kilobytes 9\n",
            2,
            46,
            "ipsec sa lifetime in kilobytes 9 is out of range 2560..=4294967295",
        ),
        (
            "crypto ipsec profile P\n set security-association lifetime packets 9\n",
            2,
            36,
            "invalid input `packets`: expected `seconds` or `kilobytes`",
        ),
        (
            "crypto ipsec profile P\n set security-association lifetime seconds 100\n",
            2,
            44,
            "ipsec sa lifetime 100 is out of range 120..=2592000",
        ),
        (
            "crypto ipsec profile P\n set transform-set A\n set transform-set B\n",
            3,
            2,
            "set transform-set is set twice (first at line 2)",
        ),
        (
            "crypto ikev2 dpd 10 2 on-demand\n",
            1,
            14,
            "`crypto ikev2 dpd` skipped: IOS takes it, this router does not use it",
        ),
        ("end\nhostname x\n", 2, 1, "text after `end`"),
        (
            "ip route 10.1.0.0 255.255.0.0\n",
            1,
            30,
            "expected a next-hop address or an interface, found end of line",
        ),
        (
            "ip route 10.1.0.1 255.255.0.0 10.0.0.1\n",
            1,
            19,
            "10.1.0.1 has bits outside the mask 255.255.0.0",
        ),
        (
            "ip route 10.1.0.0 255.255.0.0 10.0.0.1 name x 300\n",
            1,
            47,
            "an administrative distance 300 is out of range 1..=255",
        ),
        (
            "ip routing\n",
            1,
            4,
            "`ip routing` skipped: IOS takes it, this router does not use it",
        ),
        (
            "end now\n",
            1,
            5,
            "unexpected `now` after the end of the command",
        ),
    ];
    check_first_errors(cases, |errors| errors.first());
}

/// Each case's syntax error (the one `pick` chooses among its diagnostics) is at its line and
/// column with its message, and quotes its line; the mismatches are reported all at once.
fn check_first_errors(
    cases: &[(&str, usize, usize, &str)],
    pick: impl Fn(&[Diagnostic]) -> Option<&Diagnostic>,
) {
    let mut wrong = Vec::new();
    for &(text, line, column, message) in cases {
        let (_, errors) = syntax(text);
        let Some(first) = pick(&errors) else {
            wrong.push(format!("no error for {text:?}"));
            continue;
        };
        let got = (first.line, first.column, first.kind.to_string());
        if got != (line, column, message.to_owned()) {
            wrong.push(format!(
                "{text:?}: got {got:?} want {:?}",
                (line, column, message)
            ));
        }
        assert_eq!(
            first.text,
            text.lines().nth(first.line - 1).unwrap(),
            "{text:?}"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_do_not_stop_the_parse() {
    let (config, errors) =
        syntax("hostname\ninterface eth0\n ip mtu 1\n ip mtu 1400\nfoo\n bar\n baz\nhostname h\n");
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [1, 3, 5],
        "the block under `foo` is part of its error"
    );
    assert_eq!(config.interfaces[0].mtu, Some(1400));
    assert_eq!(config.hostname.as_deref(), Some("h"));
}

#[test]
fn skipped_unsupported_and_lenient() {
    // IOS takes these and the router does not use them: warnings, in both modes.
    let text = HUB.replace(
        "interface lan0\n",
        "interface lan0\n ip ospf cost 5\nline vty 0 4\n login\ninterface lan0\n",
    );
    for lenient in [false, true] {
        let parsed = Config::parse(&text, Options { lenient }).unwrap();
        let warnings: Vec<_> = (parsed.warnings.iter())
            .map(|w| (w.line, w.kind.to_string()))
            .collect();
        assert_eq!(
            warnings,
            [
                (
                    21,
                    "`ip ospf` skipped in interface mode: IOS takes it, this router does not use it"
                        .to_owned()
                ),
                (
                    22,
                    "`line` skipped: IOS takes it, this router does not use it".to_owned()
                )
            ]
        );
        assert_eq!(
            parsed.config,
            Config::parse(HUB, Options::default()).unwrap().config
        );
    }
    // IOS takes these, and the router cannot run them as IOS would: errors, or with `lenient`
    // warnings and skipped.
    let text = HUB.replace(
        "router eigrp 123\n",
        "router eigrp NAMED\n address-family ipv4 autonomous-system 9\nrouter eigrp 123\n",
    );
    let strict = Config::parse(&text, Options::default()).unwrap_err();
    assert_eq!(strict.0.iter().map(|e| e.line).collect::<Vec<_>>(), [36]);
    assert!(matches!(strict.0[0].kind, ErrorKind::Unsupported { .. }));
    let lenient = Config::parse(&text, Options { lenient: true }).unwrap();
    assert_eq!(lenient.warnings.len(), 1);
    // What IOS itself refuses stays an error, lenient or not.
    let bad = HUB.replace(" authentication pre-share", " authentication pre-shared");
    for lenient in [false, true] {
        let errors = Config::parse(&bad, Options { lenient }).unwrap_err();
        let wanted = "invalid input `pre-shared`: expected an authentication method (did you mean `pre-share`?)";
        assert!(
            errors.0.iter().any(|e| e.kind.to_string() == wanted),
            "{errors}"
        );
    }
    // Malformed supported commands stay errors.
    let bad = HUB.replace(" ip mtu 1400", " ip mtu 14000000");
    assert!(Config::parse(&bad, Options { lenient: true }).is_err());
}

/// Applies `edit` to an example, parses it, and returns the first error's line, column and text.
fn semantic(base: &str, from: &str, to: &str) -> Vec<(usize, usize, String)> {
    assert!(base.contains(from), "{from:?}");
    let text = base.replacen(from, to, 1);
    match Config::parse(&text, Options::default()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|e| (e.line, e.column, e.kind.to_string()))
            .collect(),
    }
}

type Found = Vec<(usize, usize, String)>;

fn expect(wrong: &mut Vec<String>, got: Found, want: Found) {
    if got != want {
        wrong.push(format!("got {got:?}\n   want {want:?}"));
    }
}

/// Edits of the examples that each make one error: the example, the text replaced (its first
/// occurrence), its replacement, and the error's line, column and text.
const ONE_ERROR: &[(&str, &str, &str, usize, usize, &str)] = &[
    (
        SPOKE2,
        " ip nhrp nhs 10.99.200.1 nbma 192.0.2.1",
        " ip nhrp nhs 10.99.201.1 nbma 192.0.2.1",
        31,
        14,
        "nhs 10.99.201.1 is outside the tunnel subnet 10.99.200.0/24",
    ),
    (
        HUB,
        " tunnel protection ipsec profile DMVPN",
        " tunnel protection ipsec profile NOPE",
        34,
        34,
        "ipsec profile `NOPE` is not defined",
    ),
    (
        HUB,
        " set transform-set DMVPN-TS",
        " set transform-set DMVPN-TS OTHER",
        14,
        29,
        "transform-set `OTHER` is not defined",
    ),
    (
        HUB,
        " set transform-set DMVPN-TS\n",
        "",
        13,
        1,
        "crypto ipsec profile DMVPN has no `set transform-set`",
    ),
    (
        HUB,
        " authentication pre-share\n",
        "",
        3,
        1,
        "isakmp policy 10 does not say `authentication pre-share` (only pre-shared keys are supported; the IOS default is rsa-sig)",
    ),
    (
        SPOKE1,
        "crypto isakmp key lab-psk-secret address 192.0.2.1",
        "crypto isakmp key lab-psk-secret address 192.0.2.2",
        30,
        14,
        "no `crypto isakmp key` covers peer 192.0.2.1",
    ),
    (
        HUB,
        "crypto isakmp key lab-psk-secret address 0.0.0.0 0.0.0.0\n",
        "",
        33,
        34,
        "the configuration (a protected hub) has no `crypto isakmp key`",
    ),
    (
        SPOKE1,
        " tunnel destination 192.0.2.1",
        " tunnel destination 192.0.2.2",
        30,
        14,
        "nhs nbma address 192.0.2.1 is not the tunnel destination 192.0.2.2",
    ),
    (
        SPOKE1,
        " tunnel destination 192.0.2.1\n",
        "",
        23,
        11,
        "interface Tunnel0 (point-to-point gre) has no `tunnel destination`",
    ),
    (
        SPOKE2,
        " tunnel mode gre multipoint",
        " tunnel mode gre multipoint\n tunnel destination 192.0.2.1",
        35,
        2,
        "`tunnel destination` cannot be used with `tunnel mode gre multipoint`",
    ),
    (
        HUB,
        " tunnel mode gre multipoint",
        " tunnel destination 192.0.2.11",
        23,
        11,
        "a hub (no `ip nhrp nhs`) needs `tunnel mode gre multipoint`",
    ),
    (
        HUB,
        " ip nhrp network-id 123\n",
        "",
        23,
        11,
        "interface Tunnel0 has no `ip nhrp network-id`",
    ),
    (
        HUB,
        " tunnel source Ethernet0",
        " tunnel source e1",
        32,
        2,
        "tunnel source interface `Ethernet1` is not defined",
    ),
    (
        HUB,
        " ip address 192.0.2.1 255.255.255.0\n",
        "",
        31,
        2,
        "interface Ethernet0 (the tunnel source) has no `ip address`",
    ),
    (
        HUB,
        " ip address 10.99.200.1 255.255.255.0\n",
        "",
        23,
        11,
        "interface Tunnel0 has no `ip address`",
    ),
    (
        HUB,
        " ip address 10.99.10.1 255.255.255.0",
        " ip address 10.99.200.2 255.255.0.0",
        24,
        2,
        "10.99.200.1/24 overlaps with lan0",
    ),
    (
        HUB,
        "interface lan0",
        "interface Tunnel1",
        23,
        11,
        "the router runs one tunnel interface; this configuration has 2",
    ),
    (
        HUB,
        "crypto isakmp policy 10\n encryption 3des\n hash md5\n authentication pre-share\n group 2\n",
        "",
        29,
        34,
        "`tunnel protection` needs at least one `crypto isakmp policy`",
    ),
    (
        HUB,
        "end\n",
        "ip route 10.99.12.0 255.255.255.0 Tunnel9 10.99.200.12\nend\n",
        42,
        35,
        "ip route interface `Tunnel9` is not defined",
    ),
];

#[test]
fn semantic_errors_with_line() {
    let mut wrong = Vec::new();
    let one = |line: usize, column: usize, message: &str| vec![(line, column, message.to_owned())];
    for &(base, from, to, line, column, message) in ONE_ERROR {
        expect(
            &mut wrong,
            semantic(base, from, to),
            one(line, column, message),
        );
    }
    expect(
        &mut wrong,
        // A point-to-point spoke reaches its NHS at the tunnel destination, map or not; a
        // multipoint one needs the map.
        semantic(
            SPOKE2,
            " ip nhrp nhs 10.99.200.1 nbma 192.0.2.1",
            " ip nhrp nhs 10.99.200.1",
        )
        .into_iter()
        .chain(semantic(
            &SPOKE2.replace(
                " ip nhrp nhs 10.99.200.1 nbma 192.0.2.1",
                " ip nhrp nhs 10.99.200.1",
            ),
            " ip nhrp map 10.99.200.1 192.0.2.1\n",
            "",
        ))
        .chain(semantic(SPOKE1, " ip nhrp map 10.99.200.1 192.0.2.1\n", ""))
        .collect(),
        one(
            30,
            14,
            "no nbma address for nhs 10.99.200.1: add `nbma ADDRESS` or `ip nhrp map 10.99.200.1 ADDRESS`",
        ),
    );
    expect(
        &mut wrong,
        semantic(
            SPOKE1,
            " ip nhrp map 10.99.200.1 192.0.2.1",
            " ip nhrp map 10.99.1.1 192.0.2.1",
        ),
        vec![(
            27,
            14,
            "nhrp map 10.99.1.1 is outside the tunnel subnet 10.99.200.0/24".to_owned(),
        )],
    );
    // IOS takes six names at most: the seventh is one error, however long the list (the
    // router_config fuzz target found a line of hundreds of undefined names making a
    // diagnostic, each with a copy of the whole line, per name).
    let many: String = (1..=300).map(|n| format!(" T{n}")).collect();
    expect(
        &mut wrong,
        semantic(
            HUB,
            " set transform-set DMVPN-TS",
            &format!(" set transform-set DMVPN-TS{many}"),
        ),
        vec![
            (
                13,
                1,
                "crypto ipsec profile DMVPN has no `set transform-set`".to_owned(),
            ),
            (
                14,
                44,
                "unexpected `T6` after the end of the command".to_owned(),
            ),
        ],
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let none = Config::parse("hostname x\n", Options::default()).unwrap_err();
    assert_eq!(
        none.0[0],
        Diagnostic::unplaced(ErrorKind::TunnelCount { count: 0 })
    );
    assert_eq!(
        none.to_string(),
        "error: the router runs one tunnel interface; this configuration has 0"
    );
}

#[test]
fn dh_groups_are_ike_groups_by_ios_number() {
    let groups = [1, 2, 5, 14].map(dh_group);
    let ike = [
        Group::MODP_768,
        Group::MODP_1024,
        Group::MODP_1536,
        Group::MODP_2048,
    ];
    assert_eq!(groups, ike.map(Some));
    for other in [0, 3, 15, 24, 65_550] {
        assert_eq!(dh_group(other), None, "group {other}");
    }
}

/// The warnings of a text that loads: their lines and messages.
fn warnings(text: &str) -> Vec<(usize, String)> {
    let parsed = Config::parse(text, Options::default()).unwrap();
    (parsed.warnings.iter())
        .map(|w| (w.line, w.kind.to_string()))
        .collect()
}

#[test]
fn semantic_warnings() {
    assert_eq!(
        warnings(&HUB.replace(" ip nhrp map multicast dynamic\n", "")),
        [(23, "interface Tunnel0 (a hub: eigrp hellos reach no spoke) has no `ip nhrp map multicast dynamic`".to_owned())]
    );
    // IOS takes an EIGRP interface command for an AS it does not run; it does nothing.
    assert_eq!(
        warnings(&HUB.replace(
            " no ip split-horizon eigrp 123",
            " no ip split-horizon eigrp 124",
        )),
        [(31, "there is no `router eigrp 124`".to_owned())]
    );
    assert_eq!(
        warnings(&SPOKE2.replace(" network 10.99.200.0 0.0.0.255\n", "")),
        [(
            37,
            "eigrp 123 does not run on Tunnel0: no `network` covers 10.99.200.12".to_owned()
        )]
    );
}

#[test]
fn built_configuration_is_checked_without_places() {
    let mut config = Config::parse(SPOKE2, Options::default()).unwrap().config;
    assert_eq!(config.check(), (Vec::new(), Vec::new()));
    config.ipsec_profiles.clear();
    let (errors, _) = config.check();
    assert_eq!(
        errors,
        [Diagnostic::unplaced(ErrorKind::Undefined {
            what: "ipsec profile",
            name: "DMVPN".to_owned()
        })]
    );
}

#[test]
fn diagnostic_display_points_at_the_column() {
    let errors = Config::parse("interface eth0\n\tip mtu 9\n", Options::default()).unwrap_err();
    assert_eq!(
        errors.0[0].to_string(),
        "2:9: ip mtu 9 is out of range 68..=17916\n  |\n2 | \tip mtu 9\n  | \t       ^"
    );
}

#[test]
fn secrets_are_redacted_in_debug_and_summary() {
    let config = Config::parse(HUB, Options::default()).unwrap().config;
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("lab-psk-secret") && !debug.contains("dmvpn\""),
        "{debug}"
    );
    let summary = Summary(&config).to_string();
    assert!(
        !summary.contains("lab-psk-secret") && !summary.contains(" dmvpn"),
        "{summary}"
    );
    assert!(
        summary.contains("isakmp key for 0.0.0.0/0 (14 characters)"),
        "{summary}"
    );
}

#[test]
fn error_messages() {
    let cases = [
        (
            ErrorKind::Unsupported {
                command: "a b".into(),
                mode: None,
            },
            "unsupported command `a b`",
        ),
        (
            ErrorKind::Expected {
                expected: "x",
                found: Some("y".into()),
            },
            "expected x, found `y`",
        ),
        (ErrorKind::NoMode, "indented line outside any sub-mode"),
        (ErrorKind::AfterEnd, "text after `end`"),
        (
            ErrorKind::InvalidMask {
                mask: ip("0.255.0.0"),
            },
            "0.255.0.0 is not a valid subnet mask",
        ),
        (
            ErrorKind::NoKey {
                peer: ip("1.2.3.4"),
            },
            "no `crypto isakmp key` covers peer 1.2.3.4",
        ),
        (
            ErrorKind::NoSuchEigrp { asn: 7 },
            "there is no `router eigrp 7`",
        ),
        (
            ErrorKind::HubNotMultipoint,
            "a hub (no `ip nhrp nhs`) needs `tunnel mode gre multipoint`",
        ),
        (
            ErrorKind::NoPolicy,
            "`tunnel protection` needs at least one `crypto isakmp policy`",
        ),
        (
            ErrorKind::Skipped {
                command: "line".into(),
                mode: None,
            },
            "`line` skipped: IOS takes it, this router does not use it",
        ),
        (
            ErrorKind::Skipped {
                command: "no ip redirects".into(),
                mode: Some("interface"),
            },
            "`no ip redirects` skipped in interface mode: IOS takes it, this router does not use it",
        ),
        (
            ErrorKind::Invalid {
                word: "pre-shared".into(),
                expected: "an authentication method",
                suggestion: Some("pre-share"),
            },
            "invalid input `pre-shared`: expected an authentication method (did you mean `pre-share`?)",
        ),
        (
            ErrorKind::Invalid {
                word: "xyz".into(),
                expected: "a command",
                suggestion: None,
            },
            "invalid input `xyz`: expected a command",
        ),
        (
            ErrorKind::Ambiguous {
                word: "e".into(),
                candidates: vec!["encryption", "exit"],
            },
            "ambiguous command: `e` abbreviates `encryption`, `exit`",
        ),
    ];
    for (kind, text) in cases {
        assert_eq!(kind.to_string(), text);
    }
}

/// The fuzz entry on `text` with every `step`-th line dropped, then unindented (a typed
/// block), and with `swap` also swapped with the next line, one edit at a time.
pub(super) fn parse_line_edits(text: &str, step: usize, swap: bool) {
    let lines: Vec<&str> = text.lines().collect();
    for n in (0..lines.len()).step_by(step) {
        let mut dropped = lines.clone();
        dropped.remove(n);
        crate::fuzzing::parse(dropped.join("\n").as_bytes());
        let mut flat = lines.clone();
        flat[n] = flat[n].trim_start();
        crate::fuzzing::parse(flat.join("\n").as_bytes());
        if swap && n + 1 < lines.len() {
            let mut swapped = lines.clone();
            swapped.swap(n, n + 1);
            crate::fuzzing::parse(swapped.join("\n").as_bytes());
        }
    }
}

#[test]
fn fuzzing_entry_on_examples_and_edits() {
    for (text, step) in [
        (HUB, 7),
        (SPOKE1, 7),
        (SPOKE2, 7),
        (R1, 31),
        (R2, 31),
        (R3, 13),
    ] {
        crate::fuzzing::parse(text.as_bytes());
        for cut in (0..text.len()).step_by(step) {
            crate::fuzzing::parse(&text.as_bytes()[..cut]);
        }
    }
    // Lines dropped, and lines unindented (a typed block), one at a time.
    for text in [R1, R3] {
        parse_line_edits(text, 5, false);
    }
    crate::fuzzing::parse(b"interface tunn\xc3\xa9l\n tunnel\xff key 1\n");
}

#[test]
fn bolero_arbitrary_bytes_never_panic() {
    bolero::check!().for_each(crate::fuzzing::parse);
}

/// Lines made of the configuration's own words, with values picked to hit the limits.
#[test]
fn bolero_generated_configurations() {
    const LINES: &[&str] = &[
        "hostname {w}",
        "interface Tunnel{n}",
        "interface eth{n}",
        "interface lan0",
        " ip address {a} {m}",
        " ip mtu {n}",
        " ip tcp adjust-mss {n}",
        " tunnel source {a}",
        " tunnel source eth{n}",
        " tunnel destination {a}",
        " tunnel mode gre multipoint",
        " tunnel mode gre ip",
        " tunnel key {n}",
        " tunnel protection ipsec profile P{n}",
        " ip nhrp network-id {n}",
        " ip nhrp nhs {a}",
        " ip nhrp nhs {a} nbma {a}",
        " ip nhrp map {a} {a}",
        " ip nhrp map multicast dynamic",
        " ip nhrp map multicast {a}",
        " ip nhrp authentication {w}",
        " ip nhrp holdtime {n}",
        " no ip split-horizon eigrp {n}",
        " no ip next-hop-self eigrp {n}",
        " description {w} {w}",
        " shutdown",
        " no shutdown",
        "router eigrp {n}",
        " network {a} {a}",
        " network {a}",
        " no auto-summary",
        " eigrp router-id {a}",
        "crypto isakmp policy {n}",
        " encryption aes {n}",
        " encryption 3des",
        " hash md5",
        " group {n}",
        " authentication pre-share",
        " lifetime {n}",
        "crypto isakmp key {w} address {a} {m}",
        "crypto isakmp key 0 {w} address {a}",
        "crypto ipsec transform-set T{n} esp-aes {n} esp-sha-hmac",
        "crypto ipsec transform-set T{n} esp-gcm {n}",
        " mode transport",
        "crypto ipsec profile P{n}",
        " set transform-set T{n} T{n}",
        " set pfs group{n}",
        "!",
        "end",
        "{w}",
        "int tu{n}",
        "int f{n}/{n}",
        "interface Loopback{n}",
        " ip add {a} {m}",
        " ip address dhcp",
        " no ip address",
        " tunnel source f{n}/0",
        " tun mode gre multi",
        " ip nhrp nhs {a} nbma {a} multicast",
        " ip nhrp registration timeout {n}",
        " ip nhrp auth {w}",
        " no ip split-h eigrp {n}",
        " encr 3des",
        " auth pre-share",
        " duplex auto",
        "exit",
        "R1#show run",
        "R1(config-if)#ip mtu {n}",
        "Building configuration...",
        "Current configuration : {n} bytes",
        "version 15.{n}",
        "banner motd ^C",
        "^C",
        "banner login #{w}#",
        "line vty 0 4",
        " login",
        "crypto isakmp key {w} address 0.0.0.0",
        "crypto isakmp key 0 {w} address {a} {m} no-xauth",
        "ip route {a} {m} {a}",
        "ip route 0.0.0.0 0.0.0.0 Tunnel{n} {a} {n}",
        " tunnel protection ipsec profile P{n} shared",
        "{w}",
    ];
    const NUMBERS: &[u64] = &[
        0,
        1,
        2,
        5,
        14,
        67,
        68,
        128,
        256,
        500,
        1400,
        1460,
        65535,
        65536,
        4_294_967_295,
    ];
    const WORDS: &[&str] = &[
        "x",
        "12345678",
        "123456789",
        "0",
        "address",
        "!",
        "é",
        "Tunnel0",
    ];
    bolero::check!()
        .with_type::<Vec<(u8, u32)>>()
        .for_each(|lines| {
            let mut text = String::new();
            for (pick, value) in lines.iter().take(64) {
                let template = LINES[usize::from(*pick) % LINES.len()];
                let mut seed = *value;
                let mut next = || {
                    let v = seed;
                    seed = seed.rotate_left(7) ^ 0x9e37_79b9;
                    v
                };
                let mut line = String::new();
                let mut rest = template;
                while let Some(at) = rest.find('{') {
                    line.push_str(&rest[..at]);
                    let v = next();
                    let (kind, tail) = rest[at + 1..].split_once('}').unwrap();
                    match kind {
                        "n" => line.push_str(&NUMBERS[v as usize % NUMBERS.len()].to_string()),
                        "a" => line.push_str(&format!(
                            "{}.99.{}.{}",
                            [10, 192][v as usize % 2],
                            v >> 8 & 3,
                            v >> 16 & 3
                        )),
                        "m" => line.push_str(
                            &Ipv4Addr::from_bits(u32::MAX << (v % 33).min(31)).to_string(),
                        ),
                        _ => line.push_str(WORDS[v as usize % WORDS.len()]),
                    }
                    rest = tail;
                }
                line.push_str(rest);
                text.push_str(&line);
                text.push('\n');
            }
            crate::fuzzing::parse(text.as_bytes());
        });
}

const R1: &str = include_str!("../../../../testdata/router/tutorial/R1.cfg");
const R2: &str = include_str!("../../../../testdata/router/tutorial/R2.cfg");
const R3: &str = include_str!("../../../../testdata/router/tutorial/R3.cfg");

/// The tutorial, pasted three ways, reads to the configuration IOS would run: the same hub and
/// spokes whatever the shape.
#[test]
fn tutorial_as_pasted() {
    let r1 = Config::parse(R1, Options::default()).unwrap();
    let t = tunnel(&r1.config);
    assert_eq!(r1.config.hostname.as_deref(), Some("R1"));
    assert_eq!(t.role(), Role::Hub);
    assert_eq!(
        t.source,
        Some(TunnelSource::Interface("FastEthernet0/0".to_owned()))
    );
    assert_eq!(r1.config.nbma_address(), Some(ip("100.1.1.1")));
    assert_eq!(
        r1.config.isakmp_policies[0].encryption,
        Some(Cipher::TripleDes)
    );
    // `address 0.0.0.0` without a mask is IOS's wildcard.
    let key = &r1.config.isakmp_keys[0];
    assert_eq!(
        (key.address, key.mask),
        (ip("0.0.0.0"), Some(ip("0.0.0.0")))
    );
    assert!(r1.config.isakmp_key_for(ip("100.1.3.3")).is_some());
    // The default route to the ISP is the underlay's, not the tunnel's.
    assert_eq!(r1.config.routes.len(), 1);
    assert_eq!(r1.config.tunnel_routes().count(), 0);
    // Every line IOS takes and the router does not use is one warning; nothing else is.
    assert!(
        r1.warnings
            .iter()
            .all(|w| matches!(w.kind, ErrorKind::Skipped { .. }))
    );
    let skipped: Vec<usize> = r1.warnings.iter().map(|w| w.line).collect();
    for line in [9, 11, 29, 62, 75, 99, 105, 112] {
        assert!(
            skipped.contains(&line),
            "line {line} not skipped: {skipped:?}"
        );
    }
    // The banner's text and the line blocks are not read as commands.
    for line in 100..=104 {
        assert!(!skipped.contains(&line), "banner line {line}");
    }

    let r3 = Config::parse(R3, Options::default()).unwrap();
    assert!(r3.warnings.is_empty(), "{:?}", r3.warnings);
    let t3 = tunnel(&r3.config);
    assert_eq!(t3.role(), Role::Spoke);
    assert_eq!(t3.destination, Some(ip("100.1.1.1")));
    assert_eq!(r3.config.nbma_address(), Some(ip("100.1.3.3")));
    assert_eq!(
        r3.config.interface("Loopback0").and_then(|i| i.address),
        Some(InterfaceAddress {
            address: ip("3.3.3.3"),
            mask: ip("255.255.255.255")
        })
    );
    assert_eq!(r3.config.interface("f0/0").map(|i| i.name.as_str()), None);
    assert_eq!(
        r3.config.interface("FastEthernet0/0").map(|i| i.shutdown),
        Some(Some(false))
    );
    assert!(r3.config.isakmp_policies[0].pre_share);
    assert_eq!(r3.config.eigrp[0].auto_summary, Some(false));
    // R2 and R3 are the same spoke but for their addresses.
    let r2 = Config::parse(R2, Options::default()).unwrap().config;
    assert_eq!(tunnel(&r2).nhrp.maps, t3.nhrp.maps);
    assert_eq!(r2.transform_sets, r3.config.transform_sets);
    assert_eq!(r2.isakmp_policies, r3.config.isakmp_policies);
    // Each writes back and reads again to itself.
    for config in [r1.config, r2, r3.config] {
        assert_eq!(clean(&config.to_string()), config);
    }
}

/// IOS's abbreviation rule: a prefix unique among the keywords valid at that point.
#[test]
fn abbreviations_as_ios_takes_them() {
    let full = "interface Tunnel0\n ip address 10.0.0.1 255.255.255.0\n no ip split-horizon eigrp 1\n tunnel source 192.0.2.1\n tunnel mode gre multipoint\n ip nhrp network-id 1\n ip nhrp authentication abc\ncrypto isakmp policy 10\n encryption aes 256\n hash sha\n authentication pre-share\n group 14\ncrypto ipsec transform-set T esp-aes esp-sha-hmac\n mode transport\nrouter eigrp 1\n network 10.0.0.0 0.0.0.255\n no auto-summary\n";
    let short = "int tu0\n ip add 10.0.0.1 255.255.255.0\n no ip split-h eigrp 1\n tun sou 192.0.2.1\n tun mode gre multi\n ip nhrp net 1\n ip nhrp auth abc\ncry isa pol 10\n encr aes 256\n ha sha\n auth pre\n gr 14\ncry ipsec transform-set T esp-aes esp-sha-hmac\n mo trans\nrouter eigrp 1\n net 10.0.0.0 0.0.0.255\n no auto\n";
    assert_eq!(clean(short), clean(full));
    // Case does not matter either.
    let upper = clean(&short.to_uppercase().replace("T ESP", "T esp"));
    let shape = |c: &Config| {
        c.tunnel()
            .map(|t| (t.mode, t.source.clone(), t.no_split_horizon.clone()))
    };
    assert_eq!(shape(&upper), shape(&clean(full)));
    assert_eq!(upper.isakmp_policies, clean(full).isakmp_policies);
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "crypto isakmp policy 1\n e 3des\n",
            2,
            2,
            "ambiguous command: `e` abbreviates `encryption`, `exit`",
        ),
        (
            "crypto isakmp policy 1\n encr 3dess\n",
            2,
            7,
            "invalid input `3dess`: expected des, 3des or aes (did you mean `3des`?)",
        ),
        (
            "crypto isakmp policy 1\n authentication pre-shared\n",
            2,
            17,
            "invalid input `pre-shared`: expected an authentication method (did you mean `pre-share`?)",
        ),
        (
            "crypto isakmp policy 1\n hash sha1\n",
            2,
            7,
            "invalid input `sha1`: expected a hash (did you mean `sha`?)",
        ),
        (
            "crypto isakmp policy 1\n group 3\n",
            2,
            8,
            "expected a diffie-hellman group (1, 2, 5, 14, 15, 16, 19, 20, 21 or 24), found `3`",
        ),
        (
            "crypto isakmp policy 1\n group 19\n",
            2,
            8,
            "unsupported command `group 19` in crypto isakmp policy mode",
        ),
        (
            "crypto ipsec transform-set T esp-aes esp-sha1-hmac\n",
            1,
            38,
            "invalid input `esp-sha1-hmac`: expected a transform (did you mean `esp-sha-hmac`?)",
        ),
        (
            "crypto ipsec transform-set T esp-aes ah-sha-hmac\n",
            1,
            38,
            "unsupported command `crypto ipsec transform-set T esp-aes ah-sha-hmac`",
        ),
        (
            "hostnme r1\n",
            1,
            1,
            "invalid input `hostnme`: expected a global command (did you mean `hostname`?)",
        ),
        (
            "interface Tunnel0\n tunnel mode ipsec ipv4\n",
            2,
            14,
            "unsupported command `tunnel mode ipsec ipv4` in interface mode",
        ),
        (
            "interface Tunnel0\n ip nhrp nhs dynamic nbma 192.0.2.1\n",
            2,
            14,
            "unsupported command `ip nhrp nhs dynamic nbma 192.0.2.1` in interface mode",
        ),
        (
            "interface Tunnel0\n ip nhrp map multicast dyn\n ip nhrp mapp 1.1.1.1 2.2.2.2\n",
            3,
            10,
            "invalid input `mapp`: expected an `ip nhrp` command (did you mean `map`?)",
        ),
        (
            "interface Tunnel0\n tunnel protection ipsec profile P shared extra\n",
            2,
            43,
            "unexpected `extra` after the end of the command",
        ),
        (
            "router eigrp 1\n s\n",
            2,
            2,
            "ambiguous command: `s` abbreviates `shutdown`, `summary-metric`",
        ),
    ];
    check_first_errors(cases, |errors| {
        errors
            .iter()
            .find(|e| !matches!(e.kind, ErrorKind::Skipped { .. }))
    });
}

/// `show running-config`'s frame, prompts, banners, typed blocks.
#[test]
fn shapes_of_a_paste() {
    let frame = "R9#sh run\nBuilding configuration...\n\nCurrent configuration : 120 bytes\n!\nversion 15.4\nhostname R9\nbanner motd #one line#\nbanner login ^C\n  interface Tunnel7\n  hostname evil\n^C\nbanner exec Xtext\nmore X\ninterface Loopback0\n ip address 9.9.9.9 255.255.255.255\nend\n\nR9#\n";
    let parsed = Config::parse(frame, Options::default()).unwrap_err();
    // No tunnel (the banners' text is no command), so the semantic check says so, and only that.
    assert_eq!(parsed.0.len(), 1, "{parsed}");
    assert!(matches!(
        parsed.0[0].kind,
        ErrorKind::TunnelCount { count: 0 }
    ));
    let (config, diagnostics) = syntax(frame);
    assert_eq!(config.hostname.as_deref(), Some("R9"));
    assert_eq!(config.interfaces.len(), 1);
    assert!(
        diagnostics
            .iter()
            .all(|d| matches!(d.kind, ErrorKind::Skipped { .. }))
    );
    assert_eq!(
        diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(),
        [8, 9, 13]
    );
    // Windows line ends, a byte-order mark, tabs: the same configuration.
    let windows = format!(
        "\u{feff}{}",
        R2.replace('\n', "\r\n").replace("\n ", "\n\t")
    );
    assert_eq!(
        Config::parse(&windows, Options::default()).unwrap().config,
        Config::parse(R2, Options::default()).unwrap().config
    );
    // After `end`, exec commands; `configure terminal` starts again.
    let again = "hostname A\nend\nwr mem\nconf t\ninterface lo1\n ip address 1.1.1.1 255.255.255.255\nend\ncopy run start\n";
    let config = clean(again);
    assert_eq!(config.interfaces[0].name, "Loopback1");
    let (_, errors) = syntax("hostname A\nend\nhostname B\n");
    assert!(matches!(errors[0].kind, ErrorKind::AfterEnd));
    // Prompts in configuration mode carry their command.
    let prompts = "R1(config)#interface Tunnel0\nR1(config-if)#ip address 10.0.0.1 255.255.255.0\nR1(config-if)#exit\nR1(config)#hostname R1\n";
    let config = clean(prompts);
    assert_eq!(config.hostname.as_deref(), Some("R1"));
    // Each mode's own prompt.
    let modes = "R1(config)#crypto isakmp policy 10\nR1(config-isakmp)#encr 3des\nR1(config-isakmp)#exit\nR1(config)#crypto ipsec transform-set TS esp-aes esp-sha-hmac\nR1(cfg-crypto-trans)# mode transport\nR1(cfg-crypto-trans)#exit\nR1(config)#crypto ipsec profile P\nR1(ipsec-profile)#set transform-set TS\nR1(ipsec-profile)#end\nR1#wr\n";
    let moded = clean(modes);
    assert_eq!(moded.isakmp_policies[0].encryption, Some(Cipher::TripleDes));
    assert_eq!(moded.transform_sets[0].mode, Some(EspMode::Transport));
    assert_eq!(moded.ipsec_profiles[0].transform_sets, ["TS"]);
    assert_eq!(
        config.interface("Tunnel0").and_then(|i| i.address),
        Some(InterfaceAddress {
            address: ip("10.0.0.1"),
            mask: ip("255.255.255.0")
        })
    );
    // Typed without indentation: a line stays in the block while it is one of the block's
    // commands; a global one leaves it.
    let typed = "interface f0/0\nip address 192.0.2.1 255.255.255.0\nno shut\nip route 0.0.0.0 0.0.0.0 192.0.2.254\nrouter eigrp 1\nnetwork 10.0.0.0\nno auto-summary\nhostname X\n";
    let config = clean(typed);
    assert_eq!(config.interfaces[0].name, "FastEthernet0/0");
    assert_eq!(config.interfaces[0].shutdown, Some(false));
    assert_eq!(config.routes.len(), 1);
    assert_eq!(config.eigrp[0].auto_summary, Some(false));
    assert_eq!(config.hostname.as_deref(), Some("X"));
    // In `show running-config`'s shape, an unindented line always leaves the block.
    let (_, errors) = syntax("interface Tunnel0\n ip mtu 1400\nshutdown\n");
    assert_eq!(errors.len(), 1);
    assert!(matches!(errors[0].kind, ErrorKind::Invalid { .. }));
    // Interface names in every spelling, spaced or not.
    for (header, name) in [
        ("interface FastEthernet 0/1", "FastEthernet0/1"),
        ("int gi0/0/1", "GigabitEthernet0/0/1"),
        ("interface Fa0/0.100 point-to-point", "FastEthernet0/0.100"),
        ("interface tunnel 5", "Tunnel5"),
        ("interface Lo10", "Loopback10"),
        ("interface lan0", "lan0"),
    ] {
        let config = clean(&format!("{header}\n"));
        assert_eq!(config.interfaces[0].name, name, "{header}");
    }
    let config = clean("interface tu0\n tunnel source Gi 0/1\n");
    assert_eq!(
        tunnel(&config).source,
        Some(TunnelSource::Interface("GigabitEthernet0/1".to_owned()))
    );
}

#[test]
fn key_and_route_forms() {
    for (line, address, mask) in [
        (
            "crypto isakmp key cisco address 0.0.0.0",
            "0.0.0.0",
            Some("0.0.0.0"),
        ),
        (
            "crypto isakmp key cisco address 0.0.0.0 0.0.0.0",
            "0.0.0.0",
            Some("0.0.0.0"),
        ),
        (
            "crypto isakmp key 0 cisco address 0.0.0.0 0.0.0.0 no-xauth",
            "0.0.0.0",
            Some("0.0.0.0"),
        ),
        (
            "crypto isakmp key cisco address 0.0.0.0 no-xauth",
            "0.0.0.0",
            Some("0.0.0.0"),
        ),
        ("crypto isakmp key 0 address 192.0.2.1", "192.0.2.1", None),
        (
            "crypto isakmp key cisco address 10.0.0.0 255.0.0.0",
            "10.0.0.0",
            Some("255.0.0.0"),
        ),
    ] {
        let config = clean(&format!("{line}\n"));
        let key = &config.isakmp_keys[0];
        assert_eq!(
            (key.address, key.mask),
            (ip(address), mask.map(ip)),
            "{line}"
        );
    }
    assert_eq!(
        clean("crypto isakmp key 0 address 192.0.2.1\n").isakmp_keys[0]
            .key
            .expose(),
        "0"
    );
    let (_, warnings) = syntax("crypto isakmp key k address ipv6 ::/0\n");
    assert!(matches!(warnings[0].kind, ErrorKind::Skipped { .. }));
    let config = clean(
        "ip route 0.0.0.0 0.0.0.0 100.1.1.254\nip route 10.0.0.0 255.0.0.0 Tunnel0 172.16.1.1 250 name backup\nip route 10.9.0.0 255.255.0.0 Null0\nip route 0.0.0.0 0.0.0.0 100.1.1.254\n",
    );
    assert_eq!(config.routes.len(), 3, "the same route twice is one");
    assert_eq!(config.routes[1].interface.as_deref(), Some("Tunnel0"));
    assert_eq!(config.routes[1].next_hop, Some(ip("172.16.1.1")));
    assert_eq!(config.routes[1].distance, Some(250));
    assert_eq!(config.routes[2].next_hop, None);
    assert_eq!(clean(&config.to_string()), config);
    let (_, diagnostics) = syntax("ip route vrf X 0.0.0.0 0.0.0.0 1.1.1.1\n");
    assert!(matches!(diagnostics[0].kind, ErrorKind::Skipped { .. }));
}

#[test]
fn secrets_are_masked_in_diagnostics() {
    for (line, shown) in [
        (
            "crypto isakmp key cisco123 address 1.1.1",
            "crypto isakmp key ******** address 1.1.1",
        ),
        (
            "crypto isakmp key 0 cisco123 address x",
            "crypto isakmp key 0 ******** address x",
        ),
        (" ip nhrp auth secret99 x", " ip nhrp auth ******** x"),
        (
            "username a privilege 15 secret 5 $1$ab",
            "username a privilege 15 secret 5 *****",
        ),
        (
            "snmp-server community public RO",
            "snmp-server community ****** RO",
        ),
    ] {
        assert_eq!(error::redact(line), shown);
    }
    let errors = Config::parse(
        "crypto isakmp key cisco123 address 1.1.1\n",
        Options::default(),
    )
    .unwrap_err();
    let shown = errors.to_string();
    assert!(!shown.contains("cisco123"), "{shown}");
    assert!(shown.contains("expected a peer address"), "{shown}");
}
