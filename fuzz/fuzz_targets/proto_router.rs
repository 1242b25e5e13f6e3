//! Two whole routers (hub and spoke: IKE, NHRP, EIGRP, the SAD and the data path) wired in
//! memory, driven by a script from the input (deliveries, drops, byte flips in the real GRE,
//! ESP and IKE packets, arbitrary packets, clock steps, host traffic, a hub restart, Deletes):
//! no panic, and the queues stay bounded.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::router::fuzzing::fuzz_script,
    per_byte = 64,
    constant = 256 << 10
);
