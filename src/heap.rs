//! Giving freed heap back to the system after a burst of work (start-up decodes and plans every
//! job), so a daemon that then waits for days is not charged for memory it no longer uses.

/// Returns the allocator's free memory to the system, where the allocator keeps it otherwise
/// (glibc's malloc keeps freed pages of its arenas until told).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers and is
    // safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
