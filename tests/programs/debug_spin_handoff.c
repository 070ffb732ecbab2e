// One thread spins, with no syscall, while another starts up and runs: the
// recorder preempts the spinner, and replay restores its recorded state at
// each switch. Single steps forward and back cross those switches.
#include <pthread.h>
#include <stdio.h>

volatile int phase;
int early_done, late_done;

void* early(void* arg) {
  (void)arg;
  for (int i = 0; i < 100000; ++i) early_done++;
  return NULL;
}

void* late(void* arg) {
  (void)arg;
  while (phase < 1) {
  }
  for (int i = 0; i < 100000; ++i) late_done++;
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&b, NULL, late, NULL);
  pthread_create(&a, NULL, early, NULL);
  pthread_join(a, NULL);
  phase = 1;
  pthread_join(b, NULL);
  printf("%d %d\n", early_done, late_done);
  return 0;
}
