#include "ttdb/gdbserver/files.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ttdb/gdbserver/packets.h"
#include "ttdb/base/parse.h"

namespace ttdb::gdb {
namespace {

std::optional<std::uint64_t> read_word(Engine& engine, std::uint64_t addr, std::size_t size = 8) {
  auto bytes = engine.read_memory(addr, size);
  if (!bytes || bytes->size() != size) return std::nullopt;
  std::uint64_t value = 0;
  std::memcpy(&value, bytes->data(), size);
  return value;
}

// A NUL-terminated string of the program's, page by page (the string may end
// just before an unmapped page).
std::string read_string(Engine& engine, std::uint64_t addr) {
  std::string out;
  while (out.size() < 4096) {
    std::size_t n = 0x1000 - (addr & 0xfff);
    auto bytes = engine.read_memory(addr, n);
    if (!bytes || bytes->empty()) break;
    auto end = std::find(bytes->begin(), bytes->end(), 0);
    out.append(bytes->begin(), end);
    if (end != bytes->end()) break;
    addr += n;
  }
  return out;
}

std::string xml_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// The program's r_debug: the dynamic section's DT_DEBUG, found through the
// program headers the kernel passed in the auxiliary vector. 0 before the
// dynamic linker has filled it in, and for a static program.
std::uint64_t r_debug_address(Engine& engine, const std::string& auxv) {
  auto phdr = auxv_value(auxv, AT_PHDR), phnum = auxv_value(auxv, AT_PHNUM);
  if (!phdr || !phnum || *phnum > 256) return 0;
  std::optional<std::uint64_t> bias, dynamic;
  for (std::uint64_t i = 0; i < *phnum; ++i) {
    auto type = read_word(engine, *phdr + i * sizeof(Elf64_Phdr), 4);
    auto vaddr = read_word(engine, *phdr + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_vaddr));
    if (!type || !vaddr) return 0;
    if (*type == PT_PHDR) bias = *phdr - *vaddr;
    if (*type == PT_DYNAMIC) dynamic = *vaddr;
  }
  if (!dynamic) return 0;
  std::uint64_t at = bias.value_or(0) + *dynamic;
  for (int i = 0; i < 1024; ++i, at += sizeof(Elf64_Dyn)) {
    auto tag = read_word(engine, at), value = read_word(engine, at + 8);
    if (!tag || *tag == DT_NULL) return 0;
    if (*tag == DT_DEBUG) return value.value_or(0);
  }
  return 0;
}

// [start, end) of the vDSO's image, from its own program headers.
std::pair<std::uint64_t, std::uint64_t> vdso_range(Engine& engine, const std::string& auxv) {
  auto ehdr = auxv_value(auxv, AT_SYSINFO_EHDR);
  if (!ehdr || *ehdr == 0) return {0, 0};
  auto phoff = read_word(engine, *ehdr + offsetof(Elf64_Ehdr, e_phoff));
  auto phnum = read_word(engine, *ehdr + offsetof(Elf64_Ehdr, e_phnum), 2);
  if (!phoff || !phnum) return {0, 0};
  std::uint64_t end = *ehdr;
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(*phnum, 64); ++i) {
    std::uint64_t at = *ehdr + *phoff + i * sizeof(Elf64_Phdr);
    auto type = read_word(engine, at, 4), vaddr = read_word(engine, at + offsetof(Elf64_Phdr, p_vaddr)),
         memsz = read_word(engine, at + offsetof(Elf64_Phdr, p_memsz));
    if (type && vaddr && memsz && *type == PT_LOAD) end = std::max(end, *ehdr + *vaddr + *memsz);
  }
  return {*ehdr, end};
}

// gdb's own numbers for errno values (the File-I/O protocol's).
int fileio_errno(int error) {
  switch (error) {
    case EPERM: case ENOENT: case EINTR: case EBADF: case EACCES: case EFAULT: case EBUSY: case EEXIST:
    case ENODEV: case ENOTDIR: case EISDIR: case EINVAL: case ENFILE: case EMFILE: case EFBIG:
    case ENOSPC: case ESPIPE: case EROFS:
      return error;  // the same numbers as Linux's
    case ENAMETOOLONG: return 91;
    default: return 9999;
  }
}

std::string fileio_error(int error) { return fmt::format("F-1,{:x}", fileio_errno(error)); }

void put_be(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

}  // namespace

std::optional<std::uint64_t> auxv_value(const std::string& auxv, std::uint64_t type) {
  for (std::size_t at = 0; at + 16 <= auxv.size(); at += 16) {
    std::uint64_t key, value;
    std::memcpy(&key, auxv.data() + at, 8);
    std::memcpy(&value, auxv.data() + at + 8, 8);
    if (key == type) return value;
    if (key == AT_NULL) break;
  }
  return std::nullopt;
}

std::string libraries_svr4(Engine& engine, const std::string& auxv, std::string_view annex) {
  std::uint64_t lm = 0, prev = 0;
  bool whole = annex.empty();
  if (whole) {
    std::uint64_t r_debug = r_debug_address(engine, auxv);
    if (r_debug) lm = read_word(engine, r_debug + offsetof(struct r_debug, r_map)).value_or(0);
  } else {
    for (auto part : split(annex, ';')) {
      auto equals = part.find('=');
      if (equals == std::string_view::npos) continue;
      auto value = parse_hex(part.substr(equals + 1)).value_or(0);
      if (part.substr(0, equals) == "start") lm = value;
      if (part.substr(0, equals) == "prev") prev = value;
    }
  }
  auto [vdso_start, vdso_end] = vdso_range(engine, auxv);
  std::string header = "<library-list-svr4 version=\"1.0\"", libraries;
  for (int count = 0; lm != 0 && count < 100'000; ++count) {
    auto name = read_word(engine, lm + offsetof(link_map, l_name)), addr = read_word(engine, lm + offsetof(link_map, l_addr)),
         ld = read_word(engine, lm + offsetof(link_map, l_ld)), next = read_word(engine, lm + offsetof(link_map, l_next)),
         previous = read_word(engine, lm + offsetof(link_map, l_prev));
    if (!name || !addr || !ld || !next || !previous || *previous != prev) break;  // a list being changed
    if (whole && prev == 0) {
      header += fmt::format(" main-lm=\"0x{:x}\"", lm);  // the first entry is the program itself
    } else if (*ld < vdso_start || *ld >= vdso_end) {
      std::string path = *name ? read_string(engine, *name) : "";
      if (!path.empty())
        libraries += fmt::format("<library name=\"{}\" lm=\"0x{:x}\" l_addr=\"0x{:x}\" l_ld=\"0x{:x}\" lmid=\"0x0\"/>", xml_escaped(path),
                                 lm, *addr, *ld);
    }
    prev = lm;
    lm = *next;
  }
  return header + ">" + libraries + "</library-list-svr4>";
}

bool HostFiles::enabled() {
  if (!enabled_) enabled_ = !engine_.files_only_in_trace().empty();
  return *enabled_;
}

std::string HostFiles::handle(std::string_view packet) {
  if (!enabled()) return "";
  auto colon = packet.find(':');
  std::string_view op = packet.substr(0, colon), args = colon == std::string_view::npos ? "" : packet.substr(colon + 1);
  if (op == "setfs") return "F0";  // one process's view: the recorded one
  if (op == "open") return open(args);
  if (op == "pread") return pread(args);
  if (op == "fstat") return fstat(args);
  if (op == "close") {
    auto fd = parse_hex(args);
    if (!fd || !files_.erase(static_cast<int>(*fd))) return fileio_error(EBADF);
    return "F0";
  }
  if (op == "pwrite" || op == "unlink") return fileio_error(EROFS);  // the past is read-only
  return "";
}

std::string HostFiles::open(std::string_view args) {
  auto parts = split(args, ',');
  if (parts.size() != 3) return fileio_error(EINVAL);
  auto path = from_hex(parts[0]);
  auto flags = parse_hex(parts[1]);
  if (!path || !flags) return fileio_error(EINVAL);
  if ((*flags & 3) != 0) return fileio_error(EROFS);  // gdb's O_RDONLY is 0
  OpenFile file;
  const auto& recorded = engine_.files_only_in_trace();
  if (auto found = recorded.find(*path); found != recorded.end()) {
    file.copy = &found->second;
  } else {
    file.fd = UniqueFd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.fd) return fileio_error(errno);
  }
  int fd = next_fd_++;
  files_.emplace(fd, std::move(file));
  return fmt::format("F{:x}", fd);
}

std::string HostFiles::pread(std::string_view args) {
  auto parts = split(args, ',');
  if (parts.size() != 3) return fileio_error(EINVAL);
  auto fd = parse_hex(parts[0]), count = parse_hex(parts[1]), offset = parse_hex(parts[2]);
  if (!fd || !count || !offset) return fileio_error(EINVAL);
  auto found = files_.find(static_cast<int>(*fd));
  if (found == files_.end()) return fileio_error(EBADF);
  // Escapes may double the bytes: half a packet always fits.
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(*count, kMaxPacket / 2 - 32));
  std::string data;
  if (found->second.copy) {
    const Bytes& copy = *found->second.copy;
    if (*offset < copy.size()) {
      n = std::min<std::size_t>(n, copy.size() - *offset);
      data.assign(reinterpret_cast<const char*>(copy.data()) + *offset, n);
    }
  } else {
    data.resize(n);
    ssize_t got = ::pread(found->second.fd.get(), data.data(), n, static_cast<off_t>(*offset));
    if (got < 0) return fileio_error(errno);
    data.resize(static_cast<std::size_t>(got));
  }
  return fmt::format("F{:x};", data.size()) + data;
}

std::string HostFiles::fstat(std::string_view args) {
  auto fd = parse_hex(args);
  auto found = fd ? files_.find(static_cast<int>(*fd)) : files_.end();
  if (found == files_.end()) return fileio_error(EBADF);
  struct stat st {};
  if (found->second.copy) {
    st.st_mode = S_IFREG | 0444;
    st.st_size = static_cast<off_t>(found->second.copy->size());
    st.st_nlink = 1;
  } else if (::fstat(found->second.fd.get(), &st) != 0) {
    return fileio_error(errno);
  }
  // The File-I/O protocol's struct stat: big-endian fields of fixed sizes.
  std::string out;
  for (std::uint64_t field : {st.st_dev, st.st_ino, std::uint64_t{st.st_mode}, std::uint64_t{st.st_nlink},
                              std::uint64_t{st.st_uid}, std::uint64_t{st.st_gid}, st.st_rdev})
    put_be(out, field, 4);
  for (auto field : {st.st_size, st.st_blksize, st.st_blocks}) put_be(out, static_cast<std::uint64_t>(field), 8);
  for (auto field : {st.st_atime, st.st_mtime, st.st_ctime}) put_be(out, static_cast<std::uint64_t>(field), 4);
  return fmt::format("F{:x};", out.size()) + out;
}

}  // namespace ttdb::gdb
