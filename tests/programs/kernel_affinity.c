// Kernel corner (tests/e2e/kernel_test.cc): the CPUs a process may run on,
// as it sees them (ttdb pins itself and the program to one CPU), before and
// after it chooses some itself, in a thread and in a forked child.
#include "kernel_common.h"
#include <sched.h>

static int cpus_of(pid_t who) {
  cpu_set_t set;
  CHECK(sched_getaffinity(who, sizeof set, &set) == 0);
  return CPU_COUNT(&set);
}

static void* choose_one(void* arg) {
  (void)arg;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
  printf("a thread that chose CPU 0 sees %d\n", cpus_of(0));
  return 0;
}

int main(void) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  printf("may run on all the online CPUs: %d\n", cpus_of(0) == online);
  pthread_t thread;
  CHECK(pthread_create(&thread, 0, choose_one, 0) == 0);
  pthread_join(thread, 0);
  printf("the main thread still on all: %d\n", cpus_of(0) == online);
  pid_t child = fork();
  if (child == 0) _exit(cpus_of(0) == online ? 0 : 1);
  printf("a child on all: %d\n", child_status(child) == 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
  child = fork();
  if (child == 0) _exit(cpus_of(0));
  printf("a child after choosing CPU 0: %d\n", child_status(child));
  return 0;
}
