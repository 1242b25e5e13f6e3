//! What every codec crate declares the same way around its code: the README doc tests, the hidden
//! `fuzzing` module, and the bolero properties that run the fuzz harnesses under `cargo test`.

/// Declares a codec crate's two standard items: the README's examples as doc tests (a
/// `ReadmeDoctests` item that exists only under `cfg(doctest)`), and `pub mod fuzzing`, the fuzz
/// harness entry points, compiled for tests and for the `fuzzing` feature only and hidden from the
/// docs. Call it once in the crate root, passing the README with `include_str!` so that the path
/// is the caller's:
///
/// ```ignore
/// dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));
/// ```
///
/// The crate must have a `src/fuzzing.rs` and a `fuzzing` feature.
#[macro_export]
macro_rules! codec_crate {
    (readme = $readme:expr) => {
        /// The README's examples, compiled and run as doc tests.
        #[cfg(doctest)]
        #[doc = $readme]
        struct ReadmeDoctests;

        #[cfg(any(test, feature = "fuzzing"))]
        #[doc(hidden)]
        pub mod fuzzing;
    };
}

/// Declares bolero properties: each `fn name => target;` becomes a `#[test]` that runs
/// `bolero::check!().for_each(target)` on arbitrary bytes, and `fn name(T) => target;` one that
/// draws a `T` first (`bolero::check!().with_type::<T>()`). Under `cargo test` bolero tries a
/// short, deterministic run of inputs; under `cargo bolero` or a fuzzer it explores. The calling
/// crate needs `bolero` as a (dev-)dependency.
///
/// ```
/// fn parse(data: &[u8]) {
///     // A fuzz target returns normally on any input; a panic is the finding.
///     let _ = dmvpn_wire::Reader::new(dmvpn_wire::Layer::Gre, data).u16("type");
/// }
///
/// dmvpn_wire::fuzz_tests! {
///     /// Arbitrary bytes never make the reader panic.
///     fn arbitrary_bytes_never_panic => parse;
///     /// Nor do arbitrary lists of words.
///     fn arbitrary_words_never_panic(Vec<[u8; 2]>) => |words| parse(words.as_flattened());
/// }
/// ```
#[macro_export]
macro_rules! fuzz_tests {
    ($($(#[$attr:meta])* fn $name:ident $(($ty:ty))? => $target:expr;)*) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                ::bolero::check!()$(.with_type::<$ty>())?.for_each($target);
            }
        )*
    };
}

/// Declares the three tests of a structure-aware fuzz harness module `$harness` that has
/// `repr_round_trip(&[u8])` (draw a repr from the bytes, emit it, parse it back, compare) and
/// `mutated(&[u8])` (draw a repr, edit its bytes, parse without panicking): both as bolero
/// properties, and both once on a long deterministic input, so the draws reach past the first
/// fields whatever bolero picks.
///
/// ```
/// mod harness {
///     pub fn repr_round_trip(data: &[u8]) {
///         let bytes = data.get(..2).unwrap_or_default();
///         assert_eq!(bytes.to_vec(), bytes);
///     }
///     pub fn mutated(data: &[u8]) {
///         let _ = dmvpn_wire::Reader::new(dmvpn_wire::Layer::Nhrp, data).u32("word");
///     }
/// }
///
/// dmvpn_wire::repr_fuzz_tests!(harness);
/// ```
#[macro_export]
macro_rules! repr_fuzz_tests {
    ($harness:ident) => {
        $crate::fuzz_tests! {
            fn arbitrary_reprs_round_trip => $harness::repr_round_trip;
            fn edited_reprs_never_panic_and_round_trip => $harness::mutated;
        }

        #[test]
        fn a_full_repr_round_trips() {
            // A long deterministic input, so the draws go past the first fields (not only what bolero picks).
            let data: ::std::vec::Vec<u8> = (0..4096u32)
                .map(|i| (i.wrapping_mul(97) >> 3) as u8)
                .collect();
            $harness::repr_round_trip(&data);
            $harness::mutated(&data);
        }
    };
}
