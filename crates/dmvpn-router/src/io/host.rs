//! The host's routing table: the node's routes through the tunnel, programmed with the `ip`
//! command of iproute2 (`route replace|del … dev tunnel0`).
//!
//! Off the event loop: route changes are handed to a thread of their own, which takes every
//! change waiting (the latest per prefix: a route added then removed is only removed) and gives
//! them to one `ip -force -batch -`. Measured (tools/lab/router_hostile_spoke.sh): with one `ip`
//! process per route run by the event loop itself, a spoke flooding and flapping 500 routes held
//! the hub's packets for seconds at each flap, and the other spokes' pings were lost. The waiting
//! changes are bounded by the prefixes the node can hold (EIGRP's `maximum-prefix`).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use dmvpn_proto::node::{Prefix, Route, RouteSource};

/// The `ip` line of each prefix's latest change.
type Pending = Arc<(Mutex<BTreeMap<Prefix, String>>, Condvar)>;

/// The route thread's mailbox.
pub(super) struct Routes {
    pending: Pending,
    device: String,
}

impl Routes {
    /// Starts the thread for routes through `device`; it logs what `ip` refuses.
    pub(super) fn spawn(device: &str, verbose: bool) -> std::io::Result<Self> {
        let pending: Pending = Arc::default();
        let mailbox = Arc::clone(&pending);
        thread::Builder::new()
            .name("routes".into())
            .spawn(move || run(&mailbox, verbose))?;
        Ok(Self {
            pending,
            device: device.to_owned(),
        })
    }

    /// Adds or replaces the host route for `route`. The tunnel subnet itself is the kernel's (it
    /// comes with the interface address) and is left alone.
    pub(super) fn add(&self, route: &Route) {
        if route.source == RouteSource::Connected {
            return;
        }
        let via = route
            .next_hop
            .map(|hop| format!(" via {hop}"))
            .unwrap_or_default();
        let line = format!(
            "route replace {}{via} dev {} proto static",
            route.prefix, self.device
        );
        self.put(route.prefix, line);
    }

    /// Removes the host route for `route`.
    pub(super) fn remove(&self, route: &Route) {
        if route.source == RouteSource::Connected {
            return;
        }
        let line = format!("route del {} dev {}", route.prefix, self.device);
        self.put(route.prefix, line);
    }

    fn put(&self, prefix: Prefix, line: String) {
        let (lock, ready) = &*self.pending;
        if let Ok(mut pending) = lock.lock() {
            pending.insert(prefix, line);
            ready.notify_one();
        }
    }
}

/// The thread: waits for changes, then runs them all in one batch.
fn run(pending: &Pending, verbose: bool) {
    let (lock, ready) = &**pending;
    loop {
        let batch = {
            let Ok(mut waiting) = lock.lock() else {
                return;
            };
            while waiting.is_empty() {
                waiting = match ready.wait(waiting) {
                    Ok(guard) => guard,
                    Err(_) => return,
                };
            }
            std::mem::take(&mut *waiting)
        };
        let count = batch.len();
        let mut script = String::new();
        for line in batch.into_values() {
            script.push_str(&line);
            script.push('\n');
        }
        match ip_batch(&script) {
            Ok(()) if verbose => super::log(&format!("%DMVPN-6-ROUTE: {count} route change(s)")),
            Ok(()) => {}
            // (a removal of a route the kernel already dropped is no news)
            Err(e) if verbose || !e.contains("No such process") => {
                super::log(&format!("%DMVPN-4-ROUTE: {e}"));
            }
            Err(_) => {}
        }
    }
}

/// `ip -force -batch -` with `script` on its standard input.
fn ip_batch(script: &str) -> Result<(), String> {
    let mut child = Command::new("ip")
        .args(["-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ip -batch: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("ip -batch: {e}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("ip -batch: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("ip -batch: {}", stderr.trim()))
    }
}
