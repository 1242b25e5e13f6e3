//! `dmvpn sessions --format html` / `dmvpn::report::html`: the page is well-formed (parsed as XML),
//! self-contained (no external references, no script), and has every peer pair (a section, an
//! edge and both nodes in the graph, a timeline) and every finding with its evidence frames.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::session::{Finding, Report, Rule, SessionBuilder, Severity};
use dmvpn_testkit::workspace;

fn report(capture: &Path) -> Report {
    let keys = capture.with_extension("esp_sa");
    let keys = if keys.exists() {
        EspKeys::from_file(&keys).unwrap()
    } else {
        EspKeys::default()
    };
    let mut ike = IkeKeys::default();
    if let Ok(table) = std::fs::read_to_string(capture.with_extension("ikev1_decryption_table")) {
        ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table).unwrap());
    }
    let mut reader = CaptureReader::open(capture).unwrap();
    SessionBuilder::run(&mut reader, &mut Decoder::with_ike_keys(keys, ike)).unwrap()
}

fn page(report: &Report, title: &str) -> String {
    let mut out = Vec::new();
    dmvpn::report::html(report, title, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Parses the page as XML (the `<!DOCTYPE html>` line is a DTD to roxmltree).
fn parse(html: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(html, options)
}

/// Checks the structure of one page against its report.
fn check(report: &Report, html: &str, name: &str) {
    let doc = parse(html).unwrap_or_else(|e| panic!("{name}: not well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html", "{name}");
    // Self-contained: nothing fetched, nothing run.
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let tag = node.tag_name().name();
        assert!(
            !matches!(tag, "script" | "link" | "img" | "iframe" | "object"),
            "{name}: <{tag}>"
        );
        for attr in node.attributes() {
            assert!(
                !matches!(attr.name(), "src" | "href") && !attr.name().starts_with("on"),
                "{name}: attribute {} on <{tag}>",
                attr.name()
            );
        }
    }
    let class = |node: &roxmltree::Node<'_, '_>, c: &str| {
        node.attribute("class")
            .is_some_and(|v| v.split(' ').any(|x| x == c))
    };
    // Each pair: its section (with a timeline), its edge and both nodes in the graph.
    let sections: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("section") && class(n, "peer"))
        .collect();
    assert_eq!(sections.len(), report.peers.len(), "{name}");
    let svgs: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("svg"))
        .collect();
    let topology = svgs.first().expect("topology graph");
    let edge_titles: Vec<String> = topology
        .descendants()
        .filter(|n| n.has_tag_name("g") && class(n, "edge"))
        .map(|g| g.first_element_child().unwrap().text().unwrap().to_owned())
        .collect();
    let node_titles: Vec<String> = topology
        .descendants()
        .filter(|n| n.has_tag_name("g") && class(n, "node"))
        .map(|g| g.first_element_child().unwrap().text().unwrap().to_owned())
        .collect();
    assert_eq!(edge_titles.len(), report.peers.len(), "{name}");
    for pair in &report.peers {
        let (a, b) = (pair.a.to_string(), pair.b.to_string());
        let section = sections
            .iter()
            .find(|s| s.attribute("data-a") == Some(&a) && s.attribute("data-b") == Some(&b))
            .unwrap_or_else(|| panic!("{name}: no section for {a} <-> {b}"));
        let timeline = section
            .descendants()
            .find(|n| n.has_tag_name("svg") && class(n, "timeline"))
            .unwrap_or_else(|| panic!("{name}: no timeline for {a} <-> {b}"));
        for row in ["NHRP", "IKE", "ESP", "EIGRP"] {
            assert!(
                timeline
                    .descendants()
                    .any(|n| n.has_tag_name("text") && n.text() == Some(row)),
                "{name}: {row} row"
            );
        }
        // Every NHRP event is a mark with its frame number.
        let marks: Vec<&str> = timeline
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        for event in &pair.nhrp.events {
            let frame = format!("frame {}:", event.seen.frame);
            assert!(
                marks.iter().any(|m| m.starts_with(&frame)),
                "{name}: {frame} {marks:?}"
            );
        }
        assert!(
            edge_titles
                .iter()
                .any(|t| t.starts_with(&format!("{a} \u{2194} {b}:"))),
            "{name}: edge {a} {b}"
        );
        for node in [&a, &b] {
            assert!(
                node_titles
                    .iter()
                    .any(|t| t.split(' ').nth(1) == Some(node.as_str())),
                "{name}: node {node}"
            );
        }
    }
    // Each finding: a row with its rule, message and evidence frames.
    let rows: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("tr") && class(n, "finding"))
        .collect();
    assert_eq!(rows.len(), report.findings.len(), "{name}");
    for (row, finding) in rows.iter().zip(&report.findings) {
        assert_eq!(
            row.attribute("data-rule"),
            Some(finding.rule.id()),
            "{name}"
        );
        let cells: Vec<String> = row
            .children()
            .filter(roxmltree::Node::is_element)
            .map(|td| {
                td.descendants()
                    .filter(roxmltree::Node::is_text)
                    .filter_map(|n| n.text())
                    .collect()
            })
            .collect();
        assert_eq!(cells[0], finding.severity.name());
        assert_eq!(
            cells[3], finding.message,
            "{name}: message round-trips through escaping"
        );
        let frames: Vec<String> = finding.frames.iter().map(u64::to_string).collect();
        assert_eq!(cells[4], frames.join(", "), "{name}");
    }
}

#[test]
fn every_capture_of_the_test_set_gives_a_complete_page() {
    let mut captures = vec![workspace().join("testdata/dmvpn/phase1.pcap")];
    let mut sessions: Vec<PathBuf> = std::fs::read_dir(workspace().join("testdata/sessions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    sessions.sort();
    captures.extend(sessions);
    let mut findings = 0;
    for capture in captures {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let report = report(&capture);
        findings += report.findings.len();
        check(&report, &page(&report, &name), &name);
    }
    assert!(findings >= 18, "the set has findings to show");
}

#[test]
fn phase1_graph_has_the_hub_in_the_centre() {
    let report = report(&workspace().join("testdata/dmvpn/phase1.pcap"));
    let html = page(&report, "phase1.pcap");
    let doc = parse(&html).unwrap();
    let svg = doc.descendants().find(|n| n.has_tag_name("svg")).unwrap();
    let (w, h): (f64, f64) = (
        svg.attribute("width").unwrap().parse().unwrap(),
        svg.attribute("height").unwrap().parse().unwrap(),
    );
    let hub_node = svg
        .descendants()
        .find(|n| {
            n.has_tag_name("title") && n.text().is_some_and(|t| t.starts_with("hub 192.0.2.1 "))
        })
        .unwrap()
        .parent()
        .unwrap();
    let circle = hub_node
        .children()
        .find(|n| n.has_tag_name("circle"))
        .unwrap();
    let cx: f64 = circle.attribute("cx").unwrap().parse().unwrap();
    let cy: f64 = circle.attribute("cy").unwrap().parse().unwrap();
    assert!(
        (cx - w / 2.0).abs() < 1.0 && (cy - h / 2.0).abs() < 20.0,
        "{cx},{cy}"
    );
    // The pair with the ICV failure (an error) is drawn red.
    let red = svg
        .descendants()
        .filter(|n| n.has_tag_name("g"))
        .find(|g| {
            g.first_element_child()
                .and_then(|t| t.text())
                .is_some_and(|t| t.starts_with("192.0.2.1 \u{2194} 192.0.2.11:"))
        })
        .unwrap();
    let line = red.children().find(|n| n.has_tag_name("line")).unwrap();
    assert_eq!(line.attribute("stroke"), Some("#c0392b"));
}

/// Text that looks like markup (it could come from a crafted capture) is shown, not interpreted.
#[test]
fn capture_text_is_escaped() {
    let nasty = "</td><script>alert('x')</script> & \"quoted\"";
    let mut report = report(&workspace().join("testdata/sessions/healthy.pcap"));
    let (a, b): (IpAddr, IpAddr) = (report.peers[0].a, report.peers[0].b);
    report.findings.push(Finding {
        rule: Rule::NhrpAuthMismatch,
        severity: Severity::Error,
        peers: Some((a, b)),
        message: nasty.to_owned(),
        frames: vec![1, 2],
    });
    let html = page(&report, nasty);
    assert!(!html.contains("<script>"));
    check(&report, &html, "escaped");
    let doc = parse(&html).unwrap();
    let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(
        title.text(),
        Some(format!("DMVPN sessions: {nasty}").as_str())
    );
}

#[test]
fn cli_writes_the_page() {
    let capture = workspace().join("testdata/dmvpn/phase1.pcap");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg("sessions")
        .arg(&capture)
        .arg("--keys")
        .arg(workspace().join("testdata/dmvpn/phase1.esp_sa"))
        .args(["--format", "html"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = String::from_utf8(out.stdout).unwrap();
    let keys = EspKeys::from_file(workspace().join("testdata/dmvpn/phase1.esp_sa")).unwrap();
    let mut reader = CaptureReader::open(&capture).unwrap();
    let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys)).unwrap();
    check(&report, &html, "cli");
    assert!(html.contains("<title>DMVPN sessions: phase1.pcap</title>"));
}
