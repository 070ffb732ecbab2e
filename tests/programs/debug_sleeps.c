/* Sleeps five times (nanosleep: a traced call, which replay emulates at
 * its entry, the kernel skipping it) and counts after each. */
#include <stdio.h>
#include <time.h>
int slept;
void after_sleep(int i) { slept += i; }
int main(void) {
  struct timespec ts = {0, 1000};
  for (int i = 0; i < 5; ++i) {
    nanosleep(&ts, NULL);
    after_sleep(i);
  }
  printf("slept %d\n", slept);
  return 0;
}
