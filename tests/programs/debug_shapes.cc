// C++ for the shell (built -O0): a namespace, a class hierarchy with
// members, methods and a base, and the standard library's types people
// look at most. The shell's answers are compared with gdb's on this binary.
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace geo {

class Shape {
 public:
  explicit Shape(std::string name) : name_(std::move(name)) {}
  virtual ~Shape() = default;
  virtual double area() const = 0;
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
  int sides_ = 0;
};

class Rect : public Shape {
 public:
  Rect(double w, double h) : Shape("rect"), w_(w), h_(h) { sides_ = 4; }
  double area() const override { return w_ * h_; }
  void scale(int factor) {
    w_ *= factor;
    h_ *= factor;
  }

 private:
  double w_, h_;
};

}  // namespace geo

int main() {
  std::vector<int> squares;
  for (int i = 0; i < 5; ++i) squares.push_back(i * i);
  std::vector<std::string> words{"alpha", "beta"};
  std::map<std::string, int> ages{{"ann", 31}, {"bob", 42}};
  std::unordered_map<int, int> cubes{{2, 8}};
  auto rect = std::make_unique<geo::Rect>(2.0, 3.0);
  rect->scale(2);
  auto shared = std::make_shared<int>(7);
  std::shared_ptr<int> other = shared;
  std::optional<int> some = 5, none;
  std::string greeting = "hello, ttdb";
  std::vector<int> empty;
  std::printf("%zu %zu %zu %.1f %d %d %d %s %zu\n", squares.size(), words.size(), ages.size() + cubes.size(),
              rect->area(), *shared + static_cast<int>(other.use_count()), *some, none.has_value(),
              greeting.c_str(), empty.size());
  int base = static_cast<int>(squares.size());
  auto offset = [&base](int k) { return base + k; };
  volatile int moved = offset(3);
  return moved == 8 ? 0 : 1;
}
