//! The whole EIGRP process (reliable transport, DUAL) of a hub and two spokes on an in-memory
//! tunnel, driven by a script from the input (packets delivered, dropped, duplicated or forged,
//! prefixes added and removed, clocks advanced, shutdowns): no panic, and route events always
//! agree with the topology table.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::eigrp::fuzz_script,
    per_byte = 64,
    constant = 256 << 10
);
