// A child process dies holding a process-shared robust mutex, by each kind
// of death: _exit, SIGKILL to itself, SIGKILL from its parent, a fault,
// abort. The kernel marks the mutex as its owner's death; the parent's lock
// then returns EOWNERDEAD, and it makes the mutex consistent again.
#include "kernel_common.h"

static pthread_mutex_t* shared_robust_mutex(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_t* m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED);
  CHECK(pthread_mutex_init(m, &attr) == 0);
  return m;
}

int main(void) {
  const char* deaths[] = {"_exit", "SIGKILL to itself", "SIGKILL from its parent", "a fault", "abort"};
  pthread_mutex_t* m = shared_robust_mutex();
  for (int how = 0; how < 5; ++how) {
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
      signal(SIGABRT, SIG_DFL);
      CHECK(pthread_mutex_lock(m) == 0);
      CHECK(write(ready[1], "x", 1) == 1);
      switch (how) {
        case 0: _exit(0);
        case 1: kill(getpid(), SIGKILL); break;
        case 2: pause(); break;
        case 3: *(volatile int*)0 = 1; break;
        case 4: abort();
      }
      _exit(9);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    if (how == 2) kill(child, SIGKILL);
    int status = child_status(child);
    int r = pthread_mutex_lock(m);
    printf("%s (status %d): lock %s\n", deaths[how], status, r == EOWNERDEAD ? "EOWNERDEAD" : strerrorname_np(r));
    if (r == EOWNERDEAD) CHECK(pthread_mutex_consistent(m) == 0);
    CHECK(pthread_mutex_unlock(m) == 0);
    close(ready[0]);
    close(ready[1]);
  }
  return 0;
}
