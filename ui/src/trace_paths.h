// Where traces live when the user does not say: $TTDB_TRACE_DIR, else
// $XDG_DATA_HOME/ttdb, else ~/.local/share/ttdb, named <prog>-<N>.ttdb, with
// a `latest` link to the newest.
#pragma once

#include <string>

namespace ttdb {

std::string default_trace_dir();
// Creates the directory if needed and a fresh, empty trace file in it for
// `program`, and returns its path. Recorders started together get a file
// each: the name is claimed by creating the file.
std::string new_trace_path(const std::string& program);
// Points `latest` in the trace's directory at it.
void update_latest_link(const std::string& trace_path);
// The trace `latest` points at; throws ttdb::Error when there is none.
std::string latest_trace();

}  // namespace ttdb
