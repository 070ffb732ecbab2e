// Fuzzes the trace reader: the input, written to a file, is opened as a
// trace and everything TraceReader offers is read from it (meta, argv, env,
// files, mappings, every event in order and by number, the blobs they
// name), then `ttdb sql`'s expansion of its events. A damaged trace must be
// refused with ttdb::Error: never a crash, hang, leak or huge allocation.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "ttdb/base/error.h"
#include "ttdb/trace/format.h"
#include "ttdb/trace/reader.h"
#include "ttdb/trace/tools.h"

namespace {

namespace tt = ttdb::trace;

// Enough to read a seed trace whole; a mutated one may claim far more.
constexpr std::int64_t kMaxEvents = 20000;

std::string temp_dir;

void remove_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
}

// The file each input is written to, in a directory of this process's own.
const std::string& trace_path() {
  static const std::string path = [] {
    char dir[] = "/tmp/ttdb-fuzz-trace-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    temp_dir = dir;
    std::atexit([] {
      remove_files(temp_dir + "/t.ttdb");
      ::rmdir(temp_dir.c_str());
    });
    return temp_dir + "/t.ttdb";
  }();
  return path;
}

bool write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  remove_files(path);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return false;
  bool ok = std::fwrite(data, 1, size, file) == size;
  return std::fclose(file) == 0 && ok;
}

template <class F>
void quietly(F&& read) {
  try {
    read();
  } catch (const ttdb::Error&) {
  }
}

void read_everything(const tt::TraceReader& reader) {
  namespace meta = tt::meta;
  for (const char* key : {meta::format_version, meta::ttdb_version, meta::program, meta::cwd, meta::hostname,
                          meta::kernel, meta::start_time_ns, meta::end_time_ns, meta::stack_limit, meta::finished,
                          meta::end_reason, meta::exit_kind, meta::exit_code, meta::signals_ignored,
                          meta::signals_blocked, meta::processes}) {
    quietly([&] { (void)reader.meta(key); });
    quietly([&] { (void)reader.meta_int(key); });
  }
  quietly([&] { (void)reader.argv(); });
  quietly([&] { (void)reader.env(); });
  quietly([&] { (void)reader.finished(); });
  quietly([&] {
    for (const auto& file : reader.files()) {
      quietly([&] { (void)reader.file(file.id); });
      if (file.blob) quietly([&] { (void)reader.blob(*file.blob); });
    }
  });
  quietly([&] { (void)reader.file_mappings(); });
  std::int64_t count = 0;
  quietly([&] { count = reader.event_count(); });
  quietly([&] {
    auto cursor = reader.cursor();
    tt::Event event;
    for (std::int64_t n = 0; n < kMaxEvents && cursor.next(event); ++n)
      for (const auto& write : event.mem) quietly([&] { (void)reader.mem_bytes(write); });
  });
  // Random access, as the replay engine and `events` ask: the ends and the middle.
  for (std::int64_t id : {std::int64_t{1}, count / 2, count, count + 1, std::int64_t{-1}})
    quietly([&] { (void)reader.event(id); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = trace_path();
  if (!write_file(path, data, size)) std::abort();
  bool opened = false;
  quietly([&] {
    tt::TraceReader reader(path);
    opened = true;
    read_everything(reader);
  });
  // `ttdb sql` reads the events its own way, into tables.
  if (opened)
    quietly([&] {
      tt::query(path, "SELECT count(*), sum(length(data)) FROM mem", [](const auto&) {}, [](const auto&) {});
    });
  return 0;
}
