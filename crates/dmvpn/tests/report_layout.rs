//! The HTML report's topology as a browser lays it out: headless Chromium loads the page at 5, 50
//! and 500 spokes with `#layout-check`, the page's script writes the rendered box of every label
//! (and of every chip with its label) into the DOM, and `--dump-dom` hands them back. No two labels
//! may overlap, every label lies inside the drawing, and every chip's label inside its chip.
//!
//! The reports are scaled up from the project's diagnosis captures: their hub–spoke pairs (healthy,
//! with an ICV failure, with a too-large MSS, refused registration, EIGRP K mismatch) cloned onto
//! new spoke addresses, with their findings.
//!
//! Needs Debian's `chromium` (tools/setup.sh installs it): without it the test prints why it skips,
//! and with `CI=true` or `DMVPN_REQUIRE_CHROMIUM=1` a missing Chromium fails it. About 2 s per page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use dmvpn::session::{Report, SessionBuilder};
use dmvpn_testkit::{stdout_of, testdata};

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|_| PathBuf::from(name))
    });
    let required = std::env::var_os("CI").is_some_and(|v| v == "true")
        || std::env::var_os("DMVPN_REQUIRE_CHROMIUM").is_some();
    assert!(
        found.is_some() || !required,
        "Chromium is required here but not installed (tools/setup.sh installs it)"
    );
    if found.is_none() {
        eprintln!("skipping: chromium is not installed (tools/setup.sh installs it)");
    }
    found
}

fn report(name: &str) -> Report {
    let capture = testdata(&format!("sessions/{name}.pcap"));
    let keys = capture.with_extension("esp_sa");
    let keys = if keys.exists() {
        EspKeys::from_file(&keys).unwrap()
    } else {
        EspKeys::default()
    };
    let mut reader = CaptureReader::open(&capture).unwrap();
    SessionBuilder::run(&mut reader, &mut Decoder::new(keys)).unwrap()
}

/// `spokes` hub–spoke pairs over `hubs` hubs, cloned from the diagnosis captures' pairs in turn
/// (half of them healthy).
fn scaled(hubs: u32, spokes: u32) -> Report {
    let healthy = report("healthy");
    let bases: Vec<Report> = [
        "healthy",
        "esp-icv-failure",
        "healthy",
        "tcp-mss-too-large",
        "healthy",
        "nhrp-registration-refused",
        "healthy",
        "eigrp-k-mismatch",
    ]
    .iter()
    .map(|name| report(name))
    .collect();
    let mut out = healthy;
    out.peers.clear();
    out.findings.clear();
    for i in 0..spokes {
        let base = &bases[i as usize % bases.len()];
        let pair = &base.peers[0];
        let hub = IpAddr::V4(Ipv4Addr::new(198, 51, 100, (1 + i % hubs) as u8));
        let spoke = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + (i / 200) * 256 + i % 200 + 10));
        let mut clone = pair.clone();
        (clone.a, clone.b, clone.a_is_hub) = (hub, spoke, true);
        for finding in &base.findings {
            if finding.peers == Some((pair.a, pair.b)) || finding.peers == Some((pair.b, pair.a)) {
                let mut finding = finding.clone();
                finding.peers = Some((hub, spoke));
                out.findings.push(finding);
            }
        }
        out.peers.push(clone);
    }
    out
}

/// One rendered box: x, y, width, height.
type Box4 = [f64; 4];

fn boxed(value: &serde_json::Value) -> Box4 {
    let n = |i: usize| value[i].as_f64().unwrap();
    [n(0), n(1), n(2), n(3)]
}

fn overlap(a: &Box4, b: &Box4) -> bool {
    // Half a pixel of tolerance for anti-aliased edges.
    let e = 0.5;
    a[0] + e < b[0] + b[2]
        && b[0] + e < a[0] + a[2]
        && a[1] + e < b[1] + b[3]
        && b[1] + e < a[1] + a[3]
}

fn inside(outer: &Box4, inner: &Box4) -> bool {
    let e = 0.5;
    inner[0] + e >= outer[0]
        && inner[1] + e >= outer[1]
        && inner[0] + inner[2] <= outer[0] + outer[2] + e
        && inner[1] + inner[3] <= outer[1] + outer[3] + e
}

/// Loads `page#hash` in Chromium and returns the DOM after the page's script ran.
fn dump(browser: &Path, page: &Path, hash: &str) -> String {
    let profile = page.with_extension("profile");
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            // A container's small /dev/shm crashes Chromium's renderer: use /tmp instead.
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}#{hash}", page.display()));
    stdout_of(&mut command)
}

/// Loads `page` with `#layout-check` and returns what the page's script measured.
fn measure(browser: &Path, page: &Path) -> serde_json::Value {
    let dom = dump(browser, page, "layout-check");
    let start = dom
        .find("<pre id=\"layout-check\">")
        .expect("the layout check ran")
        + 23;
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn no_label_overlaps_at_5_50_and_500_spokes() {
    let Some(browser) = chromium() else { return };
    let dir = std::env::temp_dir().join(format!("dmvpn-report-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (hubs, spokes) in [(1, 5), (1, 50), (3, 500)] {
        let report = scaled(hubs, spokes);
        let mut html = Vec::new();
        dmvpn::report::html(&report, &format!("{spokes} spokes"), &mut html).unwrap();
        let page = dir.join(format!("spokes-{spokes}.html"));
        std::fs::write(&page, &html).unwrap();
        let measured = measure(&browser, &page);
        let what = format!("{hubs} hub(s), {spokes} spokes");
        let (width, height) = (
            measured["width"].as_f64().unwrap(),
            measured["height"].as_f64().unwrap(),
        );
        let labels: Vec<(Box4, String)> = measured["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (boxed(l), l[4].as_str().unwrap().to_owned()))
            .collect();
        let chips = measured["chips"].as_array().unwrap();
        // Every pair is drawn up to 60 per state panel; the hubs and panel titles are labelled.
        assert!(
            chips.len() >= spokes.min(60) as usize,
            "{what}: {} chips",
            chips.len()
        );
        assert!(labels.len() > chips.len() + hubs as usize, "{what}");
        let drawing = [0.0, 0.0, width, height];
        for (i, (a, text)) in labels.iter().enumerate() {
            assert!(a[2] > 0.0 && a[3] > 0.0, "{what}: {text:?} not rendered");
            assert!(
                inside(&drawing, a),
                "{what}: {text:?} {a:?} outside {drawing:?}"
            );
            for (b, other) in &labels[i + 1..] {
                assert!(
                    !overlap(a, b),
                    "{what}: {text:?} {a:?} overlaps {other:?} {b:?}"
                );
            }
        }
        for chip in chips {
            let (rect, label) = (boxed(&chip[0]), boxed(&chip[1]));
            assert!(
                inside(&rect, &label),
                "{what}: label {label:?} leaves its chip {rect:?}"
            );
        }
        eprintln!(
            "{what}: {} labels, {} chips, {width:.0}x{height:.0} px, no overlap",
            labels.len(),
            chips.len()
        );
        if spokes == 50 {
            check_table(&browser, &page, &report);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The status table's script: sorted by findings (errors first) and filtered to the pairs with an
/// error, as `#table-check` asks, the rows come out in that order with the others hidden.
fn check_table(browser: &Path, page: &Path, report: &Report) {
    let dom = dump(browser, page, "table-check");
    let start = dom.find("<table id=\"status\">").unwrap();
    let end = start + dom[start..].find("</table>").unwrap();
    let rows: Vec<&str> = dom[start..end]
        .split("<tr ")
        .skip(1) // what comes before the first pair's row (the header row is a bare <tr>)
        .collect();
    assert_eq!(rows.len(), report.peers.len());
    let errors = rows
        .iter()
        .filter(|r| r.contains("data-worst=\"error\""))
        .count();
    assert!(errors > 0 && errors < rows.len());
    for (i, row) in rows.iter().enumerate() {
        let error = row.contains("data-worst=\"error\"");
        assert_eq!(error, i < errors, "row {i} out of order: {row}");
        assert_eq!(row.contains(" hidden=\"\""), !error, "row {i}: {row}");
    }
    assert!(dom.contains(&format!("{errors} of {} pair(s) shown", rows.len())));
}
