/* The gdb server's subject: a global written in a loop, a function with a
 * local and a parameter, and an exit code gdb reports. Built -O0. */
#include <stdio.h>

int total;

static int square(int n) {
  int result = n * n;
  return result;
}

static void add(int value) {
  int doubled = value * 2;
  total += doubled;
}

int main(void) {
  int count = 0;
  for (int i = 1; i <= 3; ++i) {
    add(square(i));
    ++count;
  }
  printf("total %d count %d\n", total, count);
  return total == 28 ? 3 : 1;
}
