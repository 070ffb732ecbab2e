#pragma once

#include "sqlite.h"

namespace ttdb::trace {

// Creates every table of the current format in an empty database.
void create_schema(Db& db);

}  // namespace ttdb::trace
