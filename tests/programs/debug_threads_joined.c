/* Threads that end before the program goes on: one created and joined, then
 * two more created together and joined. gdb numbers them 2, 3 and 4 (a
 * number is never reused), and the program's code after the joins is
 * debugged like any other. */
#include <pthread.h>
#include <unistd.h>

#include "util.h"

static int total;

static void* work(void* arg) {
  int n = *(int*)arg;
  for (int i = 0; i < 3; ++i) {
    __atomic_add_fetch(&total, n, __ATOMIC_SEQ_CST);
    usleep(1000);
  }
  return arg;
}

int main(void) {
  pthread_t a, b, c;
  int one = 1, two = 2, three = 3;
  CHECK(pthread_create(&a, NULL, work, &one) == 0);
  CHECK(pthread_join(a, NULL) == 0);
  CHECK(pthread_create(&b, NULL, work, &two) == 0);
  CHECK(pthread_create(&c, NULL, work, &three) == 0);
  CHECK(pthread_join(b, NULL) == 0);
  CHECK(pthread_join(c, NULL) == 0);
  int doubled = total * 2;
  int tripled = total * 3;
  printf("total %d, doubled %d, tripled %d\n", total, doubled, tripled);
  return 0;
}
