//! The IKEv2 SAs of a pair as text and as JSON (`peers[].ikev2` in `schemas/sessions.schema.json`).

use std::fmt;

use crate::capture::Timestamp;
use crate::json::Object;

use super::super::diagnose::Cookie;
use super::super::render::{PskJson, Rel, seen_json};
use super::super::{EspFlow, PeerPair};
use super::{Ikev2Child, Ikev2Exchange, Ikev2Sa};

/// `0x0000abcd` SPIs, space-separated.
fn spi_list(spis: &[u32]) -> String {
    let spis: Vec<String> = spis.iter().map(|s| format!("{s:#010x}")).collect();
    spis.join(" ")
}

/// A side of the IKE SA by its index: 0 the initiator, 1 the responder.
const SIDES: [&str; 2] = ["initiator", "responder"];

/// The ESP packets seen with each of the child's SPIs.
fn child_esp<'a>(child: &'a Ikev2Child, esp: &'a [EspFlow]) -> impl Iterator<Item = String> + 'a {
    child.spis.iter().map(move |spi| {
        let packets: u64 = esp
            .iter()
            .filter(|f| f.spi == *spi)
            .map(|f| f.packets.packets)
            .sum();
        format!("{spi:#010x} {packets} packet(s)")
    })
}

fn exchange_text(e: &Ikev2Exchange, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "    {} MID {} from {}",
        e.exchange,
        e.message_id,
        SIDES[usize::from(!e.from_initiator)]
    )?;
    if let Some(kind) = e.kind {
        write!(f, " ({kind})")?;
    }
    match e.request {
        Some(request) => write!(f, ": request frame {}", request.frame)?,
        None => f.write_str(": request not captured")?,
    }
    if e.requests > 1 {
        write!(f, ", {} retransmission(s)", e.requests - 1)?;
    }
    match e.response {
        Some(response) => write!(f, ", response frame {}", response.frame)?,
        None => f.write_str(", no response")?,
    }
    let details = [
        e.error.as_ref().map(|error| format!("error {error}")),
        e.rekey_spi.map(|spi| format!("rekeys {spi:#010x}")),
        e.undecrypted.then(|| "not decrypted".to_owned()),
    ];
    for detail in details.into_iter().flatten() {
        write!(f, ", {detail}")?;
    }
    writeln!(f)
}

fn child_text(child: &Ikev2Child, pair: &PeerPair, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "    Child SA ({} MID {}, frame {}",
        child.exchange, child.message_id, child.first.frame
    )?;
    if let Some(done) = child.completed {
        write!(f, ", up in frame {}", done.frame)?;
    }
    write!(f, "): SPIs {}", spi_list(&child.spis))?;
    let details = [
        child.transform.clone(),
        child.pfs.map(|group| format!("pfs group {group}")),
        child.mode.map(|mode| format!("mode {mode}")),
        child.rekey_of.map(|spi| format!("rekey of {spi:#010x}")),
        child.refused.as_ref().map(|why| format!("refused: {why}")),
        child
            .deleted
            .map(|seen| format!("deleted in frame {}", seen.frame)),
    ];
    for detail in details.into_iter().flatten() {
        write!(f, ", {detail}")?;
    }
    let esp: Vec<String> = child_esp(child, &pair.esp).collect();
    if !esp.is_empty() {
        write!(f, "; ESP {}", esp.join(", "))?;
    }
    writeln!(f)
}

/// The pair's IKEv2 SAs as text.
pub(in crate::session) fn text(
    pair: &PeerPair,
    start: Timestamp,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    for sa in &pair.ikev2 {
        let initiator = sa
            .initiator
            .map_or_else(String::new, |addr| format!(" initiator {addr}"));
        let state = sa.established.map_or_else(
            || "not seen to complete".to_owned(),
            |up| format!("up at {} (frame {})", Rel(up.time, start), up.frame),
        );
        writeln!(
            f,
            "  IKEv2 SA i={} r={}{initiator}, {} message(s), frames {}-{}, {state}",
            Cookie(&sa.spi_i),
            Cookie(&sa.spi_r),
            sa.messages,
            sa.first.frame,
            sa.last.frame
        )?;
        if let Some(proposal) = &sa.proposal {
            let auth = sa
                .auth_method
                .as_ref()
                .map_or_else(String::new, |auth| format!(", authentication {auth}"));
            let chosen = ["offered", "accepted"][usize::from(sa.proposal_accepted)];
            writeln!(f, "    proposal {chosen}: {proposal}{auth}")?;
        }
        for (side, check) in SIDES.iter().zip(&sa.psk) {
            if let Some(check) = check {
                writeln!(f, "    {side}'s {check}")?;
            }
        }
        for (side, nat) in SIDES.iter().zip(sa.nat) {
            match nat {
                Some(true) => writeln!(f, "    NAT: the {side}'s address is translated")?,
                Some(false) => writeln!(f, "    NAT: the {side}'s address is not translated")?,
                None => {}
            }
        }
        for answer in &sa.invalid_ke {
            write!(f, "    INVALID_KE_PAYLOAD in frame {}", answer.frame)?;
            if let Some(offered) = answer.offered {
                write!(f, ": group {offered} offered")?;
            }
            if let Some(asked) = answer.asked {
                write!(f, ", group {asked} asked for")?;
            }
            match answer.retried {
                Some(frame) => writeln!(f, ", retried in frame {frame}")?,
                None => writeln!(f, ", no retry seen")?,
            }
        }
        for e in &sa.exchanges {
            exchange_text(e, f)?;
        }
        for child in &sa.children {
            child_text(child, pair, f)?;
        }
        let counts = [
            (sa.count("dpd"), "DPD exchange(s)"),
            (sa.count("ike-rekey"), "IKE SA rekey(s)"),
            (sa.count("child-rekey"), "Child SA rekey(s)"),
            (sa.retransmissions() as usize, "retransmitted request(s)"),
        ];
        let counts: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if !counts.is_empty() {
            writeln!(f, "    {}", counts.join(", "))?;
        }
        if let Some((i, r)) = sa.rekeyed_to {
            writeln!(f, "    rekeyed to i={} r={}", Cookie(&i), Cookie(&r))?;
        }
        if let Some(old) = sa.rekeyed_from {
            writeln!(f, "    rekey of i={}", Cookie(&old))?;
        }
        for (a, b) in sa.collisions() {
            writeln!(
                f,
                "    simultaneous rekey: requests in frames {a} and {b} (RFC 7296 §2.8.1)"
            )?;
        }
        for error in &sa.errors {
            writeln!(
                f,
                "    notification {} in frame {} ({} {} from {})",
                error.ty,
                error.seen.frame,
                error.exchange,
                if error.response {
                    "response"
                } else {
                    "request"
                },
                error.from
            )?;
        }
        for (seen, protocol, spis) in &sa.deletes {
            let spis = if spis.is_empty() {
                String::new()
            } else {
                format!(" {}", spi_list(spis))
            };
            writeln!(f, "    delete {protocol}{spis} in frame {}", seen.frame)?;
        }
        if sa.undecrypted > 0 {
            writeln!(
                f,
                "    {} encrypted message(s) not read (no key in an ikev2_decryption_table)",
                sa.undecrypted
            )?;
        }
    }
    Ok(())
}

fn spis_json(obj: &mut Object<'_>, key: &str, spis: &[u32]) {
    let mut list = obj.array(key);
    for spi in spis {
        list.display(&format_args!("{spi:#010x}"));
    }
    list.end();
}

fn exchange_json(e: &Ikev2Exchange, o: &mut Object<'_>) {
    o.str("exchange", &e.exchange);
    o.u64("message_id", u64::from(e.message_id));
    o.bool("from_initiator", e.from_initiator);
    if let Some(kind) = e.kind {
        o.str("kind", kind);
    }
    let mut frames = o.array("request_frames");
    for frame in &e.request_frames {
        frames.u64(*frame);
    }
    frames.end();
    o.u64("requests", e.requests);
    if let Some(response) = e.response {
        o.u64("response_frame", response.frame);
    }
    if let Some(error) = &e.error {
        o.str("error", error);
    }
    if let Some(spi) = e.rekey_spi {
        o.hex_u32("rekey_spi", spi);
    }
    o.bool("undecrypted", e.undecrypted);
}

fn child_json(child: &Ikev2Child, o: &mut Object<'_>) {
    o.str("exchange", child.exchange);
    o.u64("message_id", u64::from(child.message_id));
    o.bool("from_initiator", child.from_initiator);
    o.u64("frame", child.first.frame);
    if let Some(done) = child.completed {
        o.u64("completed_frame", done.frame);
    }
    spis_json(o, "spis", &child.spis);
    if let Some(transform) = &child.transform {
        o.str("transform", transform);
    }
    o.opt_u64("pfs_group", child.pfs);
    if let Some(mode) = child.mode {
        o.str("mode", mode);
    }
    if let Some(spi) = child.rekey_of {
        o.hex_u32("rekey_of", spi);
    }
    if let Some(refused) = &child.refused {
        o.str("refused", refused);
    }
    if let Some(deleted) = child.deleted {
        o.u64("deleted_frame", deleted.frame);
    }
}

fn sa_json(sa: &Ikev2Sa, o: &mut Object<'_>, start: Timestamp) {
    o.hex("spi_i", &sa.spi_i);
    o.hex("spi_r", &sa.spi_r);
    if let Some(initiator) = sa.initiator {
        o.display("initiator", &initiator);
    }
    o.u64("messages", sa.messages);
    seen_json(o, "first", sa.first, start);
    seen_json(o, "last", sa.last, start);
    if let Some(proposal) = &sa.proposal {
        o.str("proposal", proposal);
        o.bool("proposal_accepted", sa.proposal_accepted);
    }
    if let Some(auth) = &sa.auth_method {
        o.str("auth_method", auth);
    }
    if sa.psk.iter().any(Option::is_some) {
        let mut psk = o.object("psk");
        for (side, check) in SIDES.iter().zip(&sa.psk) {
            let Some(check) = check else { continue };
            let mut c = psk.object(side);
            match check {
                super::Ikev2PskCheck::Verified { peer, frame } => PskJson::Verified(peer, *frame),
                super::Ikev2PskCheck::Mismatch { frame, tried } => {
                    PskJson::Mismatch(*frame, *tried)
                }
                super::Ikev2PskCheck::Unchecked(why) => PskJson::Unchecked(why),
            }
            .write(&mut c, "auth_frame");
            c.end();
        }
        psk.end();
    }
    if let Some(up) = sa.established {
        seen_json(o, "established", up, start);
    }
    let mut nat = o.object("nat");
    for (side, value) in SIDES.iter().zip(sa.nat) {
        if let Some(translated) = value {
            nat.bool(side, translated);
        }
    }
    let mut frames = nat.array("frames");
    sa.nat_frames.iter().for_each(|frame| frames.u64(*frame));
    frames.end();
    nat.end();
    o.u64("retransmissions", sa.retransmissions());
    o.u64("dpd", sa.count("dpd") as u64);
    o.u64("ike_rekeys", sa.count("ike-rekey") as u64);
    o.u64("child_rekeys", sa.count("child-rekey") as u64);
    objects(o, "collisions", &sa.collisions(), |&(a, b), c| {
        c.u64("first_frame", a);
        c.u64("second_frame", b);
    });
    if let Some((i, r)) = sa.rekeyed_to {
        let mut to = o.object("rekeyed_to");
        to.hex("spi_i", &i);
        to.hex("spi_r", &r);
        to.end();
    }
    if let Some(old) = sa.rekeyed_from {
        o.hex("rekeyed_from", &old);
    }
    o.u64("undecrypted", sa.undecrypted);
    objects(o, "exchanges", &sa.exchanges, exchange_json);
    objects(o, "children", &sa.children, child_json);
    objects(o, "errors", &sa.errors, |error, e| {
        e.u64("frame", error.seen.frame);
        e.str("type", &error.ty);
        e.str("exchange", &error.exchange);
        e.bool("response", error.response);
        e.display("from", &error.from);
    });
    objects(o, "invalid_ke", &sa.invalid_ke, |answer, k| {
        k.u64("frame", answer.frame);
        k.opt_u64("offered", answer.offered);
        k.opt_u64("asked", answer.asked);
        k.opt_u64("retried_frame", answer.retried);
    });
    objects(o, "deletes", &sa.deletes, |(seen, protocol, spis), d| {
        d.u64("frame", seen.frame);
        d.str("protocol", protocol);
        spis_json(d, "spis", spis);
    });
}

/// The pair's IKEv2 SAs as the JSON array `ikev2`.
pub(in crate::session) fn json(pair: &PeerPair, p: &mut Object<'_>, start: Timestamp) {
    objects(p, "ikev2", &pair.ikev2, |sa, o| sa_json(sa, o, start));
}

/// The array `key` of one object per item, written by `each`.
fn objects<T>(obj: &mut Object<'_>, key: &str, items: &[T], each: impl Fn(&T, &mut Object<'_>)) {
    let mut list = obj.array(key);
    for item in items {
        let mut o = list.object();
        each(item, &mut o);
        o.end();
    }
    list.end();
}
