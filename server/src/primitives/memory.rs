//! Handing freed memory back to the system.

/// Returns the heap's free pages to the system. glibc keeps what a thread freed in that
/// thread's arena for its next allocations; after a snapshot of hundreds of megabytes is
/// dropped, the next one is often read on another thread, and the process's RSS grows by a
/// snapshot each time. A no-op where the C library is not glibc.
pub fn hand_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}
