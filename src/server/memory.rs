//! Memory handed back after password hashing.
//!
//! Each argon2id hash allocates 19 MiB and frees it at once. glibc serves an allocation that
//! large with its own mapping and unmaps it on free, but after the first such free it raises
//! its mapping threshold to that size (the "dynamic mmap threshold"), so every later hash is
//! carved from the heap and the freed 19 MiB stay with the process. An idle server that had
//! hashed three passwords held 78 MB instead of 19 MB (`bench/size-and-memory.sh`). A fixed
//! threshold keeps large blocks in their own mappings, returned to the system when freed.

/// Allocations from this size up get a mapping of their own (glibc's default before it adapts).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Sets the allocator up; call first thing in `main`, before any other thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes glibc's allocator parameters. It is called once, before
    // the runtime starts other threads, with a parameter and value glibc documents.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
