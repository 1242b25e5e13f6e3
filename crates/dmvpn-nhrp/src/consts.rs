//! NHRP registries (RFC 2332 §5 and the Cisco DMVPN additions) and the per-message flag bits.
//!
//! Every registry is an open newtype: an unknown value is kept as it is and prints as hex, so it
//! round-trips. `description()` gives the long label Wireshark prints in its Info column, which the
//! one-line summary ([`crate::Repr`]'s `Display`) reuses so it can be compared with tshark.

use core::fmt;

dmvpn_wire::registry! {
    /// Packet types, `ar$op.type` (RFC 2332 §5.0; type 8 from draft-detienne-dmvpn-01).
    pub struct OpType(u8) {
        /// NHRP Resolution Request (§5.2.1).
        RESOLUTION_REQUEST = 1 => "ResolutionRequest" ("NHRP Resolution Request"),
        /// NHRP Resolution Reply (§5.2.2).
        RESOLUTION_REPLY = 2 => "ResolutionReply" ("NHRP Resolution Reply"),
        /// NHRP Registration Request (§5.2.3).
        REGISTRATION_REQUEST = 3 => "RegistrationRequest" ("NHRP Registration Request"),
        /// NHRP Registration Reply (§5.2.4).
        REGISTRATION_REPLY = 4 => "RegistrationReply" ("NHRP Registration Reply"),
        /// NHRP Purge Request (§5.2.5).
        PURGE_REQUEST = 5 => "PurgeRequest" ("NHRP Purge Request"),
        /// NHRP Purge Reply (§5.2.6).
        PURGE_REPLY = 6 => "PurgeReply" ("NHRP Purge Reply"),
        /// NHRP Error Indication (§5.2.7).
        ERROR_INDICATION = 7 => "ErrorIndication" ("NHRP Error Indication"),
        /// NHRP Traffic Indication, the Cisco DMVPN phase 3 redirect (draft-detienne-dmvpn-01 §4.1).
        TRAFFIC_INDICATION = 8 => "TrafficIndication" ("NHRP Traffic Indication"),
    }
}

impl OpType {
    /// Whether this is a Resolution, Registration or Purge Request (types 1, 3 and 5).
    #[must_use]
    pub const fn is_request(self) -> bool {
        matches!(self.0, 1 | 3 | 5)
    }

    /// Whether this is a Resolution, Registration or Purge Reply (types 2, 4 and 6).
    #[must_use]
    pub const fn is_reply(self) -> bool {
        matches!(self.0, 2 | 4 | 6)
    }
}

dmvpn_wire::registry! {
    /// Address family numbers, `ar$afn` (RFC 2332 §5.1, IANA "Address Family Numbers"): the family
    /// of the NBMA addresses.
    pub struct AddressFamily(u16) {
        /// IP version 4: the NBMA family of every DMVPN.
        IPV4 = 1 => "IPv4",
        /// IP version 6.
        IPV6 = 2 => "IPv6",
        /// NSAP.
        NSAP = 3 => "NSAP",
        /// IEEE 802 (all 802 media plus Ethernet).
        IEEE_802 = 6 => "802",
        /// E.164 (SMDS, Frame Relay, ATM).
        E164 = 8 => "E.164",
    }
}

dmvpn_wire::registry! {
    /// Protocol types, `ar$pro.type` (RFC 2332 §5.1): an NLPID (0x00–0xff) or an Ethertype
    /// (0x0600 and up); the family of the protocol (tunnel) addresses.
    pub struct ProtocolType(u16) {
        /// NLPID SNAP: the protocol is named by the 5-byte `ar$pro.snap` (the "long form").
        SNAP = 0x0080 => "SNAP",
        /// IPv4 (Ethertype 0x0800).
        IPV4 = 0x0800 => "IPv4",
        /// IPv6 (Ethertype 0x86dd).
        IPV6 = 0x86dd => "IPv6",
    }
}

dmvpn_wire::registry! {
    /// Client Information Entry codes (RFC 2332 §5.2.2 and §5.2.4).
    pub struct CieCode(u8) {
        /// Success.
        SUCCESS = 0 => "Success" ("Success"),
        /// Administratively Prohibited.
        ADMINISTRATIVELY_PROHIBITED = 4 => "AdministrativelyProhibited"
            ("Administratively Prohibited"),
        /// Insufficient Resources.
        INSUFFICIENT_RESOURCES = 5 => "InsufficientResources" ("Insufficient Resources"),
        /// No Internetworking Layer Address to NBMA Address Binding Exists.
        NO_BINDING_EXISTS = 12 => "NoBindingExists"
            ("No Interworking Layer Address to NBMA Address Binding Exists"),
        /// Binding Exists But Is Not Unique.
        BINDING_NOT_UNIQUE = 13 => "BindingNotUnique" ("Binding Exists But Is Not Unique"),
        /// Unique Internetworking Layer Address Already Registered.
        ALREADY_REGISTERED = 14 => "AlreadyRegistered"
            ("Unique Internetworking Layer Address Already Registered"),
    }
}

impl CieCode {
    /// The value FRR nhrpd and OpenNHRP send for "no binding exists" (the RFC says 12).
    pub const NO_BINDING_EXISTS_FRR: Self = Self(11);

    /// The RFC value for this code: FRR's 11 becomes [`CieCode::NO_BINDING_EXISTS`], as the design
    /// asks to accept both on input and send the RFC value.
    #[must_use]
    pub const fn canonical(self) -> Self {
        if self.0 == Self::NO_BINDING_EXISTS_FRR.0 {
            Self::NO_BINDING_EXISTS
        } else {
            self
        }
    }
}

dmvpn_wire::registry! {
    /// Error Indication codes (RFC 2332 §5.2.7; 16 and 17 from RFC 2735 §4).
    pub struct ErrorCode(u16) {
        /// Unrecognized Extension: a compulsory extension was not understood.
        UNRECOGNIZED_EXTENSION = 1 => "UnrecognizedExtension" ("Unrecognized Extension"),
        /// NHRP Loop Detected.
        LOOP_DETECTED = 3 => "LoopDetected" ("NHRP Loop Detected"),
        /// Protocol Address Unreachable.
        PROTOCOL_ADDRESS_UNREACHABLE = 6 => "ProtocolAddressUnreachable"
            ("Protocol Address Unreachable"),
        /// Protocol Error.
        PROTOCOL_ERROR = 7 => "ProtocolError" ("Protocol Error"),
        /// NHRP SDU Size Exceeded.
        SDU_SIZE_EXCEEDED = 8 => "SduSizeExceeded" ("NHRP SDU Size Exceeded"),
        /// Invalid Extension.
        INVALID_EXTENSION = 9 => "InvalidExtension" ("Invalid Extension"),
        /// Invalid NHRP Resolution Reply Received.
        INVALID_RESOLUTION_REPLY = 10 => "InvalidResolutionReply"
            ("Invalid NHRP Resolution Reply Received"),
        /// Authentication Failure.
        AUTHENTICATION_FAILURE = 11 => "AuthenticationFailure" ("Authentication Failure"),
        /// Hop Count Exceeded.
        HOP_COUNT_EXCEEDED = 15 => "HopCountExceeded" ("Hop Count Exceeded"),
        /// VPN Mismatch (RFC 2735).
        VPN_MISMATCH = 16 => "VpnMismatch" ("VPN Mismatch"),
        /// VPN Unsupported (RFC 2735).
        VPN_UNSUPPORTED = 17 => "VpnUnsupported" ("VPN Unsupported"),
    }
}

impl ErrorCode {
    /// The value FRR nhrpd and OpenNHRP send for "loop detected" (the RFC says 3).
    pub const LOOP_DETECTED_FRR: Self = Self(2);

    /// The RFC value for this code: FRR's 2 becomes [`ErrorCode::LOOP_DETECTED`].
    #[must_use]
    pub const fn canonical(self) -> Self {
        if self.0 == Self::LOOP_DETECTED_FRR.0 {
            Self::LOOP_DETECTED
        } else {
            self
        }
    }
}

dmvpn_wire::registry! {
    /// Extension types (RFC 2332 §5.3): the low 15 bits of the extension type word, that is the
    /// 14-bit type plus the "unused" bit 0x4000, which must be zero; a set unused bit therefore makes
    /// an unknown type that is kept as bytes. The compulsory bit 0x8000 is separate.
    pub struct ExtensionType(u16) {
        /// End of Extensions (§5.3.0).
        END = 0 => "End",
        /// Responder Address (§5.3.1).
        RESPONDER_ADDRESS = 3 => "ResponderAddress",
        /// NHRP Forward Transit NHS Record (§5.3.2).
        FORWARD_TRANSIT_NHS_RECORD = 4 => "ForwardTransitNhsRecord",
        /// NHRP Reverse Transit NHS Record (§5.3.3).
        REVERSE_TRANSIT_NHS_RECORD = 5 => "ReverseTransitNhsRecord",
        /// NHRP Authentication (§5.3.4).
        AUTHENTICATION = 7 => "Authentication",
        /// NHRP Vendor-Private (§5.3.5).
        VENDOR_PRIVATE = 8 => "VendorPrivate",
        /// Cisco NAT Address (also RFC 2735 Device Capabilities, told apart by length).
        CISCO_NAT_ADDRESS = 9 => "CiscoNatAddress",
        /// Mobile NHC Authentication (RFC 2520); kept as bytes.
        MOBILE_NHC_AUTHENTICATION = 10 => "MobileNhcAuthentication",
    }
}

dmvpn_wire::registry! {
    /// Traffic Indication codes (draft-detienne-dmvpn-01 §4.1).
    pub struct TrafficCode(u16) {
        /// NHRP traffic redirect (indirection): use a shortcut for this destination.
        REDIRECT = 0 => "Redirect",
    }
}

dmvpn_wire::registry! {
    /// Authentication types: the first 32-bit word of the Authentication extension as Cisco IOS and
    /// FRR nhrpd write it. In RFC 2332 §5.3.4 terms it is a 16-bit reserved field then the 16-bit SPI.
    pub struct AuthType(u32) {
        /// Cleartext password (`ip nhrp authentication`), at most 8 bytes.
        CLEARTEXT = 1 => "Cleartext",
    }
}

/// The NBMA address format bit of a type/length byte (`ar$shtl`, `ar$sstl`, CIE `cli_addr_tl`,
/// RFC 2332 §5.1): bit 0x40.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum AddressFormat {
    /// NSAP format (bit clear): what every IP-based NBMA uses.
    #[default]
    Nsap,
    /// Native E.164 format (bit set).
    E164,
}

/// The flags word of the mandatory part (RFC 2332 §5.2.1–§5.2.6); the meaning of each bit
/// depends on the packet type, so names are looked up with [`Flags::names`].
#[derive(Clone, Copy, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Flags(pub u16);

impl Flags {
    /// No flags.
    pub const EMPTY: Self = Self(0);
    /// Resolution: Q, the requester is a router (§5.2.1).
    pub const RESOLUTION_ROUTER: Self = Self(0x8000);
    /// Resolution: A, the reply is authoritative.
    pub const RESOLUTION_AUTHORITATIVE: Self = Self(0x4000);
    /// Resolution Reply: D, the destination association is stable (§5.2.2; unused in a
    /// Resolution Request, §5.2.1).
    pub const RESOLUTION_DESTINATION_STABLE: Self = Self(0x2000);
    /// Resolution: U, uniqueness.
    pub const RESOLUTION_UNIQUE: Self = Self(0x1000);
    /// Resolution: S, the source binding is stable.
    pub const RESOLUTION_SOURCE_STABLE: Self = Self(0x0800);
    /// Registration: U, uniqueness required (§5.2.3); needs CIE prefix length 0xff.
    pub const REGISTRATION_UNIQUE: Self = Self(0x8000);
    /// Purge: N, no reply expected (§5.2.5).
    pub const PURGE_NO_REPLY: Self = Self(0x8000);
    /// Cisco: the sender understands the Cisco NAT Address extension (all types).
    pub const CISCO_NAT: Self = Self(0x0002);

    const RESOLUTION_REQUEST: &'static [(u16, &'static str)] = &[
        (0x8000, "router"),
        (0x4000, "authoritative"),
        (0x1000, "unique"),
        (0x0800, "source-stable"),
        (0x0002, "nat"),
    ];
    const RESOLUTION_REPLY: &'static [(u16, &'static str)] = &[
        (0x8000, "router"),
        (0x4000, "authoritative"),
        (0x2000, "destination-stable"),
        (0x1000, "unique"),
        (0x0800, "source-stable"),
        (0x0002, "nat"),
    ];
    const REGISTRATION: &'static [(u16, &'static str)] = &[(0x8000, "unique"), (0x0002, "nat")];
    const PURGE: &'static [(u16, &'static str)] = &[(0x8000, "no-reply"), (0x0002, "nat")];
    const OTHER: &'static [(u16, &'static str)] = &[(0x0002, "nat")];

    /// The names of the set bits that `op` defines, in bit order from the top (e.g. `unique`,
    /// `nat` for a Registration Request with 0x8002). Bits `op` does not define are skipped; use
    /// [`Flags::unnamed`] to see them.
    pub fn names(self, op: OpType) -> impl Iterator<Item = &'static str> {
        Self::table(op)
            .iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
    }

    /// The set bits that `op` gives no name.
    #[must_use]
    pub fn unnamed(self, op: OpType) -> u16 {
        Self::table(op)
            .iter()
            .fold(self.0, |rest, (bit, _)| rest & !bit)
    }

    /// A value that prints as `0x8002 (unique, nat)` for the given packet type.
    #[must_use]
    pub const fn display(self, op: OpType) -> FlagsDisplay {
        FlagsDisplay { flags: self, op }
    }

    fn table(op: OpType) -> &'static [(u16, &'static str)] {
        match op.0 {
            1 => Self::RESOLUTION_REQUEST,
            2 => Self::RESOLUTION_REPLY,
            3 | 4 => Self::REGISTRATION,
            5 | 6 => Self::PURGE,
            _ => Self::OTHER,
        }
    }
}

dmvpn_wire::flag_set!(Flags);

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// Flags with names for one packet type; see [`Flags::display`].
#[derive(Clone, Copy, Debug)]
pub struct FlagsDisplay {
    flags: Flags,
    op: OpType,
}

impl fmt::Display for FlagsDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.flags.0)?;
        let mut names = self.flags.names(self.op).peekable();
        if names.peek().is_some() {
            f.write_str(" (")?;
            for (i, name) in names.enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_print_names_and_values() {
        assert_eq!(
            format!("{:?}", OpType::REGISTRATION_REQUEST),
            "RegistrationRequest (3)"
        );
        assert_eq!(format!("{}", OpType(9)), "0x9");
        assert_eq!(
            OpType::TRAFFIC_INDICATION.description(),
            Some("NHRP Traffic Indication")
        );
        assert_eq!(OpType(0).description(), None);
        assert!(OpType::PURGE_REQUEST.is_request() && !OpType::PURGE_REQUEST.is_reply());
        assert!(OpType::RESOLUTION_REPLY.is_reply());
        assert_eq!(
            format!("{:?}", ExtensionType::CISCO_NAT_ADDRESS),
            "CiscoNatAddress (9)"
        );
        assert_eq!(
            format!("{:?}", ErrorCode::HOP_COUNT_EXCEEDED),
            "HopCountExceeded (15)"
        );
        assert_eq!(format!("{:?}", AuthType::CLEARTEXT), "Cleartext (1)");
        assert_eq!(format!("{:?}", ProtocolType::IPV4), "IPv4 (2048)");
        assert_eq!(format!("{:?}", AddressFamily::IPV4), "IPv4 (1)");
        assert_eq!(format!("{:?}", TrafficCode::REDIRECT), "Redirect (0)");
    }

    #[test]
    fn every_known_value_has_a_description() {
        for op in OpType::KNOWN {
            assert!(op.description().is_some(), "{op}");
        }
        for code in CieCode::KNOWN {
            assert!(code.description().is_some(), "{code}");
        }
        for code in ErrorCode::KNOWN {
            assert!(code.description().is_some(), "{code}");
        }
        assert_eq!(CieCode(1).description(), None);
        assert_eq!(ErrorCode(2).description(), None);
    }

    #[test]
    fn frr_codes_map_to_the_rfc() {
        assert_eq!(CieCode(11).canonical(), CieCode::NO_BINDING_EXISTS);
        assert_eq!(CieCode(12).canonical(), CieCode::NO_BINDING_EXISTS);
        assert_eq!(CieCode(0).canonical(), CieCode::SUCCESS);
        assert_eq!(ErrorCode(2).canonical(), ErrorCode::LOOP_DETECTED);
        assert_eq!(ErrorCode(11).canonical(), ErrorCode::AUTHENTICATION_FAILURE);
    }

    #[test]
    fn flags_are_named_per_packet_type() {
        let flags = Flags(0x8002);
        assert_eq!(
            flags.display(OpType::REGISTRATION_REQUEST).to_string(),
            "0x8002 (unique, nat)"
        );
        assert_eq!(
            flags.display(OpType::RESOLUTION_REQUEST).to_string(),
            "0x8002 (router, nat)"
        );
        assert_eq!(
            flags.display(OpType::PURGE_REQUEST).to_string(),
            "0x8002 (no-reply, nat)"
        );
        assert_eq!(
            flags.display(OpType::ERROR_INDICATION).to_string(),
            "0x8002 (nat)"
        );
        assert_eq!(
            Flags(0).display(OpType::REGISTRATION_REPLY).to_string(),
            "0x0000"
        );
        let all = Flags(0xf802);
        assert_eq!(
            all.names(OpType::RESOLUTION_REPLY).collect::<Vec<_>>(),
            [
                "router",
                "authoritative",
                "destination-stable",
                "unique",
                "source-stable",
                "nat"
            ]
        );
        assert_eq!(Flags(0x0401).unnamed(OpType::RESOLUTION_REQUEST), 0x0401);
        // D is defined in a Resolution Reply only (RFC 2332 §5.2.1: "Unused (clear on transmit)").
        assert_eq!(Flags(0x2000).unnamed(OpType::RESOLUTION_REQUEST), 0x2000);
        assert_eq!(Flags(0x2000).unnamed(OpType::RESOLUTION_REPLY), 0);
        assert_eq!(Flags(0x8003).unnamed(OpType::REGISTRATION_REQUEST), 0x0001);
        assert!((Flags::REGISTRATION_UNIQUE | Flags::CISCO_NAT).contains(Flags::CISCO_NAT));
        assert_eq!(format!("{:?}", Flags(0x8002)), "0x8002");
    }
}
