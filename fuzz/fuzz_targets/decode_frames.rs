//! The whole decode pipeline on frames described by the input (link type, lengths, time steps), with a key set
//! covering every transform: text and JSON Lines output checked frame by frame.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn::fuzzing::decode_frames,
    per_byte = 64,
    constant = 6 << 20
);
