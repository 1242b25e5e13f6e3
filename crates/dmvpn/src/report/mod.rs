//! The session report as one self-contained HTML page (`dmvpn sessions --format html`).
//!
//! The page needs no network access and no JavaScript: inline CSS, and inline SVG for the
//! hub-and-spoke graph (hubs in the centre, the other peers around them, one edge per peer pair
//! coloured by its state) and for one timeline per pair (NHRP, IKE, ESP and EIGRP events on a
//! common time axis; hovering a mark shows its frame and what it was, through SVG `<title>`).
//! The findings follow, each with its evidence frames. Everything taken from the capture (addresses,
//! names, messages, the title) is escaped; the markup is well-formed XML as well as HTML.
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::Decoder;
//! use dmvpn::keys::EspKeys;
//! use dmvpn::session::SessionBuilder;
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?;
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys))?;
//! let mut page = Vec::new();
//! dmvpn::report::html(&report, "phase1.pcap", &mut page)?;
//! let page = String::from_utf8(page)?;
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains("192.0.2.11"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::PI;
use std::fmt::{self, Write as _};
use std::io;
use std::net::IpAddr;

use crate::capture::Timestamp;
use crate::session::{
    Finding, MAX_IKE_SAS, MAX_IKE_SAS_PER_PAIR, MAX_SPIS, MAX_SPIS_PER_PAIR, NhrpKind, PeerPair,
    PskCheck, Report, Severity,
};

/// Writes `report` as one HTML page titled after `title` (e.g. the capture's file name).
///
/// # Errors
///
/// Only those of `out`.
pub fn html(report: &Report, title: &str, out: &mut impl io::Write) -> io::Result<()> {
    let mut page = String::with_capacity(64 * 1024);
    // Writing to a String cannot fail.
    let _ = write_page(report, title, &mut page);
    out.write_all(page.as_bytes())
}

/// Text with `&`, `<`, `>`, `"` and `'` escaped, for element content and attribute values.
pub struct Escape<'a>(pub &'a str);

impl fmt::Display for Escape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// Escapes anything that displays.
fn esc(value: impl fmt::Display) -> String {
    Escape(&value.to_string()).to_string()
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}.mono{font-family:ui-monospace,monospace}
.error{color:#b02a1f;font-weight:bold}.warning{color:#b35c00;font-weight:bold}.info{color:#1f5fa0}
.ok{color:#1e7d3a}.bad{color:#b02a1f}.muted{color:#777}
svg{background:#fafafa;border:1px solid #ddd;max-width:100%}
svg text{font-family:system-ui,sans-serif}
.legend span{display:inline-block;margin-right:1.2em}.swatch{display:inline-block;width:1.6em;height:.5em;margin-right:.3em;vertical-align:middle}
";

fn write_page(report: &Report, title: &str, s: &mut String) -> fmt::Result {
    let start = report.start.unwrap_or_default();
    let end = report.end.unwrap_or(start);
    let duration = end.saturating_duration_since(start).as_secs_f64();
    writeln!(s, "<!DOCTYPE html>")?;
    writeln!(s, "<html lang=\"en\">")?;
    writeln!(
        s,
        "<head><meta charset=\"utf-8\"/><title>DMVPN sessions: {}</title><style>{STYLE}</style></head>",
        Escape(title)
    )?;
    writeln!(s, "<body>")?;
    writeln!(
        s,
        "<h1>DMVPN sessions: <span class=\"mono\">{}</span></h1>",
        Escape(title)
    )?;
    writeln!(
        s,
        "<p>{} frames over {duration:.3} s, {} peer pair(s), {} finding(s).</p>",
        report.frames,
        report.peers.len(),
        report.findings.len()
    )?;
    if report.out_of_order > 0 {
        writeln!(
            s,
            "<p class=\"warning\">Timestamps out of order: {} frame(s) earlier than the frame before; \
             times are from the earliest frame and the timelines are drawn by time.</p>",
            report.out_of_order
        )?;
    }
    let over = &report.overflow;
    if !over.is_empty() {
        writeln!(
            s,
            "<p class=\"warning\">Not itemised, over the caps ({MAX_SPIS_PER_PAIR} SPIs per pair, \
             {MAX_SPIS} in all; {MAX_IKE_SAS_PER_PAIR} IKE SAs per pair, {MAX_IKE_SAS} in all): {} ESP \
             packet(s) ({} bytes), {} ISAKMP message(s).</p>",
            over.esp.packets, over.esp.bytes, over.ike_messages
        )?;
    }
    if report.unpaired_frames > 0 {
        writeln!(
            s,
            "<p class=\"warning\">{} frames of further pairs were not recorded (too many peers).</p>",
            report.unpaired_frames
        )?;
    }
    writeln!(s, "<h2 id=\"topology\">Topology</h2>")?;
    topology(report, s)?;
    writeln!(s, "<h2 id=\"findings\">Findings</h2>")?;
    findings(&report.findings, s)?;
    writeln!(s, "<h2 id=\"peers\">Peers</h2>")?;
    for (index, pair) in report.peers.iter().enumerate() {
        peer(report, index, pair, start, duration, s)?;
    }
    writeln!(s, "</body>")?;
    writeln!(s, "</html>")
}

/// The worst severity among the findings about `pair`.
fn worst(report: &Report, pair: &PeerPair) -> Option<Severity> {
    report
        .findings
        .iter()
        .filter(|f| concerns(f, pair))
        .map(|f| f.severity)
        .max()
}

fn concerns(finding: &Finding, pair: &PeerPair) -> bool {
    finding
        .peers
        .is_some_and(|(x, y)| (x == pair.a && y == pair.b) || (x == pair.b && y == pair.a))
}

/// What is up on a pair.
struct State {
    registered: bool,
    ike: bool,
    esp: bool,
    eigrp: bool,
}

impl State {
    fn of(pair: &PeerPair) -> Self {
        Self {
            registered: pair.nhrp.successes > 0,
            ike: pair.ike.iter().any(|sa| sa.established.is_some()),
            esp: pair.esp.iter().any(|flow| flow.packets.packets > 0),
            eigrp: pair.eigrp.iter().all(|side| side.hellos > 0),
        }
    }

    fn label(&self) -> String {
        let mark = |up: bool| if up { "\u{2713}" } else { "\u{2717}" };
        format!(
            "NHRP{} IKE{} ESP{} EIGRP{}",
            mark(self.registered),
            mark(self.ike),
            mark(self.esp),
            mark(self.eigrp)
        )
    }

    fn colour(&self, worst: Option<Severity>) -> &'static str {
        match worst {
            Some(Severity::Error) => "#c0392b",
            Some(Severity::Warning) => "#e67e22",
            _ if self.registered && self.eigrp => "#27ae60",
            _ if self.registered || self.ike || self.eigrp => "#2f80c0",
            _ => "#9aa5ab",
        }
    }
}

/// The tunnel addresses a node announced (NHRP bindings, EIGRP hello sources).
fn tunnel_addresses(report: &Report) -> BTreeMap<IpAddr, BTreeSet<IpAddr>> {
    let mut map: BTreeMap<IpAddr, BTreeSet<IpAddr>> = BTreeMap::new();
    for pair in &report.peers {
        for (tunnel, nbma) in &pair.tunnel {
            if *nbma == pair.a || *nbma == pair.b {
                map.entry(*nbma).or_default().insert(*tunnel);
            }
        }
        for (side, nbma) in pair.eigrp.iter().zip([pair.a, pair.b]) {
            if let Some(router) = side.router {
                map.entry(nbma).or_default().insert(router);
            }
        }
    }
    map
}

fn topology(report: &Report, s: &mut String) -> fmt::Result {
    const W: f64 = 760.0;
    const H: f64 = 620.0;
    let (cx, cy) = (W / 2.0, H / 2.0 - 10.0);
    let mut hubs: Vec<IpAddr> = Vec::new();
    let mut others: Vec<IpAddr> = Vec::new();
    for pair in &report.peers {
        if pair.a_is_hub && !hubs.contains(&pair.a) {
            hubs.push(pair.a);
        }
    }
    if hubs.is_empty() {
        // No NHS seen: the busiest node goes in the centre.
        let mut degree: BTreeMap<IpAddr, usize> = BTreeMap::new();
        for pair in &report.peers {
            *degree.entry(pair.a).or_default() += 1;
            *degree.entry(pair.b).or_default() += 1;
        }
        if let Some((&node, _)) = degree.iter().max_by_key(|(_, d)| **d) {
            hubs.push(node);
        }
    }
    for pair in &report.peers {
        for node in [pair.a, pair.b] {
            if !hubs.contains(&node) && !others.contains(&node) {
                others.push(node);
            }
        }
    }
    let mut place: BTreeMap<IpAddr, (f64, f64)> = BTreeMap::new();
    let ring = |i: usize, n: usize, r: f64| {
        let angle = 2.0 * PI * i as f64 / n.max(1) as f64 - PI / 2.0;
        (cx + r * angle.cos(), cy + r * angle.sin())
    };
    for (i, hub) in hubs.iter().enumerate() {
        let at = if hubs.len() == 1 {
            (cx, cy)
        } else {
            ring(i, hubs.len(), 70.0)
        };
        place.insert(*hub, at);
    }
    for (i, node) in others.iter().enumerate() {
        place.insert(*node, ring(i, others.len(), 230.0));
    }
    let tunnels = tunnel_addresses(report);
    writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"hub-and-spoke graph\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">"
    )?;
    for pair in &report.peers {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (place.get(&pair.a), place.get(&pair.b)) else {
            continue;
        };
        let state = State::of(pair);
        let worst = worst(report, pair);
        let colour = state.colour(worst);
        let dash = if hubs.contains(&pair.a) || hubs.contains(&pair.b) {
            ""
        } else {
            " stroke-dasharray=\"6 4\""
        };
        let label = state.label();
        let findings = report.findings.iter().filter(|f| concerns(f, pair)).count();
        // Labels sit nearer the outer end, away from the crowded hub.
        let along = if hubs.contains(&pair.a) { 0.62 } else { 0.5 };
        writeln!(
            s,
            "<g class=\"edge\"><title>{} \u{2194} {}: {} ({findings} finding(s))</title>\
             <line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{colour}\" stroke-width=\"4\"{dash}/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{colour}\" stroke=\"#fafafa\" stroke-width=\"3\" paint-order=\"stroke\">{}{}</text></g>",
            esc(pair.a),
            esc(pair.b),
            esc(&label),
            x1 + (x2 - x1) * along,
            y1 + (y2 - y1) * along - 4.0,
            esc(&label),
            if findings > 0 {
                format!(" \u{26a0}{findings}")
            } else {
                String::new()
            }
        )?;
    }
    for (node, &(x, y)) in &place {
        let hub = hubs.contains(node);
        let (r, fill) = if hub {
            (26.0, "#34495e")
        } else {
            (16.0, "#5d6d7e")
        };
        let tunnel: Vec<String> = tunnels
            .get(node)
            .map(|set| set.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let role = if hub { "hub" } else { "peer" };
        writeln!(
            s,
            "<g class=\"node\"><title>{role} {} tunnel {}</title><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{fill}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">{}</text></g>",
            esc(node),
            esc(tunnel.join(", ")),
            y + r + 14.0,
            esc(node),
            y + r + 27.0,
            esc(tunnel.join(", "))
        )?;
    }
    writeln!(s, "</svg>")?;
    writeln!(
        s,
        "<p class=\"legend\"><span><span class=\"swatch\" style=\"background:#27ae60\"></span>registered, EIGRP up</span>\
         <span><span class=\"swatch\" style=\"background:#2f80c0\"></span>partly up</span>\
         <span><span class=\"swatch\" style=\"background:#9aa5ab\"></span>nothing up</span>\
         <span><span class=\"swatch\" style=\"background:#e67e22\"></span>warning</span>\
         <span><span class=\"swatch\" style=\"background:#c0392b\"></span>error</span>\
         <span>dashed: between two non-hub peers; \u{2713}/\u{2717}: NHRP registered, IKE phase 1 up, ESP seen, EIGRP hellos both ways</span></p>"
    )
}

fn findings(list: &[Finding], s: &mut String) -> fmt::Result {
    if list.is_empty() {
        return writeln!(s, "<p class=\"ok\">No findings.</p>");
    }
    writeln!(
        s,
        "<table class=\"findings\"><thead><tr><th>severity</th><th>rule</th><th>peers</th><th>what</th><th>evidence frames</th></tr></thead><tbody>"
    )?;
    for finding in list {
        let peers = finding
            .peers
            .map_or_else(String::new, |(a, b)| format!("{a} \u{2194} {b}"));
        let frames: Vec<String> = finding.frames.iter().map(u64::to_string).collect();
        writeln!(
            s,
            "<tr class=\"finding\" data-rule=\"{}\"><td class=\"{}\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            esc(finding.rule),
            finding.severity.name(),
            finding.severity.name(),
            esc(finding.rule),
            esc(peers),
            esc(&finding.message),
            esc(frames.join(", "))
        )?;
    }
    writeln!(s, "</tbody></table>")
}

/// One mark on a timeline row.
struct Mark {
    time: Timestamp,
    until: Option<Timestamp>,
    colour: &'static str,
    what: String,
}

fn peer(
    report: &Report,
    index: usize,
    pair: &PeerPair,
    start: Timestamp,
    duration: f64,
    s: &mut String,
) -> fmt::Result {
    let rel = |t: Timestamp| t.saturating_duration_since(start).as_secs_f64();
    writeln!(
        s,
        "<section class=\"peer\" id=\"peer-{index}\" data-a=\"{}\" data-b=\"{}\">",
        esc(pair.a),
        esc(pair.b)
    )?;
    let role = if pair.a_is_hub { "hub" } else { "peer" };
    writeln!(
        s,
        "<h3>{role} {} \u{2194} {}</h3>",
        esc(pair.a),
        esc(pair.b)
    )?;
    let state = State::of(pair);
    writeln!(
        s,
        "<p>{} frames, +{:.3} s to +{:.3} s (frames {}\u{2013}{}); {}</p>",
        pair.frames,
        rel(pair.earliest),
        rel(pair.latest),
        pair.first.frame,
        pair.last.frame,
        esc(state.label())
    )?;

    // The timeline.
    let mut rows: Vec<(&str, Vec<Mark>)> = Vec::new();
    let mut nhrp = Vec::new();
    for event in &pair.nhrp.events {
        let colour = match event.kind {
            NhrpKind::RegistrationReply { code: 0, .. } => "#27ae60",
            NhrpKind::RegistrationReply { .. } | NhrpKind::ErrorIndication { .. } => "#c0392b",
            _ => "#2f80c0",
        };
        nhrp.push(Mark {
            time: event.seen.time,
            until: None,
            colour,
            what: format!(
                "frame {}: {} from {}",
                event.seen.frame, event.kind, event.from
            ),
        });
    }
    rows.push(("NHRP", nhrp));
    let mut ike = Vec::new();
    for sa in &pair.ike {
        let cookie: String = sa.icookie.iter().map(|b| format!("{b:02x}")).collect();
        let until = sa.established.map_or(sa.last.time, |up| up.time);
        ike.push(Mark {
            time: sa.first.time.min(until),
            until: Some(sa.first.time.max(until)),
            colour: if sa.established.is_some() {
                "#27ae60"
            } else {
                "#e67e22"
            },
            what: format!(
                "frames {}\u{2013}{}: {} i={cookie} {}",
                sa.first.frame,
                sa.last.frame,
                sa.exchange.unwrap_or("IKE"),
                sa.established.map_or_else(
                    || "not seen to complete".to_owned(),
                    |up| format!("up at frame {}", up.frame)
                )
            ),
        });
        for (seen, name) in &sa.notifications {
            ike.push(Mark {
                time: seen.time,
                until: None,
                colour: "#c0392b",
                what: format!("frame {}: notification {name}", seen.frame),
            });
        }
        for child in &sa.phase2 {
            ike.push(Mark {
                time: child.first.time,
                until: None,
                colour: "#2f80c0",
                what: format!(
                    "frame {}: Quick Mode {:#010x} {}",
                    child.first.frame,
                    child.message_id,
                    child.transform.as_deref().unwrap_or("")
                ),
            });
        }
        for (seen, protocol, _) in &sa.deletes {
            ike.push(Mark {
                time: seen.time,
                until: None,
                colour: "#7f8c8d",
                what: format!("frame {}: delete {protocol}", seen.frame),
            });
        }
    }
    rows.push(("IKE", ike));
    let esp = pair
        .esp
        .iter()
        .map(|flow| Mark {
            time: flow.earliest,
            until: Some(flow.latest),
            colour: if flow.icv_failed > 0 || flow.replays > 0 {
                "#c0392b"
            } else if flow.decrypted > 0 {
                "#27ae60"
            } else {
                "#2f80c0"
            },
            what: format!(
                "SPI {:#010x} {} \u{2192} {}: {} packets, {} decrypted, {} ICV failures, {} replays (frames {}\u{2013}{})",
                flow.spi,
                flow.src.map_or_else(|| "?".to_owned(), |a| a.to_string()),
                flow.dst.map_or_else(|| "?".to_owned(), |a| a.to_string()),
                flow.packets.packets,
                flow.decrypted,
                flow.icv_failed,
                flow.replays,
                flow.first.frame,
                flow.last.frame
            ),
        })
        .collect();
    rows.push(("ESP", esp));
    let mut eigrp = Vec::new();
    for (side, nbma) in pair.eigrp.iter().zip([pair.a, pair.b]) {
        if let (Some(first), Some(last)) = (side.first_hello, side.last_hello) {
            eigrp.push(Mark {
                time: first.time.min(last.time),
                until: Some(first.time.max(last.time)),
                colour: if side.downs.is_empty() { "#27ae60" } else { "#e67e22" },
                what: format!(
                    "hellos from {nbma}: {} (frames {}\u{2013}{}), hold {} s, {} down(s), {} goodbye(s)",
                    side.hellos,
                    first.frame,
                    last.frame,
                    side.hold_time.unwrap_or(0),
                    side.downs.len(),
                    side.goodbyes
                ),
            });
        }
    }
    rows.push(("EIGRP", eigrp));
    timeline(&rows, start, duration, s)?;

    // Details.
    writeln!(s, "<table class=\"details\"><tbody>")?;
    let nh = &pair.nhrp;
    writeln!(
        s,
        "<tr><th>NHRP</th><td>{} registration request(s) ({} refresh(es)), {} success(es), {} refusal(s){}</td></tr>",
        nh.requests,
        nh.refreshes,
        nh.successes,
        nh.refusals,
        nh.last_hold_time
            .map_or_else(String::new, |h| format!(", hold time {h} s"))
    )?;
    for sa in &pair.ike {
        let cookie: String = sa.icookie.iter().map(|b| format!("{b:02x}")).collect();
        let psk = match &sa.psk {
            Some(check @ PskCheck::Mismatch { .. }) => {
                format!("<br/><span class=\"bad\">{}</span>", esc(check))
            }
            Some(check @ PskCheck::Verified { .. }) => {
                format!("<br/><span class=\"ok\">{}</span>", esc(check))
            }
            Some(check) => format!("<br/><span class=\"muted\">{}</span>", esc(check)),
            None => String::new(),
        };
        writeln!(
            s,
            "<tr><th>IKE {}</th><td>{}{}, {} message(s), {}; {} Quick Mode(s), {} rekey(s){psk}</td></tr>",
            esc(&cookie),
            esc(sa.exchange.unwrap_or("phase 1 not seen")),
            esc(sa
                .proposal
                .as_deref()
                .map_or_else(String::new, |p| format!(" {p}"))),
            sa.messages,
            sa.established.map_or_else(
                || "not seen to complete".to_owned(),
                |up| format!("up at frame {}", up.frame)
            ),
            sa.phase2.len(),
            sa.phase2.iter().filter(|c| c.rekey).count()
        )?;
    }
    for flow in &pair.esp {
        writeln!(
            s,
            "<tr><th>ESP {:#010x}</th><td>{} packets, {} bytes, {} decrypted, {} ICV failure(s), {} replay(s), {} sequence gap(s)</td></tr>",
            flow.spi,
            flow.packets.packets,
            flow.packets.bytes,
            flow.decrypted,
            flow.icv_failed,
            flow.replays,
            flow.sequence_gaps()
        )?;
    }
    for (side, nbma) in pair.eigrp.iter().zip([pair.a, pair.b]) {
        if side.hellos == 0 && side.routes.is_empty() {
            continue;
        }
        let k = side.k.map_or_else(String::new, |k| {
            k.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("/")
        });
        writeln!(
            s,
            "<tr><th>EIGRP {}</th><td>router {}, AS {}, K {}, {} hello(s), {} route(s) advertised</td></tr>",
            esc(nbma),
            esc(side
                .router
                .map_or_else(|| "?".to_owned(), |r| r.to_string())),
            side.autonomous_system
                .map_or_else(|| "?".to_owned(), |a| a.to_string()),
            esc(k),
            side.hellos,
            side.routes.len()
        )?;
    }
    if !pair.inner.is_empty() {
        let inner: Vec<String> = pair
            .inner
            .iter()
            .map(|(name, c)| format!("{name} {} ({} bytes)", c.packets, c.bytes))
            .collect();
        writeln!(
            s,
            "<tr><th>inside</th><td>{}</td></tr>",
            esc(inner.join(", "))
        )?;
    }
    writeln!(s, "</tbody></table>")?;
    let own: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| concerns(f, pair))
        .collect();
    if !own.is_empty() {
        writeln!(s, "<ul class=\"peer-findings\">")?;
        for finding in own {
            let frames: Vec<String> = finding.frames.iter().map(u64::to_string).collect();
            writeln!(
                s,
                "<li><span class=\"{}\">{}</span> <span class=\"mono\">{}</span>: {} (frames {})</li>",
                finding.severity.name(),
                finding.severity.name(),
                esc(finding.rule),
                esc(&finding.message),
                esc(frames.join(", "))
            )?;
        }
        writeln!(s, "</ul>")?;
    }
    writeln!(s, "</section>")
}

fn timeline(
    rows: &[(&str, Vec<Mark>)],
    start: Timestamp,
    duration: f64,
    s: &mut String,
) -> fmt::Result {
    const LEFT: f64 = 70.0;
    const WIDTH: f64 = 820.0;
    const ROW: f64 = 26.0;
    let span = if duration > 0.0 { duration } else { 1.0 };
    let x = |t: Timestamp| {
        LEFT + WIDTH * (t.saturating_duration_since(start).as_secs_f64() / span).min(1.0)
    };
    let height = ROW * rows.len() as f64 + 30.0;
    writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {:.0} {height:.0}\">",
        LEFT + WIDTH + 20.0,
        LEFT + WIDTH + 20.0
    )?;
    for (i, (name, marks)) in rows.iter().enumerate() {
        let y = ROW * i as f64 + ROW / 2.0 + 4.0;
        writeln!(
            s,
            "<text x=\"6\" y=\"{:.1}\" font-size=\"12\">{name}</text><line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>",
            y + 4.0,
            LEFT + WIDTH
        )?;
        for mark in marks {
            let x1 = x(mark.time);
            match mark.until {
                Some(until) => {
                    let width = (x(until) - x1).max(3.0);
                    writeln!(
                        s,
                        "<rect x=\"{x1:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"8\" fill=\"{}\" opacity=\"0.8\"><title>{}</title></rect>",
                        y - 4.0,
                        mark.colour,
                        esc(&mark.what)
                    )?;
                }
                None => writeln!(
                    s,
                    "<circle cx=\"{x1:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{}\"><title>{}</title></circle>",
                    mark.colour,
                    esc(&mark.what)
                )?,
            }
        }
    }
    let axis = ROW * rows.len() as f64 + 8.0;
    writeln!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{axis:.1}\" x2=\"{:.1}\" y2=\"{axis:.1}\" stroke=\"#888\"/>",
        LEFT + WIDTH
    )?;
    for tick in 0..=5 {
        let fraction = f64::from(tick) / 5.0;
        writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">+{:.1}s</text>",
            LEFT + WIDTH * fraction,
            axis + 14.0,
            span * fraction
        )?;
    }
    writeln!(s, "</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            Escape("<a href=\"x\">'&'</a>").to_string(),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(Escape("plain").to_string(), "plain");
        assert_eq!(Escape("").to_string(), "");
        assert_eq!(Escape("é<").to_string(), "é&lt;");
    }

    #[test]
    fn empty_report_is_a_page() {
        let mut out = Vec::new();
        html(&Report::default(), "<script>alert(1)</script>", &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("No findings."));
        assert!(page.trim_end().ends_with("</html>"));
    }
}
