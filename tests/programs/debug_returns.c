// Calls that return into the middle of a line: reverse-step right after a
// return goes back into the callee, as gdb's does.
int count;

void add(int v) {
  count += v;
}

void add_twice(int v) { count += v; count *= 2; }

int main(void) {
  for (int i = 0; i < 3; ++i)
    add(i);
  for (int i = 0; i < 3; ++i) add_twice(i);
  return count & 1;
}
