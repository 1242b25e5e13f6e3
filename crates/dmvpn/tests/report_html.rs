//! `dmvpn sessions --format html` / `dmvpn::report::html`: the page is well-formed (parsed as XML),
//! self-contained (no external references, one inline script, links only within the page), and has
//! every peer pair (a section with its timeline and its findings marked on it, a row of the status
//! table, a chip in the topology) and every finding with its evidence frames and code spans.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::PathBuf;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use dmvpn::session::{Finding, Report, Rule, SessionBuilder, Severity};
use dmvpn_testkit::workspace;

#[path = "util/sessions.rs"]
mod sessions;
use sessions::{html as page, report};

/// Parses the page as XML (the `<!DOCTYPE html>` line is a DTD to roxmltree).
fn parse(html: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(html, options)
}

/// The text of a node and its descendants.
fn text(node: &roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// A finding's message as the page shows it: backquoted spans become `<code>` (their text stays).
fn shown(message: &str) -> String {
    let paired = message.matches('`').count() / 2 * 2;
    let mut out = String::new();
    let mut seen = 0;
    for c in message.chars() {
        if c == '`' && seen < paired {
            seen += 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks the structure of one page against its report.
fn check(report: &Report, html: &str, name: &str) {
    let doc = parse(html).unwrap_or_else(|e| panic!("{name}: not well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html", "{name}");
    let ids: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    // Self-contained: nothing fetched; one inline script, the page's own; links only within.
    let mut scripts = 0;
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let tag = node.tag_name().name();
        assert!(
            !matches!(tag, "link" | "img" | "iframe" | "object" | "embed"),
            "{name}: <{tag}>"
        );
        scripts += usize::from(tag == "script");
        for attr in node.attributes() {
            assert!(
                attr.name() != "src" && !attr.name().starts_with("on"),
                "{name}: attribute {} on <{tag}>",
                attr.name()
            );
            if attr.name() == "href" {
                let target = attr
                    .value()
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{name}: link out of the page: {}", attr.value()));
                assert!(ids.contains(&target), "{name}: link to a missing #{target}");
            }
        }
    }
    assert_eq!(scripts, 1, "{name}");
    let class = |node: &roxmltree::Node<'_, '_>, c: &str| {
        node.attribute("class")
            .is_some_and(|v| v.split(' ').any(|x| x == c))
    };
    // Each pair: its section (with a timeline), its row in the status table, its chip in the
    // topology (every test capture has fewer pairs than a panel shows).
    let sections: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("section") && class(n, "peer"))
        .collect();
    assert_eq!(sections.len(), report.peers.len(), "{name}");
    let topology = doc
        .descendants()
        .find(|n| n.has_tag_name("svg") && class(n, "topology"))
        .expect("topology graph");
    let chips: Vec<(String, String)> = topology
        .descendants()
        .filter(|n| n.has_tag_name("g") && class(n, "chip"))
        .map(|g| {
            let link = g.parent().unwrap().attribute("href").unwrap().to_owned();
            let title = g.first_element_child().unwrap().text().unwrap().to_owned();
            (link, title)
        })
        .collect();
    assert_eq!(chips.len(), report.peers.len(), "{name}");
    let hub_titles: Vec<String> = topology
        .descendants()
        .filter(|n| n.has_tag_name("g") && class(n, "hub"))
        .map(|g| g.first_element_child().unwrap().text().unwrap().to_owned())
        .collect();
    assert!(report.peers.is_empty() || !hub_titles.is_empty(), "{name}");
    let status = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("status"))
        .expect("status table");
    let rows: Vec<_> = status
        .descendants()
        .filter(|n| n.has_tag_name("tr") && n.attribute("data-worst").is_some())
        .collect();
    assert_eq!(rows.len(), report.peers.len(), "{name}");
    for (index, pair) in report.peers.iter().enumerate() {
        let (a, b) = (pair.a.to_string(), pair.b.to_string());
        let section = sections
            .iter()
            .find(|s| s.attribute("data-a") == Some(&a) && s.attribute("data-b") == Some(&b))
            .unwrap_or_else(|| panic!("{name}: no section for {a} <-> {b}"));
        let anchor = format!("#{}", section.attribute("id").unwrap());
        assert_eq!(anchor, format!("#peer-{index}"));
        let timeline = section
            .descendants()
            .find(|n| n.has_tag_name("svg") && class(n, "timeline"))
            .unwrap_or_else(|| panic!("{name}: no timeline for {a} <-> {b}"));
        for row in ["NHRP", "IKE", "ESP", "EIGRP", "findings"] {
            assert!(
                timeline
                    .descendants()
                    .any(|n| n.has_tag_name("text") && n.text() == Some(row)),
                "{name}: {row} row"
            );
        }
        let marks: Vec<&str> = timeline
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        // Every NHRP event is a mark with its frame number.
        for event in &pair.nhrp.events {
            let frame = format!("frame {}:", event.seen.frame);
            assert!(
                marks.iter().any(|m| m.starts_with(&frame)),
                "{name}: {frame} {marks:?}"
            );
        }
        // Every finding about the pair is marked at each of its evidence frames.
        let flags: Vec<&str> = timeline
            .descendants()
            .filter(|n| n.has_tag_name("path") && class(n, "finding-mark"))
            .map(|n| n.first_element_child().unwrap().text().unwrap())
            .collect();
        let mut expected = 0;
        for finding in &report.findings {
            let Some((x, y)) = finding.peers else {
                continue;
            };
            if !((x == pair.a && y == pair.b) || (x == pair.b && y == pair.a)) {
                continue;
            }
            for frame in &finding.frames {
                expected += 1;
                let head = format!(
                    "frame {frame}: {} {}: ",
                    finding.severity.name(),
                    finding.rule
                );
                assert!(
                    flags.iter().any(|f| f.starts_with(&head)),
                    "{name}: {head} {flags:?}"
                );
            }
        }
        assert_eq!(flags.len(), expected, "{name}: {a} <-> {b}");
        // Its chip links to the section and names both ends.
        assert!(
            chips
                .iter()
                .any(|(link, title)| *link == anchor
                    && title.starts_with(&format!("{a} \u{2194} {b}:"))),
            "{name}: chip {a} {b}"
        );
        // Its row links to the section too, and carries what the filter reads.
        let row = rows
            .iter()
            .find(|r| {
                r.descendants()
                    .any(|n| n.attribute("href") == Some(anchor.as_str()))
            })
            .unwrap_or_else(|| panic!("{name}: no row for {a} <-> {b}"));
        assert_eq!(
            row.attribute("data-registered"),
            Some(if pair.nhrp.successes > 0 { "1" } else { "0" }),
            "{name}"
        );
        let row_text = text(row);
        assert!(
            row_text.contains(&a) && row_text.contains(&b),
            "{name}: {row_text}"
        );
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
            .map(|td| text(&td))
            .collect();
        assert_eq!(cells[0], finding.severity.name());
        assert_eq!(
            cells[3],
            shown(&finding.message),
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
fn phase1_groups_the_error_pair_first() {
    let report = report(&workspace().join("testdata/dmvpn/phase1.pcap"));
    let html = page(&report, "phase1.pcap");
    let doc = parse(&html).unwrap();
    let svg = doc
        .descendants()
        .find(|n| n.has_tag_name("svg") && n.attribute("class") == Some("topology"))
        .unwrap();
    // The hub is the one NHS, in the hub column.
    let hubs: Vec<String> = svg
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("node hub"))
        .map(|g| g.first_element_child().unwrap().text().unwrap().to_owned())
        .collect();
    assert_eq!(hubs, ["hub 192.0.2.1"]);
    // The pair with the ICV failure (an error) is in the first panel, drawn red, with its
    // edge from the hub.
    let panels: Vec<_> = svg
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("panel"))
        .collect();
    let with_icv_failure = panels
        .iter()
        .find(|p| {
            p.descendants().any(|n| {
                n.has_tag_name("title")
                    && n.text()
                        .is_some_and(|t| t.starts_with("192.0.2.1 \u{2194} 192.0.2.11:"))
            })
        })
        .unwrap();
    assert_eq!(
        with_icv_failure
            .first_element_child()
            .unwrap()
            .attribute("stroke"),
        Some("#c0392b")
    );
    assert!(text(with_icv_failure).trim_start().starts_with("error"));
    // Error panels come first.
    assert!(text(&panels[0]).trim_start().starts_with("error"));
    assert!(
        svg.descendants()
            .any(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#c0392b"))
    );
    // Panels do not count a pair twice.
    let counted: usize = panels
        .iter()
        .map(|p| p.attribute("data-pairs").unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, report.peers.len());
}

/// A finding's code spans are rendered as `<code>`.
#[test]
fn code_spans_in_findings() {
    let mut report = report(&workspace().join("testdata/sessions/healthy.pcap"));
    let (a, b) = (report.peers[0].a, report.peers[0].b);
    report.findings.push(Finding {
        rule: Rule::TcpMssTooLarge,
        severity: Severity::Warning,
        peers: Some((a, b)),
        message: "set `ip tcp adjust-mss 1360` on the tunnel".to_owned(),
        frames: vec![3],
    });
    let html = page(&report, "code");
    check(&report, &html, "code");
    assert_eq!(
        html.matches("<code>ip tcp adjust-mss 1360</code>").count(),
        2
    );
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
    assert!(!html.contains("<script>alert"));
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
