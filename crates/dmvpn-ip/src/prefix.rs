//! [`Prefix`]: an IPv4 prefix, the one type the workspace's configurations, routing tables and
//! EIGRP topology share. An address and a length (0–32), always kept with the host bits cleared.

use core::fmt;
use core::net::Ipv4Addr;
use core::str::FromStr;

/// An IPv4 prefix: an address and a length (0–32), kept with the host bits cleared.
///
/// ```
/// use core::net::Ipv4Addr;
/// use dmvpn_ip::Prefix;
///
/// let lan: Prefix = "192.168.2.77/24".parse()?;
/// assert_eq!(lan.to_string(), "192.168.2.0/24");
/// assert!(lan.contains(Ipv4Addr::new(192, 168, 2, 1)));
/// let route = Prefix::from_netmask(Ipv4Addr::new(10, 9, 0, 0), Ipv4Addr::new(255, 255, 0, 0));
/// assert_eq!(route, Some(Prefix::new(Ipv4Addr::new(10, 9, 0, 0), 16)));
/// # Ok::<(), dmvpn_ip::prefix::ParsePrefixError>(())
/// ```
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Prefix {
    addr: Ipv4Addr,
    len: u8,
}

impl Prefix {
    /// The prefix of `len` bits of `addr` (host bits cleared; a length above 32 is 32).
    #[must_use]
    pub const fn new(addr: Ipv4Addr, len: u8) -> Self {
        let len = if len > 32 { 32 } else { len };
        let bits = addr.to_bits() & Self::mask_bits(len);
        Self {
            addr: Ipv4Addr::from_bits(bits),
            len,
        }
    }

    /// The prefix of an `ip address A M` or `ip route A M` line (a netmask: 255.255.255.0 is
    /// /24, 0.0.0.0 is /0). `None` for a non-contiguous mask.
    #[must_use]
    pub fn from_netmask(addr: Ipv4Addr, mask: Ipv4Addr) -> Option<Self> {
        let bits = mask.to_bits();
        let len = bits.leading_ones();
        (bits.checked_shl(len).unwrap_or(0) == 0).then(|| Self::new(addr, len as u8))
    }

    /// The prefix of a `network A W` line (a wildcard: 0.0.0.255 is /24, 0.0.0.0 is the host
    /// /32). `None` for a non-contiguous wildcard.
    #[must_use]
    pub fn from_wildcard(addr: Ipv4Addr, wildcard: Ipv4Addr) -> Option<Self> {
        Self::from_netmask(addr, Ipv4Addr::from_bits(!wildcard.to_bits()))
    }

    const fn mask_bits(len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - len as u32)
        }
    }

    /// The network address.
    #[must_use]
    pub const fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length.
    #[must_use]
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is 0.0.0.0/0, the default route.
    #[must_use]
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }

    /// The netmask, e.g. 255.255.255.0.
    #[must_use]
    pub const fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(Self::mask_bits(self.len))
    }

    /// Whether `addr` lies in the prefix.
    #[must_use]
    pub const fn contains(&self, addr: Ipv4Addr) -> bool {
        addr.to_bits() & Self::mask_bits(self.len) == self.addr.to_bits()
    }

    /// Whether `other` lies wholly in the prefix (10.0.0.0/8 covers 10.1.0.0/16 and itself).
    #[must_use]
    pub const fn covers(&self, other: Self) -> bool {
        self.len <= other.len && self.contains(other.addr)
    }
}

/// `10.0.1.0/24`.
impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Why a string is no prefix.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ParsePrefixError {
    /// The part before `/` (or the whole string) is no dotted-quad IPv4 address.
    Address,
    /// The part after `/` is no number from 0 to 32.
    Length,
}

impl fmt::Display for ParsePrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Address => "prefix: invalid ipv4 address",
            Self::Length => "prefix: length is not a number from 0 to 32",
        })
    }
}

impl core::error::Error for ParsePrefixError {}

/// `A.B.C.D/LEN` (host bits are cleared), or a bare address for its /32.
impl FromStr for Prefix {
    type Err = ParsePrefixError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let addr: Ipv4Addr = addr.parse().map_err(|_| ParsePrefixError::Address)?;
        let len = match len {
            None => 32,
            // `u8::from_str` takes a leading `+`; a length is digits only.
            Some(len) if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) => len
                .parse::<u8>()
                .ok()
                .filter(|&len| len <= 32)
                .ok_or(ParsePrefixError::Length)?,
            Some(_) => return Err(ParsePrefixError::Length),
        };
        Ok(Self::new(addr, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = Prefix::new(Ipv4Addr::new(192, 168, 2, 77), 24);
        assert_eq!(p.addr(), Ipv4Addr::new(192, 168, 2, 0));
        assert_eq!(p.mask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(p.to_string(), "192.168.2.0/24");
        assert!(p.contains(Ipv4Addr::new(192, 168, 2, 1)));
        assert!(!p.contains(Ipv4Addr::new(192, 168, 3, 1)));
        assert!(Prefix::new(Ipv4Addr::new(1, 2, 3, 4), 0).contains(Ipv4Addr::BROADCAST));
        assert_eq!(Prefix::new(Ipv4Addr::new(1, 2, 3, 4), 40).prefix_len(), 32);
        let ten = Some(Prefix::new(Ipv4Addr::new(10, 1, 0, 0), 16));
        let addr = Ipv4Addr::new(10, 1, 0, 9);
        assert_eq!(
            Prefix::from_wildcard(addr, Ipv4Addr::new(0, 0, 255, 255)),
            ten
        );
        assert_eq!(
            Prefix::from_netmask(addr, Ipv4Addr::new(255, 255, 0, 0)),
            ten
        );
        let host = Prefix::from_wildcard(addr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(host, Some(Prefix::new(addr, 32)));
        let default = Prefix::from_netmask(addr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(default.map(|p| p.is_default()), Some(true));
        let holes = Ipv4Addr::new(255, 0, 255, 0);
        assert_eq!(Prefix::from_netmask(addr, holes), None);
        assert_eq!(Prefix::from_wildcard(addr, holes), None);
        let eight = Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 8);
        let sixteen = Prefix::new(Ipv4Addr::new(10, 1, 0, 0), 16);
        assert!(eight.covers(sixteen) && eight.covers(eight));
        assert!(!sixteen.covers(eight));
    }

    #[test]
    fn parse() {
        let parse = |text: &str| text.parse::<Prefix>();
        assert_eq!(
            parse("10.1.2.3/16"),
            Ok(Prefix::new(Ipv4Addr::new(10, 1, 0, 0), 16))
        );
        assert_eq!(
            parse("10.1.2.3"),
            Ok(Prefix::new(Ipv4Addr::new(10, 1, 2, 3), 32))
        );
        assert_eq!(parse("0.0.0.0/0").map(|p| p.is_default()), Ok(true));
        for bad in [
            "10.1.2.3/33",
            "10.1.2.3/",
            "10.1.2.3/+8",
            "10.1.2.3/-1",
            "10.1.2.3/8/8",
        ] {
            assert_eq!(parse(bad), Err(ParsePrefixError::Length), "{bad}");
        }
        for bad in ["", "/8", "10.1.2/8", "10.1.2.256/8", "ten/8"] {
            assert_eq!(parse(bad), Err(ParsePrefixError::Address), "{bad}");
        }
        for (error, message) in [
            (
                ParsePrefixError::Length,
                "prefix: length is not a number from 0 to 32",
            ),
            (ParsePrefixError::Address, "prefix: invalid ipv4 address"),
        ] {
            assert_eq!(error.to_string(), message);
        }
        // Every prefix prints as it parses.
        for len in 0..=32 {
            let p = Prefix::new(Ipv4Addr::new(172, 16, 201, 77), len);
            assert_eq!(parse(&p.to_string()), Ok(p));
        }
    }
}
