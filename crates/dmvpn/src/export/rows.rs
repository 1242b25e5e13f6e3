//! The tables of an export (schema version [`super::SCHEMA_VERSION`], documented in
//! `crates/dmvpn/schemas/parquet.md`) and how rows are made: [`FrameRow`] is a decoder
//! [`Sink`] collecting one `frames` row per frame; the session tables come from the
//! [`Report`] of the same frames.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::capture::{Frame, Timestamp};
use crate::decode::{EspStatus, Layer, Sink};
use crate::session::{Report, Seen};

use super::table::{Column, Kind, Rows, Table, opt, req};

use Kind::{Bool, Int32, Int64, Text, Time};

/// Columns every table starts with: which export made the row (the file name's hash).
const EXPORT: Column = req("export_id", Text);

/// One row per frame.
pub(super) static FRAMES: Table = Table {
    name: "frames",
    columns: &[
        EXPORT,
        req("frame", Int64),
        req("source_file", Text),
        req("source_frame", Int64),
        req("time", Time),
        req("time_ns", Int64),
        opt("src", Text),
        opt("dst", Text),
        opt("hub", Text),
        opt("spoke", Text),
        opt("direction", Text),
        req("layers", Text),
        opt("esp_spi", Int64),
        opt("esp_seq", Int64),
        opt("esp_outcome", Text),
        opt("esp_replayed", Bool),
        opt("gre_key", Int64),
        opt("nhrp_op", Int32),
        opt("nhrp_code", Int32),
        opt("nhrp_request_id", Int64),
        opt("eigrp_opcode", Int32),
        opt("eigrp_as", Int32),
        opt("ike_exchange", Int32),
        opt("ike_icookie", Text),
        opt("ike_rcookie", Text),
        opt("ike_message_id", Int64),
        opt("inner_src", Text),
        opt("inner_dst", Text),
        opt("inner_proto", Int32),
        opt("inner_sport", Int32),
        opt("inner_dport", Int32),
        req("wire_len", Int64),
        req("cap_len", Int64),
        opt("error", Text),
    ],
};

/// Columns every session table has after [`EXPORT`]: the pair, hub first when known.
const PAIR: [Column; 3] = [req("peer_a", Text), req("peer_b", Text), opt("hub", Text)];

pub(super) static NHRP_EVENTS: Table = Table {
    name: "nhrp_events",
    columns: &[
        EXPORT,
        PAIR[0],
        PAIR[1],
        PAIR[2],
        req("frame", Int64),
        req("time", Time),
        req("from", Text),
        req("kind", Text),
        opt("request_id", Int64),
        opt("code", Int32),
        opt("code_name", Text),
        opt("hold_time", Int32),
        opt("refresh", Bool),
    ],
};

pub(super) static IKE_SAS: Table = Table {
    name: "ike_sas",
    columns: &[
        EXPORT,
        PAIR[0],
        PAIR[1],
        PAIR[2],
        req("icookie", Text),
        req("rcookie", Text),
        opt("initiator", Text),
        opt("exchange", Text),
        opt("proposal", Text),
        req("proposal_accepted", Bool),
        opt("lifetime", Int64),
        req("first_frame", Int64),
        req("first_time", Time),
        req("last_time", Time),
        req("messages", Int64),
        opt("established_time", Time),
        req("phase2_sas", Int64),
        req("notifications", Int64),
        req("deletes", Int64),
        opt("psk", Text),
    ],
};

pub(super) static ESP_FLOWS: Table = Table {
    name: "esp_flows",
    columns: &[
        EXPORT,
        PAIR[0],
        PAIR[1],
        PAIR[2],
        opt("src", Text),
        opt("dst", Text),
        req("spi", Int64),
        req("negotiated", Bool),
        req("packets", Int64),
        req("bytes", Int64),
        req("decrypted", Int64),
        req("no_key", Int64),
        req("icv_failed", Int64),
        req("replays", Int64),
        req("sequence_gaps", Int64),
        req("first_frame", Int64),
        req("first_time", Time),
        req("last_time", Time),
    ],
};

pub(super) static EIGRP_ADJACENCIES: Table = Table {
    name: "eigrp_adjacencies",
    columns: &[
        EXPORT,
        PAIR[0],
        PAIR[1],
        PAIR[2],
        req("side", Text),
        opt("router", Text),
        opt("autonomous_system", Int32),
        opt("k_values", Text),
        opt("hold_time", Int32),
        req("hellos", Int64),
        req("goodbyes", Int64),
        req("flaps", Int64),
        req("routes", Int64),
        opt("first_hello_time", Time),
        opt("last_hello_time", Time),
    ],
};

pub(super) static FINDINGS: Table = Table {
    name: "findings",
    columns: &[
        EXPORT,
        opt("peer_a", Text),
        opt("peer_b", Text),
        opt("hub", Text),
        req("rule", Text),
        req("severity", Text),
        req("message", Text),
        opt("first_frame", Int64),
        req("evidence_frames", Text),
    ],
};

/// The tables made from the session report.
pub(super) static SESSION_TABLES: [&Table; 5] = [
    &NHRP_EVENTS,
    &IKE_SAS,
    &ESP_FLOWS,
    &EIGRP_ADJACENCIES,
    &FINDINGS,
];

/// Nanoseconds since 1970 (saturating).
pub(super) fn nanos(at: Timestamp) -> i64 {
    at.secs
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(at.nanos))
}

/// Microseconds since 1970 (saturating): the time columns' unit, which every engine reads
/// (Spark refuses nanosecond timestamps); `frames.time_ns` keeps the nanoseconds.
pub(super) fn micros(at: Timestamp) -> i64 {
    at.secs
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(at.nanos / 1000))
}

/// The UTC day of a timestamp, `YYYY-MM-DD` (proleptic Gregorian, days from the civil algorithm).
pub(super) fn day(at: Timestamp) -> String {
    let days = at.secs.div_euclid(86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A hub address as a partition value: `none` without one; IPv6 colons escaped as Hive does.
pub(super) fn hub_value(hub: Option<IpAddr>) -> String {
    hub.map_or_else(
        || "none".to_owned(),
        |hub| hub.to_string().replace(':', "%3A"),
    )
}

/// What one frame's row holds, gathered from its layers.
#[derive(Debug, Default)]
pub(super) struct FrameRow {
    frame: u64,
    time: Timestamp,
    wire_len: u32,
    cap_len: usize,
    outer: Option<(IpAddr, IpAddr)>,
    inner: Option<(IpAddr, IpAddr, u8)>,
    ports: Option<(u16, u16)>,
    layers: String,
    esp: Option<(u32, Option<u32>, &'static str, bool)>,
    gre_key: Option<u32>,
    nhrp: Option<(u8, Option<u8>, Option<u32>)>,
    eigrp: Option<(u8, u16)>,
    ike: Option<(u8, [u8; 8], [u8; 8], u32)>,
    error: Option<String>,
    /// IP headers seen in this frame (the first is the outer pair).
    ips: u8,
}

impl Sink for FrameRow {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.layers.clear();
        *self = Self {
            layers: core::mem::take(&mut self.layers),
            frame: frame.number,
            time: frame.timestamp,
            wire_len: frame.original_len,
            cap_len: frame.data.len(),
            ..Self::default()
        };
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        if !self.layers.is_empty() {
            self.layers.push('/');
        }
        self.layers.push_str(layer.proto());
        match layer {
            Layer::Ipv4 { header, .. } => {
                self.ip(header.src.into(), header.dst.into(), header.protocol.0);
            }
            Layer::Ipv6(header) => {
                self.ip(header.src.into(), header.dst.into(), header.next_header.0);
            }
            Layer::Udp {
                src_port, dst_port, ..
            } => self.port(*src_port, *dst_port),
            Layer::Tcp(tcp) => self.port(tcp.src_port, tcp.dst_port),
            Layer::Esp(esp) if self.esp.is_none() => {
                let outcome = match esp.status {
                    EspStatus::Decrypted { .. } => "decrypted",
                    EspStatus::NoKey => "no_key",
                    EspStatus::IcvFailed => "icv_failed",
                    EspStatus::BadTrailer => "bad_trailer",
                    EspStatus::Truncated | EspStatus::Cut { .. } => "truncated",
                };
                let seq = (esp.status
                    != EspStatus::Cut {
                        seq_captured: false,
                    })
                .then_some(esp.seq);
                self.esp = Some((esp.spi, seq, outcome, esp.replayed));
            }
            Layer::Gre(gre) if self.gre_key.is_none() => self.gre_key = gre.key,
            Layer::Nhrp(nhrp) if self.nhrp.is_none() => {
                let control = nhrp.message.control();
                let code =
                    control.and_then(|control| control.cies.iter().next().map(|cie| cie.code.0));
                self.nhrp = Some((
                    nhrp.message.op_type().0,
                    code,
                    control.map(|control| control.request_id),
                ));
            }
            Layer::NhrpHeader(header) if self.nhrp.is_none() => {
                self.nhrp = Some((header.op_type.0, None, None));
            }
            Layer::Eigrp(repr) | Layer::EigrpBadChecksum { repr, .. } if self.eigrp.is_none() => {
                self.eigrp = Some((repr.opcode.0, repr.autonomous_system));
            }
            Layer::Isakmp(isakmp) if self.ike.is_none() => {
                let header = &isakmp.message.header;
                self.ike = Some((
                    header.exchange_type.0,
                    header.initiator_cookie,
                    header.responder_cookie,
                    header.message_id,
                ));
            }
            Layer::Error { proto, error } if self.error.is_none() => {
                self.error = Some(format!("{proto}: {error}"));
            }
            _ => {}
        }
    }
}

impl FrameRow {
    fn ip(&mut self, src: IpAddr, dst: IpAddr, protocol: u8) {
        if self.ips == 0 {
            self.outer = Some((src, dst));
        } else {
            // The innermost IP packet wins: what the tunnel carried.
            self.inner = Some((src, dst, protocol));
            self.ports = None;
        }
        self.ips = self.ips.saturating_add(1);
    }

    fn port(&mut self, src: u16, dst: u16) {
        if self.inner.is_some() {
            self.ports = Some((src, dst));
        }
    }

    /// The frame's time.
    pub(super) const fn time(&self) -> Timestamp {
        self.time
    }

    /// The hub of the frame's outer pair, if one side is a known hub.
    pub(super) fn hub(&self, hubs: &HashSet<IpAddr>) -> Option<IpAddr> {
        let (src, dst) = self.outer?;
        [src, dst].into_iter().find(|addr| hubs.contains(addr))
    }

    /// Appends the row (the caller gives the export ID, the source file and its frame number).
    pub(super) fn write(
        &self,
        rows: &mut Rows,
        export: &str,
        source: (&str, u64),
        hubs: &HashSet<IpAddr>,
    ) {
        let hub = self.hub(hubs);
        let spoke = hub.and_then(|hub| {
            self.outer
                .map(|(src, dst)| if src == hub { dst } else { src })
        });
        let direction = hub.and_then(|hub| {
            self.outer
                .map(|(src, _)| if src == hub { "from_hub" } else { "to_hub" })
        });
        rows.text(Some(export))
            .i64(Some(self.frame as i64))
            .text(Some(source.0))
            .i64(Some(source.1 as i64))
            .i64(Some(micros(self.time)))
            .i64(Some(nanos(self.time)))
            .display(self.outer.map(|o| o.0))
            .display(self.outer.map(|o| o.1))
            .display(hub)
            .display(spoke)
            .text(direction)
            .text(Some(&self.layers))
            .i64(self.esp.map(|esp| i64::from(esp.0)))
            .i64(self.esp.and_then(|esp| esp.1).map(i64::from))
            .text(self.esp.map(|esp| esp.2))
            .bool(self.esp.map(|esp| esp.3))
            .i64(self.gre_key.map(i64::from))
            .i32(self.nhrp.map(|nhrp| i32::from(nhrp.0)))
            .i32(self.nhrp.and_then(|nhrp| nhrp.1).map(i32::from))
            .i64(self.nhrp.and_then(|nhrp| nhrp.2).map(i64::from))
            .i32(self.eigrp.map(|eigrp| i32::from(eigrp.0)))
            .i32(self.eigrp.map(|eigrp| i32::from(eigrp.1)))
            .i32(self.ike.map(|ike| i32::from(ike.0)));
        rows.display(self.ike.as_ref().map(|ike| Hex(&ike.1)))
            .display(self.ike.as_ref().map(|ike| Hex(&ike.2)))
            .i64(self.ike.map(|ike| i64::from(ike.3)))
            .display(self.inner.map(|i| i.0))
            .display(self.inner.map(|i| i.1))
            .i32(self.inner.map(|i| i32::from(i.2)))
            .i32(self.ports.map(|p| i32::from(p.0)))
            .i32(self.ports.map(|p| i32::from(p.1)))
            .i64(Some(i64::from(self.wire_len)))
            .i64(Some(self.cap_len as i64))
            .text(self.error.as_deref());
    }
}

/// Bytes as lowercase hex digits.
struct Hex<'a>(&'a [u8]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// The pair a session row is about: its addresses (hub first when known) and its hub.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pair {
    pub(super) a: Option<IpAddr>,
    pub(super) b: Option<IpAddr>,
    pub(super) hub: Option<IpAddr>,
}

impl Pair {
    /// The `export_id`, `peer_a`, `peer_b` and `hub` cells every session table starts with.
    pub(super) fn write(&self, rows: &mut Rows, export: &str) {
        rows.text(Some(export))
            .display(self.a)
            .display(self.b)
            .display(self.hub);
    }
}

/// Where session rows go: the table, the time that places the row in a day, the pair, and the
/// cells after the pair's (the receiver writes the pair's cells and ends the row).
pub(super) type Emit<'e, E> =
    dyn FnMut(&'static Table, Timestamp, Pair, &dyn Fn(&mut Rows)) -> Result<(), E> + 'e;

/// The hubs of a report: the pairs' `a` sides known to be NHSs.
pub(super) fn hubs(report: &Report) -> HashSet<IpAddr> {
    report
        .peers
        .iter()
        .filter(|peer| peer.a_is_hub)
        .map(|peer| peer.a)
        .collect()
}

/// Every row of the session tables of a report, handed to `emit`.
pub(super) fn session_rows<E>(report: &Report, emit: &mut Emit<'_, E>) -> Result<(), E> {
    let time = |seen: &Seen| micros(seen.time);
    for peer in &report.peers {
        let pair = Pair {
            a: Some(peer.a),
            b: Some(peer.b),
            hub: peer.a_is_hub.then_some(peer.a),
        };
        for event in &peer.nhrp.events {
            emit(&NHRP_EVENTS, event.seen.time, pair, &|rows| {
                nhrp_event(rows, event, time(&event.seen));
            })?;
        }
        for sa in &peer.ike {
            emit(&IKE_SAS, sa.first.time, pair, &|rows| {
                rows.display(Some(Hex(&sa.icookie)))
                    .display(Some(Hex(&sa.rcookie)))
                    .display(sa.initiator)
                    .text(sa.exchange)
                    .text(sa.proposal.as_deref())
                    .bool(Some(sa.proposal_accepted))
                    .i64(sa.lifetime.map(|l| l as i64))
                    .i64(Some(sa.first.frame as i64))
                    .i64(Some(time(&sa.first)))
                    .i64(Some(time(&sa.last)))
                    .i64(Some(sa.messages as i64))
                    .i64(sa.established.as_ref().map(time))
                    .i64(Some(sa.phase2.len() as i64))
                    .i64(Some(sa.notifications.len() as i64))
                    .i64(Some(sa.deletes.len() as i64))
                    .display(sa.psk.as_ref().map(|psk| format!("{psk:?}")));
            })?;
        }
        for flow in &peer.esp {
            emit(&ESP_FLOWS, flow.first.time, pair, &|rows| {
                rows.display(flow.src)
                    .display(flow.dst)
                    .i64(Some(i64::from(flow.spi)))
                    .bool(Some(flow.negotiated));
                let counts = flow.counts().map(|c| c.1);
                for count in counts
                    .into_iter()
                    .chain([flow.sequence_gaps(), flow.first.frame])
                {
                    rows.i64(Some(count as i64));
                }
                rows.i64(Some(time(&flow.first)))
                    .i64(Some(time(&flow.last)));
            })?;
        }
        for (side, eigrp) in ["a", "b"].into_iter().zip(&peer.eigrp) {
            if eigrp.hellos == 0 && eigrp.router.is_none() {
                continue;
            }
            let first = eigrp.first_hello.as_ref().unwrap_or(&peer.first);
            emit(&EIGRP_ADJACENCIES, first.time, pair, &|rows| {
                let k = eigrp.k.map(|k| k.map(|k| k.to_string()).join(","));
                rows.text(Some(side))
                    .display(eigrp.router)
                    .i32(eigrp.autonomous_system.map(i32::from))
                    .text(k.as_deref())
                    .i32(eigrp.hold_time.map(i32::from));
                for count in [eigrp.hellos, eigrp.goodbyes] {
                    rows.i64(Some(count as i64));
                }
                rows.i64(Some(eigrp.downs.len() as i64))
                    .i64(Some(eigrp.routes.len() as i64))
                    .i64(eigrp.first_hello.as_ref().map(time))
                    .i64(eigrp.last_hello.as_ref().map(time));
            })?;
        }
    }
    let hubs = hubs(report);
    for finding in &report.findings {
        let peer = finding.peers.and_then(|(a, b)| {
            report
                .peers
                .iter()
                .find(|peer| (peer.a, peer.b) == (a, b) || (peer.a, peer.b) == (b, a))
        });
        // The day of the pair's first frame (of the export's, for a finding without a pair).
        let at = peer.map_or_else(|| report.start.unwrap_or_default(), |peer| peer.first.time);
        let pair = Pair {
            a: finding.peers.map(|p| p.0),
            b: finding.peers.map(|p| p.1),
            hub: finding
                .peers
                .and_then(|(a, b)| [a, b].into_iter().find(|addr| hubs.contains(addr))),
        };
        emit(&FINDINGS, at, pair, &|rows| {
            let frames: Vec<String> = finding.frames.iter().map(u64::to_string).collect();
            rows.text(Some(finding.rule.id()))
                .text(Some(finding.severity.name()))
                .text(Some(&finding.message))
                .i64(finding.frames.first().map(|f| *f as i64))
                .text(Some(&frames.join(",")));
        })?;
    }
    Ok(())
}

/// An NHRP event's cells after the pair's.
fn nhrp_event(rows: &mut Rows, event: &crate::session::NhrpEvent, time: i64) {
    let fields = event.kind.fields();
    rows.i64(Some(event.seen.frame as i64))
        .i64(Some(time))
        .display(Some(event.from))
        .text(Some(fields.kind))
        .i64(fields.request_id.map(i64::from))
        .i32(fields.code.map(i32::from))
        .text(fields.code_name)
        .i32(fields.hold_time.map(i32::from))
        .bool(fields.refresh);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_civil_dates() {
        assert_eq!(day(Timestamp::new(0, 0)), "1970-01-01");
        assert_eq!(day(Timestamp::new(1_705_270_000, 0)), "2024-01-14");
        assert_eq!(day(Timestamp::new(1_705_276_800, 0)), "2024-01-15");
        assert_eq!(day(Timestamp::new(951_782_400, 0)), "2000-02-29");
        assert_eq!(day(Timestamp::new(-1, 0)), "1969-12-31");
    }
}
