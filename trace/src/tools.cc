#include "ttdb/trace/tools.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "codec.h"
#include "schema.h"
#include "sqlite.h"
#include "ttdb/base/error.h"
#include "ttdb/trace/reader.h"

namespace ttdb::trace {
namespace {

void expand(Db& db, const TraceReader& reader) {
  Stmt event(db,
             "INSERT INTO events(id, kind, tid, nr, a0, a1, a2, a3, a4, a5, ret, path, path2, digest, preview, emit, "
             "buffered, info) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Stmt mem(db, "INSERT INTO mem(event, seq, addr, size, data, blob, file, file_offset) VALUES(?,?,?,?,?,?,?,?)");
  db.exec("BEGIN");
  auto cursor = reader.cursor();
  for (Event e; cursor.next(e);) {
    event.bind(1, e.id).bind(2, static_cast<int>(e.kind)).bind(3, e.tid).bind(4, e.nr);
    for (int i = 0; i < 6; ++i) event.bind(5 + i, e.args[static_cast<std::size_t>(i)]);
    event.bind_optional(11, e.ret).bind_optional(12, e.path).bind_optional(13, e.path2).bind_optional(14, e.digest);
    if (e.preview.empty()) event.bind_null(15); else event.bind_blob(15, e.preview);
    if (e.emit) event.bind(16, e.emit); else event.bind_null(16);
    event.bind(17, e.buffered ? 1 : 0);
    if (e.info.empty()) event.bind_null(18); else event.bind_blob(18, e.info);
    event.run();
    int seq = 0;
    for (const auto& m : e.mem) {
      mem.bind(1, e.id).bind(2, seq++).bind(3, m.addr).bind(4, m.size);
      if (m.file || m.blob) mem.bind_null(5); else mem.bind_blob(5, m.data);
      mem.bind_optional(6, m.blob).bind_optional(7, m.file);
      if (m.file) mem.bind(8, m.file_offset); else mem.bind_null(8);
      mem.run();
    }
  }
  db.exec("COMMIT");
}

std::string column_text(sqlite3_stmt* s, int column) {
  switch (sqlite3_column_type(s, column)) {
    case SQLITE_NULL: return "";
    case SQLITE_BLOB: {
      auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, column));
      ByteView bytes(data, static_cast<std::size_t>(sqlite3_column_bytes(s, column)));
      bool printable = true;
      for (auto b : bytes) printable = printable && ((b >= 0x20 && b < 0x7f) || b == '\n' || b == '\t');
      return printable ? std::string(bytes.begin(), bytes.end()) : "x'" + to_hex(bytes) + "'";
    }
    default: {
      auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
      return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, column))) : "";
    }
  }
}

// The trace's path as an sqlite URI that opens it read-only.
std::string read_only_uri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : path.starts_with("//") ? "/" + path.substr(path.find_first_not_of('/')) : path)
    uri += c == '%' || c == '?' || c == '#' || c < 0x21 || c >= 0x7f ? fmt::format("%{:02X}", c) : std::string(1, static_cast<char>(c));
  return uri + "?mode=ro";
}

// Pragmas that only read, whatever their argument (a table's or an index's name).
bool read_only_pragma(std::string_view name, const char* argument) {
  static const std::string_view any_argument[] = {"table_info", "table_xinfo", "index_info", "index_xinfo", "index_list",
                                                  "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check"};
  static const std::string_view no_argument[] = {"table_list", "database_list", "collation_list", "function_list",
                                                 "module_list", "pragma_list", "compile_options", "user_version",
                                                 "schema_version", "application_id", "page_size", "page_count",
                                                 "freelist_count", "encoding", "data_version", "foreign_keys"};
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto p : any_argument)
    if (lower == p) return true;
  for (auto p : no_argument)
    if (lower == p) return !argument;
  return false;
}

// `ttdb sql` only reads: whatever would write (to the trace, to the expanded
// tables, to a new or attached file) is denied while statements are prepared.
int authorize(void* refused, int action, const char* a, const char* b, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT: return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (!b || std::string_view(b) != "load_extension") return SQLITE_OK;
      break;
    case SQLITE_PRAGMA:
      if (a && read_only_pragma(a, b)) return SQLITE_OK;
      break;
  }
  *static_cast<bool*>(refused) = true;
  return SQLITE_DENY;
}

[[noreturn]] void refuse(std::string_view statement) {
  statement.remove_prefix(std::min(statement.size(), statement.find_first_not_of(" \t\r\n")));
  std::string shown(statement.substr(0, statement.find(';')));
  if (shown.size() > 60) shown = shown.substr(0, 60) + "...";
  throw QueryRefused(fmt::format("refused to run \"{}\": the trace is read-only, and ttdb sql only reads it; "
                                 "to change a trace, copy it and use sqlite3",
                                 shown));
}

}  // namespace

void query(const std::string& path, const std::string& sql,
           const std::function<void(const std::vector<std::string>&)>& header,
           const std::function<void(const std::vector<std::string>&)>& row) {
  TraceReader reader(path);  // checks that it is a trace ttdb reads
  Db db(":memory:", Db::Mode::scratch);
  Stmt attach(db, "ATTACH DATABASE ? AS trace");
  attach.bind(1, read_only_uri(path)).run();
  create_expanded_tables(db);
  expand(db, reader);
  // From here on, nothing writes: not the trace, not the expanded tables, not a new file.
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  db.exec("PRAGMA query_only = 1");
  bool refused = false;
  sqlite3_set_authorizer(db.handle(), authorize, &refused);

  const char* rest = sql.c_str();
  while (*rest) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    refused = false;
    if (sqlite3_prepare_v2(db.handle(), rest, -1, &raw, &tail) != SQLITE_OK) {
      if (refused) refuse(rest);
      fail("the query is not valid SQL: {}", sqlite3_errmsg(db.handle()));
    }
    std::string_view statement(rest, static_cast<std::size_t>(tail - rest));
    rest = tail;
    if (!raw) continue;  // only whitespace or a comment was left
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s(raw, sqlite3_finalize);
    // VACUUM (INTO a new file too) is not something the authorizer is asked about.
    if (!sqlite3_stmt_readonly(raw)) refuse(statement);
    int columns = sqlite3_column_count(raw);
    if (columns > 0) {
      std::vector<std::string> names;
      for (int c = 0; c < columns; ++c) names.emplace_back(sqlite3_column_name(raw, c));
      header(names);
    }
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      std::vector<std::string> values;
      for (int c = 0; c < columns; ++c) values.push_back(column_text(raw, c));
      row(values);
    }
    if (rc != SQLITE_DONE) fail("the query failed: {}", sqlite3_errmsg(db.handle()));
  }
}

void edit_events(const std::string& path, const std::function<bool(Event&)>& change) {
  Db db(path, Db::Mode::create);
  std::vector<std::tuple<std::int64_t, Bytes>> rewritten;
  {
    Stmt chunks(db, "SELECT first, size, codec, data FROM chunks ORDER BY first");
    while (chunks.step()) {
      Bytes data = chunks.blob(3);
      Bytes raw = chunks.int64(2) == 0 ? data : decompress(data, static_cast<std::size_t>(chunks.int64(1)));
      ByteView in(raw);
      Bytes out;
      ChunkContext read, written;
      bool changed = false;
      for (std::int64_t id = chunks.int64(0); !in.empty(); ++id) {
        Event e;
        decode_event(in, read, e, path);
        e.id = id;
        changed = change(e) || changed;
        encode_event(e, written, out);
      }
      if (changed) rewritten.emplace_back(chunks.int64(0), std::move(out));
    }
  }
  Stmt update(db, "UPDATE chunks SET size = ?, codec = 0, data = ? WHERE first = ?");
  for (const auto& [first, bytes] : rewritten) update.bind(1, static_cast<std::int64_t>(bytes.size())).bind_blob(2, bytes).bind(3, first).run();
}

}  // namespace ttdb::trace
