#include "file_contents.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "ttdb/base/error.h"
#include "ttdb/trace/pack.h"
#include "ttdb/tracer/file_catalog.h"

namespace ttdb {

std::optional<ElfInterpreter> elf_interpreter(ByteView elf) {
  Elf64_Ehdr header;
  if (elf.size() < sizeof header) return std::nullopt;
  std::memcpy(&header, elf.data(), sizeof header);
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phoff > elf.size() ||
      header.e_phnum > (elf.size() - header.e_phoff) / sizeof(Elf64_Phdr))
    return std::nullopt;
  std::optional<ElfInterpreter> found;
  std::optional<std::uint64_t> phdr_vaddr;
  for (std::size_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, elf.data() + header.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type == PT_INTERP && ph.p_offset <= elf.size() && ph.p_filesz <= elf.size() - ph.p_offset && ph.p_filesz)
      found = ElfInterpreter{ph.p_offset, ph.p_filesz, ph.p_vaddr, 0};
    // The headers lie in the segment that maps their part of the file.
    if (ph.p_type == PT_LOAD && !phdr_vaddr && ph.p_offset <= header.e_phoff && header.e_phoff < ph.p_offset + ph.p_filesz)
      phdr_vaddr = ph.p_vaddr + (header.e_phoff - ph.p_offset);
  }
  if (!found || !phdr_vaddr) return std::nullopt;
  found->phdr_vaddr = *phdr_vaddr;
  return found;
}

const trace::FileRecord& FileContents::record(std::int64_t id) {
  auto found = records_.find(id);
  if (found != records_.end()) return found->second;
  auto file = reader_.file(id);
  if (!file) fail("trace {} is corrupt: it refers to file {} but does not list it", reader_.path(), id);
  return records_.emplace(id, std::move(*file)).first->second;
}

void FileContents::check_on_disk(std::int64_t id) {
  if (is_on_disk(id)) return;
  const auto& file = record(id);
  if (!read_whole_file(file.path))
    fail("{} is gone or unreadable, but the recording ran it; restore it (a trace packed while it was there, by ttdb "
         "pack or record --pack, replays without it)",
         file.path);
  fail("{} changed since it was recorded; replay needs the file as it was: restore it, or record again with --pack "
       "to keep a copy in the trace",
       file.path);
}

bool FileContents::is_on_disk(std::int64_t id) {
  // Read and hashed once: libc is mapped in every process of a recording.
  // A system file the machine has seen in this version before is not read
  // at all (hashing libc and the rest was a third of replaying `date`).
  if (auto found = checked_.find(id); found != checked_.end()) return found->second;
  const auto& file = record(id);
  if (system_file_known_as(file.path, file.hash)) return checked_[id] = true;
  auto bytes = trace::content_as_recorded(file);
  checked_[id] = bytes.has_value();
  if (!bytes) return false;
  remember_system_file(file.path, file.hash);
  if (!file.blob) contents_.emplace(id, std::move(*bytes));
  return true;
}

std::string FileContents::mappable_path(std::int64_t id) { return is_on_disk(id) ? path(id) : copy_path(id); }

int FileContents::copy_descriptor(std::int64_t id) {
  copy_path(id);
  return copies_.at(id).fd.get();
}

std::string FileContents::copy_path(std::int64_t id) {
  if (auto found = copies_.find(id); found != copies_.end()) return found->second.path;
  // One directory per file keeps its own name, which debuggers show.
  auto name = std::filesystem::path(path(id)).filename().string();
  return copies_.emplace(id, write_copy(std::to_string(id), name, content(id))).first->second.path;
}

const FileCopy& FileContents::copy_with_interpreter(std::int64_t id, const std::string& interpreter) {
  auto key = std::make_pair(id, interpreter);
  if (auto found = interpreted_.find(key); found != interpreted_.end()) return found->second;
  Bytes bytes = content(id);
  auto interp = elf_interpreter(bytes);
  if (!interp || interpreter.size() >= interp->size)
    fail("cannot run {} with the trace's copy of its dynamic loader: {}", path(id),
         interp ? "the copy's name is longer than the recorded one" : "it names none");
  std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(interp->offset), interp->size, 0);
  std::copy(interpreter.begin(), interpreter.end(), bytes.begin() + static_cast<std::ptrdiff_t>(interp->offset));
  auto name = std::filesystem::path(path(id)).filename().string();
  auto place = fmt::format("{}-{}", id, interpreted_.size());
  return interpreted_.emplace(key, write_copy(place, name, bytes)).first->second;
}

FileCopy FileContents::write_copy(const std::string& place, const std::string& name, ByteView bytes) {
  if (directory_.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ttdb-replay-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      fail("cannot make a directory for the recorded files' copies in {}: {}; set TMPDIR to a writable directory",
           pattern, errno_text(errno));
    directory_ = pattern;
  }
  auto folder = std::filesystem::path(directory_) / place;
  std::string copy = (folder / name).string();
  std::error_code ec;
  std::filesystem::create_directory(folder, ec);
  UniqueFd out(::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500));
  int error = !out ? errno : write_all(out.get(), bytes);
  UniqueFd in(error ? -1 : ::open(copy.c_str(), O_RDONLY | O_CLOEXEC));
  if (error || !in) fail("cannot write a copy of {} to {}: {}; check the space in TMPDIR", name, copy, errno_text(error ? error : errno));
  return FileCopy{copy, std::move(in)};
}

FileContents::~FileContents() {
  if (directory_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

const Bytes& FileContents::content(std::int64_t id) {
  if (auto found = contents_.find(id); found != contents_.end()) return found->second;
  const auto& file = record(id);
  if (file.blob) return contents_.emplace(id, reader_.blob(*file.blob)).first->second;
  check_on_disk(id);
  // Known by its hash without being read: read now, and checked again.
  if (auto found = contents_.find(id); found != contents_.end()) return found->second;
  auto bytes = trace::content_as_recorded(file);
  if (!bytes) {
    checked_[id] = false;
    check_on_disk(id);  // (which says what became of it)
  }
  return contents_.emplace(id, std::move(*bytes)).first->second;
}

}  // namespace ttdb
