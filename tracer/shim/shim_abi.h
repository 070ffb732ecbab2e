/* What ttdb's in-process syscall buffer (the "shim") and the tracer agree on:
 * its layout in the recorded program, its control block, and the format of
 * the records it appends. Plain C: the shim is freestanding C, the tracer
 * C++. See docs/architecture.md, "The syscall buffer".
 *
 * The shim is position-independent: the tracer maps it at a page-aligned
 * base it chooses at random for each recording, and everything the shim
 * uses (its control block, stack and buffer) lies at a fixed offset from
 * that base, reached rip-relative. The seccomp filter installed before exec
 * lets a syscall through without a ptrace stop only when it comes from the
 * shim's one untraced syscall instruction and carries the recording's
 * secret (TTDB_SECRET_ARG).
 */
#ifndef TTDB_SHIM_ABI_H
#define TTDB_SHIM_ABI_H

/* 1: at the fixed address 0x70000000, the header holding absolute addresses.
 * 2: anywhere, the header holding offsets, the secret in the control block.
 * 3: in replay, a queued record's IN argument with room for its bytes gets
 *    them (what the program wrote, for the replayer to re-emit).
 * 4: in replay, a queued rt_sigaction that set an action keeps the action
 *    (control.actions), which the replayer has the shim apply at its next
 *    stop (header.apply_actions).
 * 5: a second entry for the sites of the vDSO's functions (header.call_entry),
 *    where trampolines jump through their page's second 8 bytes; in replay,
 *    apply_actions leaves SIGTRAP as it was (control.trap_changed).
 * 6: a clock read's record of 32 bytes (struct ttdb_clock_record), in the
 *    buffer while recording and in replay's queue.
 * 7: trampolines for rdtsc sites (header.tsc_entry, the page's third 8
 *    bytes), which take a record of 24 bytes (struct ttdb_tsc_record).
 * 8: in replay, a queued record marked TTDB_RECORD_MAKE is a call the shim
 *    makes itself (what the recording's shim made and replay makes again),
 *    and, with TTDB_SHIM_FREE_RUN, the thread runs without syscall stops,
 *    stopping at header.stop_stub's int3 after the last queued record or
 *    before any call it would leave to the replayer (control.selector back
 *    to 0 there). */
#define TTDB_SHIM_ABI_VERSION 8
#define TTDB_SHIM_V1_BASE 0x70000000 /* where version 1 always was */

/* Plain numbers, as offsets from the base: entry.S uses them too. */
#define TTDB_SHIM_MAGIC 0x6d696873626474 /* the header's first 8 bytes: "tdbshim" */
#define TTDB_SHIM_CODE_SIZE 0x10000   /* r-x: the shim's code, as built */
#define TTDB_SHIM_CONTROL 0x10000     /* rw-: struct ttdb_shim_control */
#define TTDB_SHIM_STACK_TOP 0x30000   /* the shim's own stack, below this */
#define TTDB_SHIM_BUFFER 0x30000      /* records */
#define TTDB_SHIM_BUFFER_SIZE 0x100000
#define TTDB_SHIM_DRAIN_AT 0xC0000 /* records past this go to the recorder at once */
#define TTDB_SHIM_DATA_SIZE (0x20000 + TTDB_SHIM_BUFFER_SIZE)
#define TTDB_SHIM_SIZE (TTDB_SHIM_CODE_SIZE + TTDB_SHIM_DATA_SIZE)
#define TTDB_CONTROL_TSC_VALUE 29216 /* offsetof(struct ttdb_shim_control, tsc_value), for entry.S */
#define TTDB_CONTROL_STOP_TO 31792   /* offsetof(struct ttdb_shim_control, stop_to), for entry.S */

/* Which argument of the shim's untraced syscalls carries the secret: the
 * sixth (r9), which no syscall the shim makes uses, except preadv2 and
 * pwritev2 (their flags), and mmap (its offset); those carry it in the fifth
 * (r8): the high half of the offset, which the 64-bit kernel ignores; for
 * mmap, only the high half of the secret, over the descriptor, whose high
 * half the kernel ignores (it takes an int). The seccomp filter checks the
 * same places. */
#define TTDB_SECRET_ARG 5
#define TTDB_SECRET_ARG_RWV2 4

/* A page of trampolines: the shim's entry address in its first 8 bytes, its
 * call entry's in the next 8 (version 5), its rdtsc entry's in the next 8
 * (version 7), then one 128-byte trampoline per patched site, each:
 *   +0   entry: lea rcx, [rip - 7]; jmp [page] (jmp [page + 8] for a site
 *        of the vDSO's functions)
 *   +16  done tail: the site's displaced instructions, then jmp back
 *   +40  slow tail: syscall, the displaced instructions, jmp back
 *   +64  stop tail: the displaced instructions, int3, jmp back (int3, jmp
 *        for a taken branch)
 *   +96  the site's address (its syscall instruction)
 * An rdtsc site's trampoline keeps every register but rax and rdx, and the
 * flags, as rdtsc does:
 *   +0   entry: mov rdx, rcx; lea rcx, [rip - 10]; jmp [page + 16]
 *   +16  done tail: the instructions after the rdtsc that the patch covers,
 *        moved, then jmp back (rdx:eax holds the counter)
 *   +40  slow tail: rdtsc itself, the moved instructions, jmp back
 *   +64  stop tail: the moved instructions, int3, jmp back
 *   +88  miss: int3, jmp to the slow tail (replay: the shim has no recorded
 *        value; the replayer gives it at that int3)
 *   +96  the site's address (its rdtsc instruction)
 */
#define TTDB_TRAMPOLINE_SIZE 128
#define TTDB_TRAMPOLINE_FIRST 128 /* the first trampoline's offset in its page */
#define TTDB_TAIL_DONE 16
#define TTDB_TAIL_SLOW 40
#define TTDB_TAIL_STOP 64
#define TTDB_TAIL_MISS 88
#define TTDB_TRAMPOLINE_SITE 96
#define TTDB_PAGE_TSC_ENTRY 16 /* where in a page of trampolines the rdtsc entry's address is */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The first bytes of the shim's code (entry.S). */
struct ttdb_shim_header {
  uint64_t magic; /* TTDB_SHIM_MAGIC */
  uint64_t abi_version;
  uint64_t entry;           /* from the base: where trampolines jump (rax = nr, rcx = the trampoline) */
  uint64_t untraced_return; /* from the base: right after the shim's own syscall instruction */
  uint64_t apply_actions;   /* from the base (version 4): makes the kept actions the kernel's, then int3 */
  uint64_t call_entry;      /* from the base (version 5): as entry, for the vDSO's function stubs */
  uint64_t tsc_entry;       /* from the base (version 7): where rdtsc sites' trampolines jump (rdx = the
                             * program's rcx, rcx = the trampoline) */
  uint64_t stop_stub;       /* from the base (version 8): int3, then jmp to control.stop_to */
};

enum ttdb_shim_mode { TTDB_SHIM_OFF = 0, TTDB_SHIM_RECORD = 1, TTDB_SHIM_REPLAY = 2 };

/* control.flags, set by the tracer. */
#define TTDB_SHIM_SLOW_NEXT 1u  /* the next hooked syscall takes the traced path */
#define TTDB_SHIM_STOP_AFTER 2u /* the hooked syscall in progress returns through an int3 */
/* Replay (version 8): the replayer let the thread run on without syscall
 * stops (PTRACE_CONT), so the shim makes the queued calls marked
 * TTDB_RECORD_MAKE itself, and must stop before anything the replayer is to
 * see: after the last queued record, and before a call it would otherwise
 * send to the slow tail (which would not stop). It stops at
 * header.stop_stub's int3, then goes on to control.stop_to; the flag is
 * cleared there. */
#define TTDB_SHIM_FREE_RUN 4u

/* How the shim treats a syscall (control.how[nr]). */
enum ttdb_shim_how {
  TTDB_HOW_TRACED = 0,  /* never buffered */
  TTDB_HOW_PLAIN = 1,   /* cannot block: run it, record it */
  TTDB_HOW_FD_READ = 2, /* read(fd, buf, n): pipes and sockets without blocking */
  TTDB_HOW_FD_WRITE = 3,/* write(fd, buf, n): pipes (n <= PIPE_BUF) without blocking */
  TTDB_HOW_OPENAT = 4,  /* only regular files, directories and O_PATH, which cannot block */
  TTDB_HOW_FCNTL = 5,   /* only the commands without memory effects */
  TTDB_HOW_FD_PWRITE = 6, /* pwrite(fd, ...) and the like: only on files */
  TTDB_HOW_ENOSYS = 7,  /* answered ENOSYS without the kernel (rseq: see docs/architecture.md) */
  TTDB_HOW_GET = 8,     /* only when the third argument is NULL (prlimit64 that sets nothing) */
  /* 9: rt_sigaction when it only read an action, now TTDB_HOW_EXECUTE */
  TTDB_HOW_EXECUTE = 10,/* only what the recorder need not see (shim.c, executes_unseen); replay
                         * makes it again, traced, unless it only read */
  TTDB_HOW_NOHANG = 11, /* only with WNOHANG in the third argument (wait4 that cannot block) */
};

/* The kind of each argument, from syscalls.def (control.args[nr][i]). */
enum ttdb_shim_arg {
  TTDB_ARG_VALUE = 0,
  TTDB_ARG_PATH = 1,    /* a string the program passes: recorded, compared in replay */
  TTDB_ARG_IN = 2,      /* bytes the program passes (size: `size` rule): digest */
  TTDB_ARG_OUT = 3,     /* bytes the kernel writes (size: `size` rule) */
};
/* Size rules, as syscalls.def writes them: out:ret, out:N, out:aK[*N]. */
enum ttdb_shim_size { TTDB_SIZE_RET = 0, TTDB_SIZE_FIXED = 1, TTDB_SIZE_ARG = 2 };

struct ttdb_shim_arg_spec {
  uint8_t kind;  /* enum ttdb_shim_arg */
  uint8_t rule;  /* enum ttdb_shim_size */
  uint16_t scale;
  uint32_t value; /* the fixed size, or the argument index */
};

#define TTDB_SHIM_MAX_NR 512
#define TTDB_SHIM_MAX_FD 1024
#define TTDB_SHIM_PATH_MAX 4096
#define TTDB_SHIM_PREVIEW 64
#define TTDB_SHIM_VDSO_CLOCKS 3
#define TTDB_SHIM_TTDB_PAGES 16
#define TTDB_SHIM_ACTIONS 64
#define TTDB_SHIM_MAPPABLE 64

/* What the shim knows of a file descriptor, learned with fstat. */
enum ttdb_shim_fd {
  TTDB_FD_UNKNOWN = 0,
  TTDB_FD_FILE = 1,     /* regular file, directory, block device, /dev/null-like: never blocks */
  TTDB_FD_STREAM = 2,   /* pipe, FIFO, socket: read or write without blocking, or trace */
  TTDB_FD_OTHER = 3,    /* a terminal, other devices: traced */
};

struct ttdb_shim_control {
  uint64_t magic; /* TTDB_SHIM_MAGIC once set up */
  uint32_t mode;  /* enum ttdb_shim_mode */
  uint32_t flags; /* TTDB_SHIM_* flags */

  /* The call in progress (the shim's own bookkeeping). */
  uint64_t saved_rsp;
  uint64_t return_to;   /* the trampoline tail the shim goes back through */
  uint64_t trampoline;  /* the trampoline entry of the call in progress */
  uint64_t in_call;     /* 1 while the shim runs a hooked call */

  /* Recording: records appended to the buffer since the tracer last took them. */
  uint64_t used;    /* bytes */
  uint64_t records; /* how many */

  /* Replay: records the replayer queued, for events first_event on. */
  uint64_t queued_records;
  uint64_t queued_bytes;
  uint64_t consumed_records;
  uint64_t consumed_bytes;
  int64_t first_event;

  uint8_t how[TTDB_SHIM_MAX_NR];
  struct ttdb_shim_arg_spec args[TTDB_SHIM_MAX_NR][6];
  uint8_t fd_kind[TTDB_SHIM_MAX_FD]; /* enum ttdb_shim_fd; zeroed by the tracer to forget */
  /* Files whose reads and writes are always traced, as {st_dev, st_ino}
   * ({0, 0}: none): ttdb's own stdout and stderr once the program has more
   * than one process, so that their output interleaves in the trace as it
   * did on the screen. */
  uint64_t traced_files[2][2];
  /* The device of /proc: its files are traced (a write to /proc/PID/mem
   * changes memory, which the recorder must see). */
  uint64_t proc_dev;
  /* Set while the process maps a file shared and writable: a write to a
   * file may change its memory, which the recorder must see. */
  uint64_t trace_file_writes;
  /* The recording's secret, which the shim's untraced syscalls carry
   * (TTDB_SECRET_ARG). Written by the recorder, never part of the trace;
   * 0 in replay, where the shim makes no syscall. Last: version 1's control
   * block is the same without it. */
  uint64_t secret;
  /* Recording, while rdtsc does not fault: for each vDSO clock function,
   * the syscall site of its stub (where the program's call of it comes
   * from) and its own code, moved (exec_stack.h). The shim calls that code
   * rather than make the syscall, and records what it returns the same
   * way. {0, 0}: none. */
  uint64_t vdso_clocks[TTDB_SHIM_VDSO_CLOCKS][2];
  /* Recording: the pages of trampolines, {start, end}, the first
   * ttdb_page_count of them; more than TTDB_SHIM_TTDB_PAGES: not all known.
   * The shim leaves an mprotect of them to the recorder. */
  uint64_t ttdb_page_count;
  uint64_t ttdb_pages[TTDB_SHIM_TTDB_PAGES][2];
  /* Replay (version 4): the signal actions that queued rt_sigaction calls
   * set, in order, which the kernel does not have yet: only a stop of the
   * process can make anything depend on them (a signal's delivery, a fork,
   * an exec), and the replayer makes them the kernel's there, all at once
   * (header.apply_actions). Each is {signal, the kernel's struct sigaction}. */
  uint64_t pending_actions;
  struct ttdb_shim_action {
    uint64_t sig;
    uint64_t act[4];
  } actions[TTDB_SHIM_ACTIONS];
  /* Version 5: the int3s of the stop tail (recording) and of apply_actions
   * (replay) raise a SIGTRAP the kernel forces through, which would unblock
   * SIGTRAP and make its action the default were it blocked or ignored. So
   * at those int3s it is neither, and these say what the tracer is to put
   * back: bit 0, the mask (trap_mask); bit 1, the action (trap_action). */
  uint64_t trap_changed;
  uint64_t trap_mask;
  uint64_t trap_action[4];
  /* Recording: how many of the records since the buffer was last emptied
   * are of an mprotect or munmap that succeeded, or of a file mapped
   * (TTDB_RECORD_FILE: what the recorder must act on before the program
   * runs on, or name); with none, and no call in
   * progress, `records` counts the records and the recorder need not read
   * them through. Only this ttdb's recorder reads it: no version says it. */
  uint64_t memory_records;
  /* Recording (version 7): 1 while the process's rdtsc does not fault, when
   * the shim reads the counter itself for the rdtsc sites' trampolines; 0,
   * their slow tails run rdtsc, which faults for the recorder. */
  uint64_t serve_tsc;
  /* The counter the rdtsc entry gives back (the shim's own bookkeeping). */
  uint64_t tsc_value;
  /* Recording: file versions the shim may map itself, private and neither
   * writable nor executable, from a descriptor open for reading only: those
   * the recorder has in its catalog, by device, inode, size, and
   * modification and change times in nanoseconds (the recorder's list,
   * which only grows: the record gives the index). Only this ttdb's
   * recorder writes it: no version says it. */
  uint64_t mappable_count;
  uint64_t mappable[TTDB_SHIM_MAPPABLE][5];
  /* Replay (version 8), free running (TTDB_SHIM_FREE_RUN): where the thread
   * goes from the stop stub's int3 (a trampoline's tail), and, when a call
   * the shim made for a TTDB_RECORD_MAKE record returned other than the
   * record says, made_differs = 1 and its result (the record is not
   * consumed: the replayer reports the divergence). */
  uint64_t stop_to;
  uint64_t made_differs;
  int64_t made_result;
  /* Replay (version 8): the byte the kernel reads before each syscall of a
   * thread the replayer set syscall user dispatch on (1 while running free:
   * a syscall from anywhere but the shim's own instruction raises SIGSYS
   * rather than run unseen), 0 once the shim stops for the replayer. */
  uint64_t selector;
};

/* A record: this header, then for each argument in order its payload:
 *   PATH: uint32 length, then the bytes (no NUL)
 *   IN:   uint64 digest (XXH3-64 of the bytes the call consumed), uint32 preview length, preview
 *   OUT (when the call succeeded): uint32 length, then the bytes the kernel wrote
 * padded to 8 bytes. Replay queues records in the same format; there argc
 * is how many of the arguments the shim compares.
 *
 * A compact record (argc has TTDB_RECORD_COMPACT, version 5, recording
 * only) holds only its first argc & 0xff arguments, its payload right after
 * them; the others are 0 in its event. A clock read that did not return the
 * time takes one (version 6: the others take a clock record, below): the
 * registers a call does not use are all the rest would hold. */
struct ttdb_shim_record {
  uint32_t size; /* of the whole record, padded */
  uint16_t nr;
  uint16_t argc;
  int64_t ret;
  uint64_t args[6];
};
#define TTDB_RECORD_COMPACT 0x8000
/* Recording: an mmap of a file in the control block's `mappable` list,
 * that succeeded; after the arguments, a uint64 index into it. Replay
 * (version 8, with TTDB_RECORD_MAKE): an mmap of a file the shim makes
 * from the descriptor after the arguments (replay's copy of the file), at
 * the place the record's result says. */
#define TTDB_RECORD_FILE 0x1000
/* Replay only (version 8): a queued record of a call the shim makes itself,
 * as the recording's shim did (TTDB_HOW_EXECUTE), checking that it returns
 * what the record says; argc & 0xff is how many arguments it compares. */
#define TTDB_RECORD_MAKE 0x0800
/* Replay only (version 8, with TTDB_RECORD_MAKE): the call returns a
 * thread's id (set_tid_address): the shim gives back the record's. */
#define TTDB_RECORD_GIVE_RET 0x0400
#define TTDB_RECORD_HEADER 16 /* a compact record's header: size, nr, argc, ret */

/* A clock read's record (version 6): clock_gettime(clock, where) through
 * the vDSO's stub that returned 0, its clock below 256. argc is
 * TTDB_RECORD_CLOCK | the clock; its event's other arguments are 0, its one
 * memory write the 16 bytes of `time` at `where`. A million clock reads
 * were 56 MB of records to copy out while recording (88 MB into replay's
 * queue); the same in 32 bytes each. */
struct ttdb_clock_record {
  uint32_t size; /* TTDB_CLOCK_RECORD_SIZE */
  uint16_t nr;   /* clock_gettime */
  uint16_t argc; /* TTDB_RECORD_CLOCK | the clock */
  uint64_t where;
  uint64_t time[2]; /* the struct timespec written there */
};
#define TTDB_RECORD_CLOCK 0x4000
#define TTDB_CLOCK_RECORD_SIZE 32

/* An rdtsc site's record (version 7): the counter the shim read for the
 * site at `where`, in recording and in replay's queue; its event is an
 * rdtsc event (buffered). */
struct ttdb_tsc_record {
  uint32_t size; /* TTDB_TSC_RECORD_SIZE */
  uint16_t nr;   /* TTDB_TSC_RECORD_NR: no syscall's */
  uint16_t argc; /* TTDB_RECORD_TSC */
  uint64_t where;
  uint64_t value;
};
#define TTDB_RECORD_TSC 0x2000
#define TTDB_TSC_RECORD_NR 0xffff
#define TTDB_TSC_RECORD_SIZE 24

#endif /* __ASSEMBLER__ */
#endif
