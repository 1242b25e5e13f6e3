//! The spoke-to-spoke section of the HTML report (DMVPN Phase 2/3): the NHRP redirects and
//! resolutions, the spoke pairs with their direct tunnel, and the path of each flow.

use std::fmt::{self, Write as _};

use super::esc;
use crate::capture::Timestamp;
use crate::session::{Seen, SpokeToSpoke};

/// `frame N (+T s)`, or `-`.
fn at(seen: Option<Seen>, start: Timestamp) -> String {
    seen.map_or_else(
        || "-".to_owned(),
        |s| {
            format!(
                "{} (+{:.3} s)",
                s.frame,
                s.time.saturating_duration_since(start).as_secs_f64()
            )
        },
    )
}

/// Writes the section; nothing when the capture shows no Phase 2/3.
pub(super) fn section(s2s: &SpokeToSpoke, start: Timestamp, s: &mut String) -> fmt::Result {
    if s2s.is_empty() {
        return Ok(());
    }
    writeln!(
        s,
        "<h2 id=\"spoke-to-spoke\">Spoke-to-spoke (Phase 2/3)</h2>"
    )?;
    writeln!(
        s,
        "<p>{} spoke(s) registered, {} redirect(s), {} resolution(s), {} purge(s).</p>",
        s2s.spokes.len(),
        s2s.redirects.len(),
        s2s.resolutions.len(),
        s2s.purges.len()
    )?;
    writeln!(
        s,
        "<table class=\"findings\"><thead><tr><th>frame</th><th>NHRP</th><th>from</th><th>to</th>\
         <th>what</th></tr></thead><tbody>"
    )?;
    for r in &s2s.redirects {
        let flow = r
            .flow
            .map_or_else(String::new, |f| format!("for {} → {}", f.src, f.dst));
        let next = r
            .resolution
            .and_then(|i| s2s.resolutions.get(i))
            .map_or_else(
                || "no resolution followed".to_owned(),
                |q| format!("resolved in frame {}", q.request.frame),
            );
        writeln!(
            s,
            "<tr><td>{}</td><td>Traffic Indication</td><td>{}</td><td>{}</td><td>{} ({})</td></tr>",
            esc(at(Some(r.seen), start)),
            esc(r.hub),
            esc(r.spoke),
            esc(flow),
            esc(next)
        )?;
    }
    for r in &s2s.resolutions {
        let outcome = match (&r.answer, r.error) {
            (_, Some((seen, code, name))) => {
                format!("Error Indication {name} ({code}) in frame {}", seen.frame)
            }
            (Some(a), None) => format!(
                "reply in frame {} from {}{}: {} ({}){}",
                a.seen.frame,
                a.from,
                if a.direct { " (direct)" } else { "" },
                a.code_name,
                a.code,
                a.prefix.map_or_else(String::new, |(p, l)| format!(
                    ", {p}/{l} hold {} s",
                    a.holding_time
                ))
            ),
            (None, None) => "no reply".to_owned(),
        };
        writeln!(
            s,
            "<tr><td>{}</td><td>Resolution Request id {}</td><td>{}</td><td>{}</td><td>for {}: {}</td></tr>",
            esc(at(Some(r.request), start)),
            r.request_id,
            esc(r.origin),
            esc(r
                .forwarded_to
                .map_or_else(|| "hub".to_owned(), |a| a.to_string())),
            esc(r.target),
            esc(outcome)
        )?;
    }
    for p in &s2s.purges {
        let nets: Vec<String> = p.prefixes.iter().map(|(a, l)| format!("{a}/{l}")).collect();
        writeln!(
            s,
            "<tr><td>{}</td><td>Purge {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(at(Some(p.seen), start)),
            if p.reply { "Reply" } else { "Request" },
            esc(p.from),
            esc(p.to),
            esc(nets.join(" "))
        )?;
    }
    writeln!(s, "</tbody></table>")?;
    if !s2s.tunnels.is_empty() {
        writeln!(
            s,
            "<table class=\"findings\"><thead><tr><th>spokes</th><th>state</th><th>IKE up</th>\
             <th>ESP</th><th>first direct data</th><th>installs / removals</th></tr></thead><tbody>"
        )?;
        for t in &s2s.tunnels {
            let state = match (t.is_up(), t.ike_failed) {
                (true, _) => "up",
                (false, true) => "IKE failed",
                (false, false) => "not seen up",
            };
            writeln!(
                s,
                "<tr><td class=\"mono\">{} ↔ {}</td><td>{state}</td><td>{}</td><td>{} packet(s), {} \
                 decrypted</td><td>{}</td><td>{} / {}</td></tr>",
                esc(t.a),
                esc(t.b),
                esc(at(t.ike_up, start)),
                t.esp.packets,
                t.esp_decrypted,
                esc(at(t.first_direct, start)),
                t.installs.len(),
                t.removals.len()
            )?;
        }
        writeln!(s, "</tbody></table>")?;
    }
    if !s2s.flows.is_empty() {
        writeln!(
            s,
            "<table class=\"findings\"><thead><tr><th>flow</th><th>path</th><th>to hub</th>\
             <th>from hub</th><th>direct</th><th>went direct</th></tr></thead><tbody>"
        )?;
        for f in &s2s.flows {
            writeln!(
                s,
                "<tr><td class=\"mono\">{} → {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                esc(f.src),
                esc(f.dst),
                esc(f.path()),
                f.to_hub.packets,
                f.from_hub.packets,
                f.direct.packets,
                esc(at(f.switched, start))
            )?;
        }
        writeln!(s, "</tbody></table>")?;
    }
    Ok(())
}
