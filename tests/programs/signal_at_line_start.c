// A signal that arrives just where a line begins: kill(2) by a syscall
// instruction whose result is not kept, so the next line's first
// instruction follows it. Line steps back from that arrival must move.
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile int hits;

static void on_usr1(int sig) {
  (void)sig;
  hits++;
}

int main(void) {
  long pid = getpid();
  long nr = SYS_kill;
  signal(SIGUSR1, on_usr1);
  hits = 10;
  __asm__ volatile("syscall" : "+a"(nr) : "D"(pid), "S"((long)SIGUSR1) : "rcx", "r11", "memory");
  hits += 100;
  printf("hits %d\n", hits);
  return 0;
}
