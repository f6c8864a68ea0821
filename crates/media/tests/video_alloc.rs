//! The per-frame video path (render into a reused frame, scale, encode
//! three layers, decode them into pooled frames) makes no Rust heap
//! allocation once warmed up. libvpx's own buffers come from C `malloc`
//! and are set up when the codecs are created, so they are outside this
//! count by construction.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use confab_media::VideoFrame;
use confab_media::synth::video::{TestPattern, read_stamp};
use confab_media::video::{Layer, SimulcastConfig, SimulcastEncoder, SimulcastOutput, Vp8Decoder};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every call to the system allocator unchanged; counting
// touches only atomics and never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc/realloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_send_and_receive_path_allocates_nothing_after_warm_up() {
    let mut encoder = SimulcastEncoder::new(SimulcastConfig::new(1280, 720)).unwrap();
    let mut decoders = Layer::ALL.map(|_| Vp8Decoder::new().unwrap());
    let mut pattern = TestPattern::new(1280, 720, 30).unwrap();
    let mut frame = VideoFrame::black(1280, 720, Duration::ZERO).unwrap();
    let mut out = SimulcastOutput::default();
    let mut step = |stamps_checked: &mut u32| {
        let stamp = pattern.render_next(&mut frame);
        encoder.encode(&frame, &mut out).unwrap();
        for (layer, packet) in out.iter() {
            let picture = decoders[layer as usize].decode(packet).unwrap().unwrap();
            // Checked inside the counted region too: reading is free.
            assert!(read_stamp(&picture) == Some(stamp));
            *stamps_checked += 1;
        }
    };
    // The counter itself works: one deliberate allocation is seen.
    COUNTING.store(true, Ordering::Relaxed);
    drop(std::hint::black_box(Vec::<u8>::with_capacity(16)));
    COUNTING.store(false, Ordering::Relaxed);
    assert_eq!(ALLOCATIONS.swap(0, Ordering::Relaxed), 1);
    let mut checked = 0;
    // Warm-up: the first keyframes are the largest packets, so the output
    // buffers reach their working capacity here.
    for _ in 0..30 {
        step(&mut checked);
    }
    COUNTING.store(true, Ordering::Relaxed);
    for _ in 0..30 {
        step(&mut checked);
    }
    COUNTING.store(false, Ordering::Relaxed);
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    println!(
        "{allocations} allocations in 30 frames after warm-up ({checked} frames decoded in all)"
    );
    assert!(checked >= 60 + 60 / 2 * 9 / 10);
    assert_eq!(allocations, 0);
}
