//! The session report as one self-contained HTML page (`dmvpn sessions --format html`).
//!
//! One file with nothing to fetch: inline CSS, inline SVG and a little inline JavaScript.
//!
//! - A **status table**, one row per peer pair (registration, IKE, ESP, EIGRP, findings), that
//!   sorts by any column (click or Enter on its header) and filters by text and by state; without
//!   JavaScript it is still the whole table.
//! - The **topology** (`layout.rs`): hubs on the left, the pairs grouped by state in panels (errors
//!   first), one chip per pair linking to its section, one edge per hub and panel; readable at 500
//!   spokes (every label has its own cell; a panel shows 60 chips and counts the rest).
//! - The **findings**, each with its evidence frames; text in backquotes is rendered as `<code>`.
//! - **Spoke-to-spoke** (DMVPN Phase 2/3, `shortcuts.rs`): the redirects and resolutions, the
//!   spoke pairs with their direct tunnel, and the path each flow took.
//! - Per pair, a **timeline** (NHRP, IKE, ESP and EIGRP on a common time axis, and the pair's
//!   findings marked at their evidence frames; hovering a mark shows its frame and what it was,
//!   through SVG `<title>`), with one legend for all of them, and the details.
//!
//! Everything taken from the capture (addresses, names, messages, the title) is escaped; the
//! markup is well-formed XML as well as HTML (the script sits in a CDATA section).
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

mod ikev2;
mod layout;
mod shortcuts;

use std::collections::{BTreeMap, BTreeSet};
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

/// Escaped text with each span between backquotes (`` `x` ``) rendered as `<code>x</code>`; an
/// unpaired backquote stays as it is.
#[must_use]
pub fn rich(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let _ = write!(
            out,
            "{}<code>{}</code>",
            Escape(&rest[..open]),
            Escape(&rest[open + 1..open + 1 + len])
        );
        rest = &rest[open + len + 2..];
    }
    let _ = write!(out, "{}", Escape(rest));
    out
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
svg.topology text{font-family:\"DejaVu Sans Mono\",ui-monospace,monospace}
code{font-family:ui-monospace,monospace;background:#f2f2f2;padding:0 .2em;border-radius:3px}
.legend>span{display:inline-block;margin-right:1.2em}.swatch{display:inline-block;width:1.6em;height:.5em;margin-right:.3em;vertical-align:middle}
#status th{cursor:pointer;user-select:none;white-space:nowrap}#status th[aria-sort=ascending]::after{content:\" \\25B2\"}
#status th[aria-sort=descending]::after{content:\" \\25BC\"}#status tr.sev-error td:first-child{border-left:4px solid #c0392b}
#status tr.sev-warning td:first-child{border-left:4px solid #e67e22}#status td{white-space:nowrap;padding:.1em .5em}.filters{margin:.4em 0}.filters input{width:22em}
.up{color:#1e7d3a}.down{color:#b02a1f}
";

/// Sorts and filters the status table. For `tests/report_layout.rs`, which reads the result
/// through `chromium --dump-dom`: with `#layout-check` in the URL it also writes the topology's
/// rendered label boxes into `<pre id="layout-check">`, and with `#table-check` it sorts the table
/// by findings and filters it to the pairs with an error. No `<` or `&` outside the CDATA section, so the page stays XML.
const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('status');
  if (table) {
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var heads = table.tHead.rows[0].cells, order = {};
    var value = function (row, i) {
      var cell = row.cells[i], v = cell.getAttribute('data-v');
      return v === null ? cell.textContent : v;
    };
    var sort = function (i) {
      var dir = order[i] = order[i] === 1 ? -1 : 1;
      var numeric = heads[i].getAttribute('data-type') === 'num';
      rows.sort(function (a, b) {
        var x = value(a, i), y = value(b, i);
        if (numeric) { x = +x; y = +y; }
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      for (var j = 0; j < heads.length; j++) {
        heads[j].setAttribute('aria-sort', j === i ? (dir > 0 ? 'ascending' : 'descending') : 'none');
      }
    };
    Array.prototype.forEach.call(heads, function (th, i) {
      th.tabIndex = 0;
      th.addEventListener('click', function () { sort(i); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(i); });
    });
    var text = document.getElementById('peer-filter'), state = document.getElementById('peer-state');
    var count = document.getElementById('peer-count');
    var filter = function () {
      var q = text.value.toLowerCase(), s = state.value.split('='), shown = 0;
      rows.forEach(function (row) {
        var ok = (!q || row.textContent.toLowerCase().indexOf(q) >= 0)
          && (s.length < 2 || row.getAttribute('data-' + s[0]) === s[1]);
        row.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + ' of ' + rows.length + ' pair(s) shown';
    };
    text.addEventListener('input', filter);
    state.addEventListener('change', filter);
    if (location.hash === '#table-check') {
      // What tests/report_layout.rs checks through --dump-dom: sorted by findings, worst first,
      // and only the pairs with an error shown.
      sort(8);
      state.value = 'worst=error';
      filter();
    }
  }
  if (location.hash === '#layout-check') {
    var svg = document.querySelector('svg.topology'), out = { labels: [], chips: [] };
    if (svg) {
      var o = svg.getBoundingClientRect();
      var box = function (el) {
        var b = el.getBoundingClientRect();
        return [b.left - o.left, b.top - o.top, b.width, b.height];
      };
      out.width = o.width; out.height = o.height;
      svg.querySelectorAll('text').forEach(function (t) { out.labels.push(box(t).concat([t.textContent])); });
      svg.querySelectorAll('g.chip').forEach(function (g) {
        out.chips.push([box(g.querySelector('rect')), box(g.querySelector('text'))]);
      });
    }
    var pre = document.createElement('pre');
    pre.id = 'layout-check';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
})();
"#;

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
    writeln!(s, "<h2 id=\"status-table\">Status</h2>")?;
    status_table(report, s)?;
    writeln!(s, "<h2 id=\"findings\">Findings</h2>")?;
    findings(&report.findings, s)?;
    shortcuts::section(&report.spoke_to_spoke, start, s)?;
    writeln!(s, "<h2 id=\"peers\">Peers</h2>")?;
    timeline_legend(s)?;
    for (index, pair) in report.peers.iter().enumerate() {
        peer(report, index, pair, start, duration, s)?;
    }
    writeln!(s, "<script>//<![CDATA[{SCRIPT}//]]></script>")?;
    writeln!(s, "</body>")?;
    writeln!(s, "</html>")
}

/// What the timelines' marks mean, once for all of them.
fn timeline_legend(s: &mut String) -> fmt::Result {
    let dot = |colour: &str| {
        format!(
            "<svg width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" style=\"border:0;background:none;vertical-align:middle\"><circle cx=\"6\" cy=\"6\" r=\"5\" fill=\"{colour}\"/></svg>"
        )
    };
    let bar =
        |colour: &str| format!("<span class=\"swatch\" style=\"background:{colour}\"></span>");
    let flag = |colour: &str| {
        format!(
            "<svg width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" style=\"border:0;background:none;vertical-align:middle\"><path d=\"M1 1 L11 1 L6 11 Z\" fill=\"{colour}\"/></svg>"
        )
    };
    writeln!(
        s,
        "<p class=\"legend timeline-legend\"><b>Timelines</b> (one per pair, time from the capture’s first frame; hover a mark for its frame): \
         <span>{} one message</span><span>{} a span (IKE SA to its completion, ESP flow, EIGRP hellos)</span><br/>\
         <span>{} success (registration accepted, SA up, decrypted, hellos without loss)</span>\
         <span>{} request, Quick Mode, ESP not decrypted</span><span>{} IKE not completed, EIGRP down and up</span>\
         <span>{} refusal, error indication, notification, ICV failure or replay</span><span>{} delete</span>\
         <span>{} {} finding (error, warning) at its evidence frames</span></p>",
        dot("#5d6d7e"),
        bar("#5d6d7e"),
        bar("#27ae60"),
        bar("#2f80c0"),
        bar("#e67e22"),
        bar("#c0392b"),
        bar("#7f8c8d"),
        flag("#c0392b"),
        flag("#e67e22")
    )
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

/// Each node's tunnel addresses (NHRP bindings, EIGRP hello sources).
fn tunnel_addresses(report: &Report) -> BTreeMap<IpAddr, Vec<IpAddr>> {
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
    map.into_iter()
        .map(|(node, set)| (node, set.into_iter().collect()))
        .collect()
}

/// `1 error, 2 warnings` for the findings about a pair (empty when none).
fn finding_counts(report: &Report, pair: &PeerPair) -> (usize, String) {
    let mut counts = [0usize; 3];
    for finding in report.findings.iter().filter(|f| concerns(f, pair)) {
        counts[finding.severity as usize] += 1;
    }
    let parts: Vec<String> = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .filter(|severity| counts[*severity as usize] > 0)
        .map(|severity| format!("{} {}", counts[severity as usize], severity.name()))
        .collect();
    (counts.iter().sum(), parts.join(", "))
}

/// The status table: one row per pair, with `data-` attributes the filter reads and `data-v`
/// sort keys where the text does not sort right.
fn status_table(report: &Report, s: &mut String) -> fmt::Result {
    let hubs = layout::hubs(report);
    let tunnels = tunnel_addresses(report);
    writeln!(
        s,
        "<div class=\"filters\"><input type=\"search\" id=\"peer-filter\" placeholder=\"filter: address, state, rule\u{2026}\" aria-label=\"filter the pairs\"/> \
         <select id=\"peer-state\" aria-label=\"show only\"><option value=\"\">all pairs</option>\
         <option value=\"worst=error\">with an error</option><option value=\"worst=warning\">with a warning</option>\
         <option value=\"findings=1\">with findings</option><option value=\"findings=0\">without findings</option>\
         <option value=\"registered=0\">not registered</option><option value=\"ike=0\">IKE not up</option>\
         <option value=\"esp=0\">no ESP</option><option value=\"eigrp=0\">EIGRP not up</option></select> \
         <span id=\"peer-count\">{n} of {n} pair(s) shown</span></div>",
        n = report.peers.len()
    )?;
    writeln!(
        s,
        "<table id=\"status\"><thead><tr><th data-type=\"num\">#</th><th>spoke</th><th>hub</th><th>tunnel</th>\
         <th>registration</th><th>IKE</th><th>ESP</th><th>EIGRP</th><th data-type=\"num\">findings</th>\
         <th data-type=\"num\">frames</th></tr></thead><tbody>"
    )?;
    let updown = |up: bool, text: String| {
        format!(
            "<td class=\"{}\">{}</td>",
            if up { "up" } else { "down" },
            esc(text)
        )
    };
    for (index, pair) in report.peers.iter().enumerate() {
        let (hub, _) = layout::ends(pair, &hubs);
        let spoke = match hub {
            Some(hub) if hub == pair.a => pair.b,
            Some(_) => pair.a,
            None => pair.b,
        };
        let hub_text = hub.map_or_else(|| format!("{} (spoke)", pair.a), |h| h.to_string());
        let state = layout::State::of(report, pair, hub.is_none());
        let worst = state.worst.0;
        let tunnel = tunnels
            .get(&spoke)
            .map(|list| {
                list.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let nh = &pair.nhrp;
        let registration = if nh.successes > 0 {
            "registered".to_owned()
        } else if nh.refusals > 0 {
            format!("refused \u{00d7}{}", nh.refusals)
        } else if nh.requests > 0 {
            format!("{} request(s), no reply", nh.requests)
        } else {
            "\u{2014}".to_owned()
        };
        let up_sas = pair
            .ike
            .iter()
            .filter(|sa| sa.established.is_some())
            .count();
        let (v2_up, v2_sas) = ikev2::up(pair);
        let ike = match (pair.ike.len() + v2_sas, up_sas + v2_up) {
            (0, _) => "\u{2014}".to_owned(),
            (n, 0) => format!("not up ({n} SA(s))"),
            (1, _) => "up".to_owned(),
            (n, up) => format!("up ({up}/{n} SAs)"),
        };
        let packets: u64 = pair.esp.iter().map(|f| f.packets.packets).sum();
        let decrypted: u64 = pair.esp.iter().map(|f| f.decrypted).sum();
        let icv: u64 = pair.esp.iter().map(|f| f.icv_failed).sum();
        let esp = if packets == 0 {
            "\u{2014}".to_owned()
        } else {
            let mut text = match decrypted {
                0 => format!("{packets} pkts, not decrypted"),
                d if d == packets => format!("{packets} pkts, decrypted"),
                d => format!("{packets} pkts, {d} decrypted"),
            };
            if icv > 0 {
                let _ = write!(text, ", {icv} ICV failure(s)");
            }
            text
        };
        let hellos = pair.eigrp.iter().filter(|side| side.hellos > 0).count();
        let eigrp = match hellos {
            2 => "up".to_owned(),
            1 => "one way only".to_owned(),
            _ => "\u{2014}".to_owned(),
        };
        let (findings, summary) = finding_counts(report, pair);
        let flag = |up: bool| u8::from(up);
        // Worst first when sorted ascending: 0 error, 1 warning, 2 info, 3 none.
        let rank = match worst {
            Some(Severity::Error) => 0,
            Some(Severity::Warning) => 1,
            Some(Severity::Info) => 2,
            None => 3,
        };
        writeln!(
            s,
            "<tr class=\"sev-{}\" data-worst=\"{}\" data-findings=\"{}\" data-registered=\"{}\" data-ike=\"{}\" data-esp=\"{}\" data-eigrp=\"{}\">\
             <td data-v=\"{index}\">{index}</td><td class=\"mono\" data-v=\"{}\"><a href=\"#peer-{index}\">{}</a></td><td class=\"mono\">{}</td><td class=\"mono\">{}</td>\
             {}{}{}{}<td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td></tr>",
            worst.map_or("none", Severity::name),
            worst.map_or("none", Severity::name),
            flag(findings > 0),
            flag(state.registered),
            flag(state.ike),
            flag(state.esp),
            flag(state.eigrp),
            sort_key(spoke),
            esc(spoke),
            esc(hub_text),
            esc(tunnel),
            updown(state.registered, registration),
            updown(state.ike, ike),
            updown(decrypted > 0 && icv == 0, esp),
            updown(state.eigrp, eigrp),
            rank * 1_000_000 + 999_999 - findings.min(999_999),
            if findings == 0 {
                "\u{2014}".to_owned()
            } else {
                esc(summary)
            },
            pair.frames,
            pair.frames
        )?;
    }
    writeln!(s, "</tbody></table>")
}

/// An address as a string that sorts in address order (zero-padded octets or groups).
fn sort_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("4.{a:03}.{b:03}.{c:03}.{d:03}")
        }
        IpAddr::V6(v6) => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:04x}")).collect();
            format!("6.{}", groups.join(":"))
        }
    }
}

fn topology(report: &Report, s: &mut String) -> fmt::Result {
    let tunnels = tunnel_addresses(report);
    let drawing = layout::layout(report, &tunnels);
    let (w, h) = (layout::WIDTH, drawing.height);
    writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"topology\" role=\"img\" aria-label=\"hubs and peer pairs grouped by state\" width=\"{w}\" height=\"{h:.0}\" viewBox=\"0 0 {w} {h:.0}\">"
    )?;
    let busiest = drawing
        .edges
        .iter()
        .map(|e| e.pairs)
        .max()
        .unwrap_or(1)
        .max(1);
    for edge in &drawing.edges {
        let width = 1.5 + 5.0 * (edge.pairs as f64 / busiest as f64).sqrt();
        writeln!(
            s,
            "<line class=\"edge\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width:.1}\" stroke-opacity=\"0.8\"><title>{} pair(s)</title></line>",
            edge.from.0, edge.from.1, edge.to.0, edge.to.1, edge.colour, edge.pairs
        )?;
    }
    let text = |s: &mut String, label: &layout::Label, extra: &str| {
        writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{}\"{extra}>{}</text>",
            label.x,
            label.baseline,
            label.size,
            esc(&label.text)
        )
    };
    for hub in &drawing.hubs {
        let r = hub.rect;
        writeln!(
            s,
            "<g class=\"node hub\"><title>hub {}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"#34495e\"/>",
            esc(hub.addr),
            r.x,
            r.y,
            r.w,
            r.h
        )?;
        for label in &hub.labels {
            text(s, label, " fill=\"#fff\"")?;
        }
        writeln!(s, "</g>")?;
    }
    for panel in &drawing.panels {
        let r = panel.rect;
        let colour = panel.state.colour();
        writeln!(
            s,
            "<g class=\"panel\" data-pairs=\"{}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"#fff\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            panel.count, r.x, r.y, r.w, r.h
        )?;
        text(
            s,
            &panel.title,
            &format!(" font-weight=\"bold\" fill=\"{colour}\""),
        )?;
        for chip in &panel.chips {
            let pair = &report.peers[chip.pair];
            let (count, summary) = finding_counts(report, pair);
            let r = chip.rect;
            writeln!(
                s,
                "<a href=\"#peer-{}\"><g class=\"chip\"><title>{} \u{2194} {}: {}{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"{colour}\" fill-opacity=\"0.12\" stroke=\"{colour}\"/>",
                chip.pair,
                esc(pair.a),
                esc(pair.b),
                esc(panel.state.marks()),
                if count > 0 {
                    format!("; {}", esc(summary))
                } else {
                    String::new()
                },
                r.x,
                r.y,
                r.w,
                r.h
            )?;
            text(s, &chip.label, " fill=\"#222\"")?;
            writeln!(s, "</g></a>")?;
        }
        if let Some(more) = &panel.more {
            text(s, more, " fill=\"#555\"")?;
        }
        writeln!(s, "</g>")?;
    }
    writeln!(s, "</svg>")?;
    writeln!(
        s,
        "<p class=\"legend\"><span><span class=\"swatch\" style=\"background:#27ae60\"></span>registered, EIGRP up</span>\
         <span><span class=\"swatch\" style=\"background:#2f80c0\"></span>partly up</span>\
         <span><span class=\"swatch\" style=\"background:#9aa5ab\"></span>nothing up</span>\
         <span><span class=\"swatch\" style=\"background:#e67e22\"></span>warning</span>\
         <span><span class=\"swatch\" style=\"background:#c0392b\"></span>error</span>\
         <span>\u{2713}/\u{2717}: NHRP registered, IKE phase 1 up, ESP seen, EIGRP hellos both ways; \
         a chip links to its pair; a panel shows {} pairs at most (the status table has them all)</span></p>",
        layout::MAX_CHIPS
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
            rich(&finding.message),
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
    shape: Shape,
}

/// How a mark is drawn: a dot (or a bar, with `until`), or a finding's flag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Dot,
    Flag,
}

/// The times of a pair's frames the report knows (its events' and flows' first and last), to
/// place a finding's evidence frame on the timeline: at its own time when known, else
/// interpolated between the nearest known frames before and after (frames are in capture order).
struct FrameTimes(BTreeMap<u64, Timestamp>);

impl FrameTimes {
    fn of(pair: &PeerPair) -> Self {
        let mut map = BTreeMap::new();
        let mut add = |seen: crate::session::Seen| {
            map.insert(seen.frame, seen.time);
        };
        add(pair.first);
        add(pair.last);
        pair.nhrp.events.iter().for_each(|e| add(e.seen));
        for sa in &pair.ike {
            add(sa.first);
            add(sa.last);
            sa.established.into_iter().for_each(&mut add);
            sa.notifications.iter().for_each(|(seen, _)| add(*seen));
            sa.deletes.iter().for_each(|(seen, _, _)| add(*seen));
            for child in &sa.phase2 {
                add(child.first);
                child.completed.into_iter().for_each(&mut add);
            }
        }
        for flow in &pair.esp {
            add(flow.first);
            add(flow.last);
        }
        for side in &pair.eigrp {
            side.first_hello.into_iter().for_each(&mut add);
            side.last_hello.into_iter().for_each(&mut add);
        }
        ikev2::frame_times(pair, &mut map);
        Self(map)
    }

    fn at(&self, frame: u64) -> Timestamp {
        let before = self.0.range(..=frame).next_back();
        let after = self.0.range(frame..).next();
        match (before, after) {
            (Some((&f0, &t0)), Some((&f1, &t1))) if f1 > f0 && t1 > t0 => {
                let span = t1.saturating_duration_since(t0);
                let fraction = (frame - f0) as f64 / (f1 - f0) as f64;
                t0.saturating_add(span.mul_f64(fraction))
            }
            (Some((_, &t)), _) | (None, Some((_, &t))) => t,
            (None, None) => Timestamp::default(),
        }
    }
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
    let state = layout::State::of(report, pair, false);
    writeln!(
        s,
        "<p>{} frames, +{:.3} s to +{:.3} s (frames {}\u{2013}{}); {}</p>",
        pair.frames,
        rel(pair.earliest),
        rel(pair.latest),
        pair.first.frame,
        pair.last.frame,
        esc(state.marks())
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
            shape: Shape::Dot,
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
            shape: Shape::Dot,
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
                shape: Shape::Dot,
                time: seen.time,
                until: None,
                colour: "#c0392b",
                what: format!("frame {}: notification {name}", seen.frame),
            });
        }
        for child in &sa.phase2 {
            ike.push(Mark {
                shape: Shape::Dot,
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
                shape: Shape::Dot,
                time: seen.time,
                until: None,
                colour: "#7f8c8d",
                what: format!("frame {}: delete {protocol}", seen.frame),
            });
        }
    }
    rows.push(("IKE", ike));
    rows.push(("IKEv2", ikev2::marks(pair)));
    let esp = pair
        .esp
        .iter()
        .map(|flow| Mark {
            shape: Shape::Dot,
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
                shape: Shape::Dot,
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
    let times = FrameTimes::of(pair);
    let marks = report
        .findings
        .iter()
        .filter(|f| concerns(f, pair))
        .flat_map(|finding| {
            let times = &times;
            finding.frames.iter().map(move |&frame| Mark {
                time: times.at(frame),
                until: None,
                colour: match finding.severity {
                    Severity::Error => "#c0392b",
                    Severity::Warning => "#e67e22",
                    Severity::Info => "#2f80c0",
                },
                what: format!(
                    "frame {frame}: {} {}: {}",
                    finding.severity.name(),
                    finding.rule,
                    finding.message
                ),
                shape: Shape::Flag,
            })
        })
        .collect();
    rows.push(("findings", marks));
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
                rich(&finding.message),
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
                None if mark.shape == Shape::Flag => writeln!(
                    s,
                    "<path class=\"finding-mark\" d=\"M{:.1} {:.1} L{:.1} {:.1} L{x1:.1} {:.1} Z\" fill=\"{}\" stroke=\"#fff\"><title>{}</title></path>",
                    x1 - 6.0,
                    y - 7.0,
                    x1 + 6.0,
                    y - 7.0,
                    y + 6.0,
                    mark.colour,
                    esc(&mark.what)
                )?,
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
    fn backquotes_are_code_spans() {
        assert_eq!(
            rich("MSS `1460` > `1400` <b>"),
            "MSS <code>1460</code> &gt; <code>1400</code> &lt;b&gt;"
        );
        assert_eq!(rich("a `b` `c"), "a <code>b</code> `c");
        assert_eq!(rich("``"), "<code></code>");
        assert_eq!(rich("`<x>`"), "<code>&lt;x&gt;</code>");
        assert_eq!(rich("no quotes"), "no quotes");
        assert_eq!(rich("é`ü`"), "é<code>ü</code>");
    }

    #[test]
    fn empty_report_is_a_page() {
        let mut out = Vec::new();
        html(&Report::default(), "<script>alert(1)</script>", &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;alert(1)"));
        // The one script is the page's own, in a CDATA section.
        assert_eq!(page.matches("<script>").count(), 1);
        assert!(page.contains("<script>//<![CDATA["));
        assert!(page.contains("No findings."));
        assert!(page.trim_end().ends_with("</html>"));
    }
}
