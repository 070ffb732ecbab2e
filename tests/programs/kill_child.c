/* Signals between processes: a child tells its parent it is ready with
 * SIGUSR2, the parent wakes it with SIGUSR1, and a second child that would
 * run forever is killed with SIGKILL. */
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t got_usr1, got_usr2;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }
static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

int main(void) {
  on_signal(SIGUSR1, on_usr1, NULL);
  on_signal(SIGUSR2, on_usr2, NULL);
  sigset_t blocked, old;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR1);
  sigaddset(&blocked, SIGUSR2);
  sigprocmask(SIG_BLOCK, &blocked, &old);

  pid_t waiter = fork();
  CHECK(waiter >= 0);
  if (waiter == 0) {
    kill(getppid(), SIGUSR2);
    while (!got_usr1) sigsuspend(&old);
    printf("child %d: woken by its parent\n", (int)getpid());
    fflush(stdout);
    _exit(3);
  }
  while (!got_usr2) sigsuspend(&old);
  printf("parent: child %d is ready\n", (int)waiter);
  fflush(stdout);
  CHECK(kill(waiter, SIGUSR1) == 0);
  int status = 0;
  CHECK(waitpid(waiter, &status, 0) == waiter);
  printf("parent: child exited with %d\n", WEXITSTATUS(status));

  pid_t spinner = fork();
  CHECK(spinner >= 0);
  if (spinner == 0) {
    for (;;) pause();
  }
  CHECK(kill(spinner, SIGKILL) == 0);
  CHECK(waitpid(spinner, &status, 0) == spinner);
  printf("parent: child %d was killed by signal %d\n", (int)spinner, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 0;
}
