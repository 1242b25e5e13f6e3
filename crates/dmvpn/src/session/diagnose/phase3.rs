//! The DMVPN Phase 2/3 rules, over [`SpokeToSpoke`]: redirects that led nowhere, resolutions
//! unanswered or refused, spoke-to-spoke IKE failing, shortcuts flapping, and flows that keep
//! hair-pinning through the hub in a Phase 3 cloud.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::super::spoke_to_spoke::{SWITCH_GRACE, host};
use super::super::{InnerFlow, Report, SpokeToSpoke};
use super::{REPLY_GRACE, Rule, Severity, covers};
use crate::capture::Timestamp;

/// A shortcut withdrawn and installed again this many times is flapping.
const FLAP_REINSTALLS: usize = 2;

/// Whether the capture went on for at least `grace` after `time`.
fn waited(end: Option<Timestamp>, time: Timestamp, grace: std::time::Duration) -> bool {
    end.is_some_and(|end| end.saturating_duration_since(time) >= grace)
}

/// Runs the Phase 2/3 rules.
pub(super) fn run(
    report: &Report,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let s2s = &report.spoke_to_spoke;
    let end = report.end;
    let ignored = redirects(s2s, end, add);
    let failed_ike: BTreeSet<(IpAddr, IpAddr)> = s2s
        .tunnels
        .iter()
        .filter(|t| t.ike_failed)
        .flat_map(|t| [(t.a, t.b), (t.b, t.a)])
        .collect();
    let failed = resolutions(s2s, end, &failed_ike, add);
    for tunnel in s2s.tunnels.iter().filter(|t| t.ike_failed) {
        // The traffic between the two spokes that stayed on the hub after IKE was tried.
        let tried = tunnel.ike_first.map_or(0, |s| s.frame);
        let mut frames = tunnel.ike_frames.clone();
        let mut flows = 0;
        for flow in s2s.flows.iter().filter(|f| joins(f, tunnel.a, tunnel.b)) {
            let late: Vec<u64> = [flow.to_hub.last, flow.from_hub.last]
                .into_iter()
                .flatten()
                .map(|s| s.frame)
                .filter(|&frame| frame > tried)
                .collect();
            flows += usize::from(!late.is_empty());
            frames.extend(late);
        }
        add(
            Rule::SpokeToSpokeIkeFailed,
            Severity::Error,
            Some((tunnel.a, tunnel.b)),
            format!(
                "IKE between spokes {} and {} never came up ({} IKE SA(s) tried from frame {tried}, \
                 no ESP between them): the shortcut cannot carry traffic{}",
                tunnel.a,
                tunnel.b,
                tunnel.ike_sas,
                if flows > 0 {
                    format!(" and {flows} flow(s) stay on the hub")
                } else {
                    String::new()
                }
            ),
            frames,
        );
    }
    for tunnel in &s2s.tunnels {
        let reinstalls = tunnel.reinstalls();
        if reinstalls < FLAP_REINSTALLS {
            continue;
        }
        let mut frames = tunnel.installs.clone();
        frames.extend(tunnel.removals.iter().map(|&(frame, _)| frame));
        let why: BTreeSet<&str> = tunnel.removals.iter().map(|&(_, why)| why).collect();
        add(
            Rule::NhrpShortcutFlapping,
            Severity::Warning,
            Some((tunnel.a, tunnel.b)),
            format!(
                "the shortcut between spokes {} and {} was withdrawn ({}) and installed again \
                 {reinstalls} times ({} install(s), {} removal(s))",
                tunnel.a,
                tunnel.b,
                why.into_iter().collect::<Vec<_>>().join(", "),
                tunnel.installs.len(),
                tunnel.removals.len()
            ),
            frames,
        );
    }
    hairpins(report, &ignored, &failed, &failed_ike, add);
}

/// Whether `flow` goes between spokes `a` and `b` (through the hub or directly).
fn joins(flow: &InnerFlow, a: IpAddr, b: IpAddr) -> bool {
    let via = [flow.via.0, flow.via.1];
    let ends = flow.tunnel.map(|(s, d)| [Some(s), Some(d)]).unwrap_or(via);
    let has = |x: IpAddr| ends.contains(&Some(x)) || via.contains(&Some(x));
    has(a) && has(b)
}

/// `nhrp-redirect-no-shortcut`; the spokes that ignored a redirect.
fn redirects(
    s2s: &SpokeToSpoke,
    end: Option<Timestamp>,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) -> BTreeSet<IpAddr> {
    let mut by_spoke: BTreeMap<(IpAddr, IpAddr), Vec<&super::super::Redirect>> = BTreeMap::new();
    for redirect in &s2s.redirects {
        if redirect.resolution.is_none() && waited(end, redirect.seen.time, SWITCH_GRACE) {
            by_spoke
                .entry((redirect.hub, redirect.spoke))
                .or_default()
                .push(redirect);
        }
    }
    let mut ignored = BTreeSet::new();
    for ((hub, spoke), list) in by_spoke {
        ignored.insert(spoke);
        let flows: BTreeSet<String> = list
            .iter()
            .filter_map(|r| r.flow)
            .map(|f| format!("{} -> {}", f.src, f.dst))
            .collect();
        let flows = if flows.is_empty() {
            String::new()
        } else {
            format!(
                " (for {})",
                flows.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        add(
            Rule::NhrpRedirectNoShortcut,
            Severity::Warning,
            Some((hub, spoke)),
            format!(
                "hub {hub} sent {} Traffic Indication(s) to spoke {spoke}{flows} and the spoke sent \
                 no Resolution Request for the destination: `ip nhrp shortcut` is missing on the \
                 spoke, so its traffic stays on the hub",
                list.len()
            ),
            list.iter().map(|r| r.seen.frame).collect(),
        );
    }
    ignored
}

/// `nhrp-resolution-refused` and `nhrp-resolution-unanswered`; the requesters whose
/// resolutions failed.
fn resolutions(
    s2s: &SpokeToSpoke,
    end: Option<Timestamp>,
    failed_ike: &BTreeSet<(IpAddr, IpAddr)>,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) -> BTreeSet<IpAddr> {
    let mut failed = BTreeSet::new();
    // By (requester's NBMA, target): refusals, then silences.
    let mut refused: BTreeMap<(IpAddr, IpAddr), (Vec<u64>, String)> = BTreeMap::new();
    let mut silent: BTreeMap<(IpAddr, IpAddr), Vec<u64>> = BTreeMap::new();
    for resolution in &s2s.resolutions {
        let key = (resolution.origin, resolution.target);
        if resolution.refused() {
            let entry = refused.entry(key).or_default();
            entry.0.push(resolution.request.frame);
            if let Some((seen, code, name)) = resolution.error {
                entry.0.push(seen.frame);
                entry.1 = format!("Error Indication {name} ({code})");
            } else if let Some(answer) = &resolution.answer {
                entry.0.push(answer.seen.frame);
                entry.1 = format!(
                    "Resolution Reply code {} ({})",
                    answer.code_name, answer.code
                );
            }
            continue;
        }
        let explained = resolution
            .forwarded_to
            .is_some_and(|to| failed_ike.contains(&(resolution.origin, to)));
        if resolution.answer.is_none()
            && !explained
            && waited(end, resolution.request.time, REPLY_GRACE)
        {
            silent
                .entry(key)
                .or_default()
                .extend(&resolution.request_frames);
        }
    }
    for ((origin, target), (frames, how)) in refused {
        failed.insert(origin);
        add(
            Rule::NhrpResolutionRefused,
            Severity::Error,
            None,
            format!(
                "spoke {origin}'s Resolution Request for {target} was refused ({how}): no \
                 shortcut, traffic stays on the hub (check `ip nhrp shortcut`/`redirect`, the \
                 target spoke's registration and `ip nhrp authentication`)"
            ),
            frames,
        );
    }
    for ((origin, target), frames) in silent {
        failed.insert(origin);
        add(
            Rule::NhrpResolutionUnanswered,
            Severity::Error,
            None,
            format!(
                "spoke {origin}'s Resolution Request(s) for {target} got no reply ({} cop(ies) \
                 seen): the hub or the target spoke did not answer (target not registered, NHRP \
                 network-id mismatch, or the reply lost on the direct path)",
                frames.len()
            ),
            frames,
        );
    }
    failed
}

/// `phase3-hairpin`: flows still going through the hub well after Phase 3 should have moved
/// them, with nothing else to explain it.
fn hairpins(
    report: &Report,
    ignored: &BTreeSet<IpAddr>,
    failed: &BTreeSet<IpAddr>,
    failed_ike: &BTreeSet<(IpAddr, IpAddr)>,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let s2s = &report.spoke_to_spoke;
    // The cloud's first sign of Phase 3: a redirect or a successful resolution.
    let cloud = s2s
        .redirects
        .iter()
        .map(|r| r.seen)
        .chain(
            s2s.resolutions
                .iter()
                .filter(|r| r.succeeded())
                .filter_map(|r| r.answer.as_ref().map(|a| a.seen)),
        )
        .min_by_key(|s| s.frame);
    let Some(cloud) = cloud else {
        return;
    };
    let mut by_spokes: BTreeMap<(IpAddr, IpAddr), (Vec<u64>, Vec<String>)> = BTreeMap::new();
    for flow in &s2s.flows {
        let (Some(entry), Some(last)) = (flow.via.0, flow.last_via_hub()) else {
            continue;
        };
        let exit = flow.via.1;
        let explained = ignored.contains(&entry)
            || failed.contains(&entry)
            || exit.is_some_and(|exit| failed_ike.contains(&(entry, exit)));
        if explained {
            continue;
        }
        // This flow's own sign (a redirect quoting it, the entry spoke's resolution covering
        // its destination), else the cloud's.
        let own = s2s
            .resolutions
            .iter()
            .filter(|r| r.origin == entry && r.succeeded())
            .filter_map(|r| r.answer.as_ref())
            .filter(|a| a.prefix.is_some_and(|p| covers(p, host(flow.dst))))
            .map(|a| a.seen)
            .chain(flow.redirect)
            .min_by_key(|s| s.frame);
        let sign = own.unwrap_or(cloud);
        let late = last.frame > sign.frame
            && last.time.saturating_duration_since(sign.time) > SWITCH_GRACE
            && (flow.direct.packets == 0 || flow.hub_after_switch());
        if !late {
            continue;
        }
        let entry_frames = by_spokes.entry((entry, exit.unwrap_or(entry))).or_default();
        entry_frames.0.extend([sign.frame, last.frame]);
        entry_frames.1.push(format!("{} -> {}", flow.src, flow.dst));
    }
    for ((entry, exit), (frames, flows)) in by_spokes {
        add(
            Rule::Phase3Hairpin,
            Severity::Warning,
            Some((entry, exit)),
            format!(
                "{} still hair-pin(s) through the hub from spoke {entry} to {exit} more than {} s \
                 after the redirect or resolution (frame {}): Phase 3 is configured but the \
                 shortcut is not used (check `ip nhrp shortcut` and that the spoke's routes \
                 let the NHRP route override them)",
                flows.join(", "),
                SWITCH_GRACE.as_secs(),
                frames.first().copied().unwrap_or_default()
            ),
            frames,
        );
    }
}
