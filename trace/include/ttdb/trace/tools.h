// A trace as data: SQL over its events, one row each (`ttdb sql`), and
// rewriting recorded events in place (how tests make a tampered trace).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ttdb/base/error.h"
#include "ttdb/trace/event.h"

namespace ttdb::trace {

// Runs `sql` (one or more statements) over the trace at `path`, with its
// events expanded into the tables `events` and `mem` and the view
// `syscalls`; the trace's own tables are there too. `header` gets the
// column names of each statement that returns rows, `row` each row, as text
// (NULL as an empty string, blobs as text when printable, else x'hex').
// Throws ttdb::Error with sqlite's message when the SQL is wrong, and
// QueryRefused for a statement that would write anything anywhere: the trace
// is opened read-only, and only reading statements and pragmas are allowed.
class QueryRefused : public Error {
 public:
  using Error::Error;
};
void query(const std::string& path, const std::string& sql,
           const std::function<void(const std::vector<std::string>&)>& header,
           const std::function<void(const std::vector<std::string>&)>& row);

// Calls `change` on every recorded event, in order; the events it returns
// true for are written back as changed.
void edit_events(const std::string& path, const std::function<bool(Event&)>& change);

}  // namespace ttdb::trace
