//! What every fuzz target shares: a counting global allocator and [`check`], which runs one input and
//! fails it if it allocated more than its target's bound.
//!
//! The bound is on the *peak* of live heap bytes while the input runs, above what was live before it:
//! `peak ≤ per_byte × input length + constant`. Each target picks its two numbers (see
//! `fuzz/README.md` for why each is what it is); an input that makes a parser allocate out of
//! proportion to its size — a length field trusted for a `Vec::with_capacity`, a reassembly buffer
//! sized by an offset, output that grows faster than its input — fails with a message naming the
//! peak and the bound, and libFuzzer saves it as a crash. Unbounded recursion shows up as a stack
//! overflow (a crash), loops without progress as libFuzzer's `-timeout`, and the process as a whole
//! stays under `-rss_limit_mb`; `tools/fuzz.sh` passes both.
//!
//! Only Rust allocations are counted (libFuzzer's own C++ ones are not). The counters are global
//! atomics: libFuzzer runs inputs one at a time on one thread.
//!
//! With `DMVPN_FUZZ_ALLOC_LOG=1` in the environment, [`check`] prints every new worst case of
//! `peak − per_byte × length` to stderr: how the constants in the targets were measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub use libfuzzer_sys;

pub mod bytes;
pub mod esp;
pub mod nhrp;

/// Bytes currently allocated through the Rust allocator.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The largest `LIVE` since [`check`] last reset it.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// [`System`] plus two counters.
///
/// A global allocator can only be written with `unsafe` (`GlobalAlloc` is an unsafe trait, and its
/// methods take raw pointers): there is no safe way to observe every allocation. This wrapper is
/// the only `unsafe` in the fuzz workspace; it forwards every call to [`System`] unchanged, with
/// the caller's own guarantees, and only adds and subtracts sizes.
pub struct Counting;

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(live, Relaxed);
}

fn shrink(bytes: usize) {
    LIVE.fetch_sub(bytes, Relaxed);
}

// SAFETY: every method calls the same method of `System` with the same arguments, so `System`'s
// guarantees carry over; the counters never influence what is returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                shrink(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A target's allocation bound: `per_byte × input length + constant` bytes at the peak.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// Bytes allowed per input byte.
    pub per_byte: usize,
    /// Bytes allowed whatever the input.
    pub constant: usize,
}

impl Bound {
    /// The bound for an input of `len` bytes.
    #[must_use]
    pub const fn limit(self, len: usize) -> usize {
        self.per_byte
            .saturating_mul(len)
            .saturating_add(self.constant)
    }
}

/// Runs `target` on `data` and panics if the heap grew by more than `bound` allows at any point
/// while it ran.
pub fn check(data: &[u8], bound: Bound, target: impl FnOnce(&[u8])) {
    static LOG: OnceLock<bool> = OnceLock::new();
    let log = *LOG.get_or_init(|| std::env::var_os("DMVPN_FUZZ_ALLOC_LOG").is_some());
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    target(data);
    let peak = PEAK.load(Relaxed).saturating_sub(base);
    if log {
        static WORST: AtomicUsize = AtomicUsize::new(0);
        let excess = peak.saturating_sub(bound.per_byte.saturating_mul(data.len()));
        if excess > WORST.fetch_max(excess, Relaxed) {
            eprintln!(
                "alloc: new worst {excess} bytes over {} × {} input bytes (peak {peak})",
                bound.per_byte,
                data.len()
            );
        }
    }
    let limit = bound.limit(data.len());
    assert!(
        peak <= limit,
        "allocated {peak} bytes at the peak for a {}-byte input; the bound is {} × {} + {} = {limit}",
        data.len(),
        bound.per_byte,
        data.len(),
        bound.constant,
    );
}

/// A fuzz target calling `$function(data)` under an allocation bound of `per_byte` × input length
/// + `constant` bytes.
#[macro_export]
macro_rules! target {
    ($function:path, per_byte = $per_byte:expr, constant = $constant:expr $(,)?) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            $crate::check(
                data,
                $crate::Bound {
                    per_byte: $per_byte,
                    constant: $constant,
                },
                |data| {
                    let _ = $function(data);
                },
            );
        });
    };
}
