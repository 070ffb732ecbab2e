/* The syscall buffer, inside the recorded program.
 *
 * Recording: a hooked syscall that cannot block is made here, from the one
 * instruction the seccomp filter lets through, and appended to the buffer
 * with everything replay needs (result, paths, a digest of the bytes passed
 * in, the bytes the kernel wrote); the tracer takes the records at its next
 * stop. Anything else goes back to the trampoline's slow tail and is traced.
 *
 * Replay: the replayer queues the recorded records of the events to come;
 * a hooked syscall that matches the next one (same number, arguments, paths
 * and input bytes) gets its recorded result and memory here, without a stop.
 * Anything else takes the traced path, where the replayer applies the event
 * itself or reports how the program diverged.
 *
 * Freestanding: no libc, no SSE (the program's vector registers are live),
 * nothing on the program's stack. Position-independent: built with -fpie,
 * every symbol hidden, so that the code reaches its data rip-relative and
 * runs at whatever base the tracer chose (the build checks it: see
 * CMakeLists.txt).
 */
#include <stddef.h>

#include "shim_abi.h"

#pragma GCC visibility push(hidden)

#define XXH_INLINE_ALL
#define XXH_VECTOR 0 /* XXH_SCALAR: general registers only */
#define XXH_NO_STREAM
/* Unaligned reads as plain loads: through memcpy, which -ffreestanding
 * makes a call, each 8-byte read was a `rep movsb`. */
#define XXH_FORCE_MEMORY_ACCESS 1
#include <xxhash.h>

/* The compiler may call these for copies and clears of its own. `rep
 * movsb` and `rep stosb` are fast on every CPU since 2012 (ERMS), and use
 * no vector register. */
void* memcpy(void* dst, const void* src, size_t n) {
  void* d = dst;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}
void* memset(void* dst, int c, size_t n) {
  void* d = dst;
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}
int memcmp(const void* a, const void* b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; --n, ++x, ++y)
    if (*x != *y) return *x < *y ? -1 : 1;
  return 0;
}

#pragma GCC visibility pop

#include "shim_private.h"

#pragma GCC visibility push(hidden)

/* A syscall of at most five arguments, made untraced: the sixth carries the
 * recording's secret, which the seccomp filter checks. (The buffered
 * syscalls all take five or fewer: the tracer checks syscalls.def.) */
static long untraced5(long nr, long a0, long a1, long a2, long a3, long a4) {
  _Static_assert(TTDB_SECRET_ARG == 5, "the secret goes in the sixth argument");
  return ttdb_untraced_syscall(nr, a0, a1, a2, a3, a4, (long)CTL->secret);
}

/* The digest of what a call consumed: XXH3, as the trace has it. Long inputs
 * go through SSE2 code, with the program's x87 and SSE state kept aside. */
uint64_t digest(const void* data, uint64_t size) {
  if (size < 1024) return XXH3_64bits(data, (size_t)size);
  _Alignas(16) unsigned char fpu[512];
  __asm__ volatile("fxsave64 %0" : "=m"(fpu));
  uint64_t d = ttdb_xxh3_sse2(data, size);
  __asm__ volatile("fxrstor64 %0" : : "m"(fpu));
  return d;
}

/* The kernel's struct stat on x86-64, only what is needed. */
struct kernel_stat {
  uint64_t dev, ino, nlink;
  uint32_t mode, uid, gid, pad0;
  uint64_t rdev;
  int64_t size, blksize, blocks;
  uint64_t times[6];
  int64_t unused[3];
};

static uint64_t align8(uint64_t n) { return (n + 7) & ~7ull; }

uint64_t strnlen_user(const char* s, uint64_t max) {
  uint64_t n = 0;
  while (n < max && s[n]) ++n;
  return n;
}

static int fd_kind(uint64_t fd) {
  if (fd >= TTDB_SHIM_MAX_FD) return TTDB_FD_OTHER;
  if (CTL->fd_kind[fd] != TTDB_FD_UNKNOWN) return CTL->fd_kind[fd];
  struct kernel_stat st;
  int kind = TTDB_FD_OTHER;
  if (untraced5(NR_FSTAT, (long)fd, (long)&st, 0, 0, 0) == 0) {
    uint32_t type = st.mode & 0170000;
    uint32_t major = (uint32_t)(((st.rdev >> 8) & 0xfff) | ((st.rdev >> 32) & ~0xfffull));
    uint32_t minor = (uint32_t)((st.rdev & 0xff) | ((st.rdev >> 12) & ~0xffull));
    if (type == 0100000 || type == 0040000 || type == 0060000) kind = TTDB_FD_FILE;
    else if (type == 0010000 || type == 0140000) kind = TTDB_FD_STREAM;
    /* /dev/null, zero, full, random, urandom */
    else if (type == 0020000 && major == 1 && (minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9))
      kind = TTDB_FD_FILE;
    /* (What goes to /dev/null has no order to keep.) */
    if (CTL->proc_dev && st.dev == CTL->proc_dev) kind = TTDB_FD_OTHER;
    for (int i = 0; i < 2 && type != 0020000; ++i)
      if (CTL->traced_files[i][1] && st.dev == CTL->traced_files[i][0] && st.ino == CTL->traced_files[i][1])
        kind = TTDB_FD_OTHER;
  }
  CTL->fd_kind[fd] = (uint8_t)kind;
  return kind;
}

static void forget_fd(int64_t fd) {
  if (fd >= 0 && fd < TTDB_SHIM_MAX_FD) CTL->fd_kind[fd] = TTDB_FD_UNKNOWN;
}

/* How many bytes an IN or OUT argument covers, for a call that returned ret. */
static uint64_t arg_size(const struct ttdb_shim_arg_spec* spec, const uint64_t* a, int64_t ret) {
  uint64_t n;
  switch (spec->rule) {
    case TTDB_SIZE_RET: n = ret > 0 ? (uint64_t)ret * spec->scale : 0; break;
    case TTDB_SIZE_FIXED: n = spec->value; break;
    default: n = a[spec->value] * spec->scale; break;
  }
  return n;
}

/* The most bytes an OUT argument may take before the call: out:ret is bounded
 * by the argument after the buffer (syscalls.def: "out:ret u"). */
static uint64_t arg_bound(const struct ttdb_shim_arg_spec* spec, const uint64_t* a, int i) {
  if (spec->rule == TTDB_SIZE_RET) return i + 1 < 6 ? a[i + 1] : 0;
  return arg_size(spec, a, 0);
}

/* The bytes an IN argument's digest covers: what the call consumed. */
uint64_t input_size(const struct ttdb_shim_arg_spec* spec, const uint64_t* a, int64_t ret) {
  uint64_t n = arg_size(spec, a, ret);
  if (ret < 0) return 0;
  return (uint64_t)ret < n ? (uint64_t)ret : n;
}

/* Opening a regular file or a directory cannot wait; a FIFO, a terminal or
 * another device may (for a writer, a carrier...), or do things on open.
 * Nor can an open of a path the lookup already fails on: it fails the same
 * way (or, with O_CREAT, makes a regular file). Programs probe for files all
 * day (locales, configs, PATH searches): a dozen per `date`. */
static int opens_without_waiting(long dirfd, const char* path, uint64_t flags) {
  struct kernel_stat st;
  long rc = untraced5(NR_NEWFSTATAT, dirfd, (long)path, (long)&st, flags & O_NOFOLLOW_FLAG ? AT_SYMLINK_NOFOLLOW_FLAG : 0, 0);
  if (rc == -E_NOENT || rc == -E_NOTDIR || rc == -E_ACCES || rc == -E_LOOP || rc == -E_NAMETOOLONG) return 1;
  if (rc != 0) return 0;
  uint32_t type = st.mode & 0170000;
  return type == 0100000 || type == 0040000;
}

static int overlaps(uint64_t start, uint64_t size, uint64_t from, uint64_t to) {
  return start < to && start + size > from;
}

/* Memory ttdb's code runs from: the shim and the trampoline pages. (The
 * kernel rounds a length up to whole pages.) */
static int is_ttdb_code(uint64_t start, uint64_t size) {
  uint64_t base = (uint64_t)&ttdb_shim_header;
  size = (size + 4095) & ~(uint64_t)4095;
  if (overlaps(start, size, base, base + TTDB_SHIM_SIZE)) return 1;
  if (CTL->ttdb_page_count > TTDB_SHIM_TTDB_PAGES) return 1; /* (not all known) */
  for (uint64_t i = 0; i < CTL->ttdb_page_count; ++i)
    if (overlaps(start, size, CTL->ttdb_pages[i][0], CTL->ttdb_pages[i][1])) return 1;
  return 0;
}

/* What changes the process in ways the recorder need not see when it
 * happens: signal actions, the signal mask (which the recorder reads when
 * it needs it), the thread pointer, fresh private memory (where
 * the kernel chooses, or over the program's own memory), memory
 * protections and unmappings (the recorder forgets what it knew of the
 * range it replaces or changes when it takes the records, before its next
 * stop's work); none of them making code (which the recorder scans for
 * syscalls and rdtsc) nor touching ttdb's pages (the recorder ends the
 * recording there, saying why). Memory of a file, or shared, is the
 * recorder's to see. */
/* An mmap's: private, and not over ttdb's pages. A loader maps a library
 * whole, then its parts over that mapping (MAP_FIXED): three of its four
 * mmaps. */
static int private_not_over_ttdb(const uint64_t* a) {
  if ((a[3] & MAP_TYPE_BITS) != MAP_PRIVATE_TYPE) return 0;
  return !(a[3] & (MAP_FIXED_FLAG | MAP_FIXED_NOREPLACE_FLAG)) || !is_ttdb_code(a[0], a[1]);
}

static int executes_unseen(uint64_t nr, const uint64_t* a) {
  switch (nr) {
    /* Not one that sets SIGTRAP's: the recorder keeps it (rdtsc's int3s
     * would change it, recorder_signals.cc). */
    case NR_RT_SIGACTION: return a[0] != SIGTRAP_NUMBER || !a[1];
    case NR_MMAP:
      return (a[3] & MAP_ANONYMOUS_FLAG) && private_not_over_ttdb(a) && !(a[2] & PROT_EXEC_FLAG);
    /* A signal it unblocks that is pending stops the thread as the call
     * returns, inside the shim: the recorder holds it to the call's end. */
    case NR_RT_SIGPROCMASK: return 1;
    /* The heap's end (replay's is where the recording's was, made again),
     * and a thread's robust futex list and the word its end clears (replay's
     * kernel keeps its own; set_tid_address's result, a tid, replay gives
     * back as recorded). */
    case NR_BRK:
    case NR_SET_ROBUST_LIST:
    case NR_SET_TID_ADDRESS: return 1;
    case NR_ARCH_PRCTL: return a[0] == ARCH_SET_FS_CODE;
    case NR_MPROTECT: return !(a[2] & PROT_EXEC_FLAG) && !is_ttdb_code(a[0], a[1]);
    case NR_MUNMAP: return !is_ttdb_code(a[0], a[1]);
    default: return 0;
  }
}

/* For an mmap of a file: the index in the control block's `mappable` of
 * the file version it maps, when the shim may make it: a private view, not
 * executable (the recorder scans code as it is mapped), from a descriptor
 * open for reading only (nothing written through it shows there), of a
 * version the recorder has catalogued, which the event names. (Writable is
 * as good: the program's writes go to its own copy of the pages.) -1
 * otherwise. Two untraced syscalls instead of two stops. */
static int64_t mappable_file(const uint64_t* a) {
  if (!private_not_over_ttdb(a) || (a[2] & PROT_EXEC_FLAG) || !CTL->mappable_count ||
      fd_kind(a[4]) != TTDB_FD_FILE)
    return -1;
  long mode = untraced5(NR_FCNTL, (long)a[4], F_GETFL_CMD, 0, 0, 0);
  if (mode < 0 || (mode & O_ACCMODE_BITS) != O_RDONLY_MODE) return -1;
  struct kernel_stat st;
  if (untraced5(NR_FSTAT, (long)a[4], (long)&st, 0, 0, 0) != 0 || (st.mode & 0170000) != 0100000) return -1;
  uint64_t version[5] = {st.dev, st.ino, (uint64_t)st.size, st.times[2] * 1000000000ull + st.times[3],
                         st.times[4] * 1000000000ull + st.times[5]};
  uint64_t known = CTL->mappable_count < TTDB_SHIM_MAPPABLE ? CTL->mappable_count : TTDB_SHIM_MAPPABLE;
  for (uint64_t i = 0; i < known; ++i)
    if (memcmp(CTL->mappable[i], version, sizeof version) == 0) return (int64_t)i;
  return -1;
}

static int fcntl_is_plain(uint64_t cmd) {
  /* F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC */
  return cmd <= 4 || cmd == 1030;
}

/* The vDSO's own code for a clock read that came from its function's stub,
 * which the shim calls rather than make the syscall: what the program
 * would have run natively. The program's own seccomp filter has no say
 * there, as natively. Not for the clocks the vDSO reads with a syscall
 * itself (the recorder would see it inside the call). 0: none. */
static uint64_t vdso_clock(uint64_t trampoline, uint64_t nr, const uint64_t* a) {
  uint64_t site = *(const uint64_t*)(trampoline + TTDB_TRAMPOLINE_SITE);
  /* CLOCK_REALTIME, MONOTONIC, MONOTONIC_RAW, REALTIME_COARSE,
   * MONOTONIC_COARSE, BOOTTIME, TAI */
  if (nr == NR_CLOCK_GETTIME && (a[0] > 11 || !((1u << a[0]) & 0x8f3u))) return 0;
  for (int i = 0; i < TTDB_SHIM_VDSO_CLOCKS; ++i)
    if (CTL->vdso_clocks[i][0] && CTL->vdso_clocks[i][0] == site) return CTL->vdso_clocks[i][1];
  return 0;
}

/* Before an int3 of ttdb's: the kernel forces its SIGTRAP through, which
 * would unblock SIGTRAP and make its action the default were it blocked or
 * ignored. So it is neither, and control.trap_changed says what the tracer
 * is to put back once it has the stop (put_back_sigtrap). Four untraced
 * syscalls, for the rare int3. */
void leave_sigtrap_alone(void) {
  const uint64_t trap = 1ull << (SIGTRAP_NUMBER - 1);
  uint64_t none = 0, dfl[4] = {0, 0, 0, 0};
  CTL->trap_changed = 0;
  untraced5(NR_RT_SIGPROCMASK, SIG_BLOCK_HOW, (long)&none, (long)&CTL->trap_mask, 8, 0);
  untraced5(NR_RT_SIGACTION, SIGTRAP_NUMBER, 0, (long)CTL->trap_action, 8, 0);
  if (CTL->trap_mask & trap) {
    untraced5(NR_RT_SIGPROCMASK, SIG_UNBLOCK_HOW, (long)&trap, 0, 8, 0);
    CTL->trap_changed |= 1;
  }
  if (CTL->trap_action[0] == SIG_IGN_HANDLER) {
    untraced5(NR_RT_SIGACTION, SIGTRAP_NUMBER, (long)dfl, 0, 8, 0);
    CTL->trap_changed |= 2;
  }
}

/* The tail a recorded call returns through: the stop tail's int3 when the
 * recorder asked for it (it holds a signal for the program), or past
 * TTDB_SHIM_DRAIN_AT, where the recorder takes the records: often enough
 * that its writer keeps up while the program runs. (Through the traced
 * path, the call would be a traced event, which ends a replay's queue: a
 * million clock reads replayed in four times as many stops. A call the
 * recorder stops at from inside the shim would leave the thread on the
 * shim's stack, which the thread the recorder lets run next may take.) */
static uint64_t tail_after_record(void) {
  if (!(CTL->flags & TTDB_SHIM_STOP_AFTER) && CTL->used <= TTDB_SHIM_DRAIN_AT) return TAIL_DONE;
  CTL->flags &= ~TTDB_SHIM_STOP_AFTER;
  leave_sigtrap_alone();
  return TAIL_STOP;
}

/* An mmap at a fixed place that succeeded: what was there is gone, as
 * after an munmap. */
static int replaced_memory(uint64_t nr, const uint64_t* a, int64_t ret) {
  return nr == NR_MMAP && (a[3] & MAP_FIXED_FLAG) && (uint64_t)ret < (uint64_t)-4095;
}

static uint64_t record_call(struct ttdb_shim_frame* f, uint64_t trampoline) {
  uint64_t nr = f->rax;
  if (CTL->flags & TTDB_SHIM_SLOW_NEXT) {
    CTL->flags &= ~TTDB_SHIM_SLOW_NEXT;
    return trampoline + TAIL_SLOW;
  }
  uint64_t a[6] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9};
  uint64_t read_clock = vdso_clock(trampoline, nr, a);
  if (!read_clock && (nr >= TTDB_SHIM_MAX_NR || CTL->how[nr] == TTDB_HOW_TRACED)) return trampoline + TAIL_SLOW;
  int how = read_clock ? TTDB_HOW_PLAIN : CTL->how[nr];
  int nowait = 0;
  int64_t mapped = -1; /* the index of the file version an mmap maps */
  switch (how) {
    case TTDB_HOW_FD_READ:
    case TTDB_HOW_FD_WRITE: {
      int kind = fd_kind(a[0]);
      if (kind == TTDB_FD_OTHER) return trampoline + TAIL_SLOW;
      if (how == TTDB_HOW_FD_WRITE && kind == TTDB_FD_FILE && CTL->trace_file_writes) return trampoline + TAIL_SLOW;
      if (kind == TTDB_FD_STREAM) {
        /* A blocking write to a pipe writes everything; one without waiting
         * could write less. Up to PIPE_BUF bytes go at once or not at all.
         * An empty write sends an empty datagram, where pwritev2 sends
         * nothing (the kernel returns early on an empty iovec). */
        if (how == TTDB_HOW_FD_WRITE && (a[2] > PIPE_BUF_SIZE || a[2] == 0)) return trampoline + TAIL_SLOW;
        nowait = 1;
      }
      break;
    }
    case TTDB_HOW_OPENAT:
      if (!(a[2] & (O_DIRECTORY_FLAG | O_PATH_FLAG)) && !opens_without_waiting((long)a[0], (const char*)a[1], a[2]))
        return trampoline + TAIL_SLOW;
      /* Truncating a file the process maps: the recorder notes which file. */
      if ((a[2] & O_TRUNC_FLAG) && CTL->trace_file_writes) return trampoline + TAIL_SLOW;
      break;
    case TTDB_HOW_FCNTL:
      if (!fcntl_is_plain(a[1])) return trampoline + TAIL_SLOW;
      break;
    case TTDB_HOW_GET:
      if (a[2]) return trampoline + TAIL_SLOW;
      break;
    case TTDB_HOW_NOHANG:
      if (!(a[2] & WNOHANG_FLAG)) return trampoline + TAIL_SLOW;
      break;
    case TTDB_HOW_EXECUTE:
      if (nr == NR_MMAP && !(a[3] & MAP_ANONYMOUS_FLAG)) {
        mapped = mappable_file(a);
        if (mapped < 0) return trampoline + TAIL_SLOW;
      } else if (!executes_unseen(nr, a)) {
        return trampoline + TAIL_SLOW;
      }
      break;
    case TTDB_HOW_FD_PWRITE:
      if (fd_kind(a[0]) != TTDB_FD_FILE || CTL->trace_file_writes) return trampoline + TAIL_SLOW;
      break;
    default: break;
  }

  const struct ttdb_shim_arg_spec* specs = CTL->args[nr];
  uint64_t need = sizeof(struct ttdb_shim_record) + 8 + (mapped >= 0 ? 8 : 0);
  for (int i = 0; i < 6; ++i) {
    switch (specs[i].kind) {
      case TTDB_ARG_PATH: need += 4 + TTDB_SHIM_PATH_MAX; break;
      case TTDB_ARG_IN: need += 12 + TTDB_SHIM_PREVIEW; break;
      case TTDB_ARG_OUT: need += 4 + arg_bound(&specs[i], a, i); break;
      default: break;
    }
  }
  /* A record that would not fit takes the traced path. (The buffer never
   * holds much more than TTDB_SHIM_DRAIN_AT: see below.) */
  if (need > TTDB_SHIM_BUFFER_SIZE / 2 || CTL->used + need > TTDB_SHIM_BUFFER_SIZE) return trampoline + TAIL_SLOW;
  /* A site that returns right after its syscall (getuid's) has no stop
   * tail: a call the recorder is to stop after takes the traced path. */
  int returns = *(const uint8_t*)(trampoline + TAIL_DONE) == 0xc3;
  if (returns && ((CTL->flags & TTDB_SHIM_STOP_AFTER) || CTL->used + need > TTDB_SHIM_DRAIN_AT)) return trampoline + TAIL_SLOW;

  int64_t ret;
  if (nowait) {
    struct {
      uint64_t base, len;
    } iov = {a[1], a[2]};
    /* All six arguments: the secret goes in the fifth, pos_h, which the
     * 64-bit kernel ignores (the offset is pos_l alone; -1: the file's). */
    _Static_assert(TTDB_SECRET_ARG_RWV2 == 4, "the secret goes in the fifth argument");
    ret = ttdb_untraced_syscall(how == TTDB_HOW_FD_READ ? NR_PREADV2 : NR_PWRITEV2, (long)a[0], (long)&iov, 1, -1,
                                (long)CTL->secret, RWF_NOWAIT_FLAG);
    if (ret == -E_OPNOTSUPP) CTL->fd_kind[a[0]] = TTDB_FD_OTHER;
    /* Nothing happened: the traced path may wait. */
    if (ret == -E_AGAIN || ret == -E_OPNOTSUPP) return trampoline + TAIL_SLOW;
  } else if (how == TTDB_HOW_ENOSYS) {
    ret = -E_NOSYS;
  } else if (read_clock) {
    ret = ((long (*)(long, long))read_clock)((long)a[0], (long)a[1]);
  } else if (nr == NR_MMAP) {
    /* The kernel takes the descriptor's low half alone (an int): the high
     * one carries the secret's (TTDB_SECRET_ARG_RWV2), and the record keeps
     * the program's. */
    uint64_t fd = (CTL->secret & 0xffffffff00000000ull) | (uint32_t)a[4];
    ret = ttdb_untraced_syscall(NR_MMAP, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)fd, (long)a[5]);
  } else {
    /* The program's sixth argument register is not one the call uses: the
     * record keeps it as the program had it, the kernel gets the secret. */
    ret = untraced5((long)nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4]);
  }

  struct ttdb_shim_record* rec = (struct ttdb_shim_record*)(BUFFER + CTL->used);
  rec->nr = (uint16_t)nr;
  rec->argc = 6;
  rec->ret = ret;
  for (int i = 0; i < 6; ++i) rec->args[i] = a[i];
  unsigned char* p = (unsigned char*)(rec + 1);
  for (int i = 0; i < 6; ++i) {
    const struct ttdb_shim_arg_spec* spec = &specs[i];
    switch (spec->kind) {
      case TTDB_ARG_PATH: {
        /* The kernel has read the path (unless the pointer was bad). */
        uint32_t len = ret == -E_FAULT || !a[i] ? 0 : (uint32_t)strnlen_user((const char*)a[i], TTDB_SHIM_PATH_MAX);
        memcpy(p, &len, 4);
        memcpy(p + 4, (const void*)a[i], len);
        p += 4 + len;
        break;
      }
      case TTDB_ARG_IN: {
        uint64_t n = input_size(spec, a, ret);
        uint64_t hash = digest((const void*)a[i], n);
        uint32_t shown = n < TTDB_SHIM_PREVIEW ? (uint32_t)n : TTDB_SHIM_PREVIEW;
        memcpy(p, &hash, 8);
        memcpy(p + 8, &shown, 4);
        memcpy(p + 12, (const void*)a[i], shown);
        p += 12 + shown;
        break;
      }
      case TTDB_ARG_OUT: {
        uint64_t n = ret < 0 || !a[i] ? 0 : arg_size(spec, a, ret);
        uint64_t bound = arg_bound(spec, a, i);
        if (n > bound) n = bound;
        uint32_t len = (uint32_t)n;
        memcpy(p, &len, 4);
        memcpy(p + 4, (const void*)a[i], len);
        p += 4 + len;
        break;
      }
      default: break;
    }
  }
  if (mapped >= 0 && ret >= 0) {
    memcpy(p, &mapped, 8);
    p += 8;
    rec->argc |= TTDB_RECORD_FILE;
  }
  rec->size = (uint32_t)align8((uint64_t)(p - (unsigned char*)rec));
  /* The record is whole before `used` counts it: the recorder, which may
   * stop this thread anywhere, reads no more than `used` says. */
  __asm__ volatile("" ::: "memory");
  CTL->used += rec->size;
  CTL->records += 1;

  if ((ret == 0 && (nr == NR_MPROTECT || nr == NR_MUNMAP)) || (rec->argc & TTDB_RECORD_FILE) || replaced_memory(nr, a, ret))
    CTL->memory_records += 1;
  /* What the shim knows of descriptors follows what the program does. */
  if (ret >= 0) {
    if (nr == NR_CLOSE) forget_fd((int64_t)a[0]);
    if (nr == NR_OPENAT || nr == NR_DUP || nr == NR_DUP2 || nr == NR_DUP3 || (nr == NR_FCNTL && (a[1] == 0 || a[1] == 1030)))
      forget_fd(ret);
  }
  f->rax = (uint64_t)ret;
  /* (Asked to stop during the call, it stops at the next call's end.) */
  return trampoline + (returns ? TAIL_DONE : tail_after_record());
}

/* A clock_gettime from the vDSO's stub while recording, when nothing asks
 * for more than the common case: record_call's work for it, without its
 * general steps. A read that returned the time takes a clock record
 * (shim_abi.h); any other a compact one (56 bytes, not 88). */
#define CLOCK_RECORD_SIZE (TTDB_RECORD_HEADER + 2 * 8 + 4 + 16 + 4)
_Static_assert(CLOCK_RECORD_SIZE % 8 == 0, "records are padded to 8 bytes");
_Static_assert(sizeof(struct ttdb_clock_record) == TTDB_CLOCK_RECORD_SIZE, "shim_abi.h says its size");
_Static_assert(TTDB_CLOCK_RECORD_SIZE <= CLOCK_RECORD_SIZE, "clock_call checks the room for the larger");

static uint64_t record_clock(struct ttdb_shim_frame* f, uint64_t trampoline, uint64_t read_clock) {
  int64_t ret = ((long (*)(long, long))read_clock)((long)f->rdi, (long)f->rsi);
  uint32_t size = CLOCK_RECORD_SIZE;
  if (ret == 0 && f->rsi && f->rdi < 256) {
    size = TTDB_CLOCK_RECORD_SIZE;
    struct ttdb_clock_record* rec = (struct ttdb_clock_record*)(BUFFER + CTL->used);
    rec->size = size;
    rec->nr = NR_CLOCK_GETTIME;
    rec->argc = (uint16_t)(TTDB_RECORD_CLOCK | f->rdi);
    rec->where = f->rsi;
    memcpy(rec->time, (const void*)f->rsi, 16);
  } else {
    struct ttdb_shim_record* rec = (struct ttdb_shim_record*)(BUFFER + CTL->used);
    rec->size = size;
    rec->nr = NR_CLOCK_GETTIME;
    rec->argc = TTDB_RECORD_COMPACT | 2;
    rec->ret = ret;
    rec->args[0] = f->rdi;
    rec->args[1] = f->rsi;
    unsigned char* p = (unsigned char*)&rec->args[2];
    uint32_t len = ret < 0 || !f->rsi ? 0 : 16;
    memcpy(p, &len, 4);
    if (len) memcpy(p + 4, (const void*)f->rsi, 16);
  }
  __asm__ volatile("" ::: "memory");
  CTL->used += size;
  CTL->records += 1;
  f->rax = (uint64_t)ret;
  return trampoline + tail_after_record();
}

/* A clock read from the vDSO's stub, the shortest way, when nothing asks
 * for more than the common case. 0: the general path's to do. */
static uint64_t clock_call(struct ttdb_shim_frame* f, uint64_t trampoline) {
  if (f->rax != NR_CLOCK_GETTIME || (CTL->flags & (TTDB_SHIM_SLOW_NEXT | TTDB_SHIM_STOP_AFTER))) return 0;
  if (CTL->mode == TTDB_SHIM_REPLAY) return replay_clock(f, trampoline);
  if (CTL->mode != TTDB_SHIM_RECORD || CTL->used + CLOCK_RECORD_SIZE > TTDB_SHIM_BUFFER_SIZE) return 0;
  uint64_t a[2] = {f->rdi, f->rsi};
  uint64_t read_clock = vdso_clock(trampoline, NR_CLOCK_GETTIME, a);
  return read_clock ? record_clock(f, trampoline, read_clock) : 0;
}

static uint64_t hook(struct ttdb_shim_frame* f, int from_stub) {
  uint64_t trampoline = f->trampoline;
  uint64_t tail = 0;
  /* While in_call is set, the tracer leaves the buffer alone: a record may
   * be half written, or written where `used` pointed before a drain. */
  CTL->in_call = 1;
  __asm__ volatile("" ::: "memory");
  if (from_stub) tail = clock_call(f, trampoline);
  if (!tail) {
    switch (CTL->mode) {
      case TTDB_SHIM_RECORD: tail = record_call(f, trampoline); break;
      case TTDB_SHIM_REPLAY: tail = replay_call(f, trampoline); break;
      default: tail = trampoline + TAIL_SLOW; break;
    }
  }
  __asm__ volatile("" ::: "memory");
  CTL->in_call = 0;
  return tail;
}

/* An rdtsc site's counter while recording: read here and recorded, while
 * the process's rdtsc does not fault (control.serve_tsc); otherwise the
 * slow tail runs rdtsc, which faults for the recorder. A signal the
 * recorder holds (slow_next: it waits for the next syscall) is let through
 * at the stop tail's int3, after the moved instructions: a program reading
 * the counter in a loop may make no syscall for a long time. */
static uint64_t record_tsc(uint64_t trampoline, uint64_t site) {
  if (!CTL->serve_tsc || CTL->used + TTDB_TSC_RECORD_SIZE > TTDB_SHIM_BUFFER_SIZE) return trampoline + TAIL_SLOW;
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  uint64_t value = ((uint64_t)hi << 32) | lo;
  struct ttdb_tsc_record* rec = (struct ttdb_tsc_record*)(BUFFER + CTL->used);
  rec->size = TTDB_TSC_RECORD_SIZE;
  rec->nr = TTDB_TSC_RECORD_NR;
  rec->argc = TTDB_RECORD_TSC;
  rec->where = site;
  rec->value = value;
  __asm__ volatile("" ::: "memory");
  CTL->used += TTDB_TSC_RECORD_SIZE;
  CTL->records += 1;
  CTL->tsc_value = value;
  if (CTL->flags & TTDB_SHIM_SLOW_NEXT) CTL->flags = (CTL->flags & ~TTDB_SHIM_SLOW_NEXT) | TTDB_SHIM_STOP_AFTER;
  return trampoline + tail_after_record();
}

/* From rdtsc sites' trampolines (entry.S, ttdb_shim_tsc_entry): the tail to
 * go back through, the counter in control.tsc_value. With the shim off
 * (the program runs on without ttdb), the slow tail's own rdtsc. */
uint64_t ttdb_shim_tsc_hook(struct ttdb_shim_frame* f) {
  _Static_assert(__builtin_offsetof(struct ttdb_shim_control, tsc_value) == TTDB_CONTROL_TSC_VALUE, "entry.S reads it there");
  _Static_assert(__builtin_offsetof(struct ttdb_shim_control, stop_to) == TTDB_CONTROL_STOP_TO, "entry.S reads it there");
  uint64_t trampoline = f->trampoline;
  uint64_t site = *(const uint64_t*)(trampoline + TTDB_TRAMPOLINE_SITE);
  uint64_t tail = trampoline + TAIL_SLOW;
  CTL->in_call = 1;
  __asm__ volatile("" ::: "memory");
  if (CTL->mode == TTDB_SHIM_RECORD) tail = record_tsc(trampoline, site);
  else if (CTL->mode == TTDB_SHIM_REPLAY) tail = replay_tsc(trampoline, site);
  __asm__ volatile("" ::: "memory");
  CTL->in_call = 0;
  return tail;
}

/* From the trampolines (entry.S, ttdb_shim_entry). */
uint64_t ttdb_shim_hook(struct ttdb_shim_frame* f) { return hook(f, 0); }

/* From the vDSO's function stubs (entry.S, ttdb_shim_call_entry). */
uint64_t ttdb_shim_call_hook(struct ttdb_shim_frame* f) { return hook(f, 1); }

#pragma GCC visibility pop
