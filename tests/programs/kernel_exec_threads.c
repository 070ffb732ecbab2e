// Kernel corner (tests/e2e/kernel_test.cc): execve in a process with threads.
// The kernel ends every other thread, wherever it is (spinning through
// syscalls, blocked in read, waiting on a condition), and a thread that is
// not the first takes the first one's tid. Four programs in a row: the exec
// comes from a thread, then from the first thread, then from a thread whose
// first thread has already ended (pthread_exit in main).
#include "kernel_common.h"

static volatile int stop;
static int pipe_fds[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static char self[4096], next_stage[16];
static pid_t pid_before;

static void* spin(void* arg) {
  (void)arg;
  while (!stop) getppid();
  return 0;
}

static void* reader(void* arg) {
  (void)arg;
  char c;
  if (read(pipe_fds[0], &c, 1) != 0) printf("the pipe had data\n");
  return 0;
}

static void* waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (;;) pthread_cond_wait(&never, &lock);
  return 0;
}

static void run_next(void) {
  char pid[32];
  snprintf(pid, sizeof pid, "%d", (int)pid_before);
  execl(self, self, next_stage, pid, (char*)0);
  printf("execl failed: %s\n", en());
  exit(1);
}

static void* exec_later(void* arg) {
  (void)arg;
  usleep(20000);
  run_next();
  return 0;
}

int main(int argc, char** argv) {
  int stage = argc > 1 ? atoi(argv[1]) : 0;
  if (argc > 2) printf("stage %d: same pid after exec: %s\n", stage, atoi(argv[2]) == (int)getpid() ? "yes" : "no");
  if (stage == 3) {
    printf("done\n");
    return 0;
  }
  CHECK(readlink("/proc/self/exe", self, sizeof self - 1) > 0);
  snprintf(next_stage, sizeof next_stage, "%d", stage + 1);
  pid_before = getpid();
  CHECK(pipe(pipe_fds) == 0);
  pthread_t t;
  CHECK(pthread_create(&t, 0, spin, 0) == 0);
  CHECK(pthread_create(&t, 0, reader, 0) == 0);
  CHECK(pthread_create(&t, 0, waiter, 0) == 0);
  printf("stage %d: threads started\n", stage);
  if (stage == 1) {  // from the first thread
    usleep(20000);
    run_next();
  }
  CHECK(pthread_create(&t, 0, exec_later, 0) == 0);
  if (stage == 2) pthread_exit(0);  // the first thread ends before the exec
  pthread_join(t, 0);
  printf("the exec did not happen\n");
  return 1;
}
