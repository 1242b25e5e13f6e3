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
