//! The structure-aware NHRP fuzz targets (`fuzz/src/nhrp.rs`: `nhrp_repr_round_trip`,
//! `nhrp_mutated`) as bolero properties, so `cargo test` runs them briefly on stable. The harness
//! file is shared with the fuzz workspace, not copied.

#[path = "../../../fuzz/src/bytes.rs"]
#[allow(dead_code, unreachable_pub)]
mod bytes;
#[path = "../../../fuzz/src/nhrp.rs"]
#[allow(dead_code, unreachable_pub)]
mod nhrp;

#[test]
fn arbitrary_reprs_round_trip() {
    bolero::check!().for_each(nhrp::repr_round_trip);
}

#[test]
fn edited_reprs_never_panic_and_round_trip() {
    bolero::check!().for_each(nhrp::mutated);
}

#[test]
fn a_full_repr_round_trips() {
    // A long deterministic input, so the draws go past the first fields (not only what bolero picks).
    let data: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(97) >> 3) as u8)
        .collect();
    nhrp::repr_round_trip(&data);
    nhrp::mutated(&data);
}
