//! Session reconstruction: one record per peer pair (hub ↔ spoke, by NBMA address) and the
//! findings of the diagnosis rules (`dmvpn sessions FILE`).
//!
//! A [`SessionBuilder`] is a [`Sink`](crate::decode::Sink) for the
//! [`Decoder`](crate::decode::Decoder): it watches the layers of every frame and keeps, per pair
//! of outer (NBMA) addresses, the NHRP registration timeline, the IKEv1 phase 1 SAs with their
//! Quick Mode children, the IKEv2 SAs with their exchanges and Child SAs ([`Ikev2Sa`]), the ESP
//! flows by SPI, the EIGRP adjacency as each side shows it and a summary of the traffic inside the
//! tunnel. [`SessionBuilder::finish`] turns that into a
//! [`Report`], running the rules of [`Rule`] over it; the report prints as text
//! ([`Display`](std::fmt::Display)) or JSON ([`Report::write_json`]).
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::Decoder;
//! use dmvpn::keys::EspKeys;
//! use dmvpn::session::{Rule, SessionBuilder};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?;
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys))?;
//! let spoke = report.peer("192.0.2.1", "192.0.2.11").expect("hub ↔ spoke 1");
//! assert_eq!(spoke.nhrp.registrations().count(), 1);
//! assert!(report.findings.iter().any(|f| f.rule == Rule::EspIcvFailure));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Memory grows with the number of peers, SAs and distinct routes, not with the capture's length:
//! timelines keep at most [`MAX_EVENTS`] events per pair and evidence lists [`MAX_EVIDENCE`] frames,
//! and at most [`MAX_PAIRS`] pairs are recorded. ESP flows (by SPI) and IKE SAs (by initiator
//! cookie) are found through hash tables, so a capture with a million SPIs reads in seconds; at
//! most [`MAX_SPIS_PER_PAIR`] flows per pair and [`MAX_SPIS`] in all are itemised, and at most
//! [`MAX_IKE_SAS_PER_PAIR`] and [`MAX_IKE_SAS`] IKE SAs. What goes over a cap is counted, never
//! dropped silently: [`PeerPair::overflow`] and [`Report::overflow`], printed in the text and the
//! JSON.
//!
//! # How things are counted
//!
//! * **Bytes** of an ESP flow are the ESP packets' lengths from the SPI on, as sent: taken from the
//!   IP header's length fields (IPv4 total length, IPv6 payload length less its extension headers;
//!   less the UDP header for ESP in UDP and the AH header for ESP under AH, as tshark shows them),
//!   so a frame cut by the capture's snapshot length counts what was on the wire, not what was
//!   kept. An ESP packet that arrived in IP fragments counts once, whole: an IPv4 datagram at the
//!   frame that completed its reassembly, an IPv6 one (not reassembled) fragment by fragment, each
//!   fragment's share added to the packet's flow (fragments of a datagram that never completes
//!   are not counted). Inner traffic counts the inner IP packet's total length, NHRP the length
//!   GRE carried (the message's, also when the snapshot length cut it).
//! * **Time**: a capture's timestamps need not be in order (merged or badly clocked captures). The
//!   span is the earliest to the latest timestamp ([`Report::start`], [`Report::end`]), offsets are
//!   from the earliest, the frames that went back in time are counted ([`Report::out_of_order`])
//!   and the NHRP timelines are sorted by time. No duration is ever negative.
//! * **Multicast**: a packet to a multicast (or the broadcast) address, such as an EIGRP hello to
//!   224.0.0.10 captured on a LAN or a tunnel interface, belongs to its sender's pairs (those whose
//!   NBMA, NHRP tunnel or EIGRP router address is the sender), not to a pair with the group. Over
//!   GRE the outer (NBMA) addresses already give the pair. Two routers seen only through multicast
//!   to the same group make one pair; a sender with no pair at all keeps a record with the group.

mod builder;
mod diagnose;
mod ikev2;
mod psk;
mod render;
mod report;
mod spoke_to_spoke;

pub use diagnose::{Finding, MAX_TUNNEL_MSS, REPLY_GRACE, Rule, Severity};
pub use ikev2::{
    Ikev2Child, Ikev2Exchange, Ikev2Notify, Ikev2PskCheck, Ikev2Sa, InvalidKe, child_transform,
    ikev2_proposal,
};
pub use psk::{PskCheck, PskFileError, PskPeer, PskTable};

pub use builder::SessionBuilder;
pub(crate) use report::Evidence;
pub use report::{
    ChildSa, Counter, EigrpSide, EspFlow, IkeSa, NhrpEvent, NhrpKind, NhrpTimeline, Overflow,
    PeerPair, Report, Seen,
};
pub use spoke_to_spoke::{
    Answer, DirectTunnel, FlowKey, IKE_GRACE, InnerFlow, Leg, MAX_FLOWS, MAX_NHRP_RECORDS, Purge,
    Redirect, Resolution, SWITCH_GRACE, SpokeToSpoke,
};

use dmvpn_eigrp as eigrp;
use dmvpn_isakmp as isakmp;
use dmvpn_nhrp as nhrp;

/// At most this many peer pairs are recorded; frames of further pairs are only counted
/// ([`Report::unpaired_frames`]).
pub const MAX_PAIRS: usize = 1 << 16;
/// At most this many NHRP events are kept per pair (the counters keep counting).
pub const MAX_EVENTS: usize = 256;
/// At most this many evidence frames are kept per finding.
pub const MAX_EVIDENCE: usize = 32;
/// At most this many ESP flows (direction and SPI) are itemised per pair; packets of further
/// SPIs are counted in [`PeerPair::overflow`].
pub const MAX_SPIS_PER_PAIR: usize = 1024;
/// At most this many ESP flows are itemised in all (about 200 bytes each).
pub const MAX_SPIS: usize = 1 << 17;
/// At most this many IKE phase 1 SAs (initiator cookies) are kept per pair; messages of further
/// SAs are counted in [`PeerPair::overflow`].
pub const MAX_IKE_SAS_PER_PAIR: usize = 256;
/// At most this many IKE phase 1 SAs are kept in all.
pub const MAX_IKE_SAS: usize = 1 << 15;
/// Inner packets remembered for hair-pin detection before the table starts afresh.
const MAX_HAIRPIN_KEYS: usize = 1 << 16;
/// Tunnel ↔ NBMA bindings kept per pair (a flood of registrations with ever new tunnel
/// addresses must not grow the record without bound).
const MAX_TUNNEL_BINDINGS: usize = 256;
/// Pairs remembered per address for attributing multicast packets to their sender's pairs.
const MAX_PAIRS_PER_ADDRESS: usize = 4096;
/// IPv6 fragmented ESP packets remembered to add their later fragments' bytes.
const MAX_IPV6_FRAGMENTS: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;
    use crate::capture::{CaptureReader, Frame, Timestamp};
    use crate::decode::Decoder;
    use crate::keys::EspKeys;

    /// Arbitrary frames (raw IP, then Ethernet) never panic the builder, the rules or the output.
    #[test]
    fn arbitrary_frames_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let mut decoder = Decoder::new(EspKeys::default());
            let mut builder = SessionBuilder::new();
            for (number, chunk) in bytes.chunks(96).enumerate() {
                for link_type in [LinkType::RAW, LinkType::ETHERNET] {
                    let frame = Frame {
                        number: number as u64 + 1,
                        timestamp: Timestamp::new(number as i64, 0),
                        link_type,
                        interface: 0,
                        data: chunk,
                        original_len: chunk.len() as u32,
                        offset: 0,
                    };
                    decoder.decode(&frame, &mut builder);
                }
            }
            let report = builder.finish();
            let _ = report.to_string();
            let mut json = Vec::new();
            report.write_json(&mut json);
        });
    }

    /// Every trigger capture with each byte of each frame flipped in turn (a frame at a time):
    /// the rules and the output hold up.
    #[test]
    fn mutated_trigger_captures_never_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/sessions");
        for name in [
            "healthy.pcap",
            "nhrp-auth-mismatch.pcap",
            "eigrp-split-horizon.pcap",
        ] {
            let mut frames = Vec::new();
            let mut reader = CaptureReader::open(format!("{dir}/{name}")).unwrap();
            while let Some(frame) = reader.next_frame().unwrap() {
                frames.push((frame.link_type, frame.timestamp, frame.data.to_vec()));
            }
            for (target, (_, _, data)) in frames.iter().enumerate() {
                for at in (0..data.len()).step_by(3) {
                    let mut decoder = Decoder::new(EspKeys::default());
                    let mut builder = SessionBuilder::new();
                    for (number, (link_type, timestamp, bytes)) in frames.iter().enumerate() {
                        let mut bytes = bytes.clone();
                        if number == target {
                            bytes[at] ^= 0xa5;
                        }
                        let frame = Frame {
                            number: number as u64 + 1,
                            timestamp: *timestamp,
                            link_type: *link_type,
                            interface: 0,
                            data: &bytes,
                            original_len: bytes.len() as u32,
                            offset: 0,
                        };
                        decoder.decode(&frame, &mut builder);
                    }
                    let report = builder.finish();
                    let _ = report.to_string();
                }
            }
        }
    }
}
