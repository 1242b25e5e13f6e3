//! Convenience constructors: an IPv4 [`NbmaAddress`] and the Registration Request a DMVPN spoke
//! sends its hub, without spelling out the ten fields of a [`Repr`], its CIE and its extensions.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::extension::{self, Authentication, Value};
use crate::{CieList, Control, ExtensionList, Flags, Message, NbmaAddress, Packet, Repr, cie};

impl<'a> NbmaAddress<'a> {
    /// An IPv4 NBMA address: the four octets in NSAP format, as every IP-based NBMA (DMVPN
    /// included) writes it. `NbmaAddress::from_ipv4(&addr.octets())`.
    #[must_use]
    pub const fn from_ipv4(octets: &'a [u8; 4]) -> Self {
        Self::nsap(octets)
    }
}

/// Builder methods that each set one field: `pub const fn name(mut self, value: T) -> Self`.
macro_rules! setters {
    ($($(#[$attr:meta])* fn $name:ident($value:ident: $ty:ty) => $field:ident;)*) => {
        $(
            $(#[$attr])*
            #[must_use]
            pub const fn $name(mut self, $value: $ty) -> Self {
                self.$field = $value;
                self
            }
        )*
    };
}

/// The Registration Request (RFC 2332 §5.2.3) of a spoke over IPv4, laid out as Cisco IOS lays it
/// out: one CIE with the prefix length, MTU and holding time, then the extensions Responder Address, Forward and Reverse Transit NHS
/// Record (all compulsory and empty), Authentication when a password is set, Cisco NAT Address
/// naming the NHS when its NBMA address is known, and End.
///
/// The defaults are IOS's: hop count 255, holding time 7200 s, MTU 1514, unique, the Cisco NAT
/// flag set, CIE prefix length 0xff (the IOS of packetlife's capture; the one of tcpdump's
/// `NHRP_registration.pcap` sends 32 with the same flags), request ID 1. With [`RegistrationRequest::nhs_nbma`] and request ID 6 and the
/// addresses of packetlife's `NHRP_registration.cap`, the bytes are those of its frame 1.
///
/// Nothing is borrowed but the password; [`RegistrationRequest::with_repr`] lends the [`Repr`]
/// it stands for, [`RegistrationRequest::emit`] writes it without allocating.
///
/// ```
/// use core::net::Ipv4Addr;
/// use dmvpn_nhrp::{Message, RegistrationRequest};
///
/// // Spoke 192.168.0.2 at NBMA 172.16.25.2 registers with the hub (NHS) 192.168.0.1.
/// let request = RegistrationRequest::ipv4(
///     Ipv4Addr::new(172, 16, 25, 2),
///     Ipv4Addr::new(192, 168, 0, 2),
///     Ipv4Addr::new(192, 168, 0, 1),
/// )
/// .request_id(6)
/// .password(b"secret");
/// let bytes = request.to_bytes();
///
/// let parsed = dmvpn_nhrp::parse(&bytes)?;
/// assert_eq!(parsed.to_string(), "NHRP Registration Request, ID=6");
/// assert_eq!(parsed.src_nbma.ipv4(), Some(Ipv4Addr::new(172, 16, 25, 2)));
/// let Message::RegistrationRequest(control) = parsed.message else { unreachable!() };
/// assert_eq!(control.cies.iter().next().map(|cie| cie.holding_time), Some(7200));
/// # Ok::<(), dmvpn_nhrp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RegistrationRequest<'a> {
    nbma: [u8; 4],
    tunnel: [u8; 4],
    nhs_tunnel: [u8; 4],
    nhs_nbma: Option<[u8; 4]>,
    request_id: u32,
    hop_count: u8,
    holding_time: u16,
    mtu: u16,
    unique: bool,
    prefix_len: u8,
    password: Option<&'a [u8]>,
}

impl<'a> RegistrationRequest<'a> {
    /// A spoke with tunnel address `tunnel` at NBMA address `nbma` registers with the NHS whose
    /// tunnel address is `nhs_tunnel` (the packet's destination protocol address).
    #[must_use]
    pub const fn ipv4(nbma: Ipv4Addr, tunnel: Ipv4Addr, nhs_tunnel: Ipv4Addr) -> Self {
        Self {
            nbma: nbma.octets(),
            tunnel: tunnel.octets(),
            nhs_tunnel: nhs_tunnel.octets(),
            nhs_nbma: None,
            request_id: 1,
            hop_count: 255,
            holding_time: 7200,
            mtu: 1514,
            unique: true,
            prefix_len: 0xff,
            password: None,
        }
    }

    setters! {
        /// The request ID the reply echoes.
        fn request_id(id: u32) => request_id;
        /// `ar$hopcnt`.
        fn hop_count(hops: u8) => hop_count;
        /// How long the hub keeps the registration, in seconds (`ip nhrp holdtime`).
        fn holding_time(seconds: u16) => holding_time;
        /// The MTU in the CIE.
        fn mtu(mtu: u16) => mtu;
        /// Whether the registration is unique (the U flag; `ip nhrp registration no-unique` clears
        /// it): a hub then refuses another NBMA address for this tunnel address until it expires.
        fn unique(unique: bool) => unique;
        /// The CIE's prefix length: 0xff (the default) or 32 for the spoke's own address.
        fn prefix_len(len: u8) => prefix_len;
    }

    /// The NHRP password (`ip nhrp authentication`), sent in clear in an Authentication
    /// extension. IOS uses at most 8 bytes.
    #[must_use]
    pub const fn password(mut self, password: &'a [u8]) -> Self {
        self.password = Some(password);
        self
    }

    /// The NHS's NBMA address: adds the Cisco NAT Address extension naming the NHS, as IOS does,
    /// so that a hub behind NAT can tell the spoke which address it saw.
    #[must_use]
    pub const fn nhs_nbma(mut self, nbma: Ipv4Addr) -> Self {
        self.nhs_nbma = Some(nbma.octets());
        self
    }

    /// Calls `f` with the [`Repr`] of this request (it borrows from a stack frame of this call).
    pub fn with_repr<R>(&self, f: impl FnOnce(&Repr<'_>) -> R) -> R {
        let cies = [cie::Repr {
            prefix_len: self.prefix_len,
            mtu: self.mtu,
            holding_time: self.holding_time,
            ..cie::Repr::default()
        }];
        let nat_cie = self.nhs_nbma.as_ref().map(|nbma| {
            [cie::Repr {
                prefix_len: 32,
                mtu: self.mtu,
                nbma: NbmaAddress::from_ipv4(nbma),
                proto: &self.nhs_tunnel,
                ..cie::Repr::default()
            }]
        });
        let empty = |value: fn(CieList<'static>) -> Value<'static>| extension::Repr {
            compulsory: true,
            value: value(CieList::EMPTY),
        };
        let mut extensions = [extension::Repr::END; 6];
        let mut count = 0;
        let mut push = |extension| {
            if let Some(slot) = extensions.get_mut(count) {
                *slot = extension;
                count += 1;
            }
        };
        push(empty(Value::ResponderAddress));
        push(empty(Value::ForwardTransitNhsRecord));
        push(empty(Value::ReverseTransitNhsRecord));
        if let Some(password) = self.password {
            push(extension::Repr {
                compulsory: true,
                value: Value::Authentication(Authentication::cleartext(password)),
            });
        }
        if let Some(nat_cie) = &nat_cie {
            push(extension::Repr {
                compulsory: false,
                value: Value::CiscoNatAddress(CieList::new(nat_cie)),
            });
        }
        push(extension::Repr::END);
        let flags = if self.unique {
            Flags::CISCO_NAT.union(Flags::REGISTRATION_UNIQUE)
        } else {
            Flags::CISCO_NAT
        };
        let repr = Repr {
            hop_count: self.hop_count,
            extensions: Some(ExtensionList::new(extensions.get(..count).unwrap_or(&[]))),
            ..Repr::ipv4(
                NbmaAddress::from_ipv4(&self.nbma),
                &self.tunnel,
                &self.nhs_tunnel,
                Message::RegistrationRequest(Control {
                    flags,
                    request_id: self.request_id,
                    cies: CieList::new(&cies),
                }),
            )
        };
        f(&repr)
    }

    /// The length of the packet in bytes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.with_repr(|repr| repr.buffer_len())
    }

    /// Writes the packet, checksum included, into `packet`, which must be at least
    /// [`RegistrationRequest::buffer_len`] bytes long (as for [`Repr::emit`]).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        self.with_repr(|repr| repr.emit(packet));
    }

    /// The packet's bytes, checksum included: the payload of a GRE packet with protocol type
    /// [`GRE_PROTOCOL`](crate::GRE_PROTOCOL).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.with_repr(|repr| repr.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CieCode, ExtensionType, parse};

    const SPOKE_NBMA: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
    const SPOKE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);
    const HUB: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    #[test]
    fn every_setting_reaches_the_packet() {
        let request = RegistrationRequest::ipv4(SPOKE_NBMA, SPOKE, HUB)
            .request_id(0xdead_beef)
            .hop_count(3)
            .holding_time(600)
            .mtu(1400)
            .unique(false)
            .prefix_len(32)
            .password(b"cisco123")
            .nhs_nbma(Ipv4Addr::new(203, 0, 113, 1));
        let bytes = request.to_bytes();
        assert_eq!(bytes.len(), request.buffer_len());
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum());
        let repr = parse(&bytes).unwrap();
        request.with_repr(|built| assert_eq!(&repr, built));
        assert_eq!(repr.hop_count, 3);
        assert_eq!(repr.src_nbma.ipv4(), Some(SPOKE_NBMA));
        assert_eq!(
            (repr.src_proto, repr.dst_proto),
            (&[10, 0, 0, 7][..], &[10, 0, 0, 1][..])
        );
        let Message::RegistrationRequest(control) = repr.message else {
            panic!("{repr:?}");
        };
        assert_eq!(control.request_id, 0xdead_beef);
        assert_eq!(control.flags, Flags::CISCO_NAT);
        let cies: Vec<_> = control.cies.iter().collect();
        assert_eq!(cies.len(), 1);
        assert_eq!(cies[0].code, CieCode::SUCCESS);
        assert_eq!(
            (cies[0].prefix_len, cies[0].mtu, cies[0].holding_time),
            (32, 1400, 600)
        );
        let extensions = repr.extensions.unwrap();
        let types: Vec<_> = repr.extension_types().collect();
        assert_eq!(
            types,
            [
                ExtensionType::RESPONDER_ADDRESS,
                ExtensionType::FORWARD_TRANSIT_NHS_RECORD,
                ExtensionType::REVERSE_TRANSIT_NHS_RECORD,
                ExtensionType::AUTHENTICATION,
                ExtensionType::CISCO_NAT_ADDRESS,
                ExtensionType::END,
            ]
        );
        assert_eq!(
            extensions.authentication().unwrap().password(),
            Some(&b"cisco123"[..])
        );
    }

    #[test]
    fn defaults_are_ios_defaults_without_optional_extensions() {
        let bytes = RegistrationRequest::ipv4(SPOKE_NBMA, SPOKE, HUB).to_bytes();
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.hop_count, 255);
        let Message::RegistrationRequest(control) = repr.message else {
            panic!("{repr:?}");
        };
        assert_eq!(control.flags, Flags::REGISTRATION_UNIQUE | Flags::CISCO_NAT);
        assert_eq!(control.request_id, 1);
        let cie = control.cies.iter().next().unwrap();
        assert_eq!(
            (cie.prefix_len, cie.mtu, cie.holding_time),
            (0xff, 1514, 7200)
        );
        // Responder Address, Forward and Reverse Transit NHS Records, End.
        assert_eq!(repr.extension_types().count(), 4);
        assert!(repr.extensions.unwrap().authentication().is_none());
    }

    #[test]
    fn emit_writes_what_to_bytes_returns() {
        let request = RegistrationRequest::ipv4(SPOKE_NBMA, SPOKE, HUB).password(b"x");
        let mut buffer = vec![0xaa; request.buffer_len()];
        request.emit(&mut Packet::new_unchecked(&mut buffer[..]));
        assert_eq!(buffer, request.to_bytes());
    }

    #[test]
    fn from_ipv4_is_the_nsap_of_the_octets() {
        let octets = SPOKE_NBMA.octets();
        let address = NbmaAddress::from_ipv4(&octets);
        assert_eq!(address, NbmaAddress::nsap(&[198, 51, 100, 7]));
        assert_eq!(address.ipv4(), Some(SPOKE_NBMA));
        assert_eq!(address.type_len(), 4);
    }
}
