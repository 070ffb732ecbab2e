// Signals the program ignores (SIGCHLD and SIGWINCH by default, one set to
// SIG_IGN) arrive while it waits in calls the kernel never restarts after
// a handler (semop, semtimedop, sigwaitinfo, sigtimedwait): natively they
// are dropped when sent and the calls wait on; so they must under ttdb.
#include "kernel_common.h"
#include <sys/ipc.h>
#include <sys/sem.h>

static void poke_then(pid_t parent, int last, int semaphore) {
  usleep(50000);
  kill(parent, SIGUSR2);
  kill(parent, SIGWINCH);
  usleep(50000);
  if (last) kill(parent, last);
  if (semaphore >= 0) {
    struct sembuf post = {0, 1, 0};
    semop(semaphore, &post, 1);
  }
  _exit(0);
}

int main(void) {
  signal(SIGUSR2, SIG_IGN);
  int semaphore = semget(IPC_PRIVATE, 1, 0600);
  CHECK(semaphore >= 0);

  pid_t quick = fork();  // its end is a SIGCHLD while the parent waits
  if (quick == 0) {
    usleep(20000);
    _exit(0);
  }
  pid_t poster = fork();
  if (poster == 0) poke_then(getppid(), 0, semaphore);
  struct sembuf take = {0, -1, 0};
  int done = semop(semaphore, &take, 1);  // (RET names its argument twice)
  RET("semop", done);
  CHECK(child_status(quick) == 0 && child_status(poster) == 0);

  poster = fork();
  if (poster == 0) poke_then(getppid(), 0, semaphore);
  struct timespec long_wait = {5, 0};
  done = semtimedop(semaphore, &take, 1, &long_wait);
  RET("semtimedop", done);
  CHECK(child_status(poster) == 0);

  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGUSR1);
  CHECK(sigprocmask(SIG_BLOCK, &wanted, 0) == 0);
  pid_t sender = fork();
  if (sender == 0) poke_then(getppid(), SIGUSR1, -1);
  int got = sigwaitinfo(&wanted, 0);
  printf("sigwaitinfo: %s\n", got > 0 ? strsignal(got) : en());
  CHECK(child_status(sender) == 0);

  sender = fork();
  if (sender == 0) poke_then(getppid(), SIGUSR1, -1);
  got = sigtimedwait(&wanted, 0, &long_wait);
  printf("sigtimedwait: %s\n", got > 0 ? strsignal(got) : en());
  CHECK(child_status(sender) == 0);
  semctl(semaphore, 0, IPC_RMID);
  return 0;
}
