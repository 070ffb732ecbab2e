#include "schema.h"

#include <fmt/format.h>

#include "ttdb/trace/event.h"
#include "ttdb/trace/format.h"

namespace ttdb::trace {

const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::exec: return "exec";
    case EventKind::syscall: return "syscall";
    case EventKind::signal: return "signal";
    case EventKind::rdtsc: return "rdtsc";
    case EventKind::rdrand: return "rdrand";
    case EventKind::exit: return "exit";
    case EventKind::snapshot: return "snapshot";
    case EventKind::patch: return "patch";
    case EventKind::spawn: return "spawn";
    case EventKind::blocked: return "blocked";
    case EventKind::ptrace: return "ptrace";
    case EventKind::live: return "live";
  }
  return "unknown";
}

void create_schema(Db& db) {
  // The layout is documented column by column in docs/trace-format.md.
  db.exec(R"sql(
    CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    CREATE TABLE argv(i INTEGER PRIMARY KEY, arg BLOB NOT NULL);
    CREATE TABLE env(i INTEGER PRIMARY KEY, var BLOB NOT NULL);
    CREATE TABLE kinds(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE syscall_names(nr INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE blobs(
      id INTEGER PRIMARY KEY,
      hash BLOB NOT NULL UNIQUE,
      size INTEGER NOT NULL,
      codec INTEGER NOT NULL,
      data BLOB NOT NULL);
    CREATE TABLE files(
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL,
      size INTEGER NOT NULL,
      mtime_ns INTEGER NOT NULL,
      hash BLOB NOT NULL,
      blob INTEGER REFERENCES blobs(id),
      role TEXT NOT NULL);
    CREATE TABLE chunks(
      first INTEGER PRIMARY KEY,
      last INTEGER NOT NULL,
      size INTEGER NOT NULL,
      codec INTEGER NOT NULL,
      data BLOB NOT NULL);
    CREATE TABLE mappings(
      event INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      addr INTEGER NOT NULL,
      size INTEGER NOT NULL,
      file INTEGER NOT NULL REFERENCES files(id),
      file_offset INTEGER NOT NULL,
      PRIMARY KEY(event, seq)) WITHOUT ROWID;
  )sql");
  for (int kind = 1; kind <= kLastKind; ++kind)
    db.exec(fmt::format("INSERT INTO kinds VALUES({}, '{}')", kind,
                        kind_name(static_cast<EventKind>(kind))));
  db.exec(fmt::format("INSERT INTO meta VALUES('{}', {})", meta::format_version, kFormatVersion));
}

void create_expanded_tables(Db& db) {
  db.exec(R"sql(
    CREATE TABLE events(
      id INTEGER PRIMARY KEY,
      kind INTEGER NOT NULL,
      tid INTEGER NOT NULL,
      nr INTEGER,
      a0 INTEGER, a1 INTEGER, a2 INTEGER, a3 INTEGER, a4 INTEGER, a5 INTEGER,
      ret INTEGER,
      path TEXT,
      path2 TEXT,
      digest INTEGER,
      preview BLOB,
      emit INTEGER,
      buffered INTEGER NOT NULL,
      info BLOB);
    CREATE TABLE mem(
      event INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      addr INTEGER NOT NULL,
      size INTEGER NOT NULL,
      data BLOB,
      blob INTEGER,
      file INTEGER,
      file_offset INTEGER,
      PRIMARY KEY(event, seq)) WITHOUT ROWID;
    CREATE TEMP VIEW syscalls AS
      SELECT e.id AS event, s.name AS name, e.a0, e.a1, e.a2, e.a3, e.a4, e.a5, e.ret, e.path, e.buffered
      FROM events e LEFT JOIN syscall_names s ON s.nr = e.nr
      WHERE e.kind = 2;
  )sql");
}

}  // namespace ttdb::trace
