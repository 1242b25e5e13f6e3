//! The diagnosis rules: each looks at the session records (and evidence collected while decoding)
//! and reports what is wrong, with the frames that show it.
//!
//! Each rule has a trigger capture in `testdata/sessions/` (see its README) and the test
//! `tests/sessions_rules.rs` checks that it fires there and on no other capture of the set.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use dmvpn_isakmp as isakmp;
use isakmp::consts::{
    AuthAlgorithm, AuthMethod, EncapsulationMode, EncryptionAlgorithm, EspTransformId,
    HashAlgorithm, IpsecAttributeType, LifeType, ProtocolId,
};

use super::{ChildSa, Evidence, MAX_EVIDENCE, NhrpKind, Report};

mod ikev2;
mod phase3;

/// The largest TCP MSS a SYN inside the tunnel should carry: `ip tcp adjust-mss 1360` with
/// `ip mtu 1400` on the tunnel leaves room for GRE, IPsec transport and NAT-T overhead
/// (Cisco's DMVPN design guide values).
pub const MAX_TUNNEL_MSS: u16 = 1360;

/// How long a Registration Request may go unanswered before the capture ends without that being
/// reported: replies come within milliseconds, IOS retries after 1 s.
pub const REPLY_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A diagnosis rule.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[non_exhaustive]
pub enum Rule {
    /// `nhrp-no-registration`: a spoke sent NHRP Registration Requests that were never answered
    /// (the capture going on for at least [`REPLY_GRACE`] after the first), or brought up IKE and sent tunnel traffic to a known hub without ever registering.
    /// Evidence: the unanswered requests, or the IKE and tunnel frames. Usual causes: wrong
    /// `ip nhrp nhs`, NHRP network-id or tunnel key mismatch, replies lost (ACL, MTU). Not
    /// reported where [`Rule::NhrpAuthMismatch`] explains the silence.
    NhrpNoRegistration,
    /// `nhrp-registration-refused`: a Registration Reply with a non-zero CIE code (RFC 2332
    /// §5.2.4, e.g. 4 Administratively Prohibited, 5 Insufficient Resources, 14 Already
    /// Registered with the unique flag). Evidence: the reply frames.
    NhrpRegistrationRefused,
    /// `nhrp-auth-mismatch`: an NHRP Error Indication with code 11 (Authentication Failure), or the
    /// two sides of a pair sending different Authentication extension values (`ip nhrp
    /// authentication`). The values are compared, never printed. Evidence: the frames.
    NhrpAuthMismatch,
    /// `nhrp-hold-expired`: a successful registration's hold time ran out with no refresh: the
    /// next request came after the expiry, or the capture went on past it with none. Evidence:
    /// the reply that granted the hold time and the late request, if any.
    NhrpHoldExpired,
    /// `ike-no-proposal-chosen`: an ISAKMP NO-PROPOSAL-CHOSEN notification (RFC 2408 §3.14.1,
    /// type 14): the peers' `crypto isakmp policy` or transform sets share nothing; for IKEv2, a
    /// NO_PROPOSAL_CHOSEN answering IKE_SA_INIT (`crypto ikev2 proposal`s). Evidence: the
    /// notification frames.
    IkeNoProposalChosen,
    /// `ike-transform-set-mismatch`: a NO-PROPOSAL-CHOSEN answering a Quick Mode (it names ESP or
    /// AH, or travels encrypted under the phase 1 SA): phase 1 is up but the peers' `crypto ipsec
    /// transform-set`s (or PFS groups) share nothing; for IKEv2, a NO_PROPOSAL_CHOSEN answering
    /// IKE_AUTH or CREATE_CHILD_SA. Encrypted, it is only seen with the IKE keys. Evidence: the
    /// notification frames.
    IkeTransformSetMismatch,
    /// `ike-psk-mismatch`: the peers' pre-shared keys (`crypto isakmp key`) differ.
    ///
    /// With the key given ([`SessionBuilder::with_psks`](super::SessionBuilder::with_psks), `dmvpn
    /// sessions --psk`) and Main Mode 5 readable (its `ikev1_decryption_table` key), this is a
    /// verified fact: HASH_I = prf(prf(PSK, Ni_b | Nr_b), g^xi | g^xr | CKY-I | CKY-R | SAi_b |
    /// IDii_b) (RFC 2409 §5) does not match what the initiator sent with any key given for the
    /// pair, or HASH_I matches and the responder's HASH_R does not. Without a key it is a
    /// heuristic: the initiator sent its encrypted Main Mode message 5 more than once and the
    /// responder never answered with message 6 (a lost path for UDP 500 after MM4 looks the same);
    /// a verified HASH_I silences the heuristic. Evidence: the MM5 frames (and the HASH_R frame).
    IkePskMismatch,
    /// `esp-icv-failure`: ESP packets whose ICV did not verify with the keys given (RFC 4303
    /// §3.4.4): corruption on the path, wrong keys, or forged packets. Evidence: the packets.
    EspIcvFailure,
    /// `esp-replay`: ESP packets whose sequence number the SA had already seen (RFC 4303 §3.4.3);
    /// a receiving router drops them (`%CRYPTO-4-PKT_REPLAY_ERR`). Evidence: the packets.
    EspReplay,
    /// `eigrp-k-mismatch`: the two sides' hellos carry different K values; IOS refuses the
    /// adjacency (`K-value mismatch`). Evidence: a hello of each side.
    EigrpKMismatch,
    /// `eigrp-as-mismatch`: the two sides' hellos carry different autonomous system numbers, so
    /// no adjacency forms. Evidence: a hello of each side.
    EigrpAsMismatch,
    /// `eigrp-adjacency-flap`: the adjacency went down and came back: a side said goodbye (K1–K5
    /// = 255, RFC 7868 §5.3.5.1) or its hellos stopped for longer than the hold time it announced.
    /// Evidence: the hellos around each gap, the goodbyes.
    EigrpAdjacencyFlap,
    /// `eigrp-split-horizon`: the hub learns a spoke's prefixes but its updates to another spoke
    /// carry none of them and no route covering them: `no ip split-horizon eigrp AS` (or a
    /// summary) is missing on the hub's tunnel, so spokes cannot reach each other. Evidence: the
    /// hub's updates to that spoke.
    EigrpSplitHorizon,
    /// `tcp-mss-too-large`: a TCP SYN inside the tunnel advertises an MSS above 1360: `ip tcp
    /// adjust-mss 1360` is missing on the tunnel, and full-size segments will be fragmented after
    /// encryption. Evidence: the SYNs.
    TcpMssTooLarge,
    /// `fragmented-after-encapsulation`: outer IPv4 fragments carrying ESP or GRE (or ESP in UDP):
    /// packets were too big for the path after encapsulation (`ip mtu 1400` missing on the
    /// tunnel, or the path MTU is smaller). Evidence: the fragments.
    FragmentedAfterEncapsulation,
    /// `spoke-to-spoke-hairpin`: one packet between two spokes' networks seen entering the hub
    /// from one spoke and leaving it to another. Expected in DMVPN Phase 1; with Phase 2/3 it
    /// means the spoke-to-spoke tunnel is not up. Evidence: the two frames of each packet. Not
    /// reported for spokes the Phase 3 analysis accounts for (a resolution joined them, or the
    /// hub redirected one): the rules below say what happened there.
    SpokeToSpokeHairpin,
    /// `nhrp-redirect-no-shortcut`: the hub sent a spoke Traffic Indications (`ip nhrp
    /// redirect`) and the spoke sent no Resolution Request for the redirected destination
    /// within [`SWITCH_GRACE`](super::SWITCH_GRACE): `ip nhrp shortcut` is missing on the
    /// spoke. Evidence: the Traffic Indications.
    NhrpRedirectNoShortcut,
    /// `nhrp-resolution-unanswered`: a Resolution Request got no reply and no Error Indication
    /// within [`REPLY_GRACE`] (not reported where spoke-to-spoke IKE failing explains it).
    /// Evidence: the request's copies.
    NhrpResolutionUnanswered,
    /// `nhrp-resolution-refused`: a Resolution Reply with a non-zero CIE code (a NAK: e.g. 12
    /// No Binding Exists, 4 Administratively Prohibited) or an Error Indication about the
    /// request. Evidence: the request and the refusal.
    NhrpResolutionRefused,
    /// `spoke-to-spoke-ike-failed`: two spokes a resolution joined tried IKE with each other and
    /// it never came up within [`IKE_GRACE`](super::IKE_GRACE) (no ESP between them either), so
    /// their traffic stays on the hub (IOS falls back to the hub path). Usual causes: PSK or
    /// policy for the other spoke missing, UDP 500/4500 filtered between spokes, NAT. Evidence:
    /// the IKE messages and the hub-path packets that followed.
    SpokeToSpokeIkeFailed,
    /// `nhrp-shortcut-flapping`: a spoke-to-spoke shortcut was withdrawn (Purge, ISAKMP Delete,
    /// holding time run out) and installed again at least twice. Evidence: the installs and
    /// removals.
    NhrpShortcutFlapping,
    /// `phase3-hairpin`: a cloud configured for Phase 3 (redirects seen, or spokes resolving)
    /// where a flow between spokes keeps going through the hub more than
    /// [`SWITCH_GRACE`](super::SWITCH_GRACE) after the redirect or resolution for it, with no
    /// other Phase 3 finding to explain it (the shortcut route is not used: e.g. the spoke's
    /// routing prefers the hub). Evidence: the redirect or resolution and the late hub packets.
    Phase3Hairpin,
    /// `ikev2-auth-failed`: an IKEv2 AUTHENTICATION_FAILED notification (RFC 7296 §3.10.1, type
    /// 24), in the encrypted IKE_AUTH (seen with its `ikev2_decryption_table` line): pre-shared
    /// keys, certificates or identities do not match. Evidence: the notification and the
    /// IKE_AUTH requests.
    Ikev2AuthFailed,
    /// `ikev2-ts-unacceptable`: an IKEv2 TS_UNACCEPTABLE notification (type 38): the traffic
    /// selectors match no policy of the peer, the Child SA is refused (encrypted: seen with the
    /// keys). Evidence: the notifications.
    Ikev2TsUnacceptable,
    /// `ikev2-invalid-ke`: an IKEv2 INVALID_KE_PAYLOAD answer to IKE_SA_INIT (type 17, in the
    /// clear): the initiator guessed a Diffie-Hellman group the responder does not take first. A
    /// warning when the initiator retried with the group asked for, an error when not. Evidence:
    /// the answer and the retry.
    Ikev2InvalidKe,
    /// `ikev2-nat-detected`: the NAT_DETECTION_SOURCE_IP / _DESTINATION_IP hashes of IKE_SA_INIT
    /// (RFC 7296 §2.23, SHA-1 of the SPIs, address and port) do not match the addresses and
    /// ports seen at the capture point: a NAT translates a peer. Evidence: the IKE_SA_INIT
    /// messages whose hashes differ.
    Ikev2NatDetected,
    /// `ikev2-no-reply`: an IKEv2 request retransmitted (the same message ID from the same side)
    /// and never answered. Evidence: the copies of the request.
    Ikev2NoReply,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Self; 27] = [
        Self::NhrpNoRegistration,
        Self::NhrpRegistrationRefused,
        Self::NhrpAuthMismatch,
        Self::NhrpHoldExpired,
        Self::IkeNoProposalChosen,
        Self::IkeTransformSetMismatch,
        Self::IkePskMismatch,
        Self::EspIcvFailure,
        Self::EspReplay,
        Self::EigrpKMismatch,
        Self::EigrpAsMismatch,
        Self::EigrpAdjacencyFlap,
        Self::EigrpSplitHorizon,
        Self::TcpMssTooLarge,
        Self::FragmentedAfterEncapsulation,
        Self::SpokeToSpokeHairpin,
        Self::NhrpRedirectNoShortcut,
        Self::NhrpResolutionUnanswered,
        Self::NhrpResolutionRefused,
        Self::SpokeToSpokeIkeFailed,
        Self::NhrpShortcutFlapping,
        Self::Phase3Hairpin,
        Self::Ikev2AuthFailed,
        Self::Ikev2TsUnacceptable,
        Self::Ikev2InvalidKe,
        Self::Ikev2NatDetected,
        Self::Ikev2NoReply,
    ];

    /// The rule's identifier, as printed and in JSON.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::NhrpNoRegistration => "nhrp-no-registration",
            Self::NhrpRegistrationRefused => "nhrp-registration-refused",
            Self::NhrpAuthMismatch => "nhrp-auth-mismatch",
            Self::NhrpHoldExpired => "nhrp-hold-expired",
            Self::IkeNoProposalChosen => "ike-no-proposal-chosen",
            Self::IkeTransformSetMismatch => "ike-transform-set-mismatch",
            Self::IkePskMismatch => "ike-psk-mismatch",
            Self::EspIcvFailure => "esp-icv-failure",
            Self::EspReplay => "esp-replay",
            Self::EigrpKMismatch => "eigrp-k-mismatch",
            Self::EigrpAsMismatch => "eigrp-as-mismatch",
            Self::EigrpAdjacencyFlap => "eigrp-adjacency-flap",
            Self::EigrpSplitHorizon => "eigrp-split-horizon",
            Self::TcpMssTooLarge => "tcp-mss-too-large",
            Self::FragmentedAfterEncapsulation => "fragmented-after-encapsulation",
            Self::SpokeToSpokeHairpin => "spoke-to-spoke-hairpin",
            Self::NhrpRedirectNoShortcut => "nhrp-redirect-no-shortcut",
            Self::NhrpResolutionUnanswered => "nhrp-resolution-unanswered",
            Self::NhrpResolutionRefused => "nhrp-resolution-refused",
            Self::SpokeToSpokeIkeFailed => "spoke-to-spoke-ike-failed",
            Self::NhrpShortcutFlapping => "nhrp-shortcut-flapping",
            Self::Phase3Hairpin => "phase3-hairpin",
            Self::Ikev2AuthFailed => "ikev2-auth-failed",
            Self::Ikev2TsUnacceptable => "ikev2-ts-unacceptable",
            Self::Ikev2InvalidKe => "ikev2-invalid-ke",
            Self::Ikev2NatDetected => "ikev2-nat-detected",
            Self::Ikev2NoReply => "ikev2-no-reply",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum Severity {
    /// Worth knowing, not a fault (e.g. Phase 1 hair-pinning).
    Info,
    /// Degrades the service (fragmentation, MSS, loss).
    Warning,
    /// Breaks a tunnel, a registration or an adjacency.
    Error,
}

impl Severity {
    /// The name as printed.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One finding: a rule that fired, for a pair, with the evidence frames.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// How bad.
    pub severity: Severity,
    /// The peer pair concerned (hub first where known); for a hair-pin, the two spokes.
    pub peers: Option<(IpAddr, IpAddr)>,
    /// What was found, in words.
    pub message: String,
    /// The frames that show it (at most [`MAX_EVIDENCE`]).
    pub frames: Vec<u64>,
}

/// Runs every rule.
pub(super) fn run(report: &Report, evidence: &Evidence) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |rule: Rule,
                   severity: Severity,
                   peers: Option<(IpAddr, IpAddr)>,
                   message: String,
                   mut frames: Vec<u64>| {
        frames.sort_unstable();
        frames.dedup();
        frames.truncate(MAX_EVIDENCE);
        findings.push(Finding {
            rule,
            severity,
            peers,
            message,
            frames,
        });
    };
    let pair_of = |index: usize| report.peers.get(index).map(|p| (p.a, p.b));
    let by_pair = |list: &[(usize, u64)]| {
        let mut map: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
        for &(pair, frame) in list {
            map.entry(pair).or_default().push(frame);
        }
        for frames in map.values_mut() {
            frames.sort_unstable();
            frames.dedup();
        }
        map
    };

    let auth_errors = by_pair(&evidence.auth_errors);
    let auth_frames = by_pair(&evidence.auth_frames);
    let auth_mismatch = |index: usize| {
        let differ = report
            .peers
            .get(index)
            .is_some_and(|p| matches!(p.nhrp.auth, [Some(a), Some(b)] if a != b));
        (auth_errors.get(&index), differ)
    };

    // NHRP registrations.
    for (index, pair) in report.peers.iter().enumerate() {
        let peers = Some((pair.a, pair.b));
        let timeline = &pair.nhrp;
        let requests: Vec<u64> = timeline.registrations().map(|e| e.seen.frame).collect();
        // An authentication mismatch explains unanswered requests: that finding says it.
        let explained = matches!(auth_mismatch(index), (Some(_), _) | (_, true));
        // A capture that ends right after a request says nothing about its reply.
        let first_request = timeline.registrations().next().map(|e| e.seen.time);
        let waited = first_request
            .zip(report.end)
            .is_some_and(|(sent, end)| end.saturating_duration_since(sent) >= REPLY_GRACE);
        if timeline.requests > 0
            && timeline.successes == 0
            && timeline.refusals == 0
            && waited
            && !explained
        {
            add(
                Rule::NhrpNoRegistration,
                Severity::Error,
                peers,
                format!(
                    "{} sent {} NHRP Registration Request(s) to {} and got no reply",
                    pair.b, timeline.requests, pair.a
                ),
                requests,
            );
        } else if timeline.requests == 0 && pair.a_is_hub {
            let ike_up = pair.ike.iter().find(|sa| sa.exchange.is_some());
            let tunnel: u64 = pair.inner.values().map(|c| c.packets).sum();
            let esp: u64 = pair.esp.iter().map(|f| f.packets.packets).sum();
            if let Some(sa) = ike_up
                && tunnel + esp > 0
            {
                let mut frames = vec![sa.first.frame];
                frames.extend(pair.esp.iter().map(|f| f.first.frame));
                add(
                    Rule::NhrpNoRegistration,
                    Severity::Error,
                    peers,
                    format!(
                        "{} brought up IKE with hub {} and sent {} tunnel packets but never \
                         registered with NHRP",
                        pair.b,
                        pair.a,
                        tunnel + esp
                    ),
                    frames,
                );
            }
        }
        let refused: Vec<(u64, String)> = timeline
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                NhrpKind::RegistrationReply {
                    code, code_name, ..
                } if *code != 0 => Some((e.seen.frame, format!("{code_name} ({code})"))),
                _ => None,
            })
            .collect();
        if let Some((_, first)) = refused.first() {
            add(
                Rule::NhrpRegistrationRefused,
                Severity::Error,
                peers,
                format!(
                    "{} refused {} registration(s) of {}: {first}",
                    pair.a,
                    refused.len(),
                    pair.b
                ),
                refused.iter().map(|(frame, _)| *frame).collect(),
            );
        }
        hold_expiry(report, pair, &mut add);
    }

    // NHRP authentication.
    for (index, pair) in report.peers.iter().enumerate() {
        let (errors, differ) = auth_mismatch(index);
        if errors.is_none() && !differ {
            continue;
        }
        let mut frames = errors.cloned().unwrap_or_default();
        let message = if let Some(errors) = errors {
            format!(
                "{} NHRP Error Indication(s) with code 11 (Authentication Failure) between {} \
                 and {}",
                errors.len(),
                pair.a,
                pair.b
            )
        } else {
            format!(
                "{} and {} send different NHRP authentication strings (`ip nhrp authentication`; \
                 the values are not shown)",
                pair.a, pair.b
            )
        };
        if differ {
            frames.extend(auth_frames.get(&index).into_iter().flatten());
        }
        add(
            Rule::NhrpAuthMismatch,
            Severity::Error,
            Some((pair.a, pair.b)),
            message,
            frames,
        );
    }

    for (index, frames) in by_pair(&evidence.no_proposal) {
        let Some(pair) = report.peers.get(index) else {
            continue;
        };
        let (agreed, offered): (Vec<_>, Vec<_>) = pair
            .ike
            .iter()
            .filter(|sa| sa.proposal.is_some())
            .partition(|sa| sa.proposal_accepted);
        let detail = match (agreed.first(), offered.first()) {
            // The notification may answer an earlier attempt of an SA that later came up.
            (Some(sa), _) => format!(
                "; a later negotiation agreed on {}",
                sa.proposal.as_deref().unwrap_or_default()
            ),
            (None, Some(sa)) => {
                format!(" (offered: {})", sa.proposal.as_deref().unwrap_or_default())
            }
            (None, None) => String::new(),
        };
        add(
            Rule::IkeNoProposalChosen,
            Severity::Error,
            Some((pair.a, pair.b)),
            format!(
                "IKE NO-PROPOSAL-CHOSEN between {} and {}: no common ISAKMP policy or transform \
                 set{detail}",
                pair.a, pair.b
            ),
            frames,
        );
    }
    for (index, frames) in by_pair(&evidence.no_transform) {
        let Some(pair) = report.peers.get(index) else {
            continue;
        };
        let offered = pair
            .ike
            .iter()
            .flat_map(|sa| &sa.phase2)
            .find_map(|child| child.transform.as_deref())
            .map_or_else(String::new, |t| format!(" (offered: {t})"));
        add(
            Rule::IkeTransformSetMismatch,
            Severity::Error,
            Some((pair.a, pair.b)),
            format!(
                "Quick Mode between {} and {} refused with NO-PROPOSAL-CHOSEN: the IPsec \
                 transform sets (or PFS) do not match{offered}",
                pair.a, pair.b
            ),
            frames,
        );
    }
    for pair in &report.peers {
        for sa in &pair.ike {
            let initiator_name = || {
                sa.initiator
                    .map_or_else(|| "the initiator".to_owned(), |a| a.to_string())
            };
            match &sa.psk {
                Some(super::PskCheck::Mismatch {
                    hash_i_frame,
                    tried,
                }) => {
                    let mut frames = sa.main_mode_5.clone();
                    frames.push(*hash_i_frame);
                    add(
                        Rule::IkePskMismatch,
                        Severity::Error,
                        Some((pair.a, pair.b)),
                        format!(
                            "{} {}: HASH_I of {} (frame {hash_i_frame}) verifies with none of \
                             the {tried} pre-shared key(s) given: its `crypto isakmp key` is \
                             another",
                            sa.exchange.unwrap_or("phase 1"),
                            Cookie(&sa.icookie),
                            initiator_name()
                        ),
                        frames,
                    );
                    continue;
                }
                Some(super::PskCheck::Verified {
                    hash_r: Some((frame, false)),
                    hash_i_frame,
                    peer,
                }) => {
                    add(
                        Rule::IkePskMismatch,
                        Severity::Error,
                        Some((pair.a, pair.b)),
                        format!(
                            "{} {}: HASH_I (frame {hash_i_frame}) verifies with the key for \
                             {peer} but the responder's HASH_R (frame {frame}) does not",
                            sa.exchange.unwrap_or("phase 1"),
                            Cookie(&sa.icookie),
                        ),
                        vec![*hash_i_frame, *frame],
                    );
                    continue;
                }
                // The initiator's key is the one given: a stall has another cause.
                Some(super::PskCheck::Verified { .. }) => continue,
                _ => {}
            }
            let [initiator, responder] = sa.encrypted_main_mode;
            if sa.exchange == Some("Main Mode") && initiator >= 2 && responder == 0 {
                add(
                    Rule::IkePskMismatch,
                    Severity::Error,
                    Some((pair.a, pair.b)),
                    format!(
                        "Main Mode {} stalls: {} sent message 5 {initiator} times and got no \
                         message 6; likely a pre-shared key mismatch (heuristic: give the key \
                         with --psk and the IKE keys to verify HASH_I)",
                        Cookie(&sa.icookie),
                        initiator_name()
                    ),
                    sa.main_mode_5.clone(),
                );
            }
        }
    }
    for (index, frames) in by_pair(&evidence.icv_failed) {
        add(
            Rule::EspIcvFailure,
            Severity::Error,
            pair_of(index),
            format!(
                "{} ESP packet(s) failed the integrity check (corruption, wrong keys or forgery)",
                frames.len()
            ),
            frames,
        );
    }
    for (index, frames) in by_pair(&evidence.replayed) {
        add(
            Rule::EspReplay,
            Severity::Warning,
            pair_of(index),
            format!(
                "{} ESP packet(s) repeated a sequence number already seen on their SA \
                 (a receiver drops them as replays)",
                frames.len()
            ),
            frames,
        );
    }

    // EIGRP.
    for pair in &report.peers {
        let [a, b] = &pair.eigrp;
        let evidence = || {
            [a.first_hello, b.first_hello]
                .into_iter()
                .flatten()
                .map(|s| s.frame)
                .collect::<Vec<_>>()
        };
        // A parameter both sides must agree on differs.
        let mut mismatch = |rule, message| {
            add(
                rule,
                Severity::Error,
                Some((pair.a, pair.b)),
                message,
                evidence(),
            );
        };
        if let (Some(ka), Some(kb)) = (a.k, b.k)
            && ka != kb
        {
            mismatch(
                Rule::EigrpKMismatch,
                format!(
                    "EIGRP K values differ: {} sends {}, {} sends {}",
                    pair.a,
                    k_values(ka),
                    pair.b,
                    k_values(kb)
                ),
            );
        }
        if let (Some(asa), Some(asb)) = (a.autonomous_system, b.autonomous_system)
            && asa != asb
        {
            mismatch(
                Rule::EigrpAsMismatch,
                format!(
                    "EIGRP autonomous systems differ: {} is in AS {asa}, {} in AS {asb}",
                    pair.a, pair.b
                ),
            );
        }
    }

    for pair in &report.peers {
        let downs: Vec<u64> = pair
            .eigrp
            .iter()
            .flat_map(|side| &side.downs)
            .flat_map(|&(before, after)| [before, after])
            .collect();
        if !downs.is_empty() {
            let count = pair
                .eigrp
                .iter()
                .map(|side| side.downs.len())
                .sum::<usize>();
            add(
                Rule::EigrpAdjacencyFlap,
                Severity::Warning,
                Some((pair.a, pair.b)),
                format!(
                    "the EIGRP adjacency between {} and {} went down {count} time(s) (goodbye, or \
                     no hello within the hold time)",
                    pair.a, pair.b
                ),
                downs,
            );
        }
    }
    split_horizon(report, &mut add);

    let mut mss: BTreeMap<usize, (Vec<u64>, u16)> = BTreeMap::new();
    for &(pair, frame, value) in &evidence.big_mss {
        let entry = mss.entry(pair).or_default();
        entry.0.push(frame);
        entry.1 = entry.1.max(value);
    }
    for (index, (frames, max)) in mss {
        add(
            Rule::TcpMssTooLarge,
            Severity::Warning,
            pair_of(index),
            format!(
                "{} TCP SYN(s) inside the tunnel advertise MSS up to {max} (> {MAX_TUNNEL_MSS}): \
                 `ip tcp adjust-mss {MAX_TUNNEL_MSS}` is missing on the tunnel interface",
                frames.len()
            ),
            frames,
        );
    }
    for (index, frames) in by_pair(&evidence.outer_fragments) {
        add(
            Rule::FragmentedAfterEncapsulation,
            Severity::Warning,
            pair_of(index),
            format!(
                "{} outer IPv4 fragment(s) carry ESP/GRE: packets are fragmented after \
                 encapsulation (set `ip mtu 1400` on the tunnel, check the path MTU)",
                frames.len()
            ),
            frames,
        );
    }

    // One finding per pair of spokes and hub, both directions together.
    let mut hairpins: BTreeMap<(IpAddr, IpAddr, IpAddr), Vec<u64>> = BTreeMap::new();
    for &(from, hub, to, first, second) in &evidence.hairpins {
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        hairpins
            .entry((from, hub, to))
            .or_default()
            .extend([first, second]);
    }
    for ((from, hub, to), frames) in hairpins {
        if report.spoke_to_spoke.explains_hairpin(from, to) {
            continue;
        }
        let phase = if evidence.resolution_seen {
            "NHRP resolution replies or redirects were seen, so with Phase 2/3 a direct \
             spoke-to-spoke tunnel is expected: it is not (yet) up"
        } else {
            "expected in DMVPN Phase 1 (all spoke-to-spoke traffic goes through the hub)"
        };
        add(
            Rule::SpokeToSpokeHairpin,
            Severity::Info,
            Some((from, to)),
            format!(
                "{} packet(s) between spokes {from} and {to} hair-pin through hub {hub}; {phase}",
                frames.len() / 2
            ),
            frames,
        );
    }
    ikev2::run(report, &mut add);
    phase3::run(report, &mut add);
    findings.sort_by_key(|f| f.rule);
    findings
}

/// `nhrp-hold-expired` for one pair.
fn hold_expiry(
    report: &Report,
    pair: &super::PeerPair,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let mut granted: Option<(super::Seen, u16)> = None;
    let expired = |seen: super::Seen, hold: u16| {
        seen.time
            .saturating_add(std::time::Duration::from_secs(u64::from(hold)))
    };
    for event in &pair.nhrp.events {
        match event.kind {
            NhrpKind::RegistrationReply {
                code: 0, hold_time, ..
            } => granted = Some((event.seen, hold_time)),
            NhrpKind::RegistrationRequest { .. } => {
                if let Some((seen, hold)) = granted
                    && event.seen.time > expired(seen, hold)
                {
                    add(
                        Rule::NhrpHoldExpired,
                        Severity::Error,
                        Some((pair.a, pair.b)),
                        format!(
                            "the registration of {} granted in frame {} (hold {hold} s) expired \
                             before the next request in frame {}",
                            pair.b, seen.frame, event.seen.frame
                        ),
                        vec![seen.frame, event.seen.frame],
                    );
                }
                granted = None;
            }
            _ => {}
        }
    }
    if let (Some((seen, hold)), Some(end)) = (granted, report.end)
        && end > expired(seen, hold)
    {
        add(
            Rule::NhrpHoldExpired,
            Severity::Error,
            Some((pair.a, pair.b)),
            format!(
                "the registration of {} granted in frame {} (hold {hold} s) expired without a \
                 refresh before the capture ended",
                pair.b, seen.frame
            ),
            vec![seen.frame],
        );
    }
}

/// Whether `route` covers `prefix` (same family, shorter or equal length, same leading bits).
pub(super) fn covers(route: (IpAddr, u8), prefix: (IpAddr, u8)) -> bool {
    let bits = |addr: IpAddr| match addr {
        IpAddr::V4(v4) => (u128::from(v4.to_bits()) << 96, 32),
        IpAddr::V6(v6) => (v6.to_bits(), 128),
    };
    let ((r, r_width), (p, p_width)) = (bits(route.0), bits(prefix.0));
    if r_width != p_width || route.1 > prefix.1 {
        return false;
    }
    let len = u32::from(route.1.min(if r_width == 32 { 32 } else { 128 }));
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    r & mask == p & mask
}

/// `eigrp-split-horizon`: for each hub, the prefixes each spoke advertises, checked against what
/// the hub advertises to every other spoke it sends updates to.
fn split_horizon(
    report: &Report,
    add: &mut impl FnMut(Rule, Severity, Option<(IpAddr, IpAddr)>, String, Vec<u64>),
) {
    let hubs: std::collections::BTreeSet<IpAddr> = report
        .peers
        .iter()
        .filter(|p| p.a_is_hub)
        .map(|p| p.a)
        .collect();
    for hub in hubs {
        let spokes: Vec<&super::PeerPair> = report.peers.iter().filter(|p| p.a == hub).collect();
        for to in &spokes {
            let advertised = &to.eigrp[0].routes;
            if advertised.is_empty() {
                continue; // no update to this spoke seen
            }
            for from in spokes.iter().filter(|p| p.b != to.b) {
                let missing: Vec<String> = from.eigrp[1]
                    .routes
                    .iter()
                    .filter(|&&prefix| !advertised.iter().any(|&route| covers(route, prefix)))
                    .map(|(prefix, len)| format!("{prefix}/{len}"))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                add(
                    Rule::EigrpSplitHorizon,
                    Severity::Error,
                    Some((hub, to.b)),
                    format!(
                        "hub {hub} learns {} from spoke {} but does not advertise it to spoke {}: \
                         `no ip split-horizon eigrp` (or a summary) is missing on the hub tunnel",
                        missing.join(" "),
                        from.b,
                        to.b
                    ),
                    to.eigrp[0].updates.clone(),
                );
            }
        }
    }
}

/// An IKE cookie in hex.
pub(super) struct Cookie<'a>(pub(super) &'a [u8; 8]);

impl fmt::Display for Cookie<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

fn k_values(k: [u8; 6]) -> String {
    let [k1, k2, k3, k4, k5, k6] = k;
    format!("K1={k1} K2={k2} K3={k3} K4={k4} K5={k5} K6={k6}")
}

/// A phase 1 policy in IOS `crypto isakmp policy` terms: `3des md5 group 2 pre-share`.
pub(super) fn ios_policy(policy: &isakmp::sa::IkePolicy) -> String {
    let encryption = match policy.encryption {
        EncryptionAlgorithm::DES_CBC => "des".to_owned(),
        EncryptionAlgorithm::TRIPLE_DES_CBC => "3des".to_owned(),
        EncryptionAlgorithm::AES_CBC => match policy.key_length {
            None | Some(128) => "aes".to_owned(),
            Some(bits) => format!("aes {bits}"),
        },
        other => lower_name(other.name(), other.0),
    };
    let hash = match policy.hash {
        HashAlgorithm::MD5 => "md5".to_owned(),
        HashAlgorithm::SHA1 => "sha".to_owned(),
        HashAlgorithm::SHA2_256 => "sha256".to_owned(),
        HashAlgorithm::SHA2_384 => "sha384".to_owned(),
        HashAlgorithm::SHA2_512 => "sha512".to_owned(),
        other => lower_name(other.name(), other.0),
    };
    let auth = match policy.auth {
        AuthMethod::PSK => "pre-share".to_owned(),
        AuthMethod::RSA_SIG => "rsa-sig".to_owned(),
        AuthMethod::RSA_ENC => "rsa-encr".to_owned(),
        other => lower_name(other.name(), other.0),
    };
    format!("{encryption} {hash} group {} {auth}", policy.group.0)
}

fn lower_name(name: Option<&str>, value: u16) -> String {
    name.map_or_else(|| value.to_string(), str::to_lowercase)
}

/// Reads a Quick Mode SA payload into `child`: the first proposal's SPI, transform set in IOS
/// `crypto ipsec transform-set` terms, mode and lifetime. A later message (the responder's
/// choice) overrides an earlier one's transform.
pub(super) fn read_child(sa: &isakmp::sa::Sa<'_>, child: &mut ChildSa) {
    let Some(Ok(proposal)) = sa.proposals().next() else {
        return;
    };
    if let Ok(spi) = <[u8; 4]>::try_from(proposal.spi) {
        let spi = u32::from_be_bytes(spi);
        if !child.spis.contains(&spi) {
            child.spis.push(spi);
        }
    }
    let Some(Ok(transform)) = proposal.transforms().next() else {
        return;
    };
    let (mut key_length, mut auth, mut mode, mut life_type) = (None, None, None, None);
    for attribute in transform.attributes().flatten() {
        let Some(value) = attribute.as_u64() else {
            continue;
        };
        let small = u16::try_from(value).unwrap_or(u16::MAX);
        match IpsecAttributeType(attribute.ty) {
            IpsecAttributeType::KEY_LENGTH => key_length = Some(small),
            IpsecAttributeType::AUTH_ALGORITHM => auth = Some(AuthAlgorithm(small)),
            IpsecAttributeType::ENCAPSULATION_MODE => mode = Some(EncapsulationMode(small)),
            IpsecAttributeType::LIFE_TYPE => life_type = Some(LifeType(small)),
            IpsecAttributeType::LIFE_DURATION if life_type == Some(LifeType::SECONDS) => {
                child.lifetime = Some(value);
            }
            _ => {}
        }
    }
    let cipher = if proposal.protocol == ProtocolId::ESP {
        match EspTransformId(transform.id) {
            EspTransformId::DES => "esp-des".to_owned(),
            EspTransformId::TRIPLE_DES => "esp-3des".to_owned(),
            EspTransformId::NULL => "esp-null".to_owned(),
            EspTransformId::AES_CBC => match key_length {
                None | Some(128) => "esp-aes".to_owned(),
                Some(bits) => format!("esp-aes {bits}"),
            },
            other => format!(
                "esp-{}",
                lower_name(other.name(), u16::from(other.0)).trim_start_matches("esp_")
            ),
        }
    } else {
        format!(
            "{} transform {}",
            proposal.protocol.name().unwrap_or("?").to_lowercase(),
            transform.id
        )
    };
    let integrity = auth.map(|auth| match auth {
        AuthAlgorithm::HMAC_MD5 => "esp-md5-hmac".to_owned(),
        AuthAlgorithm::HMAC_SHA1 => "esp-sha-hmac".to_owned(),
        AuthAlgorithm::HMAC_SHA2_256 => "esp-sha256-hmac".to_owned(),
        AuthAlgorithm::HMAC_SHA2_384 => "esp-sha384-hmac".to_owned(),
        other => lower_name(other.name(), other.0),
    });
    child.transform = Some(match integrity {
        Some(integrity) => format!("{cipher} {integrity}"),
        None => cipher,
    });
    child.mode = mode.map(|mode| match mode {
        EncapsulationMode::TUNNEL => "tunnel",
        EncapsulationMode::TRANSPORT => "transport",
        EncapsulationMode::UDP_TUNNEL | EncapsulationMode::UDP_TUNNEL_DRAFT => "tunnel (UDP)",
        EncapsulationMode::UDP_TRANSPORT | EncapsulationMode::UDP_TRANSPORT_DRAFT => {
            "transport (UDP)"
        }
        _ => "unknown",
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> (IpAddr, u8) {
        let (addr, len) = s.split_once('/').unwrap();
        (addr.parse().unwrap(), len.parse().unwrap())
    }

    #[test]
    fn covers_prefixes() {
        assert!(covers(net("0.0.0.0/0"), net("192.168.12.0/24")));
        assert!(covers(net("192.168.0.0/16"), net("192.168.12.0/24")));
        assert!(covers(net("192.168.12.0/24"), net("192.168.12.0/24")));
        assert!(!covers(net("192.168.12.0/24"), net("192.168.0.0/16")));
        assert!(!covers(net("192.168.11.0/24"), net("192.168.12.0/24")));
        assert!(!covers(net("::/0"), net("192.168.12.0/24")));
        assert!(covers(net("2001:db8::/32"), net("2001:db8:1::/48")));
    }

    #[test]
    fn ios_policy_names() {
        let policy = isakmp::sa::IkePolicy {
            encryption: EncryptionAlgorithm::AES_CBC,
            key_length: Some(256),
            hash: HashAlgorithm::SHA2_256,
            auth: AuthMethod::RSA_SIG,
            group: isakmp::consts::Group::MODP_2048,
            ..isakmp::sa::IkePolicy::default()
        };
        assert_eq!(ios_policy(&policy), "aes 256 sha256 group 14 rsa-sig");
        let policy = isakmp::sa::IkePolicy {
            encryption: EncryptionAlgorithm::TRIPLE_DES_CBC,
            hash: HashAlgorithm::MD5,
            auth: AuthMethod::PSK,
            group: isakmp::consts::Group::MODP_1024,
            ..isakmp::sa::IkePolicy::default()
        };
        assert_eq!(ios_policy(&policy), "3des md5 group 2 pre-share");
    }

    #[test]
    fn rule_ids_are_unique() {
        let ids: std::collections::BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), Rule::ALL.len());
    }
}
