/* getpid, getppid, getuid and the like: glibc's wrappers return right
 * after their syscall (`syscall; ret`), sites the syscall buffer patches
 * with the padding after them. A SIGALRM every millisecond lands among
 * them, in the buffer's calls too. Built -O0. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

static long ids_once(void) {
  return getpid() + getppid() + getuid() + geteuid() + getgid() + getegid();
}

int main(void) {
  signal(SIGALRM, on_alarm);
  struct itimerval every = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &every, NULL);
  long same = 0;
  int rounds = 0;
  while (alarms < 20) {
    long got = ids_once();
    same += got == ids_once();
    rounds++;
  }
  setitimer(ITIMER_REAL, &off, NULL);
  /* (One more may come before the timer stops, on a busy machine.) */
  printf("rounds %d, the same %ld times, %s alarms\n", rounds, same, alarms >= 20 ? "20 or more" : "fewer than 20");
  return 0;
}
