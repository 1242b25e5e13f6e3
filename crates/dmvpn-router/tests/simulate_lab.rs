//! Faithful to the real thing: the `show` output simulate gives for the lab's configurations
//! has the same rows and states as the routers in the netns lab gave (recorded in
//! `testdata/router/lab/`, see its README for the commands), timers, counters, SPIs and
//! conn-ids aside.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dmvpn_proto::Duration;
use dmvpn_router::config::Options;
use dmvpn_router::config::cloud::Member;
use dmvpn_router::simulate::{self, Scenario};

const ROUTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/router");

/// `R1# show ip nhrp` sections of a recorded file: (router, command) → output.
fn sections(text: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some((router, command)) = line.split_once("# show ")
            && !router.contains(' ')
            && !router.is_empty()
        {
            current = Some((router.to_owned(), format!("show {command}")));
            out.insert(current.clone().unwrap(), String::new());
        } else if let Some(key) = &current {
            let section = out.get_mut(key).unwrap();
            section.push_str(line);
            section.push('\n');
        }
    }
    out
}

/// The rows and states of one command's output, without timers, counters, SPIs or conn-ids.
fn rows(command: &str, text: &str) -> BTreeSet<String> {
    let lines = (text.lines().map(str::trim_end)).filter(|l| !l.is_empty());
    match command {
        "show ip nhrp" => {
            let mut entries = BTreeSet::new();
            let mut entry = String::new();
            for line in lines {
                if !line.starts_with(' ') && !line.is_empty() {
                    if !entry.is_empty() {
                        entries.insert(std::mem::take(&mut entry));
                    }
                    entry.push_str(line);
                } else if line.contains("Type:") || line.contains("NBMA address") {
                    entry.push_str(" |");
                    entry.push_str(line.trim());
                } else if line.contains("created") {
                    let expiry = if line.contains("never expire") {
                        "never expire"
                    } else {
                        "expires"
                    };
                    entry.push_str(" |");
                    entry.push_str(expiry);
                }
            }
            if !entry.is_empty() {
                entries.insert(entry);
            }
            entries
        }
        "show ip nhrp nhs" | "show ip route" => lines.map(str::to_owned).collect(),
        "show ip eigrp neighbors" => (lines
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit())))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", fields[1], fields[2])
        })
        .collect(),
        "show crypto isakmp sa" => lines
            .map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                match fields.as_slice() {
                    [dst, src, state, _conn_id, status] => format!("{dst} {src} {state} {status}"),
                    _ => l
                        .split(", up ")
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                }
            })
            .collect(),
        // The SA's addresses and status, its algorithms and lifetime (not its tunnel-id or
        // active time).
        "show crypto ikev2 sa" => lines
            .filter_map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                match fields.as_slice() {
                    [_id, local, remote, _vrf, status] if local.contains('/') => {
                        Some(format!("{local} {remote} {status}"))
                    }
                    _ if l.trim_start().starts_with("Encr:") => Some(l.trim().to_owned()),
                    _ => (l.trim_start().strip_prefix("Life/Active Time: "))
                        .and_then(|t| t.split('/').next())
                        .map(|life| format!("life {life}")),
                }
            })
            .collect(),
        "show crypto ipsec sa" => lines
            .filter(|l| {
                [
                    "interface:",
                    "Crypto map",
                    "ident",
                    "current_peer",
                    "transform:",
                    "in use",
                    "Status:",
                    "esp sas:",
                ]
                .iter()
                .any(|w| l.contains(w))
            })
            .map(|l| l.trim().to_owned())
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn compare(recorded: &str, configs: &[(&str, &str)], at: i64) {
    let lab = sections(recorded);
    let routers: Vec<Member> = (configs.iter())
        .map(|(name, file)| {
            let text = std::fs::read_to_string(Path::new(ROUTER).join(file)).unwrap();
            let member = Member::parse(file, &text, Options::default()).unwrap();
            assert_eq!(member.config.hostname.as_deref(), Some(*name));
            member
        })
        .collect();
    let mut scenario = Scenario::new(routers);
    scenario.duration = Duration::from_secs(at);
    let report = simulate::run(&scenario).unwrap().report;
    let mut compared = 0;
    for ((router, command), text) in &lab {
        let ours = report.routers.iter().find(|r| r.name == *router).unwrap();
        let Some((_, simulated)) = ours.shows.iter().find(|(c, _)| c == command) else {
            panic!("simulate has no `{command}`");
        };
        let (real, sim) = (rows(command, text), rows(command, simulated));
        assert_eq!(
            sim, real,
            "{router}# {command}\nlab:\n{text}\nsimulated:\n{simulated}"
        );
        if !real.is_empty() {
            compared += 1;
        }
    }
    assert!(compared >= 5 * configs.len(), "{compared} outputs compared");
}

/// The tutorial's R1, R2 and R3 in `tools/lab/router_tutorial_lab.sh`.
#[test]
fn tutorial_lab() {
    compare(
        include_str!("../../../testdata/router/lab/tutorial.show.txt"),
        &[
            ("R1", "tutorial/R1.cfg"),
            ("R2", "tutorial/R2.cfg"),
            ("R3", "tutorial/R3.cfg"),
        ],
        60,
    );
}

/// The seed lab's hub and spokes in `tools/lab/router_lab.sh` (at boot, before it kills the
/// hub).
#[test]
fn router_lab() {
    compare(
        include_str!("../../../testdata/router/lab/router.show.txt"),
        &[
            ("hub", "hub.cfg"),
            ("spoke1", "spoke1.cfg"),
            ("spoke2", "spoke2.cfg"),
        ],
        60,
    );
}

/// The same lab over IKEv2 (`tools/lab/router_lab.sh --ikev2`, `testdata/router/ikev2/`).
#[test]
fn router_lab_ikev2() {
    compare(
        include_str!("../../../testdata/router/lab/ikev2.show.txt"),
        &[
            ("hub", "ikev2/hub.cfg"),
            ("spoke1", "ikev2/spoke1.cfg"),
            ("spoke2", "ikev2/spoke2.cfg"),
        ],
        60,
    );
}

/// The row extraction keeps states and drops what changes run to run.
#[test]
fn rows_ignore_timers() {
    let a = "0   172.16.1.2              Tu0                      14 00:00:05    4   200  0    2\n";
    let b = "0   172.16.1.2              Tu0                      10 00:01:54   20   200  0    7\n";
    assert_eq!(
        rows("show ip eigrp neighbors", a),
        rows("show ip eigrp neighbors", b)
    );
    let a = "100.1.1.1       100.1.2.2       QM_IDLE           1002 ACTIVE\n  ! TripleDes Md5 group 2 lifetime 86400 s, up 00:00:10\n";
    let b = "100.1.1.1       100.1.2.2       QM_IDLE           1001 ACTIVE\n  ! TripleDes Md5 group 2 lifetime 86400 s, up 00:01:59\n";
    assert_eq!(
        rows("show crypto isakmp sa", a),
        rows("show crypto isakmp sa", b)
    );
    let c = "100.1.1.1       100.1.2.2       MM_NO_STATE       1001 ACTIVE\n";
    assert_ne!(
        rows("show crypto isakmp sa", a),
        rows("show crypto isakmp sa", c)
    );
}
