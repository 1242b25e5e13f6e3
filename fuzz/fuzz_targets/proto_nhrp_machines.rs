//! A hub and a spoke NHRP machine driven by a script read from the input (clock steps, packets built
//! from chosen fields, deliveries between them): no panic, everything sent parses, no expired mapping kept.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::fuzzing::nhrp_machines,
    per_byte = 64,
    constant = 256 << 10
);
