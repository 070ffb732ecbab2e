// A shared library whose function reads the time stamp counter in a loop,
// with no syscall: for lib_tsc_loop, whose libraries' sites ttdb patches
// only once the program has made enough calls or reads they would serve.
#include <x86intrin.h>

unsigned long tick_deltas(long rounds) {
  unsigned long sum = 0, last = __rdtsc();
  for (long i = 0; i < rounds; ++i) {
    unsigned long now = __rdtsc();
    sum += (now - last) & 0xffff;
    last = now;
  }
  return sum;
}
