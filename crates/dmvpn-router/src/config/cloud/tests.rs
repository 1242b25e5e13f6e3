//! The tutorial's cloud (testdata/router/tutorial) passes alone and together; each one-fault
//! variant gives exactly its finding; each rule on an edited configuration; the finding IDs
//! shared with `dmvpn sessions` are its.

use super::*;

#[path = "../../../tests/util/variants.rs"]
mod variants;

const R1: &str = include_str!("../../../../../testdata/router/tutorial/R1.cfg");
const R2: &str = include_str!("../../../../../testdata/router/tutorial/R2.cfg");
const R3: &str = include_str!("../../../../../testdata/router/tutorial/R3.cfg");
const EXPECTED: &str = include_str!("../../../../../testdata/router/tutorial/broken/expected.txt");
const DIAGNOSE: &str = include_str!("../../../../dmvpn/src/session/diagnose.rs");

fn broken(name: &str) -> &'static str {
    match name {
        "wrong-psk.R2.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/wrong-psk.R2.cfg")
        }
        "missing-wildcard.R1.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/missing-wildcard.R1.cfg")
        }
        "transform-set-mismatch.R3.cfg" => include_str!(
            "../../../../../testdata/router/tutorial/broken/transform-set-mismatch.R3.cfg"
        ),
        "nhrp-auth-mismatch.R3.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/nhrp-auth-mismatch.R3.cfg")
        }
        "split-horizon-on.R1.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/split-horizon-on.R1.cfg")
        }
        "eigrp-as-mismatch.R2.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/eigrp-as-mismatch.R2.cfg")
        }
        "wrong-nhs.R2.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/wrong-nhs.R2.cfg")
        }
        "missing-multicast-map.R1.cfg" => include_str!(
            "../../../../../testdata/router/tutorial/broken/missing-multicast-map.R1.cfg"
        ),
        "mss-missing.R3.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/mss-missing.R3.cfg")
        }
        "mtu-missing.R2.cfg" => {
            include_str!("../../../../../testdata/router/tutorial/broken/mtu-missing.R2.cfg")
        }
        other => panic!("no variant {other}"),
    }
}

fn member(name: &str, text: &str) -> Member {
    Member::parse(name, text, Options::default())
        .unwrap_or_else(|e| panic!("{name} does not load:\n{e}"))
}

fn tutorial() -> [Member; 3] {
    [
        member("R1.cfg", R1),
        member("R2.cfg", R2),
        member("R3.cfg", R3),
    ]
}

fn ids(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.id).collect()
}

/// The cloud with `text` (an edited `base`) in place of the router named `name`.
fn with(name: &str, text: &str) -> Vec<Finding> {
    let members: Vec<Member> = tutorial()
        .into_iter()
        .map(|m| {
            if m.name == name {
                member(name, text)
            } else {
                m
            }
        })
        .collect();
    check(&members)
}

#[test]
fn tutorial_passes_alone_and_together() {
    let [r1, r2, r3] = tutorial();
    for cloud in [
        vec![r1.clone()],
        vec![r2.clone()],
        vec![r3.clone()],
        vec![r1.clone(), r2.clone()],
        vec![r3.clone(), r1.clone()],
        vec![r1, r2, r3],
    ] {
        let findings = check(&cloud);
        assert!(findings.is_empty(), "{findings:#?}");
    }
    assert_eq!(
        tutorial().iter().map(role).collect::<Vec<_>>(),
        [Some(Role::Hub), Some(Role::Spoke), Some(Role::Spoke)]
    );
}

#[test]
fn lab_configurations_pass_together() {
    let members = [
        member(
            "hub",
            include_str!("../../../../../testdata/router/hub.cfg"),
        ),
        member(
            "spoke1",
            include_str!("../../../../../testdata/router/spoke1.cfg"),
        ),
        member(
            "spoke2",
            include_str!("../../../../../testdata/router/spoke2.cfg"),
        ),
    ];
    let findings = check(&members);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn each_broken_variant_gives_exactly_its_finding() {
    let mut count = 0;
    for variants::Variant {
        file: variant,
        id,
        severity,
        replaces: replaced,
    } in variants::parse(EXPECTED)
    {
        let findings = with(&replaced, broken(variant));
        assert_eq!(ids(&findings), [id], "{variant}: {findings:#?}");
        let finding = &findings[0];
        let want = if severity == "error" {
            Severity::Error
        } else {
            Severity::Warning
        };
        assert_eq!(finding.severity, want, "{variant}");
        // The finding points into the variant, at a real line (or says the command is missing).
        let place = finding
            .places
            .iter()
            .find(|p| p.file == replaced)
            .unwrap_or_else(|| panic!("{variant}: no place in {replaced}: {finding:#?}"));
        let text = broken(variant);
        if place.line > 0 {
            assert_eq!(
                super::super::error::redact(text.lines().nth(place.line - 1).unwrap()),
                place.text
            );
        }
        assert!(!finding.fix.is_empty() && !finding.message.is_empty());
        count += 1;
    }
    assert_eq!(count, 10);
}

#[test]
fn a_hub_alone_with_split_horizon_is_warned() {
    let findings = check(&[member("R1.cfg", broken("split-horizon-on.R1.cfg"))]);
    assert_eq!(ids(&findings), ["eigrp-split-horizon"]);
    assert_eq!(findings[0].severity, Severity::Warning);
}

#[test]
fn pair_findings_name_both_files_and_lines() {
    let findings = with("R2.cfg", broken("wrong-psk.R2.cfg"));
    let places: Vec<(&str, usize)> = findings[0]
        .places
        .iter()
        .map(|p| (p.file.as_str(), p.line))
        .collect();
    assert_eq!(places, [("R2.cfg", 32), ("R1.cfg", 44)]);
    let shown = findings[0].to_string();
    assert!(
        shown.starts_with("error[ike-psk-mismatch]: spoke R2 and hub R1"),
        "{shown}"
    );
    assert!(shown.contains("\n  --> R2.cfg:32: crypto isakmp key ******** address 0.0.0.0"));
    assert!(shown.contains("\n  fix: "));
    assert!(!shown.contains("cisco"), "secrets never shown: {shown}");

    let findings = with("R3.cfg", broken("nhrp-auth-mismatch.R3.cfg"));
    assert_eq!(
        findings[0].message,
        "the hub refuses spoke R3's registration: NHRP authentication mismatch (R1 and R3 have different `ip nhrp authentication` strings)"
    );
    let places: Vec<(&str, usize)> = (findings[0].places.iter())
        .map(|p| (p.file.as_str(), p.line))
        .collect();
    assert_eq!(places, [("R3.cfg", 31), ("R1.cfg", 64)]);
}

#[test]
fn rules_on_edits() {
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        // (router, from, to, …, the findings)
        (
            "R2.cfg",
            " tunnel protection",
            " tunnel key 7\n tunnel protection",
            "",
            &["gre-key-mismatch"],
        ),
        (
            "R2.cfg",
            " ip address 172.16.1.2 255.255.255.0",
            " ip address 172.16.1.2 255.255.0.0",
            "",
            &["tunnel-subnet-mismatch"],
        ),
        (
            "R2.cfg",
            " ip address 172.16.1.2 255.255.255.0",
            " ip address 172.16.1.3 255.255.255.0",
            "",
            &["duplicate-tunnel-address"],
        ),
        (
            "R2.cfg",
            " ip address 100.1.2.2 255.255.255.0",
            " ip address 100.1.3.3 255.255.255.0",
            "",
            &["duplicate-nbma-address"],
        ),
        (
            "R2.cfg",
            " tunnel protection ipsec profile protect-gre\n",
            "",
            "",
            &["ipsec-protection-mismatch"],
        ),
        (
            "R2.cfg",
            " encr 3des",
            " encr aes 256",
            "",
            &["ike-no-proposal-chosen"],
        ),
        (
            "R1.cfg",
            " no ip split-horizon eigrp 123\n",
            " no ip split-horizon eigrp 123\n no ip next-hop-self eigrp 123\n",
            "",
            &["eigrp-next-hop-self-phase1"],
        ),
        (
            "R2.cfg",
            " ip nhrp map 172.16.1.1 100.1.1.1",
            " ip nhrp map 172.16.1.1 100.1.1.9",
            " tunnel destination 100.1.1.1",
            &["nhrp-no-registration"],
        ),
        (
            "R2.cfg",
            " network 172.16.1.0 0.0.0.255\n",
            "",
            "",
            &["eigrp-not-on-tunnel"],
        ),
        (
            "R2.cfg",
            " ip tcp adjust-mss 1360",
            " ip tcp adjust-mss 1380",
            "",
            &["tcp-mss-too-large"],
        ),
        (
            "R2.cfg",
            " ip mtu 1400",
            " ip mtu 1300",
            "",
            &["tcp-mss-too-large", "tunnel-mtu-mismatch"],
        ),
        (
            "R2.cfg",
            " mode transport\n",
            "",
            "",
            &["ipsec-tunnel-mode"],
        ),
        (
            "R2.cfg",
            " tunnel destination 100.1.1.1\n",
            " tunnel mode gre multipoint\n",
            "",
            &["nhrp-no-multicast"],
        ),
        (
            "R2.cfg",
            " ip address 100.1.2.2 255.255.255.0",
            " ip address dhcp",
            "",
            &[],
        ),
        // A tunnel, or its source, shut down.
        (
            "R2.cfg",
            " tunnel protection ipsec profile protect-gre\n",
            " tunnel protection ipsec profile protect-gre\n shutdown\n",
            "",
            &["interface-shutdown"],
        ),
        (
            "R2.cfg",
            " ip address 100.1.2.2 255.255.255.0\n",
            " ip address 100.1.2.2 255.255.255.0\n shutdown\n",
            "",
            &["interface-shutdown"],
        ),
        (
            "R1.cfg",
            " ip address 172.16.1.1 255.255.255.0\n",
            " ip address 172.16.1.1 255.255.255.0\n no shutdown\n",
            "",
            &[],
        ),
        // Authentication on one side only.
        (
            "R1.cfg",
            " ip nhrp authentication pass\n",
            "",
            "",
            &["nhrp-auth-mismatch", "nhrp-auth-mismatch"],
        ),
        // The hub's PFS group the spoke does not offer; the spoke's alone is fine.
        (
            "R1.cfg",
            " set transform-set TS \n",
            " set transform-set TS \n set pfs group2\n",
            "",
            &["ike-transform-set-mismatch", "ike-transform-set-mismatch"],
        ),
        (
            "R2.cfg",
            " set transform-set TS \n",
            " set transform-set TS \n set pfs group14\n",
            "",
            &[],
        ),
        // Static multicast maps for every spoke serve as well as `dynamic`; one missing does not.
        (
            "R1.cfg",
            " ip nhrp map multicast dynamic\n",
            " ip nhrp map multicast 100.1.2.2\n ip nhrp map multicast 100.1.3.3\n",
            "",
            &[],
        ),
        (
            "R1.cfg",
            " ip nhrp map multicast dynamic\n",
            " ip nhrp map multicast 100.1.2.2\n",
            "",
            &["nhrp-no-multicast"],
        ),
    ];
    let mut wrong = Vec::new();
    for (router, from, to, also, want) in cases {
        let base = match *router {
            "R1.cfg" => R1,
            _ => R2,
        };
        assert!(base.contains(from), "{from:?}");
        let mut text = base.replacen(from, to, 1);
        // A second edit that keeps the first one's fault alone.
        if !also.is_empty() {
            text = match *also {
                " tunnel destination 100.1.1.1" => {
                    text.replacen(also, " tunnel destination 100.1.1.9", 1)
                }
                _ => text,
            };
        }
        let findings = with(router, &text);
        if ids(&findings) != *want {
            wrong.push(format!("{router} {from:?} -> {to:?}: {:#?}", findings));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn dhcp_spoke_needs_the_hubs_wildcard() {
    let spoke = R2.replacen(" ip address 100.1.2.2 255.255.255.0", " ip address dhcp", 1);
    let hub = R1.replacen(
        "crypto isakmp key cisco123 address 0.0.0.0        ",
        "crypto isakmp key cisco123 address 100.1.3.3",
        1,
    );
    let findings = check(&[member("R1.cfg", &hub), member("R2.cfg", &spoke)]);
    assert_eq!(ids(&findings), ["ike-no-psk"]);
    assert!(
        findings[0].message.contains("a DHCP address"),
        "{}",
        findings[0].message
    );
    assert!(dhcp_source(&member("R2.cfg", &spoke).config));
}

#[test]
fn shared_ids_are_dmvpn_sessions_ids() {
    let ours = [
        "ike-psk-mismatch",
        "ike-transform-set-mismatch",
        "ike-no-proposal-chosen",
        "nhrp-auth-mismatch",
        "nhrp-no-registration",
        "eigrp-split-horizon",
        "eigrp-as-mismatch",
        "tcp-mss-too-large",
        "fragmented-after-encapsulation",
    ];
    for id in ours {
        assert!(
            DIAGNOSE.contains(&format!("=> \"{id}\"")),
            "{id} is not a rule of crates/dmvpn/src/session/diagnose.rs"
        );
    }
}

#[test]
fn built_members_and_empty_clouds() {
    assert!(check(&[]).is_empty());
    let config = member("R1.cfg", R1).config;
    let built = Member::from_config("built", config);
    assert!(check(&[built]).is_empty());
    let mut config = member("R1.cfg", R1).config;
    if let Some(t) = config.interfaces.iter_mut().find_map(|i| i.tunnel.as_mut()) {
        t.nhrp.multicast.clear();
    }
    let findings = check(&[Member::from_config("built", config)]);
    assert_eq!(ids(&findings), ["nhrp-no-multicast"]);
    assert_eq!(findings[0].places[0].line, 0);
    assert!(findings[0].to_string().contains("built: (not configured)"));
}

#[test]
fn other_pastes_check_alone_and_together() {
    let hub = include_str!("../../../../../testdata/router/pasted/hub-xe.cfg");
    let spoke = include_str!("../../../../../testdata/router/pasted/spoke-mgre-dhcp.cfg");
    let (hub, warnings) = Member::parse_with_warnings("hub-xe.cfg", hub, Options::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        warnings
            .iter()
            .all(|w| matches!(w.kind, super::super::ErrorKind::Skipped { .. })),
        "{warnings:?}"
    );
    // The certificate's hex lines, the keyring's key and the vrf's address family are their
    // blocks', skipped with them: one warning per command.
    assert!(
        warnings.iter().all(|w| !w.text.starts_with("  ")),
        "{warnings:?}"
    );
    let spoke = member("spoke-mgre-dhcp.cfg", spoke);
    assert!(dhcp_source(&spoke.config));
    assert_eq!(spoke.config.nbma_address(), None);
    let tunnel = spoke.tunnel().unwrap();
    assert_eq!(
        tunnel.nhrp.multicast,
        [MulticastMap::Nbma("198.51.100.1".parse().unwrap())]
    );
    assert_eq!(tunnel.nhrp.registration_timeout, Some(60));
    for cloud in [
        vec![hub.clone()],
        vec![spoke.clone()],
        vec![hub, spoke.clone()],
    ] {
        let findings = check(&cloud);
        assert!(findings.is_empty(), "{findings:#?}");
    }
    // The spoke's key is for the hub alone; a hub keyed only for some spokes misses a DHCP one.
    let text = include_str!("../../../../../testdata/router/pasted/hub-xe.cfg").replace(
        "crypto isakmp key 0 Str0ngKey! address 0.0.0.0 0.0.0.0",
        "crypto isakmp key 0 Str0ngKey! address 203.0.113.4",
    );
    let findings = check(&[member("hub-xe.cfg", &text), spoke]);
    assert_eq!(ids(&findings), ["ike-no-psk"]);
}

#[test]
fn no_routing_protocol_is_a_warning_eigrp_without_the_tunnel_an_error() {
    // IOS runs a DMVPN with static routes over the tunnel: no `router eigrp` at all is legal.
    let without: String = R2
        .lines()
        .filter(|line| !line.starts_with("router eigrp") && !line.starts_with(" network "))
        .map(|line| format!("{line}\n"))
        .collect();
    let findings = with("R2.cfg", &without);
    assert_eq!(ids(&findings), ["eigrp-not-on-tunnel"]);
    assert_eq!(findings[0].severity, Severity::Warning);
    // A `router eigrp` whose networks leave the tunnel out is a mistake.
    let findings = with("R2.cfg", &R2.replace(" network 172.16.1.0 0.0.0.255\n", ""));
    assert_eq!(ids(&findings), ["eigrp-not-on-tunnel"]);
    assert_eq!(findings[0].severity, Severity::Error);
}
