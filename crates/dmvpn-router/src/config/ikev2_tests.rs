//! IKEv2 configuration: parsing, writing back, checks, IOS's defaults, and errors that never
//! show a key.

use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};

use super::{
    Config, ErrorKind, Ikev2Proposal, LocalIdentity, Options, PeerAddress, RemoteIdentity,
};

const HUB: &str = include_str!("../../../../testdata/router/ikev2/hub.cfg");
const SPOKE1: &str = include_str!("../../../../testdata/router/ikev2/spoke1.cfg");
const SPOKE2: &str = include_str!("../../../../testdata/router/ikev2/spoke2.cfg");

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

fn load(text: &str) -> Config {
    match Config::parse(text, Options::default()) {
        Ok(parsed) => parsed.config,
        Err(errors) => panic!("{errors}"),
    }
}

fn errors(text: &str) -> Vec<(usize, String)> {
    Config::parse(text, Options::default())
        .unwrap_err()
        .0
        .into_iter()
        .map(|d| (d.line, d.kind.to_string()))
        .collect()
}

/// `shown` has `part` in it (else the assertion prints all of it).
fn assert_contains(shown: &str, part: &str) {
    assert!(shown.contains(part), "{shown}");
}

/// `text` fails to load with an error whose message has `part` in it.
fn assert_error_mentions(text: &str, part: &str) {
    let found = errors(text);
    assert!(found.iter().any(|(_, m)| m.contains(part)), "{found:?}");
}

/// The examples load without a warning and are written back to the same text.
#[test]
fn examples_round_trip_as_text() {
    for text in [HUB, SPOKE1, SPOKE2] {
        assert!(super::tests::round_trips(text).uses_ikev2());
    }
}

#[test]
fn hub_fields() {
    let hub = load(HUB);
    let proposal = &hub.ikev2_proposals[0];
    assert_eq!(proposal.name, "DMVPN-PROP");
    assert_eq!(
        proposal.algorithms.encryption,
        [Encryption::AesCbc(256), Encryption::AesCbc(128)]
    );
    assert_eq!(
        proposal.algorithms.integrity,
        [Integrity::HmacSha256_128, Integrity::HmacSha1_96]
    );
    assert!(proposal.algorithms.prf.is_empty());
    assert_eq!(proposal.prfs(), [Prf::HmacSha256, Prf::HmacSha1]);
    assert_eq!(
        proposal.algorithms.groups,
        [Group::MODP_2048, Group::MODP_1536, Group::MODP_1024]
    );
    assert_eq!(hub.ikev2_policies[0].proposals, ["DMVPN-PROP"]);
    let keyring = &hub.keyrings[0];
    assert_eq!(keyring.peers[0].name, "SPOKES");
    assert_eq!(
        keyring.peers[0].effective_mask(),
        Some(Ipv4Addr::UNSPECIFIED)
    );
    assert!(keyring.peer_for(ip("203.0.113.9")).is_some());
    let profile = hub.ikev2_profile().unwrap();
    assert_eq!(profile.name, "DMVPN-IKEV2");
    assert_eq!(
        profile.match_remote,
        [
            RemoteIdentity::Address(PeerAddress {
                address: Ipv4Addr::UNSPECIFIED,
                mask: None
            }),
            RemoteIdentity::Fqdn("spoke2.lab.example".to_owned())
        ]
    );
    assert!(profile.authentication_local && profile.authentication_remote);
    assert_eq!(profile.keyring.as_deref(), Some("DMVPN-KR"));
    assert_eq!(profile.lifetime(), 86_400);
    let dpd = profile.dpd.unwrap();
    assert_eq!((dpd.interval, dpd.retry, dpd.on_demand), (30, 5, true));
}

/// An IKEv2 profile without `set transform-set` offers IOS's transform set `default`
/// (esp-aes esp-sha-hmac, transport mode): `check` passes and says so, IKEv2 proposes it and
/// the data plane runs it. IKEv1 has no such default here: the line stays required.
#[test]
fn default_transform_set_without_set_transform_set() {
    let text = SPOKE2.replace(" set transform-set DMVPN-TS\n", "");
    assert_ne!(text, SPOKE2);
    let parsed = Config::parse(&text, Options::default()).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let config = parsed.config;
    let profile = config.protection().unwrap();
    assert!(profile.uses_default_transform_set());
    assert_eq!(
        config.profile_transform_sets(profile),
        [super::TransformSet::ios_default()]
    );
    let shown = super::Summary(&config).to_string();
    assert_contains(
        &shown,
        "  protection: ipsec profile DMVPN, default (aes-128-cbc hmac-sha1-96, transport mode) (IOS's default: no `set transform-set`)\n",
    );
    let v2 = crate::node::ikev2_config(&config).unwrap().unwrap();
    assert_eq!(
        v2.transform_sets,
        [dmvpn_proto::ike::TransformSet {
            encryption: dmvpn_proto::ike::EspCipher::Aes128,
            integrity: dmvpn_proto::ike::EspAuth::Sha1
        }]
    );
    let node = crate::node::node_config(&config).unwrap();
    let set = node.ipsec.unwrap().transform_set;
    assert_eq!(
        (set.encryption, set.key_bits, set.integrity),
        (
            dmvpn_esp::Encryption::AesCbc,
            128,
            dmvpn_esp::Integrity::HmacSha1_96
        )
    );
    // The default is written back as nothing: the text round-trips without the line.
    assert_eq!(config.to_string(), text);
    // IKEv1: still "has no `set transform-set`".
    let v1 = include_str!("../../../../testdata/router/spoke1.cfg");
    let text = v1.replace(" set transform-set DMVPN-TS\n", "");
    assert_ne!(text, v1);
    assert_error_mentions(&text, "has no `set transform-set`");
}

/// `match identity remote` lines become what the IKEv2 machine accepts of a peer's identity:
/// `any`; an address with a mask; an address without one (that address alone, but `0.0.0.0`
/// is every address); an fqdn. A peer matching none is refused.
#[test]
fn match_identity_remote_is_enforced() {
    use dmvpn_proto::ikev2::Identity;
    let accepts = |lines: &str, id: &Identity| {
        let text = HUB.replace(
            " match identity remote address 0.0.0.0\n match identity remote fqdn spoke2.lab.example\n",
            lines,
        );
        let v2 = crate::node::ikev2_config(&load(&text)).unwrap().unwrap();
        v2.accepts(id)
    };
    let spoke = Identity::Address(ip("192.0.2.11"));
    let far = Identity::Address(ip("198.51.100.11"));
    let fqdn = Identity::Fqdn("spoke2.lab.example".to_owned());
    let any = " match identity remote any\n";
    assert!(accepts(any, &spoke) && accepts(any, &far) && accepts(any, &fqdn));
    let masked = " match identity remote address 192.0.2.0 255.255.255.0\n";
    assert!(accepts(masked, &spoke) && !accepts(masked, &far) && !accepts(masked, &fqdn));
    let host = " match identity remote address 192.0.2.11\n";
    assert!(accepts(host, &spoke) && !accepts(host, &Identity::Address(ip("192.0.2.12"))));
    let every = " match identity remote address 0.0.0.0\n";
    assert!(accepts(every, &spoke) && accepts(every, &far) && !accepts(every, &fqdn));
    let named = " match identity remote fqdn spoke2.lab.example\n";
    assert!(accepts(named, &fqdn) && !accepts(named, &spoke));
    let both = format!("{masked}{named}");
    assert!(accepts(&both, &spoke) && accepts(&both, &fqdn) && !accepts(&both, &far));
}

/// Spoke 2 has no policy and no proposal: IOS's policy and proposal `default`.
#[test]
fn defaults() {
    let spoke2 = load(SPOKE2);
    assert!(spoke2.ikev2_policies.is_empty() && spoke2.ikev2_proposals.is_empty());
    let offered = spoke2.ikev2_proposals_for(ip("192.0.2.12"));
    assert_eq!(offered, [Ikev2Proposal::ios_default()]);
    let default = &offered[0];
    assert_eq!(default.algorithms.encryption.len(), 3);
    assert_eq!(default.algorithms.integrity.len(), 5);
    assert_eq!(
        default.algorithms.groups,
        [Group::MODP_1536, Group::MODP_1024]
    );
    let profile = spoke2.ikev2_profile().unwrap();
    assert_eq!(profile.match_remote, [RemoteIdentity::Any]);
    assert_eq!(
        profile.identity_local,
        Some(LocalIdentity::Fqdn("spoke2.lab.example".to_owned()))
    );
    assert_eq!(profile.lifetime(), 86_400);
    assert_eq!(profile.dpd, None);
    // A configured proposal named `default` replaces IOS's.
    let own = SPOKE2.replace(
        "crypto ikev2 keyring",
        "crypto ikev2 proposal default\n encryption 3des\n integrity md5\n group 2\n!\ncrypto ikev2 keyring",
    );
    let offered = load(&own).ikev2_proposals_for(ip("192.0.2.12"));
    assert_eq!(offered[0].algorithms.encryption, [Encryption::TripleDes]);
}

/// Policies apply by local address; an unmatched one makes the tunnel unkeyable.
#[test]
fn policy_match_address_local() {
    let spoke1 = load(SPOKE1);
    assert_eq!(spoke1.ikev2_policies[0].match_local, [ip("192.0.2.11")]);
    assert_eq!(spoke1.ikev2_proposals_for(ip("192.0.2.11")).len(), 1);
    assert!(spoke1.ikev2_proposals_for(ip("192.0.2.99")).is_empty());
    let other = SPOKE1.replace(
        "match address local 192.0.2.11",
        "match address local 192.0.2.99",
    );
    assert_eq!(
        errors(&other),
        [(
            line_of(&other, " tunnel protection"),
            "no `crypto ikev2 policy` for local address 192.0.2.11 has a complete proposal"
                .to_owned()
        )]
    );
}

fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}

/// A keyring peer by address and mask: the most specific entry covers a peer.
#[test]
fn masked_address_keyring() {
    let spoke2 = load(SPOKE2);
    let keyring = &spoke2.keyrings[0];
    assert_eq!(
        keyring.peers[0].address,
        Some(PeerAddress {
            address: ip("192.0.2.0"),
            mask: Some(ip("255.255.255.0"))
        })
    );
    assert!(keyring.peer_for(ip("192.0.2.1")).is_some());
    assert!(keyring.peer_for(ip("192.0.3.1")).is_none());
    let two = SPOKE2.replace(
        " !\n!\ncrypto ikev2 profile",
        " !\n peer HUB\n  address 192.0.2.1\n  pre-shared-key other\n !\n!\ncrypto ikev2 profile",
    );
    let config = load(&two);
    let keyring = &config.keyrings[0];
    assert_eq!(keyring.peer_for(ip("192.0.2.1")).unwrap().name, "HUB");
    assert_eq!(keyring.peer_for(ip("192.0.2.7")).unwrap().name, "LAB");
    assert_eq!(config.to_string(), two);
}

/// IOS's other shapes: typed without indentation, `exit`s, abbreviations, a pasted prompt,
/// `!` lines; all read to the same configuration as the running-config shape.
#[test]
fn typed_and_abbreviated() {
    let typed = "\
hostname spoke1
crypto ikev2 proposal DMVPN-PROP
encr aes-cbc-256
integ sha256
gr 14
exit
crypto ikev2 pol DMVPN-POL
ma add loc 192.0.2.11
prop DMVPN-PROP
exit
crypto ikev2 keyring DMVPN-KR
peer HUB
address 192.0.2.1
pre lab-psk-secret
exit
exit
crypto ikev2 prof DMVPN-IKEV2
match identity remote address 192.0.2.1 255.255.255.255
identity local address 192.0.2.11
authentication remote pre-share
auth local pre-share
keyring local DMVPN-KR
lifetime 3600
dpd 30 5 periodic
exit
";
    let spoke1 = load(SPOKE1);
    let config = load(&format!(
        "{typed}{}",
        SPOKE1
            .split_once("crypto ipsec transform-set")
            .map(|(_, rest)| format!("crypto ipsec transform-set{rest}"))
            .unwrap()
    ));
    assert_eq!(config, spoke1);
    let prompted = "R1(config)#crypto ikev2 keyring K\nR1(config-ikev2-keyring)#peer P\nR1(config-ikev2-keyring-peer)#address 10.0.0.1\nR1(config-ikev2-keyring-peer)#pre-shared-key 0 abc\nR1(config-ikev2-keyring-peer)#peer Q\nR1(config-ikev2-keyring-peer)#address 10.0.0.2\n";
    let parsed = Config::parse(prompted, Options::default()).unwrap_err();
    // (no tunnel: only that error)
    assert_eq!(parsed.0.len(), 1, "{parsed}");
    let (config, ..) = super::parse::parse(prompted, Options::default());
    let peers = &config.keyrings[0].peers;
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0].local_key.as_ref().unwrap().expose(), "abc");
    assert_eq!(peers[1].address.map(|a| a.address), Some(ip("10.0.0.2")));
}

/// `pre-shared-key local` and `remote`: the same key is one key; different keys are refused;
/// the key is the rest of the line (IOS's LINE), written back so it reads the same.
#[test]
fn keyring_keys() {
    let split = SPOKE1.replace(
        "  pre-shared-key lab-psk-secret\n",
        "  pre-shared-key local lab-psk-secret\n  pre-shared-key remote lab-psk-secret\n",
    );
    assert_eq!(load(&split), load(SPOKE1));
    let asymmetric = SPOKE1.replace(
        "  pre-shared-key lab-psk-secret\n",
        "  pre-shared-key local mine-secret\n  pre-shared-key remote theirs-secret\n",
    );
    let result = Config::parse(&asymmetric, Options::default()).unwrap_err();
    let shown = result.to_string();
    assert_contains(&shown, "asymmetric keys are not supported");
    assert!(
        !shown.contains("mine-secret") && !shown.contains("theirs-secret"),
        "{shown}"
    );
    let only_local = SPOKE1.replace(
        "  pre-shared-key lab-psk-secret\n",
        "  pre-shared-key local lab-psk-secret\n",
    );
    let kinds: Vec<String> = Config::parse(&only_local, Options::default())
        .unwrap_err()
        .0
        .iter()
        .map(|d| d.kind.to_string())
        .collect();
    assert!(
        kinds.contains(
            &"crypto ikev2 keyring DMVPN-KR peer HUB has no `pre-shared-key remote`".to_owned()
        ),
        "{kinds:?}"
    );
    // Keys with spaces, or that begin with a keyword, survive the round trip.
    for key in [
        "two words",
        "local x",
        "0 zero",
        "6 y",
        "remote",
        "l  spaced  out",
    ] {
        let text = SPOKE1.replace(
            "  pre-shared-key lab-psk-secret\n",
            &format!("  pre-shared-key 0 {key}\n"),
        );
        let config = load(&text);
        let peer = &config.keyrings[0].peers[0];
        assert_eq!(peer.local_key.as_ref().unwrap().expose(), key);
        assert_eq!(load(&config.to_string()), config, "{key}");
    }
    let encrypted = SPOKE1.replace(
        "  pre-shared-key lab-psk-secret\n",
        "  pre-shared-key 6 ZmFrZWVuY3J5cHRlZA\n",
    );
    let shown = Config::parse(&encrypted, Options::default())
        .unwrap_err()
        .to_string();
    assert!(shown.contains("an encrypted key"), "{shown}");
    assert!(!shown.contains("ZmFrZWVuY3J5cHRlZA"), "{shown}");
}

/// No error or warning quotes a keyring key, whatever is wrong with its line.
#[test]
fn keys_never_in_diagnostics() {
    for line in [
        "  pre-shared-key local s3cr3t-one",
        "  pre-shared-key remote 0 s3cr3t-one",
        "  pre-shared-key s3cr3t-one s3cr3t-one",
        "  pre-shared-key 6 s3cr3t-one",
        "  pre-shared-key lo s3cr3t-one",
    ] {
        let text = SPOKE1.replace("  pre-shared-key lab-psk-secret", line);
        let text = text.replace("  address 192.0.2.1\n", "  address 192.0.2.1 x\n");
        let shown = match Config::parse(&text, Options { lenient: true }) {
            Ok(parsed) => parsed
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(errors) => errors.to_string(),
        };
        let with_line = format!("{shown}\n{}", super::error::redact(line));
        assert!(!with_line.contains("s3cr3t"), "{line}: {with_line}");
    }
    for (line, shown) in [
        (
            "  pre-shared-key local s3cr3t",
            "  pre-shared-key local ******",
        ),
        (
            "  pre-shared-key remote 0 two words",
            "  pre-shared-key remote 0 *** *****",
        ),
        ("  pre-shared-key local", "  pre-shared-key *****"),
        (
            " authentication local pre-share key k3y",
            " authentication local pre-share key ***",
        ),
    ] {
        assert_eq!(super::error::redact(line), shown);
    }
}

#[test]
fn check_cross_references() {
    for (from, to, line_start, message) in [
        (
            " set ikev2-profile DMVPN-IKEV2",
            " set ikev2-profile NOPE",
            " set ikev2-profile",
            "ikev2 profile `NOPE` is not defined",
        ),
        (
            " keyring local DMVPN-KR",
            " keyring local NOPE",
            " keyring local",
            "ikev2 keyring `NOPE` is not defined",
        ),
        (
            "\n proposal DMVPN-PROP\n",
            "\n proposal NOPE\n",
            " proposal NOPE",
            "ikev2 proposal `NOPE` is not defined",
        ),
        (
            " authentication local pre-share\n",
            "",
            "crypto ikev2 profile",
            "crypto ikev2 profile DMVPN-IKEV2 has no `authentication local pre-share`",
        ),
        (
            " match identity remote address 192.0.2.1 255.255.255.255\n",
            "",
            "crypto ikev2 profile",
            "crypto ikev2 profile DMVPN-IKEV2 has no `match identity remote`",
        ),
        (
            "  address 192.0.2.1\n",
            "  address 192.0.2.2\n",
            " ip nhrp nhs",
            "no peer of `crypto ikev2 keyring DMVPN-KR` with a key covers peer 192.0.2.1",
        ),
    ] {
        let text = SPOKE1.replace(from, to);
        assert_ne!(text, SPOKE1, "{from}");
        let found = errors(&text);
        let want = (line_of(&text, line_start), message.to_owned());
        assert!(found.contains(&want), "{from}: {found:?}");
    }
    // An incomplete proposal is not offered (a warning), and then nothing is left to offer.
    let text = SPOKE1.replace(" group 14\n", "");
    assert_error_mentions(&text, "has a complete proposal");
    // A hub whose keyring has no peer with an address.
    let text = HUB.replace("  address 0.0.0.0 0.0.0.0\n", "");
    assert_error_mentions(&text, "has no `peer with an address and a pre-shared-key`");
}

/// Lines IOS takes that the router does not use are skipped with a warning; lines it cannot
/// run are refused (warnings with `lenient`); typos are errors, all at their line and column.
#[test]
fn skipped_unsupported_and_invalid() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "crypto ikev2 dpd 10 2 on-demand\n",
            "`crypto ikev2 dpd` skipped: IOS takes it, this router does not use it",
            None,
        ),
        (
            "crypto ikev2 proposal P\n encryption aes-gcm-128\n",
            "unsupported command `encryption aes-gcm-128` in crypto ikev2 proposal mode",
            Some("unsupported"),
        ),
        (
            "crypto ikev2 proposal P\n group 19\n",
            "unsupported command `group 19` in crypto ikev2 proposal mode",
            Some("unsupported"),
        ),
        (
            "crypto ikev2 proposal P\n integrity sha-1\n",
            "invalid input `sha-1`: expected an integrity algorithm (did you mean `sha1`?)",
            Some("error"),
        ),
        (
            "crypto ikev2 profile P\n authentication remote rsa-sig\n",
            "unsupported command `authentication remote rsa-sig` in crypto ikev2 profile mode",
            Some("unsupported"),
        ),
        (
            "crypto ikev2 profile P\n match fvrf any\n",
            "`match fvrf` skipped in crypto ikev2 profile mode: IOS takes it, this router does not use it",
            None,
        ),
        (
            "crypto ikev2 profile P\n dpd 5 2 periodic\n",
            "dpd interval 5 is out of range 10..=3600",
            Some("error"),
        ),
        (
            "crypto ikev2 profile P\n lifetime 60\n",
            "ikev2 sa lifetime 60 is out of range 120..=86400",
            Some("error"),
        ),
        (
            "crypto ikev2 profile P\n lifetime 600\n lifetime 900\n",
            "lifetime is set twice (first at line 2)",
            Some("error"),
        ),
        (
            "crypto ikev2 keyring K\n peer P\n  hostname h\n",
            "`hostname` skipped in crypto ikev2 keyring peer mode: IOS takes it, this router does not use it",
            None,
        ),
        (
            "crypto ikev2 cookie-challenge 0\n",
            "a number of half-open ikev2 sas 0 is out of range 1..=1000",
            Some("error"),
        ),
        (
            "crypto ikev2 policy X\n match address local 1.2.3\n",
            "expected a local address, found `1.2.3`",
            Some("error"),
        ),
    ];
    for (text, message, kind) in cases {
        let (_, _, errors, warnings) = super::parse::parse(text, Options::default());
        let all: Vec<String> = errors
            .iter()
            .chain(warnings.iter())
            .map(|d| d.kind.to_string())
            .collect();
        assert!(all.contains(&(*message).to_owned()), "{text}: {all:?}");
        match kind {
            None => assert!(errors.is_empty(), "{text}: {errors:?}"),
            Some(_) => assert!(!errors.is_empty(), "{text}"),
        }
        if *kind == Some("unsupported") {
            let (_, _, errors, _) = super::parse::parse(text, Options { lenient: true });
            assert!(errors.is_empty(), "{text}: lenient {errors:?}");
        }
    }
}

#[test]
fn cookie_challenge_and_round_trip() {
    let text = HUB.replace(
        "crypto ipsec transform-set",
        "crypto ikev2 cookie-challenge 10\n!\ncrypto ipsec transform-set",
    );
    let config = load(&text);
    assert_eq!(config.ikev2_cookie_challenge, Some(10));
    assert_eq!(config.to_string(), text);
}

/// `dmvpn-router check`'s summary names the profile, the proposals in force (IOS's defaults
/// spelled out) and the keyring, keys by length only.
#[test]
fn summary() {
    let shown = super::Summary(&load(SPOKE2)).to_string();
    assert_contains(
        &shown,
        "  keyed by ikev2 profile DMVPN-IKEV2: identity fqdn spoke2.lab.example, peers matched by any, ike sa lifetime 86400 s\n",
    );
    assert_contains(
        &shown,
        "  ikev2 policy default (IOS's: no `crypto ikev2 policy`)\n  ikev2 proposal default: aes-cbc-256 aes-cbc-192 aes-cbc-128 sha512 sha384 sha256 sha1 md5, prf sha512 sha384 sha256 sha1 md5, group 5 2\n",
    );
    assert_contains(
        &shown,
        "  ikev2 keyring DMVPN-KR peer LAB for 192.0.2.0/24 (14 characters)\n",
    );
    assert!(
        !shown.contains("lab-psk-secret") && !shown.contains("isakmp"),
        "{shown}"
    );
}

/// The summary names the addresses a `match identity remote address` line matches as the
/// IKEv2 machine applies it: without a mask, one host, but `0.0.0.0` is every address.
#[test]
fn summary_shows_the_remote_addresses_matched() {
    for (line, shown) in [
        ("address 0.0.0.0", "address 0.0.0.0/0"),
        ("address 192.0.2.11", "address 192.0.2.11/32"),
        ("address 192.0.2.0 255.255.255.0", "address 192.0.2.0/24"),
        ("address 0.0.0.0 0.0.0.0", "address 0.0.0.0/0"),
    ] {
        let text = SPOKE2.replace(
            " match identity remote any\n",
            &format!(" match identity remote {line}\n"),
        );
        assert_ne!(text, SPOKE2);
        let summary = super::Summary(&load(&text)).to_string();
        assert_contains(&summary, &format!("peers matched by {shown}, "));
    }
}

#[test]
fn error_messages() {
    for (kind, text) in [
        (
            ErrorKind::AsymmetricKey {
                peer: "HUB".to_owned(),
            },
            "keyring peer `HUB` has different `pre-shared-key local` and `pre-shared-key remote` keys: asymmetric keys are not supported (the router authenticates both ways with one key)",
        ),
        (
            ErrorKind::NoKeyringKey {
                peer: ip("192.0.2.1"),
                keyring: "KR".to_owned(),
            },
            "no peer of `crypto ikev2 keyring KR` with a key covers peer 192.0.2.1",
        ),
        (
            ErrorKind::NoIkev2Proposal {
                local: ip("192.0.2.1"),
            },
            "no `crypto ikev2 policy` for local address 192.0.2.1 has a complete proposal",
        ),
    ] {
        assert_eq!(kind.to_string(), text);
    }
}

/// The cloud check over IKEv2: the examples together are clean; a different key, no proposal
/// in common, or IKEv1 on one side is each one finding.
#[test]
fn cloud_over_ikev2() {
    use super::cloud::{Member, check};
    let cloud = |hub: &str, spoke: &str| {
        let members = [
            Member::parse("hub.cfg", hub, Options::default()).unwrap(),
            Member::parse("spoke.cfg", spoke, Options::default()).unwrap(),
        ];
        check(&members)
            .iter()
            .map(|f| f.id)
            .collect::<Vec<&'static str>>()
    };
    let members: Vec<Member> = [("hub", HUB), ("spoke1", SPOKE1), ("spoke2", SPOKE2)]
        .iter()
        .map(|(n, t)| Member::parse(n, t, Options::default()).unwrap())
        .collect();
    let findings = check(&members);
    assert!(findings.is_empty(), "{findings:?}");
    let wrong = SPOKE1.replace(
        "pre-shared-key lab-psk-secret",
        "pre-shared-key other-secret",
    );
    assert_eq!(cloud(HUB, &wrong), ["ike-psk-mismatch"]);
    let members = [
        Member::parse("hub.cfg", HUB, Options::default()).unwrap(),
        Member::parse("spoke.cfg", &wrong, Options::default()).unwrap(),
    ];
    let shown = check(&members)[0].to_string();
    assert!(
        !shown.contains("other-secret") && !shown.contains("lab-psk"),
        "{shown}"
    );
    let md5 = SPOKE1
        .replace(" encryption aes-cbc-256\n", " encryption 3des\n")
        .replace(" integrity sha256\n", " integrity md5\n");
    assert_eq!(cloud(HUB, &md5), ["ike-no-proposal-chosen"]);
    let v1 = include_str!("../../../../testdata/router/spoke1.cfg");
    assert_eq!(cloud(HUB, v1), ["ike-version-mismatch"]);
    let uncovered = HUB.replace("  address 0.0.0.0 0.0.0.0\n", "  address 192.0.2.99\n");
    assert!(cloud(&uncovered, SPOKE1).contains(&"ike-no-psk"));
    // The hub's profile without spoke2's fqdn refuses its IDi; spoke1 expecting another hub
    // address refuses the hub's IDr.
    let no_fqdn = HUB.replace(" match identity remote fqdn spoke2.lab.example\n", "");
    assert_eq!(cloud(&no_fqdn, SPOKE2), ["ike-identity-mismatch"]);
    assert!(cloud(&no_fqdn, SPOKE1).is_empty());
    let members = [
        Member::parse("hub.cfg", &no_fqdn, Options::default()).unwrap(),
        Member::parse("spoke2.cfg", SPOKE2, Options::default()).unwrap(),
    ];
    let shown = check(&members)[0].to_string();
    assert_contains(
        &shown,
        "has no `match identity remote` for spoke2's identity (fqdn spoke2.lab.example, its IDi)",
    );
    let elsewhere = SPOKE1.replace(
        "match identity remote address 192.0.2.1 255.255.255.255",
        "match identity remote address 192.0.2.2 255.255.255.255",
    );
    assert_eq!(cloud(HUB, &elsewhere), ["ike-identity-mismatch"]);
    // IOS's default transform set on the hub: spoke1's esp-aes 128 esp-sha-hmac meets it,
    // an esp-aes 256 one does not, and the finding points at the hub's protection.
    let defaults = HUB.replace(" set transform-set DMVPN-TS\n", "");
    assert!(cloud(&defaults, SPOKE1).is_empty());
    let aes256 = SPOKE1.replace("esp-aes 128 esp-sha-hmac", "esp-aes 256 esp-sha-hmac");
    assert_eq!(cloud(&defaults, &aes256), ["ike-transform-set-mismatch"]);
}

/// The fuzz target's properties (no panic, diagnostics at real places, what loads is written
/// back and read again to the same configuration) on the IKEv2 examples cut at every few
/// bytes, each line dropped, each line unindented (a typed block), each pair of lines swapped.
#[test]
fn fuzzing_entry_on_ikev2_examples_and_edits() {
    for text in [HUB, SPOKE1, SPOKE2] {
        for cut in (0..text.len()).step_by(5) {
            crate::fuzzing::parse(&text.as_bytes()[..cut]);
        }
        super::tests::parse_line_edits(text, 1, true);
    }
    for key in [
        "0 6 x",
        "local",
        "l x",
        "remote 0",
        "6",
        "  ",
        "\u{a0}x\u{a0}y",
    ] {
        let text = SPOKE1.replace(
            "pre-shared-key lab-psk-secret",
            &format!("pre-shared-key {key}"),
        );
        crate::fuzzing::parse(text.as_bytes());
    }
}

/// A hub's crypto as Cisco's DMVPN IKEv2 guides and IOS-XE's `show running-config` print it:
/// `description`, `match fvrf any` and `no config-exchange request` are skipped with a warning
/// each; the rest runs.
#[test]
fn pasted_guide_hub() {
    let crypto = "\
crypto ikev2 proposal AES256-SHA256
 encryption aes-cbc-256
 integrity sha256
 group 14
!
crypto ikev2 policy DMVPN-POLICY
 match fvrf any
 proposal AES256-SHA256
!
crypto ikev2 keyring DMVPN-KEYRING
 peer ANY
  description every spoke
  address 0.0.0.0 0.0.0.0
  pre-shared-key cisco123
 !
!
crypto ikev2 profile DMVPN-IKEv2-PROFILE
 description PSK Profile
 match identity remote address 0.0.0.0
 authentication remote pre-share
 authentication local pre-share
 keyring local DMVPN-KEYRING
 dpd 10 2 on-demand
 no config-exchange request
!
crypto ipsec transform-set AES256/SHA/TRANSPORT esp-aes 256 esp-sha-hmac
 mode transport
!
crypto ipsec profile DMVPN-IPSEC-PROFILE
 set transform-set AES256/SHA/TRANSPORT
 set ikev2-profile DMVPN-IKEv2-PROFILE
!
";
    let rest = HUB.split_once("interface Ethernet0").unwrap().1;
    let text = format!("{crypto}interface Ethernet0{rest}")
        .replace("profile DMVPN\n", "profile DMVPN-IPSEC-PROFILE\n");
    let parsed = Config::parse(&text, Options::default()).unwrap();
    let skipped: Vec<String> = parsed.warnings.iter().map(|d| d.kind.to_string()).collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert!(skipped.iter().all(|w| w.contains("skipped")), "{skipped:?}");
    let (_, ike) = crate::node::configs(&parsed.config).unwrap();
    let Some(crate::node::Ike::V2(v2)) = ike else {
        panic!("not ikev2")
    };
    assert_eq!(v2.proposals[0].groups, [Group::MODP_2048]);
    assert!(v2.psk(ip("198.51.100.7")).is_some());
    assert_eq!(v2.dpd, Some(dmvpn_proto::Duration::from_secs(10)));
}
