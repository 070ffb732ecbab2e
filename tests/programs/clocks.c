/* Every clock a program can read, most of them through the vDSO natively. */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/time.h>
#include <time.h>

#include "util.h"

int main(void) {
  static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                     CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
                                     CLOCK_PROCESS_CPUTIME_ID};
  for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; ++i) {
    struct timespec ts;
    CHECK(clock_gettime(clocks[i], &ts) == 0);
    printf("clock %d: %lld.%09ld\n", (int)clocks[i], (long long)ts.tv_sec, ts.tv_nsec);
  }
  struct timeval tv;
  CHECK(gettimeofday(&tv, NULL) == 0);
  printf("gettimeofday: %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
  printf("time: %lld\n", (long long)time(NULL));
  printf("cpu: %d\n", sched_getcpu());
  return 0;
}
