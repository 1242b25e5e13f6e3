//! Two IKEv1 endpoints (spoke and hub) wired in memory, driven by a script from the input
//! (deliveries, drops, byte flips in the real encrypted messages, arbitrary datagrams, clock
//! steps, rekey, delete, DPD): no panic, and the endpoints' tables stay bounded.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::ike::fuzzing::fuzz_script,
    per_byte = 64,
    constant = 256 << 10
);
