// A C++ program for the debugger (tests/e2e/gdb_server_test.cc): standard
// library containers, whose values gdb shows through libstdc++'s printers,
// and a class with a method. Built -O0.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

class Account {
 public:
  explicit Account(std::string owner) : owner_(std::move(owner)) {}
  void deposit(int amount) { balance_ += amount; }
  int balance() const { return balance_; }

 private:
  std::string owner_;
  int balance_ = 0;
};

int main() {
  std::vector<int> squares;
  for (int i = 0; i < 5; ++i) squares.push_back(i * i);
  std::map<std::string, int> ages{{"ann", 31}, {"bob", 42}};
  auto account = std::make_unique<Account>("ann");
  account->deposit(20);
  account->deposit(22);
  std::string greeting = "hello, ttdb";
  std::printf("%zu %zu %d %s\n", squares.size(), ages.size(), account->balance(), greeting.c_str());
  return 3;
}
