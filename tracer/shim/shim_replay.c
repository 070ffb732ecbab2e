/* The syscall buffer's replay half (shim.c has the whole story): a hooked
 * call that matches the next record the replayer queued gets its recorded
 * result and memory back, or, for a record marked "make", is made again
 * here while the thread runs free; anything else goes to the traced path,
 * or, running free, stops at the stop stub for the replayer. */
#include "shim_private.h"

#pragma GCC visibility push(hidden)

/* A queued rt_sigaction that set an action: the action is kept for the
 * replayer to make the kernel's at the next stop (ttdb_shim_apply_actions). */
static int sets_action(const struct ttdb_shim_record* rec) {
  return rec->nr == NR_RT_SIGACTION && rec->args[1] && rec->ret == 0;
}

void ttdb_shim_apply_actions(void) {
  for (uint64_t i = 0; i < CTL->pending_actions && i < TTDB_SHIM_ACTIONS; ++i)
    ttdb_untraced_syscall(NR_RT_SIGACTION, (long)CTL->actions[i].sig, (long)CTL->actions[i].act, 0, 8, 0, 0);
  CTL->pending_actions = 0;
  leave_sigtrap_alone();
}

/* Replay, free running (TTDB_SHIM_FREE_RUN): the thread stops at the stop
 * stub's int3 for the replayer, SIGTRAP left alone, then goes on through
 * `tail`. The replayer resumes it with syscall stops from there. */
extern const unsigned char ttdb_shim_stop_stub[];
static uint64_t stop_for_replayer(uint64_t tail) {
  CTL->selector = 0;
  CTL->flags &= ~TTDB_SHIM_FREE_RUN;
  CTL->stop_to = tail;
  leave_sigtrap_alone();
  return (uint64_t)ttdb_shim_stop_stub;
}

/* A call the shim leaves to the replayer: through the slow tail, whose
 * syscall the replayer stops at, but for a thread running free, which
 * would make it unseen. */
static uint64_t replay_slow(uint64_t trampoline) {
  if (CTL->flags & TTDB_SHIM_FREE_RUN) return stop_for_replayer(trampoline + TAIL_SLOW);
  return trampoline + TAIL_SLOW;
}

/* A queued record given back: on through the done tail, but a thread
 * running free stops after the last one (the replayer applies the next
 * event, which the program may make from anywhere). */
static uint64_t replay_done(uint64_t trampoline) {
  if ((CTL->flags & TTDB_SHIM_FREE_RUN) && CTL->consumed_records >= CTL->queued_records)
    return stop_for_replayer(trampoline + TAIL_DONE);
  return trampoline + TAIL_DONE;
}

/* A clock_gettime in replay, when the next queued record is one with the
 * same clock and place: replay_call's work for it, without its general
 * steps. 0: the record is not for this call. */
uint64_t replay_clock(struct ttdb_shim_frame* f, uint64_t trampoline) {
  if (CTL->consumed_records >= CTL->queued_records) return 0;
  const struct ttdb_shim_record* rec = (const struct ttdb_shim_record*)(BUFFER + CTL->consumed_bytes);
  if (rec->nr != NR_CLOCK_GETTIME) return 0;
  if (rec->argc & TTDB_RECORD_CLOCK) {
    const struct ttdb_clock_record* clock = (const struct ttdb_clock_record*)rec;
    if ((uint64_t)(clock->argc & 0xff) != f->rdi || clock->where != f->rsi) return 0;
    memcpy((void*)f->rsi, clock->time, 16);
    f->rax = 0;
  } else {
    if (rec->argc != 2 || rec->args[0] != f->rdi || rec->args[1] != f->rsi) return 0;
    const unsigned char* p = (const unsigned char*)(rec + 1);
    uint32_t len;
    memcpy(&len, p, 4);
    if (len != 0 && len != 16) return 0;
    if (len) memcpy((void*)f->rsi, p + 4, 16);
    f->rax = (uint64_t)rec->ret;
  }
  CTL->consumed_records += 1;
  CTL->consumed_bytes += rec->size;
  return replay_done(trampoline);
}

/* A queued call the recording's shim made (TTDB_HOW_EXECUTE), made again
 * here: it must return what it returned then (an address the same, a mask
 * set the same); the kernel writes what it writes. Otherwise the replayer
 * is told at the stop, and reports the divergence. (Replay has no seccomp
 * filter: no secret, the program's six arguments.) */
static uint64_t make_call(struct ttdb_shim_frame* f, uint64_t trampoline, const struct ttdb_shim_record* rec) {
  int64_t ret;
  if (rec->argc & TTDB_RECORD_FILE) {
    /* A file's view: from the descriptor of replay's copy of the file (the
     * program's own is the recording's), where the recording had it. */
    int64_t fd;
    memcpy(&fd, rec + 1, 8);
    uint64_t flags = (f->r10 & ~MAP_FIXED_NOREPLACE_FLAG) | MAP_FIXED_FLAG;
    ret = ttdb_untraced_syscall(NR_MMAP, (long)rec->ret, (long)f->rsi, (long)f->rdx, (long)flags, (long)fd,
                                (long)f->r9);
  } else {
    ret = ttdb_untraced_syscall((long)f->rax, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8,
                                (long)f->r9);
  }
  /* A thread's id: replay's own, the program gets the recorded one. */
  if (rec->argc & TTDB_RECORD_GIVE_RET) ret = rec->ret;
  f->rax = (uint64_t)ret;
  if (ret != rec->ret) {
    CTL->made_result = ret;
    CTL->made_differs = 1;
    return stop_for_replayer(trampoline + TAIL_DONE);
  }
  CTL->consumed_records += 1;
  CTL->consumed_bytes += rec->size;
  return replay_done(trampoline);
}

uint64_t replay_call(struct ttdb_shim_frame* f, uint64_t trampoline) {
  if (CTL->consumed_records >= CTL->queued_records) return replay_slow(trampoline);
  struct ttdb_shim_record* rec = (struct ttdb_shim_record*)(BUFFER + CTL->consumed_bytes);
  uint64_t nr = f->rax;
  uint64_t a[6] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9};
  /* Anything that differs takes the traced path, where the replayer says how. */
  if (rec->nr != nr || nr >= TTDB_SHIM_MAX_NR) return replay_slow(trampoline);
  if (rec->argc & TTDB_RECORD_CLOCK) {
    uint64_t tail = replay_clock(f, trampoline);
    return tail ? tail : replay_slow(trampoline);
  }
  for (int i = 0; i < (rec->argc & 0xff) && i < 6; ++i)
    if (rec->args[i] != a[i]) return replay_slow(trampoline);
  /* A call to make: only while running free (traced, its stops would be
   * the replayer's to explain). */
  int make = (rec->argc & TTDB_RECORD_MAKE) != 0;
  if (make && !(CTL->flags & TTDB_SHIM_FREE_RUN)) return trampoline + TAIL_SLOW;
  /* No room to keep one more action: the replayer makes it, traced. */
  if (sets_action(rec) && CTL->pending_actions >= TTDB_SHIM_ACTIONS) return replay_slow(trampoline);
  const struct ttdb_shim_arg_spec* specs = CTL->args[nr];
  unsigned char* p = (unsigned char*)(rec + 1);
  for (int i = 0; i < 6; ++i) {
    const struct ttdb_shim_arg_spec* spec = &specs[i];
    uint32_t len;
    switch (spec->kind) {
      case TTDB_ARG_PATH:
        memcpy(&len, p, 4);
        if (len != (a[i] ? strnlen_user((const char*)a[i], TTDB_SHIM_PATH_MAX) : 0) ||
            memcmp(p + 4, (const void*)a[i], len) != 0)
          return replay_slow(trampoline);
        p += 4 + len;
        break;
      case TTDB_ARG_IN: {
        uint64_t recorded;
        memcpy(&recorded, p, 8);
        memcpy(&len, p + 8, 4);
        if (digest((const void*)a[i], input_size(spec, a, rec->ret)) != recorded) return replay_slow(trampoline);
        p += 12 + len;
        break;
      }
      case TTDB_ARG_OUT:
        memcpy(&len, p, 4);
        p += 4 + len;
        break;
      default: break;
    }
  }
  if (make) return make_call(f, trampoline, rec);
  /* It matches: now the kernel's writes. */
  p = (unsigned char*)(rec + 1);
  for (int i = 0; i < 6; ++i) {
    uint32_t len;
    switch (specs[i].kind) {
      case TTDB_ARG_PATH:
        memcpy(&len, p, 4);
        p += 4 + len;
        break;
      case TTDB_ARG_IN: {
        /* Room the replayer left: the output it re-emits, which only the
         * program's memory holds (checked by the digest above). */
        memcpy(&len, p + 8, 4);
        uint64_t n = input_size(&specs[i], a, rec->ret);
        if (len) memcpy(p + 12, (const void*)a[i], n < len ? n : len);
        p += 12 + len;
        break;
      }
      case TTDB_ARG_OUT:
        memcpy(&len, p, 4);
        memcpy((void*)a[i], p + 4, len);
        p += 4 + len;
        break;
      default: break;
    }
  }
  if (sets_action(rec)) {
    /* (The recorded call succeeded: its sigsetsize was 8, the act readable.) */
    struct ttdb_shim_action* kept = &CTL->actions[CTL->pending_actions];
    kept->sig = a[0];
    memcpy(kept->act, (const void*)a[1], sizeof kept->act);
    CTL->pending_actions += 1;
  }
  CTL->consumed_records += 1;
  CTL->consumed_bytes += rec->size;
  f->rax = (uint64_t)rec->ret;
  return replay_done(trampoline);
}

/* In replay, the next queued record's counter, when it is this site's;
 * otherwise the miss tail's int3, where the replayer gives the counter
 * (the recording's slow tail, or a queue that ended here). */
uint64_t replay_tsc(uint64_t trampoline, uint64_t site) {
  if (CTL->consumed_records >= CTL->queued_records) return trampoline + TTDB_TAIL_MISS;
  const struct ttdb_tsc_record* rec = (const struct ttdb_tsc_record*)(BUFFER + CTL->consumed_bytes);
  if (rec->nr != TTDB_TSC_RECORD_NR || rec->argc != TTDB_RECORD_TSC || rec->size != TTDB_TSC_RECORD_SIZE || rec->where != site)
    return trampoline + TTDB_TAIL_MISS;
  CTL->tsc_value = rec->value;
  CTL->consumed_records += 1;
  CTL->consumed_bytes += rec->size;
  return replay_done(trampoline);
}

#pragma GCC visibility pop
