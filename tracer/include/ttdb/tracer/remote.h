// Addresses in a tracee's address space, kept apart from ttdb's own pointers.
#pragma once

#include <cstdint>
#include <functional>

namespace ttdb {

class RemotePtr {
 public:
  constexpr RemotePtr() = default;
  constexpr explicit RemotePtr(std::uint64_t addr) : addr_(addr) {}
  constexpr std::uint64_t addr() const { return addr_; }
  constexpr bool is_null() const { return addr_ == 0; }
  constexpr RemotePtr operator+(std::uint64_t delta) const { return RemotePtr(addr_ + delta); }
  constexpr RemotePtr operator-(std::uint64_t delta) const { return RemotePtr(addr_ - delta); }
  constexpr auto operator<=>(const RemotePtr&) const = default;

 private:
  std::uint64_t addr_ = 0;
};

}  // namespace ttdb

template <>
struct std::hash<ttdb::RemotePtr> {
  std::size_t operator()(ttdb::RemotePtr p) const noexcept { return std::hash<std::uint64_t>()(p.addr()); }
};
