//! Flag words: the set operations and the one-bit getters that every codec's flags type shares.

/// Gives a flags newtype `Name(pub uN)` whose constants are `Self` values the set operations:
/// `contains`, `union` and the `|` operator.
///
/// ```
/// #[derive(Clone, Copy, Debug, Eq, PartialEq)]
/// pub struct Flags(pub u16);
///
/// impl Flags {
///     /// The U bit.
///     pub const UNIQUE: Self = Self(0x8000);
///     /// The NAT bit.
///     pub const NAT: Self = Self(0x0002);
/// }
///
/// dmvpn_wire::flag_set!(Flags);
///
/// let both = Flags::UNIQUE | Flags::NAT;
/// assert_eq!(both, Flags(0x8002));
/// assert!(both.contains(Flags::NAT));
/// assert!(!Flags::NAT.contains(both));
/// assert_eq!(Flags::NAT.union(Flags::UNIQUE), both);
/// ```
#[macro_export]
macro_rules! flag_set {
    ($name:ident) => {
        impl $name {
            /// Whether every bit of `other` is set.
            #[must_use]
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// The union of both: every bit set in either.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }
        }

        impl ::core::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                self.union(rhs)
            }
        }
    };
}

/// Declares one-bit getters on a flags newtype whose bit masks are associated constants: each
/// `pub fn name = MASK;` becomes a `#[must_use] pub const fn name(self) -> bool` that says whether
/// `self.0 & Self::MASK` is non-zero. Use it inside the type's `impl` block.
///
/// ```
/// pub struct Flags(pub u8);
///
/// impl Flags {
///     /// E: encrypted.
///     pub const ENCRYPTION: u8 = 0x01;
///     /// C: commit.
///     pub const COMMIT: u8 = 0x02;
///
///     dmvpn_wire::flag_getters! {
///         /// Whether the E bit is set.
///         pub fn encryption = ENCRYPTION;
///         /// Whether the C bit is set.
///         pub fn commit = COMMIT;
///     }
/// }
///
/// assert!(Flags(0x03).encryption() && Flags(0x03).commit());
/// assert!(!Flags(0x02).encryption());
/// ```
#[macro_export]
macro_rules! flag_getters {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident = $mask:ident;)*) => {
        $(
            $(#[$attr])*
            #[must_use]
            $vis const fn $name(self) -> bool {
                self.0 & Self::$mask != 0
            }
        )*
    };
}
