//! The spoke-to-spoke section (DMVPN Phase 2/3) of the text and JSON reports.

use std::fmt;
use std::net::IpAddr;

use super::{Rel, seen_json};
use crate::capture::Timestamp;
use crate::json::Object;
use crate::session::{Answer, DirectTunnel, InnerFlow, Leg, Seen, SpokeToSpoke};

/// `PREFIX/LEN`.
struct Net((IpAddr, u8));

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.0, self.0.1)
    }
}

/// `frame +T s`, right-aligned as in the NHRP timelines.
struct At(Seen, Timestamp);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>5} {}", self.0.frame, Rel(self.0.time, self.1))
    }
}

/// A frame number, or `-`.
fn frame(seen: Option<Seen>) -> String {
    seen.map_or_else(|| "-".to_owned(), |s| s.frame.to_string())
}

/// The text section; nothing when the capture shows no Phase 2/3.
pub(super) fn text(
    s2s: &SpokeToSpoke,
    start: Timestamp,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    if s2s.is_empty() {
        return Ok(());
    }
    writeln!(f)?;
    writeln!(
        f,
        "Spoke-to-spoke (DMVPN Phase 2/3): {} spoke(s) registered, {} redirect(s), {} \
         resolution(s), {} purge(s), {} spoke pair(s), {} flow(s)",
        s2s.spokes.len(),
        s2s.redirects.len(),
        s2s.resolutions.len(),
        s2s.purges.len(),
        s2s.tunnels.len(),
        s2s.flows.len()
    )?;
    if s2s.dropped > 0 {
        writeln!(f, "  ({} over the caps, not itemised)", s2s.dropped)?;
    }
    for redirect in &s2s.redirects {
        let (hub, spoke) = (redirect.hub, redirect.spoke);
        write!(
            f,
            "  {} redirect: hub {hub} -> spoke {spoke}",
            At(redirect.seen, start)
        )?;
        if let Some(flow) = redirect.flow {
            write!(
                f,
                " for {} -> {} (protocol {})",
                flow.src, flow.dst, flow.protocol
            )?;
        }
        match redirect.resolution.and_then(|i| s2s.resolutions.get(i)) {
            Some(r) => writeln!(f, "; resolved in frame {}", r.request.frame)?,
            None => writeln!(f, "; no resolution followed")?,
        }
    }
    for r in &s2s.resolutions {
        let (id, requester, origin, target) = (r.request_id, r.requester, r.origin, r.target);
        write!(
            f,
            "  {} resolution id={id} {requester} ({origin}) asks for {target}",
            At(r.request, start)
        )?;
        if let Some(to) = r.forwarded_to {
            write!(f, ", forwarded to {to}")?;
        }
        match (&r.answer, r.error) {
            (_, Some((seen, code, name))) => {
                writeln!(
                    f,
                    "; Error Indication {name} ({code}) in frame {}",
                    seen.frame
                )?;
            }
            (Some(answer), None) => writeln!(f, "; {}", answer_text(answer))?,
            (None, None) => writeln!(f, "; no reply")?,
        }
    }
    for purge in &s2s.purges {
        let nets: Vec<String> = purge.prefixes.iter().map(|&p| Net(p).to_string()).collect();
        let kind = if purge.reply { "reply" } else { "request" };
        let (id, from, to) = (purge.request_id, purge.from, purge.to);
        writeln!(
            f,
            "  {} purge {kind} id={id} {from} -> {to}: {}",
            At(purge.seen, start),
            nets.join(" ")
        )?;
    }
    for tunnel in &s2s.tunnels {
        tunnel_text(tunnel, f)?;
    }
    for flow in &s2s.flows {
        flow_text(flow, f)?;
    }
    Ok(())
}

fn answer_text(answer: &Answer) -> String {
    let mut text = format!(
        "reply in frame {} from {}{} code {} ({})",
        answer.seen.frame,
        answer.from,
        if answer.direct {
            " (direct)"
        } else {
            " (via the hub)"
        },
        answer.code_name,
        answer.code
    );
    if let Some(prefix) = answer.prefix {
        text += &format!(", {}", Net(prefix));
    }
    if let (Some(tunnel), Some(nbma)) = (answer.tunnel, answer.nbma) {
        text += &format!(" at {tunnel} NBMA {nbma}");
    }
    text + &format!(", hold {} s", answer.holding_time)
}

fn tunnel_text(tunnel: &DirectTunnel, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let state = if tunnel.is_up() {
        "up"
    } else if tunnel.ike_failed {
        "IKE failed"
    } else {
        "not seen up"
    };
    write!(
        f,
        "  spokes {} <-> {}: {state}; {} resolution(s), IKE {} SA(s)",
        tunnel.a,
        tunnel.b,
        tunnel.resolutions.len(),
        tunnel.ike_sas
    )?;
    if let Some(up) = tunnel.ike_up {
        write!(f, " up in frame {}", up.frame)?;
    }
    write!(
        f,
        ", ESP {} packet(s) ({} decrypted) from frame {}",
        tunnel.esp.packets,
        tunnel.esp_decrypted,
        frame(tunnel.esp_first)
    )?;
    if let Some(first) = tunnel.first_direct {
        write!(f, ", first direct data in frame {}", first.frame)?;
    }
    if !tunnel.removals.is_empty() {
        write!(
            f,
            ", {} install(s), {} removal(s)",
            tunnel.installs.len(),
            tunnel.removals.len()
        )?;
    }
    writeln!(f)
}

fn flow_text(flow: &InnerFlow, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "  flow {} -> {}: {}; {} to hub, {} from hub, {} direct",
        flow.src,
        flow.dst,
        flow.path(),
        flow.to_hub.packets,
        flow.from_hub.packets,
        flow.direct.packets
    )?;
    if let Some(switched) = flow.switched {
        write!(f, "; went direct in frame {}", switched.frame)?;
    }
    if let Some(redirect) = flow.redirect {
        write!(f, "; redirected in frame {}", redirect.frame)?;
    }
    writeln!(f)
}

/// `key: [...]`, one object per item, written by `write`.
fn list<T>(o: &mut Object<'_>, key: &str, items: &[T], write: impl Fn(&mut Object<'_>, &T)) {
    let mut array = o.array(key);
    for item in items {
        let mut e = array.object();
        write(&mut e, item);
        e.end();
    }
    array.end();
}

/// `"spoke_to_spoke": {…}`.
pub(super) fn json(s2s: &SpokeToSpoke, root: &mut Object<'_>, start: Timestamp) {
    let mut o = root.object("spoke_to_spoke");
    let mut spokes = o.array("spokes");
    for spoke in &s2s.spokes {
        spokes.display(spoke);
    }
    spokes.end();
    o.u64("dropped", s2s.dropped);
    list(&mut o, "redirects", &s2s.redirects, |e, r| {
        seen_json(e, "seen", r.seen, start);
        e.display("hub", &r.hub);
        e.display("spoke", &r.spoke);
        e.u64("code", u64::from(r.code));
        if let Some(flow) = r.flow {
            e.display("src", &flow.src);
            e.display("dst", &flow.dst);
            e.u64("protocol", u64::from(flow.protocol));
        }
        if let Some(frame) = r.resolution.and_then(|i| s2s.resolutions.get(i)) {
            e.u64("resolution_frame", frame.request.frame);
        }
    });
    list(&mut o, "resolutions", &s2s.resolutions, |e, r| {
        resolution_json(e, r, start);
    });
    list(&mut o, "purges", &s2s.purges, |e, p| {
        seen_json(e, "seen", p.seen, start);
        e.display("from", &p.from);
        e.display("to", &p.to);
        e.bool("reply", p.reply);
        e.u64("request_id", u64::from(p.request_id));
        let mut nets = e.array("prefixes");
        p.prefixes.iter().for_each(|&n| nets.display(&Net(n)));
        nets.end();
    });
    list(&mut o, "tunnels", &s2s.tunnels, |e, t| {
        tunnel_json(e, t, s2s, start);
    });
    list(&mut o, "flows", &s2s.flows, |e, flow| {
        e.display("src", &flow.src);
        e.display("dst", &flow.dst);
        e.str("path", flow.path());
        e.bool("hairpinned", flow.hairpinned());
        for (key, leg) in [
            ("to_hub", flow.to_hub),
            ("from_hub", flow.from_hub),
            ("direct", flow.direct),
        ] {
            leg_json(e, key, leg, start);
        }
        if let Some(spoke) = flow.via.0 {
            e.display("entry_spoke", &spoke);
        }
        if let Some(spoke) = flow.via.1 {
            e.display("exit_spoke", &spoke);
        }
        for (key, seen) in [("switched", flow.switched), ("redirect", flow.redirect)] {
            if let Some(seen) = seen {
                seen_json(e, key, seen, start);
            }
        }
    });
    o.end();
}

fn resolution_json(e: &mut Object<'_>, r: &crate::session::Resolution, start: Timestamp) {
    e.display("requester", &r.requester);
    if let Some(nbma) = r.requester_nbma {
        e.display("requester_nbma", &nbma);
    }
    e.display("origin", &r.origin);
    e.display("target", &r.target);
    e.u64("request_id", u64::from(r.request_id));
    seen_json(e, "request", r.request, start);
    let mut frames = e.array("request_frames");
    r.request_frames.iter().for_each(|&f| frames.u64(f));
    frames.end();
    if let Some(to) = r.forwarded_to {
        e.display("forwarded_to", &to);
    }
    if let Some(answer) = &r.answer {
        let mut a = e.object("answer");
        seen_json(&mut a, "seen", answer.seen, start);
        a.display("from", &answer.from);
        a.bool("direct", answer.direct);
        a.u64("code", u64::from(answer.code));
        a.str("code_name", answer.code_name);
        if let Some(prefix) = answer.prefix {
            a.display("prefix", &Net(prefix));
        }
        a.u64("holding_time", u64::from(answer.holding_time));
        for (key, addr) in [("nbma", answer.nbma), ("tunnel", answer.tunnel)] {
            if let Some(addr) = addr {
                a.display(key, &addr);
            }
        }
        a.end();
    }
    if let Some((seen, code, name)) = r.error {
        let mut x = e.object("error");
        seen_json(&mut x, "seen", seen, start);
        x.u64("code", u64::from(code));
        x.str("code_name", name);
        x.end();
    }
}

fn tunnel_json(e: &mut Object<'_>, t: &DirectTunnel, s2s: &SpokeToSpoke, start: Timestamp) {
    e.display("a", &t.a);
    e.display("b", &t.b);
    e.bool("up", t.is_up());
    e.bool("ike_failed", t.ike_failed);
    let mut frames = e.array("resolution_frames");
    t.resolutions
        .iter()
        .filter_map(|&i| s2s.resolutions.get(i))
        .for_each(|r| frames.u64(r.request.frame));
    frames.end();
    e.u64("ike_sas", t.ike_sas as u64);
    let optional = [
        ("ike_first", t.ike_first),
        ("ike_up", t.ike_up),
        ("esp_first", t.esp_first),
        ("first_direct", t.first_direct),
    ];
    for (key, seen) in optional {
        if let Some(seen) = seen {
            seen_json(e, key, seen, start);
        }
    }
    e.u64("esp_packets", t.esp.packets);
    e.u64("esp_bytes", t.esp.bytes);
    e.u64("esp_decrypted", t.esp_decrypted);
    let mut frames = e.array("installs");
    t.installs.iter().for_each(|&f| frames.u64(f));
    frames.end();
    list(e, "removals", &t.removals, |r, &(frame, why)| {
        r.u64("frame", frame);
        r.str("why", why);
    });
    e.u64("reinstalls", t.reinstalls() as u64);
}

fn leg_json(obj: &mut Object<'_>, key: &str, leg: Leg, start: Timestamp) {
    let mut o = obj.object(key);
    o.u64("packets", leg.packets);
    if let Some(first) = leg.first {
        seen_json(&mut o, "first", first, start);
    }
    if let Some(last) = leg.last {
        seen_json(&mut o, "last", last, start);
    }
    o.end();
}
