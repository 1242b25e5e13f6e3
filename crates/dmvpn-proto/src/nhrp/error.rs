//! Why the NHRP client or server refused a packet or a request.

use core::net::Ipv4Addr;

use dmvpn_nhrp as codec;

/// Why the NHRP client or server refused a packet or a request. Refusals that the protocol answers (an Error
/// Indication) have already queued the answer when this is returned.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet is not IPv4 over IPv4.
    #[error("nhrp: address family {afn:?} with protocol {protocol:?} is not supported")]
    UnsupportedFamily {
        /// `ar$afn`.
        afn: codec::AddressFamily,
        /// `ar$pro.type`.
        protocol: codec::ProtocolType,
    },
    /// An address field is not 4 bytes long.
    #[error("nhrp: {field} of {len} bytes is not an ipv4 address")]
    UnsupportedAddress {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A packet type this machine does not take (e.g. a Registration Request at a client).
    #[error("nhrp: unexpected {op:?}")]
    UnexpectedMessage {
        /// The packet type.
        op: codec::OpType,
    },
    /// A reply or Error Indication that matches no outstanding request.
    #[error("nhrp: no outstanding request with id {request_id}")]
    UnknownRequest {
        /// The request ID it carried.
        request_id: u32,
    },
    /// A packet from an NBMA address that is no configured peer.
    #[error("nhrp: packet from unknown peer {nbma}")]
    UnknownPeer {
        /// Where it came from.
        nbma: Ipv4Addr,
    },
    /// A request addressed to another server.
    #[error("nhrp: request addressed to another server")]
    NotForUs,
    /// The packet lacks the configured password (RFC 2332 §5.3.4); a server answered with an
    /// Error Indication 11.
    #[error("nhrp: authentication failure")]
    AuthenticationFailure,
    /// The hop count reached 0; an Error Indication 15 was sent.
    #[error("nhrp: hop count exceeded")]
    HopCountExceeded,
    /// A compulsory extension is not understood (RFC 2332 §5.3); an Error Indication 1 was sent.
    #[error("nhrp: unrecognized compulsory extension {ty:?}")]
    UnrecognizedExtension {
        /// Its type.
        ty: codec::ExtensionType,
    },
    /// A password longer than the 8 bytes of the Cisco extension, or empty.
    #[error("nhrp: password of {len} bytes (1 to 8 allowed)")]
    PasswordLength {
        /// Its length.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages() {
        let cases = [
            (
                Error::UnsupportedFamily {
                    afn: codec::AddressFamily::IPV6,
                    protocol: codec::ProtocolType::IPV4,
                },
                "nhrp: address family IPv6 (2) with protocol IPv4 (2048) is not supported",
            ),
            (
                Error::UnsupportedAddress {
                    field: "source nbma address",
                    len: 16,
                },
                "nhrp: source nbma address of 16 bytes is not an ipv4 address",
            ),
            (
                Error::UnexpectedMessage {
                    op: codec::OpType::REGISTRATION_REQUEST,
                },
                "nhrp: unexpected RegistrationRequest (3)",
            ),
            (
                Error::UnknownRequest { request_id: 9 },
                "nhrp: no outstanding request with id 9",
            ),
            (
                Error::UnknownPeer {
                    nbma: Ipv4Addr::new(192, 0, 2, 9),
                },
                "nhrp: packet from unknown peer 192.0.2.9",
            ),
            (Error::NotForUs, "nhrp: request addressed to another server"),
            (Error::AuthenticationFailure, "nhrp: authentication failure"),
            (Error::HopCountExceeded, "nhrp: hop count exceeded"),
            (
                Error::UnrecognizedExtension {
                    ty: codec::ExtensionType(0x1234),
                },
                "nhrp: unrecognized compulsory extension 0x1234",
            ),
            (
                Error::PasswordLength { len: 9 },
                "nhrp: password of 9 bytes (1 to 8 allowed)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
