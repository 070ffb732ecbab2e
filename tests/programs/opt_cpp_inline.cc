// C++ built -O2: a method, a template and a lambda, all inlined into main.
// gdb shows `this` and the lambda's closure as <synthetic pointer>, the
// template by C++'s spelling (scaled<long>), the lambda's call operator
// as operator().
#include <cstdio>

volatile int observed;

class Meter {
 public:
  void record(int amount) {
    sum_ += amount;
    observed = sum_;
  }
  int sum() const { return sum_; }

 private:
  int sum_ = 0;
};

template <typename T>
static inline T scaled(T value) {
  T result = value * 3;
  observed = static_cast<int>(result);
  return result;
}

int main() {
  Meter meter;
  auto feed = [&meter](int k) { meter.record(scaled(k)); };
  for (int i = 1; i <= 3; i++) feed(i);
  long big = scaled(7L);
  observed = static_cast<int>(big);
  std::printf("%d %ld\n", meter.sum(), big);
  return 0;
}
