#include "sqlite.h"

#include <utility>

#include "ttdb/base/error.h"
#include "ttdb/trace/writer.h"

namespace ttdb::trace {

Db::Db(const std::string& path, Mode mode) : path_(path) {
  int flags = mode == Mode::read_only ? SQLITE_OPEN_READONLY
                                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (mode == Mode::scratch) flags |= SQLITE_OPEN_MEMORY | SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    // The destructor will not run: release the half-open handle here.
    std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    fail("cannot open trace {}: {}; check the path and its permissions", path, detail);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 2000);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::raise(int rc, std::string_view doing) const {
  std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      fail("{} is not a ttdb trace (not an sqlite database); give the path of a .ttdb file", path_);
    case SQLITE_CORRUPT:
      fail("trace {} is corrupt or truncated ({}); record the program again", path_, detail);
    case SQLITE_FULL:
      throw DiskFull(fmt::format("cannot write trace {}: the disk is full", path_));
    case SQLITE_CANTOPEN:
      fail("cannot open trace {}: {}; check the path and its permissions", path_, detail);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_IOERR:
      fail("cannot {} trace {}: {}", doing, path_, detail);
    default:
      fail("trace {}: {} failed: {}", path_, doing, detail);
  }
}

void Db::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (message) sqlite3_free(message);
  if (rc != SQLITE_OK) raise(rc, "update");
}

Stmt::Stmt(Db& db, std::string_view sql) : db_(&db) {
  int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db.raise(rc, "query");
}

Stmt::Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_blob(int index, ByteView data) {
  // A zero-length blob must stay a blob, not NULL: pass a non-null pointer.
  static const std::uint8_t empty = 0;
  sqlite3_bind_blob64(stmt_, index, data.empty() ? &empty : data.data(), data.size(),
                      SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_->raise(rc, "read");
}

void Stmt::run() {
  int rc = sqlite3_step(stmt_);
  sqlite3_reset(stmt_);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) db_->raise(rc, "write");
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Stmt::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::int64_t Stmt::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Stmt::text(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}

Bytes Stmt::blob(int column) const {
  auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
  return data ? Bytes(data, data + size) : Bytes();
}

std::optional<std::int64_t> Stmt::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::optional<std::string> Stmt::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

}  // namespace ttdb::trace
