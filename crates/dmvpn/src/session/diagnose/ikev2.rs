//! The IKEv2 rules: refusals named by error notifications (NO_PROPOSAL_CHOSEN,
//! AUTHENTICATION_FAILED, TS_UNACCEPTABLE, INVALID_KE_PAYLOAD), NAT detected by the
//! NAT_DETECTION_* hashes, and requests retransmitted without a reply.

use std::net::IpAddr;

use super::super::{Ikev2PskCheck, Ikev2Sa, PeerPair, Report};
use super::{Rule, Severity};

/// The frames of the SA's error notifications of type `ty`, and whether any came in an
/// IKE_SA_INIT.
fn notified<'a>(sa: &'a Ikev2Sa, ty: &str) -> Vec<(u64, &'a str)> {
    sa.errors
        .iter()
        .filter(|e| e.ty == ty)
        .map(|e| (e.seen.frame, e.exchange.as_str()))
        .collect()
}

/// The side of the pair that sent the frames' notifications, for the message.
fn sender(sa: &Ikev2Sa, ty: &str) -> String {
    sa.errors
        .iter()
        .find(|e| e.ty == ty)
        .map_or_else(|| "the peer".to_owned(), |e| e.from.to_string())
}

/// Runs the IKEv2 rules over every pair, calling `add` as [`super::run`] does.
pub(super) fn run(
    report: &Report,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    for pair in &report.peers {
        for sa in &pair.ikev2 {
            refusals(pair, sa, add);
            psk(pair, sa, add);
            nat(pair, sa, add);
            no_reply(pair, sa, add);
            invalid_ke(pair, sa, add);
        }
    }
}

fn refusals(
    pair: &PeerPair,
    sa: &Ikev2Sa,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let peers = Some((pair.a, pair.b));
    let no_proposal = notified(sa, "NO_PROPOSAL_CHOSEN");
    let (init, child): (Vec<_>, Vec<_>) = no_proposal
        .iter()
        .partition(|(_, exchange)| *exchange == "IKE_SA_INIT");
    if !init.is_empty() {
        let offered = sa
            .proposal
            .as_deref()
            .map_or_else(String::new, |p| format!(" (offered: {p})"));
        add(
            Rule::IkeNoProposalChosen,
            Severity::Error,
            peers,
            format!(
                "IKEv2 NO_PROPOSAL_CHOSEN from {} in IKE_SA_INIT: the peers' `crypto ikev2 \
                 proposal`s share no encryption, integrity, PRF and DH group{offered}",
                sender(sa, "NO_PROPOSAL_CHOSEN")
            ),
            init.iter().map(|(frame, _)| *frame).collect(),
        );
    }
    if !child.is_empty() {
        let offered = sa
            .children
            .iter()
            .find_map(|c| c.transform.as_deref())
            .map_or_else(String::new, |t| format!(" (offered: {t})"));
        add(
            Rule::IkeTransformSetMismatch,
            Severity::Error,
            peers,
            format!(
                "IKEv2 Child SA refused with NO_PROPOSAL_CHOSEN by {}: the IPsec transform sets \
                 (or PFS groups) do not match{offered}",
                sender(sa, "NO_PROPOSAL_CHOSEN")
            ),
            child.iter().map(|(frame, _)| *frame).collect(),
        );
    }
    let auth = notified(sa, "AUTHENTICATION_FAILED");
    if !auth.is_empty() {
        let checked = |side: usize| sa.psk.get(side).and_then(Option::as_ref);
        let why = match (sa.auth_method.as_deref(), checked(0), checked(1)) {
            (_, Some(Ikev2PskCheck::Mismatch { .. }), _)
            | (_, _, Some(Ikev2PskCheck::Mismatch { .. })) => {
                "a certain pre-shared key mismatch: an AUTH payload matches none of the keys \
                 given (see the ike-psk-mismatch finding)"
            }
            (_, Some(Ikev2PskCheck::Verified { .. }), _) => {
                "the initiator's AUTH payload is the one the key given yields, so its \
                 pre-shared key is right: the responder's `crypto ikev2 keyring` holds another \
                 key for it, or an identity matches no keyring peer or profile (`match identity \
                 remote`)"
            }
            (Some("pre-share"), ..) => {
                "the initiator authenticates with a pre-shared key: the keys of the two \
                 `crypto ikev2 keyring`s probably differ, or an identity matches no keyring \
                 peer or profile (`match identity remote`). A certain PSK check needs --psk and \
                 SK_pi / SK_pr (the optional tenth and eleventh columns of the \
                 ikev2_decryption_table)"
            }
            (Some(_), ..) => {
                "the certificate or signature was refused (trustpoint, validity, identity), or \
                 the identity matches no `crypto ikev2 profile`"
            }
            (None, ..) => {
                "the pre-shared keys or certificates, or the identities (`match identity \
                 remote`), do not match"
            }
        };
        let mut frames: Vec<u64> = auth.iter().map(|(frame, _)| *frame).collect();
        frames.extend(
            sa.exchanges
                .iter()
                .filter(|e| e.exchange == "IKE_AUTH")
                .filter_map(|e| e.request.map(|r| r.frame)),
        );
        add(
            Rule::Ikev2AuthFailed,
            Severity::Error,
            peers,
            format!(
                "IKEv2 AUTHENTICATION_FAILED from {}: {why}",
                sender(sa, "AUTHENTICATION_FAILED")
            ),
            frames,
        );
    }
    let ts = notified(sa, "TS_UNACCEPTABLE");
    if !ts.is_empty() {
        add(
            Rule::Ikev2TsUnacceptable,
            Severity::Error,
            peers,
            format!(
                "IKEv2 TS_UNACCEPTABLE from {}: the traffic selectors (the GRE traffic between \
                 the NBMA addresses, `tunnel protection` in transport mode) match no policy of \
                 the peer; the IKE SA stays up without the Child SA",
                sender(sa, "TS_UNACCEPTABLE")
            ),
            ts.iter().map(|(frame, _)| *frame).collect(),
        );
    }
}

/// A side whose AUTH payload matches none of the pre-shared keys given: certain, from RFC 7296
/// §2.15 recomputed with SK_pi / SK_pr.
fn psk(
    pair: &PeerPair,
    sa: &Ikev2Sa,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let responder = sa
        .initiator
        .map(|i| if i == pair.a { pair.b } else { pair.a });
    for (side, check) in sa.psk.iter().enumerate() {
        let Some(Ikev2PskCheck::Mismatch { frame, tried }) = check else {
            continue;
        };
        let (role, addr) = if side == 0 {
            ("initiator", sa.initiator)
        } else {
            ("responder", responder)
        };
        let who = addr.map_or_else(|| format!("the {role}"), |a| format!("the {role} {a}"));
        // The IKE_SA_INIT pair the AUTH signs (the last one answered), then the IKE_AUTH.
        let mut frames: Vec<u64> = sa
            .exchanges
            .iter()
            .rev()
            .find(|e| e.exchange == "IKE_SA_INIT" && e.response.is_some())
            .map(|e| {
                e.request
                    .into_iter()
                    .chain(e.response)
                    .map(|s| s.frame)
                    .collect()
            })
            .unwrap_or_default();
        frames.push(*frame);
        add(
            Rule::IkePskMismatch,
            Severity::Error,
            Some((pair.a, pair.b)),
            format!(
                "IKEv2 SA i={}: a certain pre-shared key mismatch: the AUTH payload of {who} \
                 (frame {frame}) is not the one any of the {tried} key(s) given yields (RFC 7296 \
                 §2.15, recomputed with SK_p{}): its `crypto ikev2 keyring` pre-shared-key is \
                 another",
                super::Cookie(&sa.spi_i),
                ["i", "r"][side.min(1)]
            ),
            frames,
        );
    }
}

fn invalid_ke(
    pair: &PeerPair,
    sa: &Ikev2Sa,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    for answer in &sa.invalid_ke {
        let group = |g: Option<u16>| g.map_or_else(|| "?".to_owned(), |g| g.to_string());
        let (severity, outcome) = match answer.retried {
            Some(frame) => (
                Severity::Warning,
                format!(
                    "the initiator retried with it in frame {frame}: one extra round trip per \
                     IKE SA; put group {} first in the initiator's proposal",
                    group(answer.asked)
                ),
            ),
            None => (
                Severity::Error,
                "no retry with that group was seen".to_owned(),
            ),
        };
        let mut frames = vec![answer.frame];
        frames.extend(answer.retried);
        add(
            Rule::Ikev2InvalidKe,
            severity,
            Some((pair.a, pair.b)),
            format!(
                "IKEv2 INVALID_KE_PAYLOAD: the initiator sent a KE for group {}, the responder \
                 asked for group {}; {outcome}",
                group(answer.offered),
                group(answer.asked)
            ),
            frames,
        );
    }
}

fn nat(
    pair: &PeerPair,
    sa: &Ikev2Sa,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let sides: Vec<&str> = ["initiator", "responder"]
        .iter()
        .zip(sa.nat)
        .filter(|(_, nat)| *nat == Some(true))
        .map(|(side, _)| *side)
        .collect();
    if sides.is_empty() {
        return;
    }
    let who = sides
        .iter()
        .map(|side| match (*side, sa.initiator) {
            ("initiator", Some(addr)) => format!("the initiator ({addr})"),
            (side, _) => format!("the {side}"),
        })
        .collect::<Vec<_>>()
        .join(" and ");
    // Both ends translated, seen from one capture point: more likely a peer faking its hash to
    // force UDP encapsulation (strongSwan `encap = yes`) than two NATs.
    let forced = if sides.len() == 2 {
        "; both ends at once can also be a peer forcing UDP encapsulation with a faked hash \
         (strongSwan `encap = yes`)"
    } else {
        ""
    };
    add(
        Rule::Ikev2NatDetected,
        Severity::Info,
        Some((pair.a, pair.b)),
        format!(
            "IKEv2 NAT detected: the NAT_DETECTION hashes say the address of {who} is translated \
             (against the addresses seen here); IKE and ESP move to UDP 4500 (NAT-T), and a \
             spoke behind NAT needs `nat` awareness on the hub (NHRP registers the NAT address)\
             {forced}"
        ),
        sa.nat_frames.clone(),
    );
}

fn no_reply(
    pair: &PeerPair,
    sa: &Ikev2Sa,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    for e in &sa.exchanges {
        if e.requests < 2 || e.response.is_some() {
            continue;
        }
        let from = if e.from_initiator {
            sa.initiator
        } else {
            sa.initiator
                .map(|i| if i == pair.a { pair.b } else { pair.a })
        };
        let from = from.map_or_else(|| "a peer".to_owned(), |a| a.to_string());
        add(
            Rule::Ikev2NoReply,
            Severity::Error,
            Some((pair.a, pair.b)),
            format!(
                "IKEv2 {} request (message ID {}) from {from} sent {} times with no reply: \
                 the peer is unreachable on UDP 500/4500, drops it (ACL, no matching \
                 profile), or its answers are lost",
                e.exchange, e.message_id, e.requests
            ),
            e.request_frames.clone(),
        );
    }
}
