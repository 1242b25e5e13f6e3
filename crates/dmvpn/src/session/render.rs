//! The report as a readable per-peer text and as one JSON object.
//!
//! Times are shown relative to the capture's earliest frame (`+2.252s`, never negative, also when
//! the timestamps are out of order), with the frame number. JSON gives both: the offset `t` in
//! seconds (a number) and the instant `time` (RFC 3339 UTC), as [`crate::json`] describes; the
//! object follows `schemas/sessions.schema.json`.

use std::fmt::{self, Write as _};

use crate::capture::Timestamp;
use crate::json::Object;

use super::diagnose::Cookie;
use super::{
    ChildSa, EigrpSide, IkeSa, MAX_IKE_SAS, MAX_IKE_SAS_PER_PAIR, MAX_SPIS, MAX_SPIS_PER_PAIR,
    NhrpKind, Overflow, PeerPair, PskPeer, Report, Seen,
};

mod shortcuts;

/// At most this many SPIs are listed where a Quick Mode's own are unknown.
const MAX_LISTED_SPIS: usize = 8;

/// What went over the caps, in words (empty when nothing did).
fn overflow_text(overflow: &Overflow) -> String {
    let mut parts = Vec::new();
    if overflow.esp.packets > 0 {
        parts.push(format!(
            "{} ESP packet(s), {} bytes, of SPIs beyond the {MAX_SPIS_PER_PAIR} per pair / \
             {MAX_SPIS} in all itemised",
            overflow.esp.packets, overflow.esp.bytes
        ));
    }
    if overflow.ike_messages > 0 {
        parts.push(format!(
            "{} ISAKMP message(s) of IKE SAs beyond the {MAX_IKE_SAS_PER_PAIR} per pair / \
             {MAX_IKE_SAS} in all kept",
            overflow.ike_messages
        ));
    }
    parts.join("; ")
}

/// The pair's Quick Modes that are not rekeys, beyond the first: parallel negotiations.
fn parallel(sa: &IkeSa) -> usize {
    sa.phase2
        .iter()
        .filter(|c| !c.rekey)
        .count()
        .saturating_sub(1)
}

/// The SPIs of a Quick Mode (`SPIs 0x… 0x…`), or why they are unknown.
fn child_spis(child: &ChildSa, pair: &PeerPair) -> String {
    if !child.spis.is_empty() {
        let spis: Vec<String> = child.spis.iter().map(|s| format!("{s:#010x}")).collect();
        return format!("SPIs {}", spis.join(" "));
    }
    // Not in the Quick Mode (no SA payload read): the ESP SPIs seen on the pair instead.
    let mut seen: Vec<String> = pair
        .esp
        .iter()
        .take(MAX_LISTED_SPIS)
        .map(|f| format!("{:#010x}", f.spi))
        .collect();
    if pair.esp.len() > MAX_LISTED_SPIS {
        seen.push(format!("and {} more", pair.esp.len() - MAX_LISTED_SPIS));
    }
    let why = if child.undecrypted > 0 {
        "encrypted, SPIs unknown without IKE keys"
    } else {
        "SPIs not in QM"
    };
    match (seen.is_empty(), child.undecrypted > 0) {
        (true, true) => why.to_owned(),
        (true, false) => "SPIs unknown".to_owned(),
        (false, _) => format!("{why}; ESP seen {}", seen.join(" ")),
    }
}

/// Seconds since the capture started, to the millisecond.
pub(super) struct Rel(pub(super) Timestamp, pub(super) Timestamp);

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0.saturating_duration_since(self.1);
        write!(f, "+{}.{:03}s", d.as_secs(), d.subsec_millis())
    }
}

impl fmt::Display for NhrpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&kind_text(self))
    }
}

fn kind_text(kind: &NhrpKind) -> String {
    match kind {
        NhrpKind::RegistrationRequest {
            request_id,
            hold_time,
            unique,
            refresh,
        } => format!(
            "Registration Request id={request_id} hold={hold_time}s{}{}",
            if *unique { " unique" } else { "" },
            if *refresh { " (refresh)" } else { "" }
        ),
        NhrpKind::RegistrationReply {
            request_id,
            code,
            code_name,
            hold_time,
        } => format!(
            "Registration Reply id={request_id} code={code_name} ({code}) hold={hold_time}s"
        ),
        NhrpKind::ResolutionRequest { request_id } => {
            format!("Resolution Request id={request_id}")
        }
        NhrpKind::ResolutionReply { request_id, code } => {
            format!("Resolution Reply id={request_id} code={code}")
        }
        NhrpKind::PurgeRequest { request_id } => format!("Purge Request id={request_id}"),
        NhrpKind::PurgeReply { request_id } => format!("Purge Reply id={request_id}"),
        NhrpKind::ErrorIndication { code, code_name } => {
            format!("Error Indication {code_name} ({code})")
        }
        NhrpKind::TrafficIndication => "Traffic Indication".to_owned(),
    }
}

/// The text report.
pub(super) fn text(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let start = report.start.unwrap_or_default();
    let duration = report
        .end
        .unwrap_or_default()
        .saturating_duration_since(start);
    writeln!(
        f,
        "{} frames over {:.3} s, {} peer pair(s), {} finding(s)",
        report.frames,
        duration.as_secs_f64(),
        report.peers.len(),
        report.findings.len()
    )?;
    if report.out_of_order > 0 {
        writeln!(
            f,
            "(timestamps out of order: {} frame(s) earlier than the frame before; times are from \
             the earliest frame, NHRP timelines sorted by time)",
            report.out_of_order
        )?;
    }
    if !report.overflow.is_empty() {
        writeln!(
            f,
            "(not itemised, over the caps: {})",
            overflow_text(&report.overflow)
        )?;
    }
    if report.unpaired_frames > 0 {
        writeln!(
            f,
            "({} frames of further pairs not recorded: too many peers)",
            report.unpaired_frames
        )?;
    }
    for pair in &report.peers {
        writeln!(f)?;
        peer_text(pair, start, report.end, f)?;
    }
    shortcuts::text(&report.spoke_to_spoke, start, f)?;
    writeln!(f)?;
    if report.findings.is_empty() {
        writeln!(f, "Findings: none")?;
    } else {
        writeln!(f, "Findings:")?;
    }
    for finding in &report.findings {
        let frames: Vec<String> = finding.frames.iter().map(u64::to_string).collect();
        writeln!(
            f,
            "  [{}] {}: {} (frames {})",
            finding.severity.name(),
            finding.rule,
            finding.message,
            frames.join(", ")
        )?;
    }
    Ok(())
}

fn peer_text(
    pair: &PeerPair,
    start: Timestamp,
    end: Option<Timestamp>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let role = if pair.a_is_hub { "hub" } else { "peer" };
    let other = match (pair.a_is_hub, pair.b.is_multicast()) {
        (_, true) => "group",
        (true, false) => "spoke",
        (false, false) => "peer",
    };
    writeln!(
        f,
        "== {role} {} <-> {other} {}: {} frames, frames {}-{} ({} to {})",
        pair.a,
        pair.b,
        pair.frames,
        pair.first.frame,
        pair.last.frame,
        Rel(pair.earliest, start),
        Rel(pair.latest, start)
    )?;
    if !pair.overflow.is_empty() {
        writeln!(
            f,
            "  not itemised, over the caps: {}",
            overflow_text(&pair.overflow)
        )?;
    }
    for (tunnel, nbma) in &pair.tunnel {
        writeln!(f, "  tunnel {tunnel} is at NBMA {nbma} (NHRP)")?;
    }
    let nhrp = &pair.nhrp;
    if !nhrp.events.is_empty() {
        write!(
            f,
            "  NHRP: {} registration request(s), {} refresh(es), {} success(es), {} refused",
            nhrp.requests, nhrp.refreshes, nhrp.successes, nhrp.refusals
        )?;
        if let Some(expiry) = nhrp.expiry() {
            let state = if end.is_some_and(|end| end > expiry) {
                "expired"
            } else {
                "expires"
            };
            write!(f, "; {state} at {}", Rel(expiry, start))?;
        }
        writeln!(f)?;
        for event in &nhrp.events {
            writeln!(
                f,
                "    {:>5} {} {} {}",
                event.seen.frame,
                Rel(event.seen.time, start),
                event.from,
                kind_text(&event.kind)
            )?;
        }
    }
    for sa in &pair.ike {
        write!(
            f,
            "  IKE SA i={} r={} {}",
            Cookie(&sa.icookie),
            Cookie(&sa.rcookie),
            sa.exchange.unwrap_or("(phase 1 not seen)")
        )?;
        if let Some(initiator) = sa.initiator {
            write!(f, " initiator {initiator}")?;
        }
        write!(
            f,
            ", {} message(s), frames {}-{}",
            sa.messages, sa.first.frame, sa.last.frame
        )?;
        match sa.established {
            Some(up) => writeln!(f, ", up at {} (frame {})", Rel(up.time, start), up.frame)?,
            None => writeln!(f, ", not seen to complete")?,
        }
        if let Some(proposal) = &sa.proposal {
            let state = if sa.proposal_accepted {
                "accepted"
            } else {
                "offered"
            };
            write!(f, "    policy {state}: {proposal}")?;
            if let Some(life) = sa.lifetime {
                write!(f, ", lifetime {life} s")?;
            }
            writeln!(f)?;
        }
        if let Some(check) = &sa.psk {
            writeln!(f, "    {check}")?;
        }
        if sa.dpd || sa.dpd_messages > 0 {
            writeln!(
                f,
                "    DPD: {}, {} R-U-THERE/ACK message(s)",
                if sa.dpd { "supported" } else { "not announced" },
                sa.dpd_messages
            )?;
        }
        for (seen, name) in &sa.notifications {
            writeln!(f, "    notification {name} in frame {}", seen.frame)?;
        }
        for (seen, protocol, spis) in &sa.deletes {
            let spis: Vec<String> = spis.iter().map(|s| format!("{s:#010x}")).collect();
            writeln!(
                f,
                "    delete {protocol} {} in frame {}",
                spis.join(" "),
                seen.frame
            )?;
        }
        let rekeys = sa.phase2.iter().filter(|c| c.rekey).count();
        if rekeys > 0 {
            writeln!(
                f,
                "    {rekeys} phase 2 rekey(s) (Quick Modes started after an earlier one completed)"
            )?;
        }
        let parallel = parallel(sa);
        if parallel > 0 {
            writeln!(
                f,
                "    {} Quick Modes negotiated in parallel (not rekeys)",
                parallel + 1
            )?;
        }
        for child in &sa.phase2 {
            write!(
                f,
                "    phase 2 (Quick Mode {:#010x}, frame {}{}): {}",
                child.message_id,
                child.first.frame,
                match (child.rekey, child.completed) {
                    (true, _) => ", rekey".to_owned(),
                    (false, Some(done)) => format!(", completed in frame {}", done.frame),
                    (false, None) => String::new(),
                },
                child_spis(child, pair)
            )?;
            if let Some(transform) = &child.transform {
                write!(f, ", {transform}")?;
            }
            if let Some(mode) = child.mode {
                write!(f, ", mode {mode}")?;
            }
            if let Some(life) = child.lifetime {
                write!(f, ", lifetime {life} s")?;
            }
            writeln!(f)?;
        }
        if sa.undecrypted > 0 {
            writeln!(
                f,
                "    {} encrypted message(s) not read (no key)",
                sa.undecrypted
            )?;
        }
    }
    super::ikev2::text(pair, start, f)?;
    for flow in &pair.esp {
        let (src, dst) = (
            flow.src.map(|a| a.to_string()),
            flow.dst.map(|a| a.to_string()),
        );
        let [packets, bytes, decrypted, no_key, icv_failed, replays] = flow.counts().map(|c| c.1);
        writeln!(
            f,
            "  ESP {} -> {} SPI {:#010x}{}: {packets} packets, {bytes} bytes, {decrypted} decrypted, \
             {no_key} no key, {icv_failed} ICV failed, {replays} replayed, seq {}-{}, {} missing",
            src.unwrap_or_default(),
            dst.unwrap_or_default(),
            flow.spi,
            if flow.negotiated { " (negotiated)" } else { "" },
            flow.min_seq,
            flow.max_seq,
            flow.sequence_gaps()
        )?;
        if flow.seq_unknown > 0 {
            writeln!(
                f,
                "    {} packet(s) cut by the snapshot length before the sequence number",
                flow.seq_unknown
            )?;
        }
    }
    for (addr, side) in [pair.a, pair.b].iter().zip(&pair.eigrp) {
        eigrp_text(*addr, side, start, f)?;
    }
    if !pair.inner.is_empty() {
        let parts: Vec<String> = pair
            .inner
            .iter()
            .map(|(name, c)| format!("{name} {}/{}B", c.packets, c.bytes))
            .collect();
        writeln!(f, "  inside the tunnel: {}", parts.join(", "))?;
    }
    Ok(())
}

fn eigrp_text(
    addr: std::net::IpAddr,
    side: &EigrpSide,
    start: Timestamp,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    if side.hellos == 0 && side.routes.is_empty() && side.goodbyes == 0 {
        return Ok(());
    }
    write!(f, "  EIGRP from {addr}")?;
    if let Some(router) = side.router {
        write!(f, " ({router})")?;
    }
    if let Some(asn) = side.autonomous_system {
        write!(f, " AS {asn}")?;
    }
    if let Some(k) = side.k {
        let k: Vec<String> = k.iter().map(u8::to_string).collect();
        write!(f, " K {}", k.join("/"))?;
    }
    if let Some(hold) = side.hold_time {
        write!(f, " hold {hold}s")?;
    }
    write!(f, ", {} hello(s)", side.hellos)?;
    if let (Some(first), Some(last)) = (side.first_hello, side.last_hello) {
        write!(
            f,
            " {} (frame {}) to {} (frame {})",
            Rel(first.time, start),
            first.frame,
            Rel(last.time, start),
            last.frame
        )?;
    }
    if side.goodbyes > 0 {
        write!(f, ", {} goodbye(s)", side.goodbyes)?;
    }
    for (before, after) in &side.downs {
        write!(f, ", down between frames {before} and {after}")?;
    }
    writeln!(f)?;
    if !side.routes.is_empty() {
        let routes: Vec<String> = side
            .routes
            .iter()
            .map(|(prefix, len)| format!("{prefix}/{len}"))
            .collect();
        writeln!(f, "    advertises {}", routes.join(" "))?;
    }
    Ok(())
}

/// A pre-shared key check (IKEv1's HASH_I or an IKEv2 AUTH payload) as its JSON shows it.
pub(super) enum PskJson<'a> {
    /// The message in the frame verified with the key for the peer.
    Verified(&'a PskPeer, u64),
    /// The message in the frame verified with none of the keys tried.
    Mismatch(u64, usize),
    /// Not checked, for the reason given.
    Unchecked(&'static str),
}

impl PskJson<'_> {
    /// Writes `result` and what goes with it, the checked message's frame as `frame_key`.
    pub(super) fn write(self, c: &mut Object<'_>, frame_key: &str) {
        match self {
            Self::Verified(peer, frame) => {
                c.str("result", "verified");
                c.display("key_for", peer);
                c.u64(frame_key, frame);
            }
            Self::Mismatch(frame, tried) => {
                c.str("result", "mismatch");
                c.u64(frame_key, frame);
                c.u64("keys_tried", tried as u64);
            }
            Self::Unchecked(why) => {
                c.str("result", "unchecked");
                c.str("reason", why);
            }
        }
    }
}

pub(super) fn seen_json(obj: &mut Object<'_>, key: &str, seen: Seen, start: Timestamp) {
    let mut o = obj.object(key);
    o.u64("frame", seen.frame);
    o.timestamp("time", seen.time);
    o.seconds("t", seen.time.saturating_duration_since(start));
    o.end();
}

/// The JSON report: `{"frames":…, "peers":[…], "findings":[…]}`.
pub(super) fn json(report: &Report, out: &mut Vec<u8>) {
    let start = report.start.unwrap_or_default();
    let mut root = Object::begin(out);
    root.schema_version();
    root.u64("frames", report.frames);
    root.u64("unpaired_frames", report.unpaired_frames);
    if let (Some(s), Some(e)) = (report.start, report.end) {
        root.timestamp("start", s);
        root.timestamp("end", e);
        root.seconds("duration", e.saturating_duration_since(s));
    }
    root.u64("out_of_order", report.out_of_order);
    overflow_json(&mut root, &report.overflow);
    let mut peers = root.array("peers");
    for pair in &report.peers {
        let mut p = peers.object();
        p.display("a", &pair.a);
        p.display("b", &pair.b);
        p.bool("a_is_hub", pair.a_is_hub);
        p.u64("frames", pair.frames);
        seen_json(&mut p, "first", pair.first, start);
        seen_json(&mut p, "last", pair.last, start);
        p.seconds("earliest", pair.earliest.saturating_duration_since(start));
        p.seconds("latest", pair.latest.saturating_duration_since(start));
        overflow_json(&mut p, &pair.overflow);
        let mut tunnel = p.array("tunnel");
        for (proto, nbma) in &pair.tunnel {
            let mut t = tunnel.object();
            t.display("tunnel", proto);
            t.display("nbma", nbma);
            t.end();
        }
        tunnel.end();
        nhrp_json(pair, &mut p, start);
        ike_json(pair, &mut p, start);
        super::ikev2::json(pair, &mut p, start);
        let mut esp = p.array("esp");
        for flow in &pair.esp {
            let mut o = esp.object();
            if let Some(src) = flow.src {
                o.display("src", &src);
            }
            if let Some(dst) = flow.dst {
                o.display("dst", &dst);
            }
            o.hex_u32("spi", flow.spi);
            o.bool("negotiated", flow.negotiated);
            for (name, count) in flow.counts() {
                o.u64(name, count);
            }
            o.u64("min_seq", u64::from(flow.min_seq));
            o.u64("max_seq", u64::from(flow.max_seq));
            o.u64("sequence_gaps", flow.sequence_gaps());
            o.u64("seq_unknown", flow.seq_unknown);
            seen_json(&mut o, "first", flow.first, start);
            seen_json(&mut o, "last", flow.last, start);
            o.end();
        }
        esp.end();
        let mut eigrp = p.array("eigrp");
        for (addr, side) in [pair.a, pair.b].iter().zip(&pair.eigrp) {
            let mut o = eigrp.object();
            o.display("from", addr);
            if let Some(router) = side.router {
                o.display("router", &router);
            }
            o.opt_u64("as", side.autonomous_system);
            if let Some(k) = side.k {
                let mut array = o.array("k");
                for value in k {
                    array.u64(u64::from(value));
                }
                array.end();
            }
            o.opt_u64("hold_time", side.hold_time);
            o.u64("hellos", side.hellos);
            o.u64("goodbyes", side.goodbyes);
            let mut downs = o.array("downs");
            for (before, after) in &side.downs {
                let mut d = downs.object();
                d.u64("frame_before", *before);
                d.u64("frame_after", *after);
                d.end();
            }
            downs.end();
            if let Some(first) = side.first_hello {
                seen_json(&mut o, "first_hello", first, start);
            }
            if let Some(last) = side.last_hello {
                seen_json(&mut o, "last_hello", last, start);
            }
            let mut routes = o.array("routes");
            for (prefix, len) in &side.routes {
                routes.display(&format_args!("{prefix}/{len}"));
            }
            routes.end();
            o.end();
        }
        eigrp.end();
        let mut inner = p.object("inner");
        for (name, counter) in &pair.inner {
            let mut o = inner.object(name);
            o.u64("packets", counter.packets);
            o.u64("bytes", counter.bytes);
            o.end();
        }
        inner.end();
        p.end();
    }
    peers.end();
    shortcuts::json(&report.spoke_to_spoke, &mut root, start);
    let mut findings = root.array("findings");
    for finding in &report.findings {
        let mut o = findings.object();
        o.str("rule", finding.rule.id());
        o.str("severity", finding.severity.name());
        if let Some((a, b)) = finding.peers {
            o.display("a", &a);
            o.display("b", &b);
        }
        o.str("message", &finding.message);
        let mut frames = o.array("frames");
        for frame in &finding.frames {
            frames.u64(*frame);
        }
        frames.end();
        o.end();
    }
    findings.end();
    root.end();
}

/// `"overflow": {…}` with the caps and what went over them.
fn overflow_json(obj: &mut Object<'_>, overflow: &Overflow) {
    let mut o = obj.object("overflow");
    o.u64("esp_packets", overflow.esp.packets);
    o.u64("esp_bytes", overflow.esp.bytes);
    o.u64("ike_messages", overflow.ike_messages);
    o.u64("max_spis_per_pair", MAX_SPIS_PER_PAIR as u64);
    o.u64("max_spis", MAX_SPIS as u64);
    o.u64("max_ike_sas_per_pair", MAX_IKE_SAS_PER_PAIR as u64);
    o.u64("max_ike_sas", MAX_IKE_SAS as u64);
    o.end();
}

fn nhrp_json(pair: &PeerPair, p: &mut Object<'_>, start: Timestamp) {
    let nhrp = &pair.nhrp;
    let mut o = p.object("nhrp");
    o.u64("requests", nhrp.requests);
    o.u64("refreshes", nhrp.refreshes);
    o.u64("successes", nhrp.successes);
    o.u64("refusals", nhrp.refusals);
    if let Some(expiry) = nhrp.expiry() {
        o.timestamp("expiry", expiry);
    }
    let mut events = o.array("events");
    for event in &nhrp.events {
        let mut e = events.object();
        e.u64("frame", event.seen.frame);
        e.timestamp("time", event.seen.time);
        e.seconds("t", event.seen.time.saturating_duration_since(start));
        e.display("from", &event.from);
        let fields = event.kind.fields();
        e.str("type", fields.kind);
        if let Some(request_id) = fields.request_id {
            e.u64("request_id", u64::from(request_id));
        }
        if let Some(code) = fields.code {
            e.u64("code", u64::from(code));
        }
        if let Some(code_name) = fields.code_name {
            e.str("code_name", code_name);
        }
        if let Some(hold_time) = fields.hold_time {
            e.u64("hold_time", u64::from(hold_time));
        }
        for (name, flag) in [("unique", fields.unique), ("refresh", fields.refresh)] {
            if let Some(flag) = flag {
                e.bool(name, flag);
            }
        }
        e.end();
    }
    events.end();
    o.end();
}

fn ike_json(pair: &PeerPair, p: &mut Object<'_>, start: Timestamp) {
    let mut ike = p.array("ike");
    for sa in &pair.ike {
        let mut o = ike.object();
        o.hex("icookie", &sa.icookie);
        o.hex("rcookie", &sa.rcookie);
        if let Some(exchange) = sa.exchange {
            o.str("exchange", exchange);
        }
        if let Some(initiator) = sa.initiator {
            o.display("initiator", &initiator);
        }
        if let Some(proposal) = &sa.proposal {
            o.str("proposal", proposal);
            o.bool("proposal_accepted", sa.proposal_accepted);
        }
        o.opt_u64("lifetime", sa.lifetime);
        o.u64("messages", sa.messages);
        seen_json(&mut o, "first", sa.first, start);
        seen_json(&mut o, "last", sa.last, start);
        o.bool("dpd", sa.dpd);
        o.u64("dpd_messages", sa.dpd_messages);
        o.u64("undecrypted", sa.undecrypted);
        if let Some(check) = &sa.psk {
            let mut c = o.object("psk");
            let (result, hash_r) = match check {
                super::PskCheck::Verified {
                    peer,
                    hash_i_frame,
                    hash_r,
                } => (PskJson::Verified(peer, *hash_i_frame), *hash_r),
                super::PskCheck::Mismatch {
                    hash_i_frame,
                    tried,
                } => (PskJson::Mismatch(*hash_i_frame, *tried), None),
                super::PskCheck::Unchecked(why) => (PskJson::Unchecked(why), None),
            };
            result.write(&mut c, "hash_i_frame");
            if let Some((frame, ok)) = hash_r {
                c.u64("hash_r_frame", frame);
                c.bool("hash_r_verified", ok);
            }
            c.end();
        }
        if let Some(up) = sa.established {
            seen_json(&mut o, "established", up, start);
        }
        o.u64(
            "rekeys",
            sa.phase2.iter().filter(|c| c.rekey).count() as u64,
        );
        o.u64("parallel", parallel(sa) as u64);
        let mut notes = o.array("notifications");
        for (seen, name) in &sa.notifications {
            let mut n = notes.object();
            n.u64("frame", seen.frame);
            n.str("type", name);
            n.end();
        }
        notes.end();
        let mut deletes = o.array("deletes");
        for (seen, protocol, spis) in &sa.deletes {
            let mut d = deletes.object();
            d.u64("frame", seen.frame);
            d.str("protocol", protocol);
            let mut list = d.array("spis");
            for spi in spis {
                let mut s = String::new();
                let _ = write!(s, "{spi:#010x}");
                list.display(&s);
            }
            list.end();
            d.end();
        }
        deletes.end();
        let mut phase2 = o.array("phase2");
        for child in &sa.phase2 {
            let mut c = phase2.object();
            c.hex_u32("message_id", child.message_id);
            c.u64("frame", child.first.frame);
            c.u64("messages", child.messages);
            c.u64("undecrypted", child.undecrypted);
            if let Some(done) = child.completed {
                c.u64("completed_frame", done.frame);
            }
            c.bool("rekey", child.rekey);
            if child.spis.is_empty() && child.undecrypted > 0 {
                c.str("spis_unknown", "encrypted, SPIs unknown without IKE keys");
            }
            let mut spis = c.array("spis");
            for spi in &child.spis {
                spis.display(&format_args!("{spi:#010x}"));
            }
            spis.end();
            if let Some(transform) = &child.transform {
                c.str("transform", transform);
            }
            if let Some(mode) = child.mode {
                c.str("mode", mode);
            }
            c.opt_u64("lifetime", child.lifetime);
            c.end();
        }
        phase2.end();
        o.end();
    }
    ike.end();
}
