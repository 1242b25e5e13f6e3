//! The structure-aware ESP fuzz targets (`fuzz/src/esp.rs`: `esp_repr_round_trip`,
//! `esp_mutated`) as bolero properties, so `cargo test` runs them briefly on stable. The harness
//! file is shared with the fuzz workspace, not copied.

#[path = "../../../fuzz/src/bytes.rs"]
#[allow(dead_code, unreachable_pub)]
mod bytes;
#[path = "../../../fuzz/src/esp.rs"]
#[allow(dead_code, unreachable_pub)]
mod esp;

dmvpn_wire::repr_fuzz_tests!(esp);
