//! The topology's layout: hubs in a column on the left, the peer pairs grouped by state in panels
//! on the right, one chip per pair, and one edge from a hub to each panel it has pairs in.
//!
//! Readable at 5, 50 or 500 spokes because nothing is placed on a circle: every label has a cell
//! of its own, sized from its length in a monospace font (an upper bound of the advance of
//! DejaVu Sans Mono and the other `ui-monospace` faces, 0.6 em), and edges only cross the empty
//! gutter between the hub column and the panels. A panel shows at most [`MAX_CHIPS`] pairs; the
//! rest are counted ("… and 440 more") and listed in the status table. Computed here, apart from
//! the drawing, so that the tests can check that no two labels overlap.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::session::{PeerPair, Report, Severity};

/// Chips shown per panel before the rest are only counted.
pub(crate) const MAX_CHIPS: usize = 60;
/// Hubs drawn; further hubs are counted under the last.
pub(crate) const MAX_HUBS: usize = 12;

/// The drawing's width.
pub(crate) const WIDTH: f64 = 1000.0;
/// Font sizes (px) and the advance of one character of the monospace font at each.
pub(crate) const CHIP_FONT: f64 = 11.0;
pub(crate) const TITLE_FONT: f64 = 12.0;
const ADVANCE: f64 = 0.62;
const MARGIN: f64 = 16.0;
const GUTTER: f64 = 120.0;
const CELL_H: f64 = 22.0;
const CHIP_H: f64 = 18.0;
const HUB_H: f64 = 44.0;
const PANEL_HEAD: f64 = 28.0;

/// A rectangle: top-left corner and size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) w: f64,
    pub(crate) h: f64,
}

impl Rect {
    #[cfg(test)]
    /// Whether the two overlap (touching edges do not).
    pub(crate) fn overlaps(&self, other: &Self) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }

    #[cfg(test)]
    /// Whether `other` lies inside.
    pub(crate) fn contains(&self, other: &Self) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.x + other.w <= self.x + self.w
            && other.y + other.h <= self.y + self.h
    }
}

/// A line of text: where it is drawn (left end, baseline) and the box it needs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Label {
    pub(crate) text: String,
    pub(crate) x: f64,
    pub(crate) baseline: f64,
    pub(crate) size: f64,
}

impl Label {
    fn new(text: String, x: f64, top: f64, size: f64) -> Self {
        Self {
            text,
            x,
            baseline: top + size,
            size,
        }
    }

    #[cfg(test)]
    /// The box the text needs, at most: one advance per character, and the line's height.
    pub(crate) fn bounds(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.baseline - self.size,
            w: width(&self.text, self.size),
            h: self.size * 1.25,
        }
    }
}

fn width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * ADVANCE
}

/// What is up on a pair, and how bad its findings are: the key panels group pairs by.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub(crate) struct State {
    /// Errors first, then warnings, then the rest.
    pub(crate) worst: std::cmp::Reverse<Option<Severity>>,
    /// Both ends are spokes (no hub known between them).
    pub(crate) spoke_to_spoke: bool,
    pub(crate) registered: bool,
    pub(crate) ike: bool,
    pub(crate) esp: bool,
    pub(crate) eigrp: bool,
}

impl State {
    pub(crate) fn of(report: &Report, pair: &PeerPair, spoke_to_spoke: bool) -> Self {
        Self {
            worst: std::cmp::Reverse(super::worst(report, pair)),
            spoke_to_spoke,
            registered: pair.nhrp.successes > 0,
            ike: pair.ike.iter().any(|sa| sa.established.is_some())
                || pair.ikev2.iter().any(|sa| sa.established.is_some()),
            esp: pair.esp.iter().any(|flow| flow.packets.packets > 0),
            eigrp: pair.eigrp.iter().all(|side| side.hellos > 0),
        }
    }

    /// `NHRP✓ IKE✓ ESP✓ EIGRP✗`.
    pub(crate) fn marks(&self) -> String {
        let mark = |up: bool| if up { "\u{2713}" } else { "\u{2717}" };
        format!(
            "NHRP{} IKE{} ESP{} EIGRP{}",
            mark(self.registered),
            mark(self.ike),
            mark(self.esp),
            mark(self.eigrp)
        )
    }

    /// The colour of the state (and of its edge): by the worst finding, else by what is up.
    pub(crate) fn colour(&self) -> &'static str {
        match self.worst.0 {
            Some(Severity::Error) => "#c0392b",
            Some(Severity::Warning) => "#e67e22",
            _ if self.registered && self.eigrp => "#27ae60",
            _ if self.registered || self.ike || self.eigrp || self.esp => "#2f80c0",
            _ => "#9aa5ab",
        }
    }
}

/// A hub in the left column.
#[derive(Debug)]
pub(crate) struct Hub {
    pub(crate) addr: IpAddr,
    pub(crate) rect: Rect,
    pub(crate) labels: Vec<Label>,
}

/// One pair in a panel.
#[derive(Debug)]
pub(crate) struct Chip {
    /// The pair's index in `report.peers`.
    pub(crate) pair: usize,
    pub(crate) rect: Rect,
    pub(crate) label: Label,
}

/// The pairs of one state.
#[derive(Debug)]
pub(crate) struct Panel {
    pub(crate) state: State,
    pub(crate) rect: Rect,
    pub(crate) title: Label,
    pub(crate) chips: Vec<Chip>,
    /// "… and N more" when there were more than [`MAX_CHIPS`] pairs.
    pub(crate) more: Option<Label>,
    /// Pairs in the panel.
    pub(crate) count: usize,
}

/// An edge from a hub to a panel, `pairs` thick.
#[derive(Debug)]
pub(crate) struct Edge {
    pub(crate) from: (f64, f64),
    pub(crate) to: (f64, f64),
    pub(crate) colour: &'static str,
    pub(crate) pairs: usize,
}

/// The whole drawing.
#[derive(Debug)]
pub(crate) struct Topology {
    pub(crate) height: f64,
    pub(crate) hubs: Vec<Hub>,
    pub(crate) panels: Vec<Panel>,
    pub(crate) edges: Vec<Edge>,
}

impl Topology {
    #[cfg(test)]
    /// Every label, for the overlap checks.
    pub(crate) fn labels(&self) -> impl Iterator<Item = &Label> {
        let hubs = self.hubs.iter().flat_map(|hub| hub.labels.iter());
        let panels = self.panels.iter().flat_map(|panel| {
            std::iter::once(&panel.title)
                .chain(panel.chips.iter().map(|chip| &chip.label))
                .chain(panel.more.iter())
        });
        hubs.chain(panels)
    }
}

/// The hubs: the NHSes seen (`a_is_hub`), or else the peer in the most pairs.
pub(crate) fn hubs(report: &Report) -> Vec<IpAddr> {
    let mut hubs: Vec<IpAddr> = Vec::new();
    for pair in &report.peers {
        if pair.a_is_hub && !hubs.contains(&pair.a) {
            hubs.push(pair.a);
        }
    }
    if hubs.is_empty() {
        let mut degree: BTreeMap<IpAddr, usize> = BTreeMap::new();
        for pair in &report.peers {
            *degree.entry(pair.a).or_default() += 1;
            *degree.entry(pair.b).or_default() += 1;
        }
        // The first of the busiest, by address, so the choice is stable.
        let busiest = degree.values().copied().max().unwrap_or(0);
        hubs.extend(
            degree
                .into_iter()
                .find(|&(_, d)| d == busiest)
                .map(|(node, _)| node),
        );
    }
    hubs
}

/// The hub end and the label of a pair: its other end, or both ends between two spokes.
pub(crate) fn ends(pair: &PeerPair, hubs: &[IpAddr]) -> (Option<IpAddr>, String) {
    if hubs.contains(&pair.a) {
        (Some(pair.a), pair.b.to_string())
    } else if hubs.contains(&pair.b) {
        (Some(pair.b), pair.a.to_string())
    } else {
        (None, format!("{}<->{}", pair.a, pair.b))
    }
}

/// Lays out the topology of `report`; `tunnels` gives each hub's tunnel addresses for its box.
pub(crate) fn layout(report: &Report, tunnels: &BTreeMap<IpAddr, Vec<IpAddr>>) -> Topology {
    let hub_list = hubs(report);
    // The hub column is as wide as its widest label.
    let hub_text = |addr: &IpAddr| {
        let tunnel = tunnels.get(addr).map_or_else(String::new, |list| {
            let mut text = list
                .iter()
                .take(2)
                .map(ToString::to_string)
                .collect::<Vec<_>>();
            if list.len() > 2 {
                text.push("\u{2026}".to_owned());
            }
            format!("tunnel {}", text.join(", "))
        });
        (format!("hub {addr}"), tunnel)
    };
    let shown_hubs = &hub_list[..hub_list.len().min(MAX_HUBS)];
    let column = shown_hubs
        .iter()
        .map(|addr| {
            let (name, tunnel) = hub_text(addr);
            width(&name, TITLE_FONT).max(width(&tunnel, CHIP_FONT))
        })
        .fold(140.0, f64::max)
        + 16.0;
    let mut hubs = Vec::new();
    for (i, addr) in shown_hubs.iter().enumerate() {
        let rect = Rect {
            x: MARGIN,
            y: MARGIN + i as f64 * (HUB_H + 10.0),
            w: column,
            h: HUB_H,
        };
        let (name, mut tunnel) = hub_text(addr);
        if i + 1 == shown_hubs.len() && hub_list.len() > shown_hubs.len() {
            tunnel = format!("+{} more hub(s)", hub_list.len() - shown_hubs.len());
        }
        let mut labels = vec![Label::new(name, rect.x + 8.0, rect.y + 5.0, TITLE_FONT)];
        if !tunnel.is_empty() {
            labels.push(Label::new(tunnel, rect.x + 8.0, rect.y + 23.0, CHIP_FONT));
        }
        hubs.push(Hub {
            addr: *addr,
            rect,
            labels,
        });
    }

    // The pairs by state, errors first; in a panel by spoke address (then hub).
    let mut groups: BTreeMap<State, Vec<(usize, String, Option<IpAddr>)>> = BTreeMap::new();
    for (index, pair) in report.peers.iter().enumerate() {
        let (hub, label) = ends(pair, &hub_list);
        let state = State::of(report, pair, hub.is_none());
        groups.entry(state).or_default().push((index, label, hub));
    }
    let order = |&(index, _, hub): &(usize, String, Option<IpAddr>)| {
        let pair = &report.peers[index];
        let spoke = if hub == Some(pair.a) { pair.b } else { pair.a };
        let other = if hub == Some(pair.a) { pair.a } else { pair.b };
        (spoke, other)
    };
    for members in groups.values_mut() {
        members.sort_by_key(order);
    }
    let left = MARGIN + column + GUTTER;
    let panel_w = (WIDTH - MARGIN - left).max(200.0);
    let mut panels = Vec::new();
    let mut edges = Vec::new();
    let mut y = MARGIN;
    for (state, members) in groups {
        let shown = &members[..members.len().min(MAX_CHIPS)];
        let cell_w = shown
            .iter()
            .map(|(_, label, _)| width(label, CHIP_FONT))
            .fold(0.0, f64::max)
            + 18.0;
        let columns = (((panel_w - 16.0) / cell_w).floor() as usize).max(1);
        let rows = shown.len().div_ceil(columns);
        let kind = if state.spoke_to_spoke {
            "spoke\u{2013}spoke"
        } else {
            "hub\u{2013}spoke"
        };
        let severity = match state.worst.0 {
            Some(severity) => format!("{} \u{00b7} ", severity.name()),
            None => String::new(),
        };
        let title = Label::new(
            format!(
                "{severity}{} \u{00b7} {} {kind} pair(s)",
                state.marks(),
                members.len()
            ),
            left + 8.0,
            y + 7.0,
            TITLE_FONT,
        );
        let mut chips = Vec::new();
        for (n, (pair, label, _)) in shown.iter().enumerate() {
            let (row, col) = (n / columns, n % columns);
            let rect = Rect {
                x: left + 8.0 + col as f64 * cell_w,
                y: y + PANEL_HEAD + row as f64 * CELL_H,
                w: cell_w - 6.0,
                h: CHIP_H,
            };
            chips.push(Chip {
                pair: *pair,
                rect,
                label: Label::new(label.clone(), rect.x + 6.0, rect.y + 3.0, CHIP_FONT),
            });
        }
        let mut height = PANEL_HEAD + rows as f64 * CELL_H + 6.0;
        let more = (members.len() > shown.len()).then(|| {
            let label = Label::new(
                format!(
                    "\u{2026} and {} more: see the status table",
                    members.len() - shown.len()
                ),
                left + 8.0,
                y + height,
                CHIP_FONT,
            );
            height += 20.0;
            label
        });
        let rect = Rect {
            x: left,
            y,
            w: panel_w,
            h: height,
        };
        // One edge from each hub with pairs in the panel.
        let mut per_hub: BTreeMap<IpAddr, usize> = BTreeMap::new();
        for (_, _, hub) in &members {
            if let Some(hub) = hub {
                *per_hub.entry(*hub).or_default() += 1;
            }
        }
        for (hub, pairs) in per_hub {
            // Hubs past MAX_HUBS are drawn as the last one.
            let at = hub_list
                .iter()
                .position(|h| *h == hub)
                .unwrap_or(0)
                .min(hubs.len().saturating_sub(1));
            if let Some(box_) = hubs.get(at) {
                edges.push(Edge {
                    from: (box_.rect.x + box_.rect.w, box_.rect.y + HUB_H / 2.0),
                    to: (left, y + 14.0),
                    colour: state.colour(),
                    pairs,
                });
            }
        }
        panels.push(Panel {
            state,
            rect,
            title,
            chips,
            more,
            count: members.len(),
        });
        y += height + 12.0;
    }
    let hubs_bottom = hubs.last().map_or(0.0, |hub| hub.rect.y + hub.rect.h);
    Topology {
        height: y.max(hubs_bottom + MARGIN).max(80.0),
        hubs,
        panels,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Finding, Rule, Seen};
    use std::net::Ipv4Addr;

    /// A report of `spokes` hub–spoke pairs over `hubs` hubs, in a few states, with findings on
    /// some, and a few spoke–spoke pairs.
    pub(crate) fn synthetic(hubs: u32, spokes: u32) -> Report {
        let mut report = Report::default();
        for i in 0..spokes {
            let hub = IpAddr::V4(Ipv4Addr::new(198, 51, 100, (1 + i % hubs) as u8));
            let spoke = IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + 10 + i));
            let mut pair = PeerPair::new(hub, spoke, Seen::default());
            pair.a_is_hub = true;
            if i % 7 != 3 {
                pair.nhrp.successes = 1;
            }
            if i % 11 != 5 {
                pair.eigrp[0].hellos = 3;
                pair.eigrp[1].hellos = 3;
            }
            report.peers.push(pair);
            if i % 13 == 4 {
                report.findings.push(Finding {
                    rule: Rule::EspIcvFailure,
                    severity: Severity::Error,
                    peers: Some((hub, spoke)),
                    message: "ICV failures on SPI `0x1000a001`".to_owned(),
                    frames: vec![1],
                });
            }
        }
        for i in 0..spokes.min(4) {
            let a = IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + 10 + i));
            let b = IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + 11 + i));
            report.peers.push(PeerPair::new(a, b, Seen::default()));
        }
        report
    }

    fn check(topology: &Topology, what: &str) {
        let labels: Vec<Rect> = topology.labels().map(Label::bounds).collect();
        for (i, a) in labels.iter().enumerate() {
            assert!(
                a.x >= 0.0 && a.x + a.w <= WIDTH && a.y >= 0.0 && a.y + a.h <= topology.height,
                "{what}: label {a:?} outside the drawing"
            );
            for b in &labels[i + 1..] {
                assert!(!a.overlaps(b), "{what}: labels {a:?} and {b:?} overlap");
            }
        }
        for panel in &topology.panels {
            assert!(panel.rect.contains(&panel.title.bounds()), "{what}");
            for chip in &panel.chips {
                assert!(chip.rect.contains(&chip.label.bounds()), "{what}: {chip:?}");
                assert!(panel.rect.contains(&chip.rect), "{what}: {chip:?}");
            }
        }
        for (i, a) in topology.panels.iter().enumerate() {
            for b in &topology.panels[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{what}: panels overlap");
            }
        }
        // Edges stay in the gutter, left of every panel and right of every hub.
        for edge in &topology.edges {
            let right_of_hubs = topology
                .hubs
                .iter()
                .map(|h| h.rect.x + h.rect.w)
                .fold(0.0, f64::max);
            assert!(
                edge.from.0 >= right_of_hubs - 0.01 && edge.to.0 >= edge.from.0,
                "{what}"
            );
            assert!(
                topology.panels.iter().all(|p| edge.to.0 <= p.rect.x + 0.01),
                "{what}"
            );
        }
    }

    #[test]
    fn labels_never_overlap_at_5_50_and_500_spokes() {
        for (hubs, spokes) in [(1, 5), (1, 50), (2, 50), (3, 500), (20, 500)] {
            let report = synthetic(hubs, spokes);
            let topology = layout(&report, &BTreeMap::new());
            let what = format!("{hubs} hub(s), {spokes} spokes");
            check(&topology, &what);
            // Every pair is in exactly one panel, shown or counted.
            let counted: usize = topology.panels.iter().map(|p| p.count).sum();
            assert_eq!(counted, report.peers.len(), "{what}");
            let shown: usize = topology.panels.iter().map(|p| p.chips.len()).sum();
            assert!(shown <= topology.panels.len() * MAX_CHIPS, "{what}");
            assert_eq!(
                topology.hubs.len(),
                hubs.min(MAX_HUBS as u32) as usize,
                "{what}"
            );
            // In a panel, chips go by spoke address.
            for panel in &topology.panels {
                let spokes: Vec<IpAddr> =
                    panel.chips.iter().map(|c| report.peers[c.pair].b).collect();
                assert!(
                    spokes.windows(2).all(|w| w[0] <= w[1]),
                    "{what}: {spokes:?}"
                );
            }
            // Errors come first.
            assert_eq!(
                topology.panels[0].state.worst.0,
                Some(Severity::Error),
                "{what}"
            );
        }
        // At 500 spokes the drawing stays a few screens high.
        let big = layout(&synthetic(3, 500), &BTreeMap::new());
        assert!(big.height < 2500.0, "{}", big.height);
    }

    #[test]
    fn an_empty_report_lays_out() {
        let topology = layout(&Report::default(), &BTreeMap::new());
        assert!(topology.hubs.is_empty() && topology.panels.is_empty());
        check(&topology, "empty");
    }

    #[test]
    fn long_ipv6_labels_get_wider_cells() {
        let mut report = Report::default();
        let hub: IpAddr = "2001:db8::1".parse().unwrap();
        for i in 0..30u16 {
            let spoke = IpAddr::V6(std::net::Ipv6Addr::new(
                0x2001, 0xdb8, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, i,
            ));
            let mut pair = PeerPair::new(hub, spoke, Seen::default());
            pair.a_is_hub = true;
            report.peers.push(pair);
        }
        check(&layout(&report, &BTreeMap::new()), "IPv6");
    }
}
