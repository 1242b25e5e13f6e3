//! NHRP (RFC 2332) as a DMVPN Phase 1 spoke ([`Client`]) and hub ([`Server`]) speak it.
//!
//! Both machines take parsed [`nhrp::Repr`]s with the NBMA address they came from (the outer
//! IPv4 source, after any NAT) and hand out [`Transmit`]s: an NBMA destination and the bytes of an
//! NHRP packet, built with [`nhrp::Repr::emit`], to be sent in GRE with protocol type
//! [`nhrp::GRE_PROTOCOL`]. Addresses are IPv4 on both levels, as in every DMVPN.
//!
//! The behaviour follows RFC 2332 §5.2 and what Cisco IOS and FRR nhrpd put on the wire (see
//! `ANCHORS-PROTOCOLS.md` §2): the unique flag with CIE prefix length 0xff, the Cisco NAT flag
//! and extension, the Cisco cleartext Authentication extension (at most 8 bytes), Error
//! Indications 11 (authentication) and 15 (hop count).

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use dmvpn_nhrp::{self as nhrp, ExtensionType, extension};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub mod client;
pub mod resolution;
pub mod server;
pub mod shortcut;

pub use client::{Client, ClientConfig, ClientEvent, Nhs, NhsState};
pub use server::{Registration, Server, ServerConfig, ServerEvent};
pub use shortcut::{Shortcut, ShortcutEvent, ShortcutKind, ShortcutLimits, Shortcuts};

mod error;

pub use error::Error;

/// An NHRP packet to send: the NBMA address to send it to and its bytes, checksum included (a
/// GRE payload of type [`nhrp::GRE_PROTOCOL`]).
pub type Transmit = crate::Transmit<crate::Nhrp>;

impl Transmit {
    /// The packet, parsed back.
    ///
    /// # Errors
    /// Never for packets the machines built; the codec's error otherwise.
    pub fn parse(&self) -> Result<nhrp::Repr<'_>, nhrp::Error> {
        nhrp::parse(&self.bytes)
    }
}

/// The password of `ip nhrp authentication`: the Cisco cleartext Authentication extension
/// (type 7, auth type 1), at most [`extension::CISCO_PASSWORD_MAX`] bytes.
///
/// It is wiped on drop, compared in constant time and never printed.
#[derive(Clone, Eq, PartialEq, Zeroize, ZeroizeOnDrop)]
pub struct Password(Vec<u8>);

impl Password {
    /// A password of 1 to 8 bytes (IOS refuses longer ones).
    ///
    /// # Errors
    /// [`Error::PasswordLength`] for an empty or longer password.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() || bytes.len() > extension::CISCO_PASSWORD_MAX {
            return Err(Error::PasswordLength { len: bytes.len() });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The password bytes, for building the extension.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether `ext` carries this password: a cleartext Authentication extension whose data is
    /// equal, compared in constant time.
    #[must_use]
    pub fn matches(&self, auth: Option<extension::Authentication<'_>>) -> bool {
        auth.and_then(|auth| auth.password())
            .is_some_and(|given| bool::from(given.ct_eq(&self.0)))
    }

    /// The extension that carries the password (compulsory, as IOS and FRR send it).
    #[must_use]
    pub fn extension(&self) -> extension::Repr<'_> {
        extension::Repr {
            compulsory: true,
            value: extension::Value::Authentication(extension::Authentication::cleartext(&self.0)),
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Whether the packet passes the authentication check of RFC 2332 §5.3.4 as IOS does it: with no
/// password configured everything passes; with one, the packet must carry it.
pub(crate) fn authentic(password: Option<&Password>, msg: &nhrp::Repr<'_>) -> bool {
    password
        .is_none_or(|password| password.matches(msg.extensions.and_then(|e| e.authentication())))
}

/// An IPv4 address out of an address field, or the error naming the field.
fn ipv4(bytes: &[u8], field: &'static str) -> Result<Ipv4Addr, Error> {
    nhrp::mandatory::ipv4(bytes).ok_or(Error::UnsupportedAddress {
        field,
        len: bytes.len(),
    })
}

/// Checks the fixed header a DMVPN NHRP packet has: NBMA family IPv4, protocol IPv4.
fn check_families(msg: &nhrp::Repr<'_>) -> Result<(), Error> {
    if msg.afn != nhrp::AddressFamily::IPV4 || msg.protocol_type != nhrp::ProtocolType::IPV4 {
        return Err(Error::UnsupportedFamily {
            afn: msg.afn,
            protocol: msg.protocol_type,
        });
    }
    Ok(())
}

/// Emits `repr` into a new buffer.
pub(crate) fn emit(repr: &nhrp::Repr<'_>) -> Vec<u8> {
    let mut bytes = alloc::vec![0; repr.buffer_len()];
    repr.emit(&mut nhrp::Packet::new_unchecked(&mut bytes[..]));
    bytes
}

/// An NHRP packet for IPv4 over IPv4 ([`nhrp::Repr::ipv4`]) from the NSAP-format NBMA address
/// `src_nbma`, with the given hop count and extensions.
fn ipv4_repr<'a>(
    hop_count: u8,
    src_nbma: &'a [u8],
    src_proto: &'a [u8],
    dst_proto: &'a [u8],
    message: nhrp::Message<'a>,
    extensions: Option<nhrp::ExtensionList<'a>>,
) -> nhrp::Repr<'a> {
    let src_nbma = nhrp::NbmaAddress::nsap(src_nbma);
    nhrp::Repr {
        hop_count,
        extensions,
        ..nhrp::Repr::ipv4(src_nbma, src_proto, dst_proto, message)
    }
}

/// The offset of the first extension of type `ty` in `msg` as emitted, for the offset field of
/// an Error Indication (RFC 2332 §5.2.7); the offset of `ar$extoff` if there is none.
fn extension_offset(msg: &nhrp::Repr<'_>, bytes: &[u8], ty: ExtensionType) -> u16 {
    let packet = nhrp::Packet::new_unchecked(bytes);
    let mut offset = usize::from(packet.extension_offset());
    if offset == 0 {
        return nhrp::header::field::EXTENSION_OFFSET.start as u16;
    }
    for ext in msg.extension_iter() {
        if ext.value.ty() == ty {
            break;
        }
        offset += ext.buffer_len();
    }
    u16::try_from(offset).unwrap_or(u16::MAX)
}

/// Builds the Error Indication for `msg` (RFC 2332 §5.2.7): from `src_nbma`/`src_proto` to the
/// source of the packet in error, quoting that packet whole; no extensions (§5.2.7 forbids them).
fn error_indication(
    hop_count: u8,
    src_nbma: Ipv4Addr,
    src_proto: Ipv4Addr,
    msg: &nhrp::Repr<'_>,
    code: nhrp::ErrorCode,
) -> Vec<u8> {
    let quoted = emit(msg);
    let offset = match code {
        nhrp::ErrorCode::HOP_COUNT_EXCEEDED => nhrp::header::field::HOP_COUNT as u16,
        nhrp::ErrorCode::AUTHENTICATION_FAILURE => {
            extension_offset(msg, &quoted, ExtensionType::AUTHENTICATION)
        }
        nhrp::ErrorCode::UNRECOGNIZED_EXTENSION => msg
            .extensions
            .and_then(|e| e.unrecognized_compulsory())
            .map_or(0, |ext| extension_offset(msg, &quoted, ext.value.ty())),
        _ => 0,
    };
    let nbma = src_nbma.octets();
    let proto = src_proto.octets();
    emit(&ipv4_repr(
        hop_count,
        &nbma,
        &proto,
        msg.src_proto,
        nhrp::Message::ErrorIndication(nhrp::ErrorIndication {
            code,
            offset,
            packet: &quoted,
        }),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password() {
        assert_eq!(
            Password::new(b"123456789"),
            Err(Error::PasswordLength { len: 9 })
        );
        assert_eq!(Password::new(b""), Err(Error::PasswordLength { len: 0 }));
        let password = Password::new(b"cisco").unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert!(password.matches(Some(extension::Authentication::cleartext(b"cisco"))));
        assert!(!password.matches(Some(extension::Authentication::cleartext(b"cisco1"))));
        assert!(!password.matches(Some(extension::Authentication::cleartext(b"cisc"))));
        assert!(!password.matches(None));
        let other_kind = extension::Authentication {
            kind: nhrp::AuthType(2),
            data: b"cisco",
        };
        assert!(!password.matches(Some(other_kind)));
    }

    #[test]
    fn error_indication_quotes_and_points_at_the_field() {
        let password = Password::new(b"wrong").unwrap();
        let exts = [password.extension(), extension::Repr::END];
        let cies = [nhrp::cie::Repr {
            prefix_len: 0xff,
            holding_time: 600,
            ..Default::default()
        }];
        let request = ipv4_repr(
            255,
            &[192, 0, 2, 2],
            &[10, 0, 0, 2],
            &[10, 0, 0, 1],
            nhrp::Message::RegistrationRequest(nhrp::Control {
                flags: nhrp::Flags::REGISTRATION_UNIQUE,
                request_id: 42,
                cies: nhrp::CieList::new(&cies),
            }),
            Some(nhrp::ExtensionList::new(&exts)),
        );
        let bytes = error_indication(
            255,
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(10, 0, 0, 1),
            &request,
            nhrp::ErrorCode::AUTHENTICATION_FAILURE,
        );
        let parsed = nhrp::parse(&bytes).unwrap();
        assert_eq!(parsed.dst_proto, [10, 0, 0, 2]);
        assert_eq!(parsed.extensions, None);
        let nhrp::Message::ErrorIndication(e) = parsed.message else {
            panic!("{parsed:?}");
        };
        assert_eq!(e.code, nhrp::ErrorCode::AUTHENTICATION_FAILURE);
        assert_eq!(e.parse_packet().unwrap(), request);
        // The offset names the Authentication extension's type word in the quoted packet.
        let at = usize::from(e.offset);
        assert_eq!(&e.packet[at..at + 2], &[0x80, 0x07]);
        assert_eq!(
            parsed.to_string(),
            "NHRP Error Indication, Authentication Failure, ID=42"
        );
    }
}
