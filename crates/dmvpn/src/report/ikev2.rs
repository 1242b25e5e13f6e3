//! The IKEv2 SAs of a pair in the HTML report: their timeline row (SA span, exchanges, Child
//! SAs, errors, Deletes), the frames they place on it, and the status column's words.

use std::collections::BTreeMap;

use crate::capture::Timestamp;
use crate::session::{PeerPair, Seen};

use super::{Mark, Shape};

/// The pair's IKEv2 SAs that came up, and how many there are.
pub(super) fn up(pair: &PeerPair) -> (usize, usize) {
    let up = pair
        .ikev2
        .iter()
        .filter(|sa| sa.established.is_some())
        .count();
    (up, pair.ikev2.len())
}

/// Adds the frames of the pair's IKEv2 records to `map` (frame → time).
pub(super) fn frame_times(pair: &PeerPair, map: &mut BTreeMap<u64, Timestamp>) {
    let mut add = |seen: Seen| {
        map.insert(seen.frame, seen.time);
    };
    for sa in &pair.ikev2 {
        add(sa.first);
        add(sa.last);
        for e in &sa.exchanges {
            e.request.into_iter().chain(e.response).for_each(&mut add);
        }
        sa.errors.iter().for_each(|e| add(e.seen));
    }
}

/// The timeline row `IKEv2`: each SA as a bar to its IKE_AUTH answer, its Child SAs, error
/// notifications and Deletes as dots.
pub(super) fn marks(pair: &PeerPair) -> Vec<Mark> {
    let mut marks = Vec::new();
    for sa in &pair.ikev2 {
        let spi: String = sa.spi_i.iter().map(|b| format!("{b:02x}")).collect();
        let (end, colour, state) = match sa.established {
            Some(up) => (up.time, "#27ae60", format!("up at frame {}", up.frame)),
            None => (sa.last.time, "#e67e22", "not seen to complete".to_owned()),
        };
        let proposal = sa.proposal.as_deref().unwrap_or_default();
        let (first, last) = (sa.first.frame, sa.last.frame);
        marks.push(Mark {
            shape: Shape::Dot,
            time: sa.first.time.min(end),
            until: Some(sa.first.time.max(end)),
            colour,
            what: format!("frames {first}\u{2013}{last}: IKEv2 i={spi} {proposal} {state}"),
        });
        for child in &sa.children {
            let spis: Vec<String> = child.spis.iter().map(|s| format!("{s:#010x}")).collect();
            marks.push(Mark {
                shape: Shape::Dot,
                time: child.first.time,
                until: None,
                colour: if child.refused.is_some() {
                    "#c0392b"
                } else {
                    "#2f80c0"
                },
                what: format!(
                    "frame {}: Child SA ({} MID {}) {} {}{}",
                    child.first.frame,
                    child.exchange,
                    child.message_id,
                    spis.join(" "),
                    child.transform.as_deref().unwrap_or(""),
                    child
                        .refused
                        .as_deref()
                        .map_or_else(String::new, |r| format!(", refused: {r}"))
                ),
            });
        }
        for error in &sa.errors {
            marks.push(Mark {
                shape: Shape::Dot,
                time: error.seen.time,
                until: None,
                colour: "#c0392b",
                what: format!(
                    "frame {}: {} in {} from {}",
                    error.seen.frame, error.ty, error.exchange, error.from
                ),
            });
        }
        for (seen, protocol, _) in &sa.deletes {
            marks.push(Mark {
                shape: Shape::Dot,
                time: seen.time,
                until: None,
                colour: "#7f8c8d",
                what: format!("frame {}: delete {protocol}", seen.frame),
            });
        }
    }
    marks
}
