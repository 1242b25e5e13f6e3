//! The [`view!`](crate::view) macro: the struct and constructors every zero-copy view shares.

/// Declares a zero-copy view over a buffer, smoltcp-style: the struct `Name<T: AsRef<[u8]>>`
/// holding the buffer, with `new_unchecked`, `new_checked` and `into_inner`. The view's own
/// `impl` block must define `check_len(&self) -> Result<(), Error>`, which `new_checked` runs.
///
/// ```
/// use dmvpn_wire::{Error, Layer};
///
/// dmvpn_wire::view! {
///     /// Two bytes of something.
///     #[derive(Clone, Copy, Debug)]
///     pub struct Pair, error = Error;
/// }
///
/// impl<T: AsRef<[u8]>> Pair<T> {
///     /// Checks that both bytes are there.
///     pub fn check_len(&self) -> Result<(), Error> {
///         let len = self.buffer.as_ref().len();
///         if len < 2 {
///             return Err(Error::truncated(Layer::Gre, "pair", 0, 2, len));
///         }
///         Ok(())
///     }
/// }
///
/// assert!(Pair::new_checked(&[1, 2][..]).is_ok());
/// assert!(Pair::new_checked(&[1][..]).is_err());
/// assert_eq!(Pair::new_unchecked([7u8]).into_inner(), [7]);
/// ```
#[macro_export]
macro_rules! view {
    ($(#[$attr:meta])* $vis:vis struct $name:ident, error = $error:ty;) => {
        $(#[$attr])*
        $vis struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps a buffer without checking it: getters of fixed fields may then panic.
            pub const fn new_unchecked(buffer: T) -> Self {
                Self { buffer }
            }

            #[doc = concat!(
                "Wraps a buffer after [`", stringify!($name), "::check_len`], whose error names ",
                "the first field that does not fit."
            )]
            pub fn new_checked(buffer: T) -> ::core::result::Result<Self, $error> {
                let view = Self::new_unchecked(buffer);
                view.check_len()?;
                Ok(view)
            }

            /// The buffer back.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}

/// Declares a view's plain fixed-offset getters, each a `#[must_use]` method reading a `u8` at a
/// `usize` position or a big-endian `u16` / `u32` at a [`Field`](crate::field::Field), through
/// [`field::be_u16`](crate::field::be_u16) and [`field::be_u32`](crate::field::be_u32); written
/// `-> Name(u8)`, the value is wrapped in the registry newtype `Name`. Use it inside the view's
/// `impl<T: AsRef<[u8]>>` block; getters that compute anything stay written out.
///
/// ```
/// use dmvpn_wire::{Error, IpProtocol, Layer};
///
/// dmvpn_wire::view! {
///     /// A type byte, then a big-endian length.
///     pub struct Tl, error = Error;
/// }
///
/// impl<T: AsRef<[u8]>> Tl<T> {
///     /// Checks that both fields are there.
///     pub fn check_len(&self) -> Result<(), Error> {
///         let len = self.buffer.as_ref().len();
///         if len < 3 {
///             return Err(Error::truncated(Layer::Gre, "tl", 0, 3, len));
///         }
///         Ok(())
///     }
///
///     dmvpn_wire::getters! {
///         /// The type, as a protocol number.
///         pub fn ty -> IpProtocol(u8) = 0;
///         /// The length.
///         pub fn length -> u16 = 1..3;
///     }
/// }
///
/// let tl = Tl::new_checked(&[7, 0x01, 0x02][..]).unwrap();
/// assert_eq!((tl.ty(), tl.length()), (IpProtocol(7), 0x0102));
/// ```
#[macro_export]
macro_rules! getters {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident -> $ty:ident $(($raw:ident))? = $at:expr;)*) => {
        $(
            $(#[$attr])*
            #[must_use]
            $vis fn $name(&self) -> $ty {
                $crate::getters!(@get $ty ($($raw)?), self.buffer.as_ref(), $at)
            }
        )*
    };
    (@get $ty:ident (), $bytes:expr, $at:expr) => {
        $crate::getters!(@read $ty, $bytes, $at)
    };
    (@get $ty:ident ($raw:ident), $bytes:expr, $at:expr) => {
        $ty($crate::getters!(@read $raw, $bytes, $at))
    };
    (@read u8, $bytes:expr, $at:expr) => {
        $bytes[$at]
    };
    (@read u16, $bytes:expr, $at:expr) => {
        $crate::field::be_u16($bytes, $at.start)
    };
    (@read u32, $bytes:expr, $at:expr) => {
        $crate::field::be_u32($bytes, $at.start)
    };
}

/// Declares a view's plain fixed-offset setters, the mirror of [`getters!`](crate::getters): each
/// writes a `u8` at a `usize` position or a big-endian `u16` / `u32` at a
/// [`Field`](crate::field::Field), through [`field::set_be_u16`](crate::field::set_be_u16) and
/// [`field::set_be_u32`](crate::field::set_be_u32); written `(Name(u8))`, it takes the registry
/// or flags newtype `Name` and writes its raw value. Use it inside the view's
/// `impl<T: AsRef<[u8]> + AsMut<[u8]>>` block; setters that compute anything stay written out.
///
/// ```
/// use dmvpn_wire::IpProtocol;
///
/// dmvpn_wire::view! {
///     /// A type byte, then a big-endian length.
///     pub struct Tl, error = dmvpn_wire::Error;
/// }
///
/// impl<T: AsRef<[u8]>> Tl<T> {
///     /// Nothing to check in this example.
///     pub fn check_len(&self) -> Result<(), dmvpn_wire::Error> {
///         Ok(())
///     }
/// }
///
/// impl<T: AsRef<[u8]> + AsMut<[u8]>> Tl<T> {
///     dmvpn_wire::setters! {
///         /// Sets the type.
///         pub fn set_ty(IpProtocol(u8)) = 0;
///         /// Sets the length.
///         pub fn set_length(u16) = 1..3;
///     }
/// }
///
/// let mut tl = Tl::new_unchecked([0u8; 3]);
/// tl.set_ty(IpProtocol::GRE);
/// tl.set_length(0x0102);
/// assert_eq!(tl.into_inner(), [47, 0x01, 0x02]);
/// ```
#[macro_export]
macro_rules! setters {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident($ty:ident $(($raw:ident))?) = $at:expr;)*) => {
        $(
            $(#[$attr])*
            $vis fn $name(&mut self, value: $ty) {
                $crate::setters!(@put $ty ($($raw)?), self.buffer.as_mut(), $at, value);
            }
        )*
    };
    (@put $ty:ident (), $bytes:expr, $at:expr, $value:expr) => {
        $crate::setters!(@write $ty, $bytes, $at, $value)
    };
    (@put $ty:ident ($raw:ident), $bytes:expr, $at:expr, $value:expr) => {
        $crate::setters!(@write $raw, $bytes, $at, $value.0)
    };
    (@write u8, $bytes:expr, $at:expr, $value:expr) => {
        $bytes[$at] = $value
    };
    (@write u16, $bytes:expr, $at:expr, $value:expr) => {
        $crate::field::set_be_u16($bytes, $at.start, $value)
    };
    (@write u32, $bytes:expr, $at:expr, $value:expr) => {
        $crate::field::set_be_u32($bytes, $at.start, $value)
    };
}
