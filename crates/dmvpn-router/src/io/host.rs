//! The host's routing table: the node's routes through the tunnel, programmed with the `ip`
//! command of iproute2 (`ip route replace|del … dev tunnel0`).

use std::process::Command;

use dmvpn_proto::node::{Route, RouteSource};

/// Adds or replaces the host route for `route` through `device`. The tunnel subnet itself is
/// the kernel's (it comes with the interface address) and is left alone.
pub(super) fn add(device: &str, route: &Route) -> Result<(), String> {
    if route.source == RouteSource::Connected {
        return Ok(());
    }
    let prefix = route.prefix.to_string();
    let mut args = vec!["route", "replace", prefix.as_str()];
    let next_hop = route.next_hop.map(|h| h.to_string());
    if let Some(hop) = &next_hop {
        args.extend(["via", hop.as_str()]);
    }
    args.extend(["dev", device, "proto", "static"]);
    ip(&args)
}

/// Removes the host route for `route`.
pub(super) fn remove(device: &str, route: &Route) -> Result<(), String> {
    if route.source == RouteSource::Connected {
        return Ok(());
    }
    let prefix = route.prefix.to_string();
    ip(&["route", "del", prefix.as_str(), "dev", device])
}

fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
