//! An IKEv2 initiator and responder wired in memory, driven by a script from the input
//! (deliveries, drops, byte flips in their real encrypted messages, arbitrary bytes fed to
//! either role as the peer's message, clock steps, rekeys, deletes, liveness checks): no panic,
//! and the SA tables stay bounded.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::ikev2::fuzzing::fuzz_script,
    per_byte = 64,
    constant = 256 << 10
);
