//! Open newtypes for protocol registries.

/// Declares an open newtype for a protocol registry (op types, TLV types, payload types, …).
///
/// The type wraps the raw wire integer, so every value round-trips, known or not. Each registered
/// value gets an associated constant and a display name; `Debug` and `Display` print
/// `Name (value)` for registered values and the hex value otherwise.
///
/// ```
/// dmvpn_wire::registry! {
///     /// NHRP packet types (RFC 2332 §5.0).
///     pub struct OpType(u8) {
///         /// Resolution Request.
///         RESOLUTION_REQUEST = 1 => "ResolutionRequest",
///         /// Registration Request.
///         REGISTRATION_REQUEST = 3 => "RegistrationRequest",
///     }
/// }
///
/// assert_eq!(format!("{:?}", OpType::REGISTRATION_REQUEST), "RegistrationRequest (3)");
/// assert_eq!(format!("{}", OpType(0x2a)), "0x2a");
/// assert_eq!(OpType::from(3u8), OpType::REGISTRATION_REQUEST);
/// assert_eq!(OpType::RESOLUTION_REQUEST.name(), Some("ResolutionRequest"));
/// assert!(!OpType(9).is_known());
/// assert!(matches!(OpType(1), OpType::RESOLUTION_REQUEST));
/// ```
///
/// A registry whose every entry also gives, in parentheses, the longer text a dissector prints
/// for it (Wireshark's value string) gets `description()` as well:
///
/// ```
/// dmvpn_wire::registry! {
///     /// NHRP Error Indication codes (RFC 2332 §5.2.7).
///     pub struct ErrorCode(u16) {
///         /// Loop detected.
///         LOOP_DETECTED = 3 => "LoopDetected" ("NHRP Loop Detected"),
///         /// Protocol error.
///         PROTOCOL_ERROR = 7 => "ProtocolError" ("Protocol Error"),
///     }
/// }
///
/// assert_eq!(ErrorCode::LOOP_DETECTED.description(), Some("NHRP Loop Detected"));
/// assert_eq!(ErrorCode(9).description(), None);
/// assert_eq!(ErrorCode::KNOWN, &[ErrorCode::LOOP_DETECTED, ErrorCode::PROTOCOL_ERROR]);
/// assert_eq!(format!("{:?}", ErrorCode::PROTOCOL_ERROR), "ProtocolError (7)");
/// ```
#[macro_export]
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($int:ty) {
            $(
                $(#[$const_meta:meta])*
                $const:ident = $value:literal => $label:literal ($description:literal)
            ),* $(,)?
        }
    ) => {
        $crate::registry! {
            $(#[$meta])*
            $vis struct $name($int) {
                $(
                    $(#[$const_meta])*
                    $const = $value => $label
                ),*
            }
        }

        impl $name {
            /// The longer text a dissector prints for the value (Wireshark's value string), or
            /// `None` for a value this registry does not know.
            #[must_use]
            pub const fn description(self) -> ::core::option::Option<&'static str> {
                match self.0 {
                    $($value => ::core::option::Option::Some($description),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($int:ty) {
            $(
                $(#[$const_meta:meta])*
                $const:ident = $value:literal => $label:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
        $vis struct $name(pub $int);

        impl $name {
            $(
                $(#[$const_meta])*
                pub const $const: Self = Self($value);
            )*

            /// Every registered value, in registry order.
            pub const KNOWN: &'static [Self] = &[$(Self::$const),*];

            /// The registered name, or `None` for a value this registry does not know.
            #[must_use]
            pub const fn name(self) -> ::core::option::Option<&'static str> {
                match self.0 {
                    $($value => ::core::option::Option::Some($label),)*
                    _ => ::core::option::Option::None,
                }
            }

            /// Whether the value is registered.
            #[must_use]
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(self, f)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(name) => ::core::write!(f, "{} ({})", name, self.0),
                    ::core::option::Option::None => ::core::write!(f, "{:#x}", self.0),
                }
            }
        }

        impl ::core::convert::From<$int> for $name {
            fn from(value: $int) -> Self {
                Self(value)
            }
        }

        impl ::core::convert::From<$name> for $int {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::registry! {
        /// A test registry.
        pub struct Proto(u16) {
            /// IPv4.
            IPV4 = 0x0800 => "IPv4",
            /// NHRP.
            NHRP = 0x2001 => "NHRP",
        }
    }

    #[test]
    fn debug_names_known_and_hex_for_unknown() {
        assert_eq!(format!("{:?}", Proto::NHRP), "NHRP (8193)");
        assert_eq!(format!("{:?}", Proto(0x86dd)), "0x86dd");
        assert_eq!(Proto::KNOWN, &[Proto::IPV4, Proto::NHRP]);
        assert_eq!(u16::from(Proto::IPV4), 0x0800);
        assert_eq!(Proto::default(), Proto(0));
    }
}
