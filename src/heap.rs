//! Giving memory back to the system after a burst of work, so a daemon that then waits for
//! hours or days is not charged for what start-up or a busy hour used.
//!
//! Three things, all Linux with glibc (elsewhere they do nothing):
//! - [`tune`], two of glibc malloc's settings, as `MALLOC_ARENA_MAX=2` and
//!   `MALLOC_MMAP_THRESHOLD_=131072` would set them:
//!   - glibc gives each new thread that allocates its own arena (up to eight per core), and each
//!     arena keeps its own free pages. The daemon has two runtime workers and sled's eight I/O
//!     threads; two arenas serve them, as for many long-running servers.
//!   - Blocks of 128 KiB and more always get pages of their own, returned when freed. Left to
//!     itself, glibc raises that threshold to the largest block freed so far (up to 32 MiB), so
//!     after start-up frees a big buffer, later big blocks land in the shared heap, where they
//!     pin pages around them. sled allocates 41 statistics tables of 512 KiB (21.5 MB) that it
//!     never writes to without its `metrics` feature: in pages of their own they stay unbacked
//!     by memory; placed in a reused part of the heap, calloc must zero them and they are resident.
//!
//!   Measured in BENCHMARKS.md ("Idle memory").
//! - [`give_back`]: `malloc_trim`, after a burst (an image prepared, the collector's wake).
//! - [`compact`]: when the engine has been idle a while, `give_back` and then ask the kernel
//!   to reclaim the binary's own file-backed pages (`MADV_PAGEOUT`, Linux 5.4): start-up runs
//!   code (config parsing, planning, the store's recovery) that waiting never runs again, and
//!   those pages would otherwise count in the daemon's resident memory for the whole event.
//!   What waiting touches comes back on its first use, from the page cache or the disk; pages
//!   another process also maps are left alone by the kernel. Android compacts idle apps the
//!   same way (`process_madvise(MADV_PAGEOUT)`).

/// At most two malloc arenas, and a fixed threshold for blocks given pages of their own (see the
/// module's notes). Call once, first thing in `main`, before other threads start.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets tunables of the allocator; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

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

/// What [`compact`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Bytes of the binary's mappings the kernel was asked to reclaim.
    pub code_bytes: u64,
}

/// [`give_back`], then asks the kernel to reclaim the binary's read-only file-backed pages (see
/// the module's notes). Never fails: a kernel without `MADV_PAGEOUT`, or no `/proc`, just
/// reclaims nothing.
pub fn compact() -> Compacted {
    give_back();
    let mut done = Compacted::default();
    #[cfg(target_os = "linux")]
    {
        let (Ok(maps), Ok(exe)) = (std::fs::read_to_string("/proc/self/maps"), std::fs::read_link("/proc/self/exe"))
        else {
            return done;
        };
        for (start, end) in own_code(&maps, &exe.to_string_lossy()) {
            // SAFETY: the range is one of this process's own read-only, file-backed mappings of its
            // binary, as /proc/self/maps lists it; MADV_PAGEOUT only drops pages the kernel can
            // read again from the file, so no memory the program sees changes.
            let r = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) };
            if r == 0 {
                done.code_bytes += (end - start) as u64;
            }
        }
    }
    done
}

/// The address ranges of `exe`'s mappings in `maps` (the text of `/proc/self/maps`) that are
/// neither writable nor private copies written to: the binary's code and read-only data.
fn own_code(maps: &str, exe: &str) -> Vec<(usize, usize)> {
    let deleted = format!("{exe} (deleted)");
    maps.lines()
        .filter_map(|line| {
            // range perms offset device inode path; the path may hold spaces.
            let mut fields = line.splitn(6, ' ');
            let (range, perms) = (fields.next()?, fields.next()?);
            let path = fields.nth(3)?.trim();
            if !(path == exe || path == deleted) || perms.as_bytes().get(1) != Some(&b'-') {
                return None;
            }
            let (a, b) = range.split_once('-')?;
            let (a, b) = (usize::from_str_radix(a, 16).ok()?, usize::from_str_radix(b, 16).ok()?);
            (b > a).then_some((a, b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
5650711a9000-5650717bf000 r--p 00000000 fd:00 123 /opt/lh/loudhailer
5650717bf000-565072679000 r-xp 00616000 fd:00 123 /opt/lh/loudhailer
565072679000-5650727f1000 r--p 014d0000 fd:00 123 /opt/lh/loudhailer
5650727f1000-565072800000 rw-p 01648000 fd:00 123 /opt/lh/loudhailer
565074a60000-5650766e7000 rw-p 00000000 00:00 0                          [heap]
7fea313de000-7fea31534000 r-xp 00028000 fd:00 77 /usr/lib/x86_64-linux-gnu/libc.so.6
7fea31600000-7fea31601000 r-xp 00000000 fd:00 99 /opt/lh/loudhailer-old (deleted)
";

    #[test]
    fn only_the_binarys_read_only_mappings_are_chosen() {
        let got = own_code(MAPS, "/opt/lh/loudhailer");
        assert_eq!(
            got,
            vec![(0x5650711a9000, 0x5650717bf000), (0x5650717bf000, 0x565072679000), (0x565072679000, 0x5650727f1000)]
        );
    }

    #[test]
    fn a_binary_replaced_on_disk_is_still_its_own() {
        let got = own_code(MAPS, "/opt/lh/loudhailer-old");
        assert_eq!(got, vec![(0x7fea31600000, 0x7fea31601000)]);
    }

    #[test]
    fn paths_with_spaces_and_odd_lines_are_read_safely() {
        let maps = "7f00-7f10 r-xp 0 fd:00 1 /opt/my apps/loudhailer\ngarbage\n\n7f20-7f10 r-xp 0 fd:00 1 /opt/my apps/loudhailer\n";
        assert_eq!(own_code(maps, "/opt/my apps/loudhailer"), vec![(0x7f00, 0x7f10)]);
        assert!(own_code(maps, "/opt/my").is_empty());
    }

    #[test]
    fn compacting_this_test_binary_reclaims_its_code_and_it_still_runs() {
        let done = compact();
        if cfg!(target_os = "linux") && std::path::Path::new("/proc/self/maps").exists() {
            assert!(done.code_bytes > 0, "{done:?}");
        }
        // The code paged out comes back when it runs.
        assert_eq!(own_code(MAPS, "/opt/lh/loudhailer").len(), 3);
    }
}
