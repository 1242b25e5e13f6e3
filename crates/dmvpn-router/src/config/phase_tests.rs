//! DMVPN Phase 2 and 3 commands: `ip nhrp redirect [timeout S]`, `ip nhrp shortcut`, `no ip
//! next-hop-self eigrp`, parsed from the guides' configurations (`testdata/router/phase2`,
//! `phase3`), written back, warned about as IOS would have them do nothing, checked across the
//! cloud, and mapped onto the node's knobs.

use super::cloud::{self, Member};
use super::*;

const P2: [&str; 3] = [
    include_str!("../../../../testdata/router/phase2/R1.cfg"),
    include_str!("../../../../testdata/router/phase2/R2.cfg"),
    include_str!("../../../../testdata/router/phase2/R3.cfg"),
];
const P3: [&str; 4] = [
    include_str!("../../../../testdata/router/phase3/R1.cfg"),
    include_str!("../../../../testdata/router/phase3/R2.cfg"),
    include_str!("../../../../testdata/router/phase3/R3.cfg"),
    include_str!("../../../../testdata/router/phase3/R4.cfg"),
];

fn parse(text: &str) -> Parsed {
    Config::parse(text, Options::default()).unwrap()
}

fn warnings(text: &str) -> Vec<String> {
    (parse(text).warnings.iter())
        .filter(|w| !matches!(w.kind, ErrorKind::Skipped { .. }))
        .map(|w| w.kind.to_string())
        .collect()
}

fn members(texts: &[&str]) -> Vec<Member> {
    (texts.iter().enumerate())
        .map(|(n, t)| Member::parse(&format!("R{}", n + 1), t, Options::default()).unwrap())
        .collect()
}

fn finding_ids(texts: &[&str]) -> Vec<&'static str> {
    cloud::check(&members(texts)).iter().map(|f| f.id).collect()
}

#[test]
fn phase3_commands_parse_and_write_back() {
    let hub = parse(P3[0]).config;
    let tunnel = hub.tunnel().unwrap();
    assert_eq!(tunnel.nhrp.redirect, Some(None));
    assert!(!tunnel.nhrp.shortcut);
    for spoke in &P3[1..] {
        let config = parse(spoke).config;
        let tunnel = config.tunnel().unwrap();
        assert!(tunnel.nhrp.shortcut && tunnel.is_multipoint(), "{spoke}");
        assert_eq!(tunnel.nhrp.redirect, None);
        let again = parse(&config.to_string()).config;
        assert_eq!(again, config);
    }
    let text = P3[0].replace(" ip nhrp redirect\n", " ip nhrp redirect timeout 7\n");
    let config = parse(&text).config;
    assert_eq!(config.tunnel().unwrap().nhrp.redirect, Some(Some(7)));
    assert!(config.to_string().contains(" ip nhrp redirect timeout 7\n"));
    assert_eq!(parse(&config.to_string()).config, config);
    assert!(
        Summary(&config)
            .to_string()
            .contains("nhrp redirect (phase 3 hub), timeout 7 s")
    );
    // IOS's range for the timeout is 2..=30 seconds; abbreviations as IOS takes them.
    let errors = Config::parse(
        &P3[0].replace(" ip nhrp redirect\n", " ip nhrp redirect timeout 1\n"),
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        errors.0[0].kind.to_string(),
        "nhrp redirect timeout 1 is out of range 2..=30"
    );
    let short = P3[1].replace(" ip nhrp shortcut\n", " ip nhrp short\n");
    assert!(parse(&short).config.tunnel().unwrap().nhrp.shortcut);
}

#[test]
fn guides_configurations_check_clean() {
    for text in P2.iter().chain(&P3) {
        assert_eq!(warnings(text), Vec::<String>::new(), "{text}");
    }
    // All spokes multipoint: `no ip next-hop-self` on the hub is Phase 2, not a fault.
    assert_eq!(finding_ids(&P2), Vec::<&str>::new());
    assert_eq!(finding_ids(&P3), Vec::<&str>::new());
}

#[test]
fn phase_warnings_as_ios_would_do_nothing() {
    // `ip nhrp redirect` on a spoke: nothing hairpins through it.
    let spoke = P3[1].replace(
        " ip nhrp shortcut\n",
        " ip nhrp shortcut\n ip nhrp redirect\n",
    );
    assert_eq!(
        warnings(&spoke),
        [
            "`ip nhrp redirect` on a spoke does nothing: no spoke-to-spoke traffic is forwarded through it (put it on the hub)"
        ]
    );
    // `ip nhrp shortcut` on a point-to-point spoke, and on a hub.
    let p2p = P3[1].replace(
        " tunnel mode gre multipoint\n",
        " tunnel destination 100.1.1.1\n",
    );
    assert_eq!(
        warnings(&p2p),
        [
            "`ip nhrp shortcut` on a point-to-point tunnel cannot build a spoke-to-spoke tunnel (needs `tunnel mode gre multipoint`)"
        ]
    );
    let hub = P3[0].replace(
        " ip nhrp redirect\n",
        " ip nhrp redirect\n ip nhrp shortcut\n",
    );
    assert_eq!(
        warnings(&hub),
        [
            "`ip nhrp shortcut` on a hub (no `ip nhrp nhs`) does nothing: it has no server to resolve through"
        ]
    );
    // `no ip next-hop-self` on a hub that keeps split horizon: no spoke learns the others.
    let hub = P2[0].replace(" no ip split-horizon eigrp 123\n", "");
    let got = warnings(&hub);
    assert!(
        got.contains(&"`no ip next-hop-self eigrp` without `no ip split-horizon eigrp` on the hub: the spokes never learn each other's routes".to_owned()),
        "{got:?}"
    );
}

#[test]
fn cloud_phase3_needs_both_halves() {
    let no_redirect = P3[0].replace(" ip nhrp redirect\n", "");
    let texts = [no_redirect.as_str(), P3[1], P3[2], P3[3]];
    assert_eq!(finding_ids(&texts), ["nhrp-shortcut-no-redirect"]);
    let spokes: Vec<String> = (P3[1..].iter())
        // (R4 is typed without indentation)
        .map(|t| {
            t.replace(" ip nhrp shortcut\n", "")
                .replace("ip nhrp shortcut\n", "")
        })
        .collect();
    let texts = [P3[0], &spokes[0], &spokes[1], &spokes[2]];
    assert_eq!(finding_ids(&texts), ["nhrp-redirect-no-shortcut"]);
    // Phase 2 with a point-to-point spoke: that spoke cannot reach the other spoke directly.
    let p2p = P2[1].replace(
        " tunnel mode gre multipoint\n",
        " tunnel destination 100.1.1.1\n",
    );
    let ids = finding_ids(&[P2[0], &p2p, P2[2]]);
    assert!(ids.contains(&"eigrp-next-hop-self-phase1"), "{ids:?}");
}

#[test]
fn node_knobs() {
    let (hub, _) = crate::node::configs(&parse(P3[0]).config).unwrap();
    assert_eq!(
        hub.nhrp.redirect,
        Some(dmvpn_proto::node::Redirect::IOS_DEFAULT)
    );
    assert!(!hub.nhrp.shortcut && hub.tunnel.multipoint);
    let text = P3[0].replace(" ip nhrp redirect\n", " ip nhrp redirect timeout 5\n");
    let (hub, _) = crate::node::configs(&parse(&text).config).unwrap();
    assert_eq!(
        hub.nhrp.redirect.map(|r| r.timeout),
        Some(dmvpn_proto::Duration::from_secs(5))
    );
    let (spoke, _) = crate::node::configs(&parse(P3[1]).config).unwrap();
    assert!(spoke.nhrp.shortcut && spoke.tunnel.multipoint && spoke.nhrp.redirect.is_none());
    let (spoke, _) = crate::node::configs(&parse(P2[1]).config).unwrap();
    assert!(!spoke.nhrp.shortcut && spoke.tunnel.multipoint);
    let (hub, _) = crate::node::configs(&parse(P2[0]).config).unwrap();
    assert!(!hub.eigrp.unwrap().next_hop_self);
    let p2p = include_str!("../../../../testdata/router/spoke1.cfg");
    let (spoke, _) = crate::node::configs(&parse(p2p).config).unwrap();
    assert!(!spoke.tunnel.multipoint);
}
