//! Builds the EIGRP Hello a DMVPN hub multicasts on its tunnel (Parameters with the default K
//! values and a hold time, Software Version, MD5 authentication from a key chain), signs it,
//! parses it back and checks the digest: what `ip authentication mode eigrp 100 md5` puts on
//! the wire.
//!
//! ```sh
//! cargo run -p dmvpn-eigrp --example eigrp_hello -- [KEY_STRING]   # default "dmvpn"
//! ```

use std::error::Error;

use dmvpn_eigrp::auth::{self, Md5Span};
use dmvpn_eigrp::tlv::{Authentication, Parameters, SoftwareVersion, Tlv};
use dmvpn_eigrp::{AuthType, Flags, OpCode, Packet, Repr, Tlvs};

fn main() -> Result<(), Box<dyn Error>> {
    let key = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "dmvpn".to_string());
    let tlvs = [
        // The digest is filled in by `auth::sign` once the packet is emitted.
        Tlv::Authentication(Authentication {
            auth_type: AuthType::MD5,
            key_id: 1,
            key_sequence: 0,
            nullpad: [0; 8],
            digest: &[0; 16],
        }),
        // A hold time of 35 s, as on a DMVPN tunnel (`ip hold-time eigrp 100 35`).
        Tlv::Parameters(Parameters {
            hold_time: 35,
            ..Parameters::DEFAULT
        }),
        Tlv::SoftwareVersion(SoftwareVersion {
            release: [23, 0],
            tlv_version: [2, 0],
        }),
    ];
    let hello = Repr {
        opcode: OpCode::HELLO,
        flags: Flags::default(),
        sequence: 0,
        ack: 0,
        virtual_router_id: 0,
        autonomous_system: 100,
        tlvs: Tlvs::new(&tlvs),
    };
    let mut bytes = vec![0; hello.buffer_len()];
    hello.emit(&mut Packet::new_unchecked(&mut bytes[..]));
    auth::sign(&mut bytes, key.as_bytes(), Md5Span::Packet)?;
    println!(
        "{} bytes: {}",
        bytes.len(),
        Repr::parse(&Packet::new_checked(&bytes[..])?)?
    );

    println!(
        "digest with {key:?}: {:?}",
        auth::verify(&bytes, key.as_bytes())?
    );
    match auth::verify(&bytes, b"wrong key") {
        Ok(verified) => println!("digest with \"wrong key\": {verified:?}"),
        Err(e) => println!("digest with \"wrong key\": {e}"),
    }
    Ok(())
}
