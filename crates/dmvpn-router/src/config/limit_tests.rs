//! The limit commands: EIGRP's `maximum-prefix` and `crypto call admission limit ike`, parsed,
//! written back, refused out of IOS's ranges, and mapped onto the machines' limits.

use super::*;

const HUB: &str = include_str!("../../../../testdata/router/hub.cfg");

/// The hub's configuration with `lines` added before `end` (global lines) or after `router
/// eigrp` (lines that start with a space).
fn hub_with(global: &[&str], eigrp: &[&str]) -> String {
    let mut text = String::new();
    for line in HUB.lines() {
        if line == "end" {
            for g in global {
                text.push_str(g);
                text.push('\n');
            }
        }
        text.push_str(line);
        text.push('\n');
        if line.starts_with("router eigrp") {
            for e in eigrp {
                text.push_str(e);
                text.push('\n');
            }
        }
    }
    text
}

#[test]
fn maximum_prefix_and_call_admission_parse_and_write_back() {
    let text = hub_with(
        &[
            "crypto call admission limit ike in-negotiation-sa 40",
            "crypto call admission limit ike sa 500",
        ],
        &[" maximum-prefix 5000 80 warning-only"],
    );
    let parsed = Config::parse(&text, Options::default()).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let config = parsed.config;
    assert_eq!(config.ike_in_negotiation_sa, Some(40));
    assert_eq!(config.ike_sa_limit, Some(500));
    let limit = config.eigrp[0].maximum_prefix.unwrap();
    assert_eq!(
        limit,
        MaximumPrefix {
            max: 5000,
            threshold: Some(80),
            warning_only: true
        }
    );
    // Written back and read again: the same configuration.
    let again = Config::parse(&config.to_string(), Options::default()).unwrap();
    assert_eq!(again.config, config);
    // Without the options.
    let plain = Config::parse(&hub_with(&[], &[" maximum-prefix 100"]), Options::default())
        .unwrap()
        .config;
    assert_eq!(
        plain.eigrp[0].maximum_prefix,
        Some(MaximumPrefix {
            max: 100,
            threshold: None,
            warning_only: false
        })
    );
}

#[test]
fn limit_commands_out_of_range_are_errors_and_other_forms_skipped() {
    for (global, eigrp, expected) in [
        (
            None,
            Some(" maximum-prefix 0"),
            "maximum number of prefixes",
        ),
        (None, Some(" maximum-prefix 10 101"), "threshold percentage"),
        (None, Some(" maximum-prefix 10 50 restart 5"), "restart"),
        (
            Some("crypto call admission limit ike in-negotiation-sa 9"),
            None,
            "IKE SAs in negotiation",
        ),
        (
            Some("crypto call admission limit ike sa 100000"),
            None,
            "number of IKE SAs",
        ),
        (
            Some("crypto call admission limit ike bogus 5"),
            None,
            "bogus",
        ),
    ] {
        let text = hub_with(global.as_slice(), eigrp.as_slice());
        let errors = Config::parse(&text, Options::default())
            .unwrap_err()
            .to_string();
        assert!(errors.contains(expected), "{global:?} {eigrp:?}: {errors}");
    }
    // IOS's other call admission commands are taken and skipped (a warning each).
    for line in [
        "crypto call admission load 90 5",
        "crypto call admission limit ikev2 sa 100",
    ] {
        let parsed = Config::parse(&hub_with(&[line], &[]), Options::default()).unwrap();
        assert_eq!(parsed.warnings.len(), 1, "{line}: {:?}", parsed.warnings);
        assert_eq!(parsed.config.ike_sa_limit, None);
    }
}

#[test]
fn limits_reach_the_machines() {
    let text = hub_with(
        &[
            "crypto call admission limit ike in-negotiation-sa 40",
            "crypto call admission limit ike sa 500",
        ],
        &[" maximum-prefix 5000 80 warning-only"],
    );
    let config = Config::parse(&text, Options::default()).unwrap().config;
    let (node, ike) = crate::node::configs(&config).unwrap();
    let eigrp = node.limits.eigrp;
    assert_eq!(eigrp.total.max, 5000);
    assert_eq!(eigrp.total.threshold_percent, 80);
    assert!(eigrp.total.warning_only);
    assert_eq!(
        eigrp.per_neighbor, 5000,
        "one neighbour never gets more than all"
    );
    let ike = ike.unwrap();
    assert_eq!(ike.limits().half_open, 40);
    assert_eq!(ike.limits().sas, 500);
    // Without the commands: the defaults of dmvpn_proto::limits.
    let plain = Config::parse(HUB, Options::default()).unwrap().config;
    let (node, ike) = crate::node::configs(&plain).unwrap();
    assert_eq!(node.limits, dmvpn_proto::limits::Limits::DEFAULT);
    assert_eq!(
        ike.unwrap().limits(),
        dmvpn_proto::limits::IkeLimits::DEFAULT
    );
}
