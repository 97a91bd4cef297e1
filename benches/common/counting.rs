//! A counting global allocator: while [`measure`] runs, the live bytes of every thread except the
//! sandboxes' (their runtime threads call [`exclude_this_thread`] when they start), and their peak.
//! The flow's own threads (its runtime and that runtime's blocking pool, where the SQLite state
//! store works) are all counted, so memory handed from one to the other is counted once.
//! Shared by the memory bench and the memory ceiling test, which include this file with `#[path]`.
#![allow(unsafe_code, dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

thread_local! {
    static EXCLUDED: Cell<bool> = const { Cell::new(false) };
}
static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

/// The system allocator, counting the live bytes allocated by counted threads and their peak.
struct Counting;

fn tracked() -> bool {
    ON.load(Ordering::Relaxed) && !EXCLUDED.try_with(Cell::get).unwrap_or(true)
}

/// Leaves the calling thread out of the count (for the sandboxes' runtime threads:
/// `tokio::runtime::Builder::on_thread_start(exclude_this_thread)`).
pub fn exclude_this_thread() {
    EXCLUDED.with(|e| e.set(true));
}

fn grow(n: usize) {
    let live = LIVE.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(n: usize) {
    LIVE.fetch_sub(n as i64, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are atomics and the
// thread-local switch is const-initialised (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && tracked() {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if tracked() {
            shrink(layout.size());
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && tracked() {
            grow(layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && tracked() {
            shrink(layout.size());
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` on `rt` with counting on; returns its output and the peak bytes above the live bytes
/// at the start.
pub fn measure<T>(
    rt: &tokio::runtime::Runtime,
    f: impl std::future::Future<Output = T>,
) -> (T, i64) {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
    let out = rt.block_on(f);
    ON.store(false, Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed) - start;
    (out, peak)
}
