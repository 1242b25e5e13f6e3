//! The EIGRP packets of a capture, shared by the integration tests.
// Test helpers: a failure should panic with the value in the message.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;

/// One captured EIGRP packet: frame number (1-based) and the EIGRP bytes.
pub(crate) struct Frame {
    pub(crate) number: usize,
    pub(crate) eigrp: Vec<u8>,
}

/// The EIGRP payloads (IP protocol 88) of the Ethernet frames of a capture.
pub(crate) fn eigrp_frames(path: &Path) -> Vec<Frame> {
    dmvpn_testkit::frames(path)
        .iter()
        .filter_map(|frame| {
            let ip = dmvpn_testkit::ip_payload(frame.link, &frame.data)?;
            (ip.protocol == 88).then(|| Frame {
                number: frame.number,
                eigrp: ip.payload.to_vec(),
            })
        })
        .collect()
}
