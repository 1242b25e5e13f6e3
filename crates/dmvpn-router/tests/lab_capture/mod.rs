//! What a lab's capture must show, checked here instead of in the lab scripts (they need namespaces
//! only to make the capture): `tools/lab/router_lab.sh` and `tools/lab/router_tutorial_lab.sh`
//! leave the hub's NBMA capture (`hub-nbma.pcap`) and the routers' key log (`keys/esp_sa`, and
//! `keys/ikev1_decryption_table` or, over IKEv2, `keys/ikev2_decryption_table`) in their `--out`
//! directory, and the decoder (`dmvpn decode`, the
//! binary `cargo test --workspace` builds beside the router) reads them with display filters.
//!
//! A frame whose ESP ICV fails stays opaque to the decoder (nothing after the ESP header is
//! decoded), so an echo request counted inside ESP passed its integrity check with the logged keys.
//! The display filters match a field in any layer, as tshark's do: `ip.src == A && ip.src == B`
//! holds when the outer header has one address and the inner the other; the labs' NBMA and LAN
//! addresses are disjoint, so each address names its layer.
//!
//! The helpers are tested on the bundled Phase 1 capture (`testdata/dmvpn/phase1.pcap`, made by
//! `tools/gen/gen_testdata.py`), whose one ping goes spoke A -> hub -> spoke B inside ESP, against
//! tshark where it can judge (what is in the clear, what is ESP).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The decoder beside the router binary under test, if it was built.
pub(crate) fn decoder() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_dmvpn-router")).with_file_name("dmvpn");
    path.exists().then_some(path)
}

/// The frames of `capture` that `dmvpn decode` keeps with the display filter `filter`, given the
/// key files `keys` (none: ESP stays opaque).
pub(crate) fn count(decoder: &Path, capture: &Path, keys: &[PathBuf], filter: &str) -> usize {
    let mut command = Command::new(decoder);
    command.args(["decode", "--color", "never", "-Y", filter]);
    for key in keys {
        command.arg("--keys").arg(key);
    }
    let output = command.arg(capture).output().expect("the decoder runs");
    assert!(
        output.status.success(),
        "dmvpn decode -Y '{filter}' {}: {}",
        capture.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .count()
}

/// A filter for ICMP echo requests from `inner.0` to `inner.1` inside ESP from `outer.0` to
/// `outer.1`.
pub(crate) fn echo_request_in_esp(
    outer: (Ipv4Addr, Ipv4Addr),
    inner: (Ipv4Addr, Ipv4Addr),
) -> String {
    format!(
        "esp && icmp.type == 8 && ip.src == {} && ip.dst == {} && ip.src == {} && ip.dst == {}",
        outer.0, outer.1, inner.0, inner.1
    )
}

/// The key files the lab's routers wrote into `out/keys` (`esp_sa`, and the IKEv1 or the IKEv2
/// table: the other stays empty).
pub(crate) fn key_files(out: &Path) -> Vec<PathBuf> {
    ["esp_sa", "ikev1_decryption_table", "ikev2_decryption_table"]
        .into_iter()
        .map(|name| out.join("keys").join(name))
        .filter(|path| std::fs::metadata(path).is_ok_and(|m| m.len() > 0))
        .collect()
}

/// What must never be on the NBMA side of an IPsec-protected cloud, read without keys: GRE, or an
/// ICMP echo (ICMP errors, such as a dead hub's protocol unreachable for ESP, are allowed).
pub(crate) const IN_THE_CLEAR: &str = "gre || icmp.type == 0 || icmp.type == 8";

/// The ping `inner` crossing the hub `hub` from `from` to `to` in the capture of a lab's `out`
/// directory: echo requests inside ESP on both legs (opened with the lab's key log), nothing in
/// the clear, and some ESP. Returns the echo requests counted on each leg.
pub(crate) fn ping_through_hub(
    decoder: &Path,
    out: &Path,
    (from, hub, to): (Ipv4Addr, Ipv4Addr, Ipv4Addr),
    inner: (Ipv4Addr, Ipv4Addr),
) -> (usize, usize) {
    let capture = out.join("hub-nbma.pcap");
    let keys = key_files(out);
    let clear = count(decoder, &capture, &[], IN_THE_CLEAR);
    assert_eq!(clear, 0, "GRE or ICMP echo in the clear on the NBMA side");
    assert!(
        count(decoder, &capture, &[], "esp") > 0,
        "no ESP in the capture"
    );
    let first = count(
        decoder,
        &capture,
        &keys,
        &echo_request_in_esp((from, hub), inner),
    );
    let second = count(
        decoder,
        &capture,
        &keys,
        &echo_request_in_esp((hub, to), inner),
    );
    assert!(
        first > 0 && second > 0,
        "the ping {} -> {} does not go {from} -> {hub} -> {to} inside ESP: {first} echo requests on the first leg, {second} on the second",
        inner.0,
        inner.1
    );
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase1() -> (PathBuf, PathBuf) {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dmvpn");
        (data.join("phase1.pcap"), data.join("phase1.esp_sa"))
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn tshark_count(capture: &Path, filter: &str) -> Option<usize> {
        let output = Command::new("tshark")
            .arg("-n")
            .arg("-r")
            .arg(capture)
            .args(["-Y", filter])
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).lines().count())
    }

    #[test]
    fn the_phase1_ping_is_counted_on_both_legs_only_with_keys() {
        let Some(decoder) = decoder() else {
            println!(
                "lab capture checks: SKIPPED: the dmvpn binary is not built (cargo test --workspace builds it)"
            );
            return;
        };
        let (capture, keys) = phase1();
        let lan = (ip("192.168.11.10"), ip("192.168.12.10"));
        let (a, hub, b) = (ip("192.0.2.11"), ip("192.0.2.1"), ip("192.0.2.12"));
        let keyed = [keys];
        // The generator's one echo request spoke A LAN -> spoke B LAN, on each leg.
        assert_eq!(
            count(
                &decoder,
                &capture,
                &keyed,
                &echo_request_in_esp((a, hub), lan)
            ),
            1
        );
        assert_eq!(
            count(
                &decoder,
                &capture,
                &keyed,
                &echo_request_in_esp((hub, b), lan)
            ),
            1
        );
        // Not on a leg it does not take, not the other way round, and not without the keys.
        assert_eq!(
            count(
                &decoder,
                &capture,
                &keyed,
                &echo_request_in_esp((b, hub), lan)
            ),
            0
        );
        assert_eq!(
            count(
                &decoder,
                &capture,
                &keyed,
                &echo_request_in_esp((a, hub), (lan.1, lan.0))
            ),
            0
        );
        assert_eq!(
            count(&decoder, &capture, &[], &echo_request_in_esp((a, hub), lan)),
            0
        );
        // The capture has a GRE frame in the clear (an NHRP Resolution Request spoke B sends
        // outside IPsec): the labs' check must see it. tshark agrees where it can judge.
        let clear = count(&decoder, &capture, &[], IN_THE_CLEAR);
        assert!(clear > 0);
        let esp = count(&decoder, &capture, &[], "esp");
        if let (Some(t_clear), Some(t_esp)) = (
            tshark_count(&capture, IN_THE_CLEAR),
            tshark_count(&capture, "esp"),
        ) {
            assert_eq!((clear, esp), (t_clear, t_esp), "dmvpn vs tshark");
        }
    }

    #[test]
    fn ping_through_hub_refuses_a_capture_with_gre_in_the_clear() {
        let Some(decoder) = decoder() else {
            println!("lab capture checks: SKIPPED: the dmvpn binary is not built");
            return;
        };
        let (capture, keys) = phase1();
        let out = std::env::temp_dir().join(format!("dmvpn-lab-capture-{}", std::process::id()));
        std::fs::create_dir_all(out.join("keys")).unwrap();
        std::fs::copy(&capture, out.join("hub-nbma.pcap")).unwrap();
        std::fs::copy(&keys, out.join("keys/esp_sa")).unwrap();
        let result = std::panic::catch_unwind(|| {
            ping_through_hub(
                &decoder,
                &out,
                (ip("192.0.2.11"), ip("192.0.2.1"), ip("192.0.2.12")),
                (ip("192.168.11.10"), ip("192.168.12.10")),
            )
        });
        let _ = std::fs::remove_dir_all(&out);
        let message = result.expect_err("GRE in the clear passed");
        let text = message
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert!(text.contains("in the clear"), "{text}");
    }
}
