// Signal handlers for the debugger: a handler that changes a global, one
// that sends another signal from inside itself (nested handlers), signals
// sent while blocked, queued until the program unblocks them (one, then two
// that arrive together). Each is sent by a `syscall` instruction in this
// file, so it arrives in this program's own code, on the line that sent it.
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile int hits;    // changed by every handler
volatile int nested;  // what the inner handler saw
long pid;

// kill(pid, sig) as one instruction on the caller's line.
#define SEND(sig) __asm__ volatile("syscall" : "=a"(ret) : "0"((long)SYS_kill), "D"(pid), "S"((long)(sig)) : "rcx", "r11", "memory")

void on_alarm(int sig) {
  hits++;
}

void on_usr2(int sig) {
  nested = hits;
}

void on_usr1(int sig) {
  long ret;
  hits += 10;
  SEND(SIGUSR2);
  hits += 100;
}

int main(void) {
  long ret;
  sigset_t alarm_only;
  pid = getpid();
  signal(SIGALRM, on_alarm);
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  for (int i = 0; i < 3; i++) {
    SEND(SIGALRM);
    hits += 1000;
  }
  SEND(SIGUSR1);
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  sigprocmask(SIG_BLOCK, &alarm_only, NULL);
  SEND(SIGALRM);
  hits += 1000;
  sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
  sigaddset(&alarm_only, SIGUSR2);
  sigprocmask(SIG_BLOCK, &alarm_only, NULL);
  SEND(SIGALRM);
  SEND(SIGUSR2);
  sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
  static const int read_only = 0;
  struct sigaction fault;
  void on_segv(int sig, siginfo_t* info, void* context);
  sigemptyset(&fault.sa_mask);
  fault.sa_flags = SA_SIGINFO;
  fault.sa_sigaction = on_segv;
  sigaction(SIGSEGV, &fault, NULL);
  *(volatile int*)&read_only = 1;  // a fault, then the same write again
  printf("hits=%d nested=%d\n", hits, nested);
  return 0;
}

#include <sys/mman.h>

// Makes the page of the faulting write writable: the program makes it again.
void on_segv(int sig, siginfo_t* info, void* context) {
  mprotect((void*)((unsigned long)info->si_addr & ~4095ul), 4096, PROT_READ | PROT_WRITE);
  hits += 1000000;
}
