/*
 * tools/zkube/malloc_conf.c — jemalloc's settings for every actor of
 * bin/zkube (read by jemalloc at its first allocation; unused when the
 * binary is built with the libc allocator, as sanitizer builds are).
 *
 * narenas:1 — an actor is one loop thread plus helpers (ZeroMQ's I/O
 *   thread, the store's committer): one arena keeps its memory in
 *   one place instead of one arena per CPU.
 * dirty_decay_ms:1000, muzzy_decay_ms:0 — pages freed after a burst (a
 *   large list, a relist) go back to the system within a second, as
 *   malloc_trim did under glibc; the control plane's memory goal counts
 *   resident pages.
 * background_thread:true — that purging (madvise of many MB after a large
 *   list) runs on jemalloc's own thread, not inside whatever malloc the
 *   actor's loop makes a second later: the apiserver's writes stalled
 *   10-40 ms on it.
 */
const char *malloc_conf = "narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0,background_thread:true";
