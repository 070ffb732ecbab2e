/* What the shim's two halves share: shim.c, which records and holds the
 * entries from entry.S, and shim_replay.c, which gives back or makes again
 * what the replayer queued. The shim's data at its fixed offsets, the frame
 * entry.S pushes, the syscall numbers and flags the shim uses, and the
 * helpers both call. Freestanding, as they are. */
#pragma once

#include <stddef.h>

#include "shim_abi.h"

#pragma GCC visibility push(hidden)

/* At fixed offsets from the shim's base (entry.S names them). */
extern const unsigned char ttdb_shim_header[];
extern struct ttdb_shim_control ttdb_shim_control_block;
extern unsigned char ttdb_shim_buffer[];
#define CTL (&ttdb_shim_control_block)
#define BUFFER ttdb_shim_buffer

_Static_assert(offsetof(struct ttdb_shim_control, return_to) == 24, "entry.S knows this offset");
_Static_assert(sizeof(struct ttdb_shim_control) + 0x8000 <= TTDB_SHIM_STACK_TOP - TTDB_SHIM_CONTROL,
               "the control block leaves the stack room");

/* What entry.S pushed, lowest address first. */
struct ttdb_shim_frame {
  uint64_t r9, r8, r10, rdx, rsi, rdi, rax, trampoline, rflags, rsp;
};

enum { TAIL_DONE = TTDB_TAIL_DONE, TAIL_SLOW = TTDB_TAIL_SLOW, TAIL_STOP = TTDB_TAIL_STOP };

long ttdb_untraced_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
uint64_t ttdb_xxh3_sse2(const void* data, uint64_t size);


/* A copy of a size the compiler knows is a move or two rather than a call
 * (-ffreestanding keeps it from assuming what memcpy does); any other still
 * calls shim.c's memcpy. */
#define memcpy __builtin_memcpy

#define NR_CLOCK_GETTIME 228
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define MAP_TYPE_BITS 0x0f
#define MAP_PRIVATE_TYPE 0x02
#define MAP_FIXED_FLAG 0x10
#define MAP_ANONYMOUS_FLAG 0x20
#define MAP_FIXED_NOREPLACE_FLAG 0x100000
#define NR_RT_SIGACTION 13
#define NR_RT_SIGPROCMASK 14
#define NR_BRK 12
#define NR_SET_ROBUST_LIST 273
#define NR_SET_TID_ADDRESS 218
#define SIG_BLOCK_HOW 0
#define SIG_UNBLOCK_HOW 1
#define SIGTRAP_NUMBER 5
#define SIG_IGN_HANDLER 1
#define NR_ARCH_PRCTL 158
#define ARCH_SET_FS_CODE 0x1002
#define PROT_WRITE_FLAG 2
#define PROT_EXEC_FLAG 4
#define NR_CLOSE 3
#define NR_FSTAT 5
#define NR_FCNTL 72
#define NR_DUP 32
#define NR_DUP2 33
#define NR_DUP3 292
#define NR_OPENAT 257
#define NR_NEWFSTATAT 262
#define NR_PREADV2 327
#define NR_PWRITEV2 328
#define E_AGAIN 11
#define E_NOSYS 38
#define E_FAULT 14
#define E_NOENT 2
#define E_ACCES 13
#define E_NOTDIR 20
#define E_NAMETOOLONG 36
#define E_LOOP 40
#define E_OPNOTSUPP 95
#define RWF_NOWAIT_FLAG 8
#define O_DIRECTORY_FLAG 0200000
#define O_ACCMODE_BITS 03
#define O_RDONLY_MODE 0
#define F_GETFL_CMD 3
#define O_PATH_FLAG 010000000
#define O_TRUNC_FLAG 01000
#define O_CREAT_FLAG 0100
#define O_NOFOLLOW_FLAG 0400000
#define AT_SYMLINK_NOFOLLOW_FLAG 0x100
#define PIPE_BUF_SIZE 4096
#define WNOHANG_FLAG 1


/* shim.c's, for both halves. */
int memcmp(const void* a, const void* b, size_t n);
uint64_t strnlen_user(const char* s, uint64_t max);
/* The bytes an IN argument's digest covers: what the call consumed. */
uint64_t input_size(const struct ttdb_shim_arg_spec* spec, const uint64_t* a, int64_t ret);
/* The digest of what a call consumed: XXH3, as the trace has it. */
uint64_t digest(const void* data, uint64_t size);
/* Before an int3 of ttdb's (see shim.c). */
void leave_sigtrap_alone(void);

/* shim_replay.c's: the tail a hooked call goes back through in replay. */
uint64_t replay_call(struct ttdb_shim_frame* f, uint64_t trampoline);
/* 0 when the next queued record is not this clock read's. */
uint64_t replay_clock(struct ttdb_shim_frame* f, uint64_t trampoline);
uint64_t replay_tsc(uint64_t trampoline, uint64_t site);

#pragma GCC visibility pop
