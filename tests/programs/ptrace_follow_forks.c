// A tracer that follows its tracee's children, as gdb and strace -f do:
// PTRACE_O_TRACEFORK, TRACEVFORK (with VFORKDONE) and TRACECLONE, attached
// and seized. Each new task starts stopped for the tracer (SIGSTOP, or a
// PTRACE_EVENT_STOP when seized), and the tracer hears of its end.
#include "kernel_common.h"
#include <sys/ptrace.h>

static void* thread_body(void* arg) { return arg; }

// The tracee's part: make a child of the kind asked for, wait for it.
static int spawn_one(const char* how) {
  if (!strcmp(how, "thread")) {
    pthread_t thread;
    void* result;
    CHECK(pthread_create(&thread, 0, thread_body, (void*)5) == 0);
    CHECK(pthread_join(thread, &result) == 0);
    return (int)(long)result;
  }
  pid_t child = !strcmp(how, "vfork") ? vfork() : fork();
  if (child == 0) _exit(5);
  return child_status(child);
}

static void follow(const char* how, long option, int seize) {
  printf("-- %s, %s\n", how, seize ? "seized" : "attached");
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t tracee = fork();
  CHECK(tracee >= 0);
  if (tracee == 0) {
    char byte;
    CHECK(read(go[0], &byte, 1) == 1);
    _exit(spawn_one(how) + 1);
  }
  int status;
  if (seize) {
    CHECK(ptrace(PTRACE_SEIZE, tracee, 0, option) == 0);
  } else {
    CHECK(ptrace(PTRACE_ATTACH, tracee, 0, 0) == 0);
    CHECK(waitpid(tracee, &status, 0) == tracee);
    CHECK(ptrace(PTRACE_SETOPTIONS, tracee, 0, option) == 0);
    CHECK(ptrace(PTRACE_CONT, tracee, 0, 0) == 0);
  }
  CHECK(write(go[1], "x", 1) == 1);
  CHECK(waitpid(tracee, &status, __WALL) == tracee);
  describe_wait("tracee", status);
  unsigned long child = 0;
  CHECK(ptrace(PTRACE_GETEVENTMSG, tracee, 0, &child) == 0);
  CHECK(waitpid((pid_t)child, &status, __WALL) == (pid_t)child);
  describe_wait("its child starts", status);
  // The child ends before its parent goes on (a thread's end would race its process's).
  CHECK(ptrace(PTRACE_CONT, (pid_t)child, 0, 0) == 0);
  CHECK(waitpid((pid_t)child, &status, __WALL) == (pid_t)child);
  describe_wait("its child", status);
  CHECK(ptrace(PTRACE_CONT, tracee, 0, 0) == 0);
  for (;;) {
    CHECK(waitpid(tracee, &status, __WALL) == tracee);
    describe_wait("tracee", status);
    if (!WIFSTOPPED(status)) break;
    int sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
    if (status >> 16 == PTRACE_EVENT_VFORK_DONE) {
      unsigned long done = 0;
      CHECK(ptrace(PTRACE_GETEVENTMSG, tracee, 0, &done) == 0);
      printf("vfork done names its child: %d\n", done == child);
    }
    CHECK(ptrace(PTRACE_CONT, tracee, 0, sig) == 0);
  }
  close(go[0]);
  close(go[1]);
}

int main(void) {
  follow("fork", PTRACE_O_TRACEFORK, 0);
  follow("fork", PTRACE_O_TRACEFORK, 1);
  follow("vfork", PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE, 0);
  follow("thread", PTRACE_O_TRACECLONE, 0);
  follow("thread", PTRACE_O_TRACECLONE, 1);
  return 0;
}
