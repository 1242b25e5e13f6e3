//! The one registry of IP protocol numbers, which IPv4's `protocol`, IPv6's `next header` and
//! ESP's `next header` all draw from.

crate::registry! {
    /// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"): the IPv4 `protocol`
    /// field (RFC 791 §3.1), the IPv6 `next header` (RFC 8200 §3) and the ESP trailer's
    /// `next header` (RFC 4303 §2.6).
    ///
    /// ```
    /// use dmvpn_wire::IpProtocol;
    ///
    /// assert_eq!(IpProtocol(47), IpProtocol::GRE);
    /// assert_eq!(format!("{:?}", IpProtocol::NHRP), "NHRP (54)");
    /// assert_eq!(format!("{:?}", IpProtocol(253)), "0xfd");
    /// ```
    pub struct IpProtocol(u8) {
        /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
        HOP_BY_HOP = 0 => "IPv6-HopByHop",
        /// ICMP (RFC 792).
        ICMP = 1 => "ICMP",
        /// IGMP (RFC 1112).
        IGMP = 2 => "IGMP",
        /// IPv4 in IP (RFC 2003), the inner packet of tunnel-mode ESP.
        IPV4 = 4 => "IPv4",
        /// TCP (RFC 9293).
        TCP = 6 => "TCP",
        /// UDP (RFC 768).
        UDP = 17 => "UDP",
        /// IPv6 in IP (RFC 4213).
        IPV6 = 41 => "IPv6",
        /// IPv6 Routing header (RFC 8200 §4.4).
        IPV6_ROUTE = 43 => "IPv6-Route",
        /// IPv6 Fragment header (RFC 8200 §4.5).
        IPV6_FRAG = 44 => "IPv6-Frag",
        /// GRE (RFC 2784), DMVPN's tunnel.
        GRE = 47 => "GRE",
        /// ESP (RFC 4303).
        ESP = 50 => "ESP",
        /// AH (RFC 4302).
        AH = 51 => "AH",
        /// NHRP carried directly in IP (RFC 2332 §5; IANA names the number "NARP" after its
        /// predecessor, RFC 1735). DMVPN carries NHRP in GRE instead.
        NHRP = 54 => "NHRP",
        /// ICMPv6 (RFC 4443).
        ICMPV6 = 58 => "ICMPv6",
        /// No next header (RFC 8200 §4.7), also ESP's dummy packet (RFC 4303 §2.6).
        NO_NEXT_HEADER = 59 => "IPv6-NoNxt",
        /// IPv6 Destination Options (RFC 8200 §4.6).
        IPV6_OPTS = 60 => "IPv6-Opts",
        /// EIGRP (RFC 7868).
        EIGRP = 88 => "EIGRP",
        /// OSPF (RFC 2328).
        OSPF = 89 => "OSPF",
        /// PIM (RFC 7761).
        PIM = 103 => "PIM",
    }
}

#[cfg(test)]
mod tests {
    use super::IpProtocol;

    #[test]
    fn names_and_numbers() {
        assert_eq!(format!("{:?}", IpProtocol::ESP), "ESP (50)");
        assert_eq!(format!("{}", IpProtocol::EIGRP), "EIGRP (88)");
        assert_eq!(format!("{:?}", IpProtocol(253)), "0xfd");
        assert_eq!(u8::from(IpProtocol::NHRP), 54);
        // Registry order is numeric order, each number once.
        assert!(IpProtocol::KNOWN.windows(2).all(|w| w[0] < w[1]));
    }
}
