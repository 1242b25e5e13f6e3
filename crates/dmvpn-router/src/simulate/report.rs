//! The report as text (for people) and as one JSON document (`--format json`).

use core::fmt::{self, Write};

use std::net::Ipv4Addr;

use dmvpn_ip::Prefix;
use dmvpn_proto::Duration;

use super::{Entry, Hop, Report, Source};

/// At most this many timeline entries are printed as text (JSON has them all).
pub const TEXT_TIMELINE: usize = 400;

/// A virtual time as the report prints it: `1.234s`, `2m05.500s`, `1h02m03s`.
#[must_use]
pub fn span(d: Duration) -> String {
    let micros = d.total_micros().max(0);
    let (secs, millis) = (micros / 1_000_000, micros % 1_000_000 / 1000);
    match secs {
        0..60 => format!("{secs}.{millis:03}s"),
        60..3600 => format!("{}m{:02}.{millis:03}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m{:02}s", secs / 3600, secs % 3600 / 60, secs % 60),
    }
}

/// `back at 1m05.000s (down 35.000s)`: when a state that began at `since` ended, and how long
/// it lasted (`words`: what the end is called, what the state is called), or `open`.
fn ended(end: Option<Duration>, since: Duration, open: &str, words: (&str, &str)) -> String {
    end.map_or_else(
        || open.to_owned(),
        |at| {
            format!(
                "{} at {} ({} {})",
                words.0,
                span(at),
                words.1,
                span(at - since)
            )
        },
    )
}

fn entry_line(out: &mut String, e: &Entry) {
    let _ = writeln!(
        out,
        "{:>12}  {:<10} {:<8} {}",
        span(e.at),
        e.router,
        e.kind.word(),
        e.text
    );
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let hubs = self.routers.iter().filter(|r| r.role == "hub").count();
        let _ = writeln!(
            out,
            "Simulated {} router(s) ({hubs} hub, {} spoke) for {} of virtual time, seed {}: {} NBMA packets, {} lost",
            self.routers.len(),
            self.routers.len() - hubs,
            span(self.duration),
            self.seed,
            self.packets,
            self.lost
        );
        let _ = writeln!(out, "\n== Timeline ==");
        for e in self.timeline.iter().take(TEXT_TIMELINE) {
            entry_line(&mut out, e);
        }
        if self.timeline.len() > TEXT_TIMELINE {
            let _ = writeln!(
                out,
                "  … {} more events (--format json has them all)",
                self.timeline.len() - TEXT_TIMELINE
            );
        }
        match self.converged_at {
            Some(at) => {
                let _ = writeln!(
                    out,
                    "Converged at {} (the last change before any what-if)",
                    span(at)
                );
            }
            None => {
                let _ = writeln!(out, "Nothing came up");
            }
        }
        let _ = writeln!(out, "\n== Peers ==");
        for p in &self.peers {
            let yes = |b: bool| if b { "yes" } else { "no" };
            let _ = writeln!(
                out,
                "{} {} ↔ {} {}: {} IKE SA(s), {} IPsec SPI(s), registered {}, EIGRP adjacency {}",
                p.spoke,
                p.spoke_nbma,
                p.hub,
                p.hub_nbma,
                p.ike_sas,
                p.spis.len(),
                yes(p.registered),
                yes(p.adjacent)
            );
        }
        direct_text(&mut out, self);
        flows_text(&mut out, self);
        let passed = self.matrix.iter().filter(|p| p.pass).count();
        let _ = writeln!(
            out,
            "\n== Reachability at {}{}: {passed}/{} pass ==",
            span(self.shown_at),
            if self.matrix_sampled {
                " (sampled)"
            } else {
                ""
            },
            self.matrix.len()
        );
        for p in &self.matrix {
            let from = format!("{} {}", p.from, p.from_prefix);
            let to = format!("{} {}", p.to, p.to_prefix);
            let result = if p.pass { "pass" } else { "FAIL" };
            let _ = write!(
                out,
                "{from:<24} → {to:<24} {result}  {}",
                p.path.join(" → ")
            );
            if let Some(reason) = &p.reason {
                let _ = write!(out, "  ({reason})");
            }
            out.push('\n');
        }
        if !self.disruptions.is_empty() {
            let _ = writeln!(out, "\n== What if ==");
        }
        for d in &self.disruptions {
            let _ = writeln!(out, "{}: {}", span(d.at), d.what);
            if d.broke.is_empty() {
                let _ = writeln!(out, "  nothing broke");
            }
            for o in &d.broke {
                let back = ended(o.up_at, o.down_at, "not back by the end", ("back", "down"));
                let _ = writeln!(out, "  broke at {}: {}; {back}", span(o.down_at), o.what);
            }
            match d.recovered_at {
                Some(at) if !d.broke.is_empty() => {
                    let _ = writeln!(
                        out,
                        "  recovered at {} ({} after the event), by:",
                        span(at),
                        span(at - d.at)
                    );
                    for e in &d.recovery {
                        let _ = write!(out, "  ");
                        entry_line(&mut out, e);
                    }
                }
                Some(_) => {}
                None => {
                    let _ = writeln!(out, "  not recovered by the end of the run");
                }
            }
        }
        let _ = writeln!(out, "\n== Findings ==");
        if self.findings.is_empty() {
            let _ = writeln!(out, "none");
        }
        for finding in &self.findings {
            let source = match finding.source {
                Source::Config => "config",
                Source::Runtime => "run",
            };
            let _ = writeln!(
                out,
                "{}[{}] ({source}): {}",
                finding.severity, finding.id, finding.message
            );
        }
        let _ = writeln!(out, "\n== Show (at {}) ==", span(self.shown_at));
        for router in &self.routers {
            for (command, text) in &router.shows {
                let _ = writeln!(out, "{}# {command}\n{text}", router.name);
            }
        }
        f.write_str(&out)
    }
}

/// `== Direct tunnels ==`: each spoke pair's direct tunnel, when it was built and torn down.
fn direct_text(out: &mut String, report: &Report) {
    let spokes = report.routers.iter().filter(|r| r.role == "spoke").count();
    if spokes < 2 {
        return;
    }
    let _ = writeln!(out, "\n== Direct spoke-to-spoke tunnels ==");
    if report.direct.is_empty() {
        let _ = writeln!(out, "none: spoke-to-spoke traffic went through the hub");
    }
    for t in &report.direct {
        let down = ended(t.down_at, t.up_at, "up at the end", ("torn down", "up"));
        let _ = writeln!(
            out,
            "{} {} ↔ {} {}: built at {}, {down}; {} IKE SA(s), {} IPsec SPI(s)",
            t.a,
            t.a_nbma,
            t.b,
            t.b_nbma,
            span(t.up_at),
            t.ike_sas,
            t.spis.len()
        );
    }
}

/// `== Flows ==`: each flow's packets, run by run of the same path.
fn flows_text(out: &mut String, report: &Report) {
    if report.flows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n== Flows ==");
    for flow in &report.flows {
        let first = flow.first_direct().map_or_else(
            || "never direct".to_owned(),
            |at| format!("direct from {}", span(at)),
        );
        let _ = writeln!(
            out,
            "{} {} → {} {}: {}/{} delivered, {first}",
            flow.from, flow.from_prefix, flow.to, flow.to_prefix, flow.delivered, flow.sent
        );
        for s in &flow.segments {
            let _ = write!(
                out,
                "  {:>10} – {:<10} {:>5} packet(s) {}",
                span(s.from),
                span(s.until),
                s.packets,
                s.hop.word()
            );
            match &s.hop {
                Hop::Path(path) => {
                    let _ = writeln!(out, ": {}", path.join(" → "));
                }
                Hop::Lost(reason) => {
                    let _ = writeln!(out, " ({reason})");
                }
            }
        }
    }
}

/// A JSON string literal.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn seconds(out: &mut String, d: Duration) {
    let micros = d.total_micros();
    let _ = write!(out, "{}.{:06}", micros / 1_000_000, micros % 1_000_000);
}

fn list<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (n, x) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

fn entry_json(out: &mut String, e: &Entry) {
    out.push_str("{\"at\":");
    seconds(out, e.at);
    out.push_str(",\"router\":");
    string(out, &e.router);
    out.push_str(",\"kind\":");
    string(out, e.kind.word());
    out.push_str(",\"text\":");
    string(out, &e.text);
    out.push('}');
}

/// `{"k":"v","k2":"v2"` (an object's opening and string members).
fn strings(out: &mut String, fields: &[(&str, &str)]) {
    out.push('{');
    for (n, (key, value)) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        string(out, key);
        out.push(':');
        string(out, value);
    }
}

/// `{"from":…,"from_prefix":…,"to":…,"to_prefix":…` of a probe or a flow.
fn endpoints(out: &mut String, from: (&str, Prefix), to: (&str, Prefix)) {
    let (from_prefix, to_prefix) = (from.1.to_string(), to.1.to_string());
    strings(
        out,
        &[
            ("from", from.0),
            ("from_prefix", &from_prefix),
            ("to", to.0),
            ("to_prefix", &to_prefix),
        ],
    );
}

/// `{"a":NAME,"b":NAME,"a_nbma":ADDRESS,"b_nbma":ADDRESS` of two routers.
fn two_ends(out: &mut String, a: (&str, &str, Ipv4Addr), b: (&str, &str, Ipv4Addr)) {
    let (a_key, b_key) = (format!("{}_nbma", a.0), format!("{}_nbma", b.0));
    let (a_nbma, b_nbma) = (a.2.to_string(), b.2.to_string());
    strings(
        out,
        &[(a.0, a.1), (b.0, b.1), (&a_key, &a_nbma), (&b_key, &b_nbma)],
    );
}

/// SPIs as a list of `"0x…"` strings.
fn spi_list(out: &mut String, spis: &std::collections::BTreeSet<u32>) {
    let spis: Vec<String> = spis.iter().map(|s| format!("0x{s:08x}")).collect();
    list(out, &spis, |out, s| string(out, s));
}

fn optional_seconds(out: &mut String, d: Option<Duration>) {
    match d {
        Some(d) => seconds(out, d),
        None => out.push_str("null"),
    }
}

/// `"direct_tunnels"`.
fn direct_json(out: &mut String, report: &Report) {
    out.push_str(",\"direct_tunnels\":");
    list(out, &report.direct, |out, t| {
        two_ends(out, ("a", &t.a, t.a_nbma), ("b", &t.b, t.b_nbma));
        out.push_str(",\"up_at\":");
        seconds(out, t.up_at);
        out.push_str(",\"down_at\":");
        optional_seconds(out, t.down_at);
        let _ = write!(out, ",\"ike_sas\":{},\"spis\":", t.ike_sas);
        spi_list(out, &t.spis);
        out.push('}');
    });
}

/// `"flows"`: each flow with its segments (`"path"` null when lost, with `"reason"`).
fn flows_json(out: &mut String, report: &Report) {
    out.push_str(",\"flows\":");
    list(out, &report.flows, |out, f| {
        endpoints(out, (&f.from, f.from_prefix), (&f.to, f.to_prefix));
        let _ = write!(out, ",\"sent\":{},\"delivered\":{}", f.sent, f.delivered);
        out.push_str(",\"first_direct\":");
        optional_seconds(out, f.first_direct());
        out.push_str(",\"segments\":");
        list(out, &f.segments, |out, s| {
            out.push_str("{\"from\":");
            seconds(out, s.from);
            out.push_str(",\"until\":");
            seconds(out, s.until);
            let _ = write!(out, ",\"packets\":{},\"way\":", s.packets);
            string(out, &s.hop.word());
            match &s.hop {
                Hop::Path(path) => {
                    out.push_str(",\"path\":");
                    list(out, path, |out, hop| string(out, hop));
                    out.push_str(",\"reason\":null");
                }
                Hop::Lost(reason) => {
                    out.push_str(",\"path\":null,\"reason\":");
                    string(out, reason);
                }
            }
            out.push('}');
        });
        out.push('}');
    });
}

impl Report {
    /// The whole report as one JSON document (times in seconds of virtual time).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"seed\":");
        let _ = write!(out, "{}", self.seed);
        out.push_str(",\"duration\":");
        seconds(&mut out, self.duration);
        out.push_str(",\"shown_at\":");
        seconds(&mut out, self.shown_at);
        let _ = write!(out, ",\"packets\":{},\"lost\":{}", self.packets, self.lost);
        out.push_str(",\"converged_at\":");
        optional_seconds(&mut out, self.converged_at);
        out.push_str(",\"routers\":");
        list(&mut out, &self.routers, |out, r| {
            let (nbma, tunnel) = (r.nbma.to_string(), r.tunnel.to_string());
            strings(
                out,
                &[
                    ("name", &r.name),
                    ("role", r.role),
                    ("nbma", &nbma),
                    ("tunnel", &tunnel),
                ],
            );
            out.push_str(",\"show\":{");
            for (n, (command, text)) in r.shows.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                string(out, command);
                out.push(':');
                string(out, text);
            }
            out.push_str("}}");
        });
        out.push_str(",\"peers\":");
        list(&mut out, &self.peers, |out, p| {
            two_ends(
                out,
                ("hub", &p.hub, p.hub_nbma),
                ("spoke", &p.spoke, p.spoke_nbma),
            );
            let _ = write!(
                out,
                ",\"ike_sas\":{},\"registered\":{},\"adjacent\":{},\"spis\":",
                p.ike_sas, p.registered, p.adjacent
            );
            spi_list(out, &p.spis);
            out.push('}');
        });
        direct_json(&mut out, self);
        flows_json(&mut out, self);
        out.push_str(",\"timeline\":");
        list(&mut out, &self.timeline, entry_json);
        let _ = write!(out, ",\"matrix_sampled\":{}", self.matrix_sampled);
        out.push_str(",\"reachability\":");
        list(&mut out, &self.matrix, |out, p| {
            endpoints(out, (&p.from, p.from_prefix), (&p.to, p.to_prefix));
            let _ = write!(out, ",\"pass\":{}", p.pass);
            out.push_str(",\"path\":");
            list(out, &p.path, |out, hop| string(out, hop));
            out.push_str(",\"reason\":");
            match &p.reason {
                Some(reason) => string(out, reason),
                None => out.push_str("null"),
            }
            out.push('}');
        });
        out.push_str(",\"findings\":");
        list(&mut out, &self.findings, |out, f| {
            let source = match f.source {
                Source::Config => "config",
                Source::Runtime => "run",
            };
            strings(
                out,
                &[
                    ("id", f.id),
                    ("severity", f.severity),
                    ("source", source),
                    ("message", &f.message),
                ],
            );
            out.push('}');
        });
        out.push_str(",\"what_if\":");
        list(&mut out, &self.disruptions, |out, d| {
            out.push_str("{\"what\":");
            string(out, &d.what);
            out.push_str(",\"at\":");
            seconds(out, d.at);
            out.push_str(",\"broke\":");
            list(out, &d.broke, |out, o| {
                out.push_str("{\"what\":");
                string(out, &o.what);
                out.push_str(",\"down_at\":");
                seconds(out, o.down_at);
                out.push_str(",\"up_at\":");
                optional_seconds(out, o.up_at);
                out.push('}');
            });
            out.push_str(",\"recovered_at\":");
            optional_seconds(out, d.recovered_at);
            out.push_str(",\"recovery\":");
            list(out, &d.recovery, entry_json);
            out.push('}');
        });
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_strings() {
        assert_eq!(span(Duration::from_millis(1234)), "1.234s");
        assert_eq!(span(Duration::from_millis(125_500)), "2m05.500s");
        assert_eq!(span(Duration::from_secs(3723)), "1h02m03s");
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, r#""a\"b\\c\nd\u0001""#);
    }
}
