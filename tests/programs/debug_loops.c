/* The shell's and the engine's subject: functions, a loop with a global
 * counter, a struct, strings, a long loop without syscalls. Built -O0. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct point {
  int x, y;
  const char* name;
};

int counter;
long big_total;
static const char greeting[] = "hello, ttdb";
struct point origin = {0, 0, "origin"};

static int square(int v) { return v * v; }

int accumulate(int n) {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    total += square(i);
    counter++;
  }
  return total;
}

long spin(long rounds) {
  long sum = 0;
  for (long i = 0; i < rounds; ++i) sum += i ^ counter;
  return sum;
}

int main(int argc, char** argv) {
  struct point p = {3, 4, "p"};
  int values[4] = {10, 20, 30, 40};
  int result = 0;
  char line[64];
  for (int round = 0; round < 5; ++round) {
    result += accumulate(10 + round);
    int n = snprintf(line, sizeof line, "round %d result %d\n", round, result);
    if (write(1, line, (size_t)n) != n) return 2;
  }
  big_total = spin(argc > 1 ? 3000000 : 200000);
  p.x += values[2];
  printf("%s: spin %ld, p = (%d, %d), %s\n", greeting, big_total, p.x, p.y, origin.name);
  return result > 0 ? 0 : 1;
}
