// The C++ standard library's types people look at most, shown as gdb's
// libstdc++ printers show them ("std::vector of length 5, capacity 8 =
// {0, 1, 4, 9, 16}"), read from libstdc++'s own layout the way LLDB's
// built-in formatters are. `print/r` shows the raw members instead.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ttdb/debugger/expr.h"

namespace ttdb {

// How an element is shown (nested the way the caller nests values).
using ShowElement = std::function<std::string(const Value&)>;

// The value as its printer shows it, or nullopt when no printer knows its type.
std::optional<std::string> format_std(const Value& value, ExprContext& context, const ShowElement& show);

// What gdb's libstdc++ xmethods give `*p`, `p->m` and `v[i]`: the pointer a
// std::unique_ptr, std::shared_ptr or std::weak_ptr holds, and the first
// element of a std::vector or std::string. nullopt for other types.
std::optional<Value> std_pointer(const Value& value);

}  // namespace ttdb
