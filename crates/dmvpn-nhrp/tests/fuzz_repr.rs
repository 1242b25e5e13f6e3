//! The structure-aware NHRP fuzz targets (`fuzz/src/nhrp.rs`: `nhrp_repr_round_trip`,
//! `nhrp_mutated`) as bolero properties, so `cargo test` runs them briefly on stable. The harness
//! file is shared with the fuzz workspace, not copied.

#[path = "../../../fuzz/src/bytes.rs"]
#[allow(dead_code, unreachable_pub)]
mod bytes;
#[path = "../../../fuzz/src/nhrp.rs"]
#[allow(dead_code, unreachable_pub)]
mod nhrp;

dmvpn_wire::repr_fuzz_tests!(nhrp);
