#pragma once

#include "sqlite.h"

namespace ttdb::trace {

// Creates every table of the current format in an empty database.
void create_schema(Db& db);
// The tables `ttdb sql` shows: one row per event (`events`), per memory write
// (`mem`), and the `syscalls` view; the trace itself is attached as `trace`.
void create_expanded_tables(Db& db);

}  // namespace ttdb::trace
