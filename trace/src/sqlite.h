// A thin RAII layer over sqlite3: a connection and prepared statements.
// Errors become ttdb::Error naming the trace file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ttdb/base/bytes.h"

namespace ttdb::trace {

class Db;

class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int index, std::int64_t value);
  Stmt& bind(int index, std::uint64_t value) { return bind(index, static_cast<std::int64_t>(value)); }
  Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Stmt& bind(int index, std::string_view text);
  Stmt& bind_blob(int index, ByteView data);
  Stmt& bind_null(int index);
  template <typename T>
  Stmt& bind_optional(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Runs one step: true while a row is available.
  bool step();
  // Runs a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  std::string text(int column) const;
  Bytes blob(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  std::optional<std::string> optional_text(int column) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // scratch: a private in-memory database that may ATTACH others by URI ("file:...?mode=ro").
  enum class Mode { read_only, create, scratch };
  Db(const std::string& path, Mode mode);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  void exec(std::string_view sql);
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Throws the ttdb::Error for a failed sqlite call with result code `rc`.
  [[noreturn]] void raise(int rc, std::string_view doing) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace ttdb::trace
