// Catchpoints in the shell (tests/e2e/shell_catch_test.cc): syscalls, two
// signals (SIGALRM being one gdb passes without stopping), and C++
// exceptions thrown, caught and rethrown.
#include <signal.h>
#include <unistd.h>

#include <stdexcept>

static volatile int handled = 0;

static void on_signal(int sig) {
  handled = handled + sig;
  write(1, "handled\n", 8);
}

static int risky(int n) {
  if (n % 2) throw std::runtime_error("odd");
  return n;
}

static int guarded(int n) {
  try {
    return risky(n);
  } catch (const std::runtime_error&) {
    if (n > 2) throw;
    return -1;
  }
}

int main() {
  signal(SIGUSR1, on_signal);
  signal(SIGALRM, on_signal);
  write(1, "one\n", 4);
  raise(SIGUSR1);
  getppid();
  raise(SIGALRM);
  write(1, "two\n", 4);
  int total = 0;
  for (int i = 0; i < 4; ++i) {
    try {
      total += guarded(i);
    } catch (const std::exception&) {
      total += 100;
    }
  }
  return total == 101 && handled == SIGUSR1 + SIGALRM ? 0 : 1;
}
