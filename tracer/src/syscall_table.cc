#include "ttdb/tracer/syscall_table.h"

#include <asm/unistd_64.h>
#include <fmt/format.h>

#include <charconv>
#include <map>
#include <unordered_map>

#include "ttdb/base/error.h"

namespace ttdb {
namespace {

struct RawEntry {
  int nr;
  const char* name;
  ReplayPolicy policy;
  const char* args;
};

// Syscalls newer than the build machine's headers.
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __NR_futex_wake
#define __NR_futex_wake 454
#endif
#ifndef __NR_futex_wait
#define __NR_futex_wait 455
#endif
#ifndef __NR_futex_requeue
#define __NR_futex_requeue 456
#endif

constexpr RawEntry kRawTable[] = {
#define SYSCALL(name, policy, args) {__NR_##name, #name, ReplayPolicy::policy, args},
#include "syscalls.def"
#undef SYSCALL
};

std::uint64_t parse_number(std::string_view text, std::string_view entry) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  TTDB_CHECK(ec == std::errc() && end == text.data() + text.size(), "bad number '{}' in syscalls.def entry {}", text, entry);
  return value;
}

SizeRule parse_size(std::string_view text, std::string_view entry) {
  SizeRule rule;
  if (auto star = text.find('*'); star != std::string_view::npos) {
    rule.scale = parse_number(text.substr(star + 1), entry);
    text = text.substr(0, star);
  }
  if (text == "ret") {
    rule.from = SizeRule::From::ret;
  } else if (text.starts_with('a')) {
    rule.from = SizeRule::From::arg;
    rule.value = parse_number(text.substr(1), entry);
  } else {
    rule.from = SizeRule::From::fixed;
    rule.value = parse_number(text, entry);
  }
  return rule;
}

ArgFormat parse_format(std::string_view word, std::string_view entry) {
  static const std::unordered_map<std::string_view, ArgFormat> formats = {
      {"i", ArgFormat::i},         {"u", ArgFormat::u},           {"x", ArgFormat::x},
      {"p", ArgFormat::p},         {"fd", ArgFormat::fd},         {"dfd", ArgFormat::dfd},
      {"s", ArgFormat::s},         {"mode", ArgFormat::mode},     {"oflags", ArgFormat::oflags},
      {"prot", ArgFormat::prot},   {"mflags", ArgFormat::mflags}, {"sig", ArgFormat::sig},
      {"how", ArgFormat::how},     {"whence", ArgFormat::whence}, {"clock", ArgFormat::clock},
      {"amode", ArgFormat::amode}, {"atflags", ArgFormat::atflags},
      {"sigmask", ArgFormat::sigmask}, {"sigmask_pair", ArgFormat::sigmask_pair},
  };
  auto found = formats.find(word);
  TTDB_CHECK(found != formats.end(), "unknown argument format '{}' in syscalls.def entry {}", word, entry);
  return found->second;
}

SyscallInfo parse_entry(const RawEntry& raw) {
  SyscallInfo info;
  info.nr = raw.nr;
  info.name = raw.name;
  info.policy = raw.policy;
  std::string_view rest(raw.args);
  while (!rest.empty()) {
    auto space = rest.find(' ');
    auto word = rest.substr(0, space);
    rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
    if (word.empty()) continue;
    if (word == "special") {
      info.special = true;
    } else if (word == "ret:x") {
      info.ret_hex = true;
    } else if (word == "ret:fd") {
      info.ret_fd = true;
    } else if (word.starts_with("buffer")) {
      static const std::unordered_map<std::string_view, Buffering> kinds = {
          {"buffer", Buffering::plain},          {"buffer:read", Buffering::fd_read},
          {"buffer:write", Buffering::fd_write}, {"buffer:openat", Buffering::openat},
          {"buffer:fcntl", Buffering::fcntl},    {"buffer:pwrite", Buffering::fd_pwrite},
          {"buffer:enosys", Buffering::enosys},  {"buffer:get", Buffering::get},
          {"buffer:execute", Buffering::execute}, {"buffer:nohang", Buffering::nohang},
      };
      auto kind = kinds.find(word);
      TTDB_CHECK(kind != kinds.end(), "unknown buffering '{}' in syscalls.def entry {}", word, raw.name);
      info.buffering = kind->second;
    } else if (word.starts_with("out:")) {
      info.args.push_back({ArgFormat::out, parse_size(word.substr(4), raw.name)});
    } else if (word.starts_with("in:")) {
      info.args.push_back({ArgFormat::in, parse_size(word.substr(3), raw.name)});
    } else {
      info.args.push_back({parse_format(word, raw.name), {}});
    }
  }
  TTDB_CHECK(info.args.size() <= 6, "syscalls.def entry {} has more than six arguments", raw.name);
  return info;
}

const std::map<int, SyscallInfo>& table() {
  static const std::map<int, SyscallInfo> parsed = [] {
    std::map<int, SyscallInfo> out;
    for (const auto& raw : kRawTable) out.emplace(raw.nr, parse_entry(raw));
    return out;
  }();
  return parsed;
}

}  // namespace

std::uint64_t SizeRule::size(const std::uint64_t* args, std::int64_t ret) const {
  switch (from) {
    case From::ret: return ret > 0 ? static_cast<std::uint64_t>(ret) * scale : 0;
    case From::fixed: return value * scale;
    case From::arg: return args[value] * scale;
  }
  return 0;
}

const SyscallInfo* find_syscall(long nr) {
  // Asked for every event replayed: a direct index for the numbers in use.
  static const std::vector<const SyscallInfo*> by_number = [] {
    std::vector<const SyscallInfo*> out(table().empty() ? 0 : static_cast<std::size_t>(table().rbegin()->first) + 1);
    for (const auto& [number, info] : table()) out[static_cast<std::size_t>(number)] = &info;
    return out;
  }();
  if (nr < 0 || static_cast<std::size_t>(nr) >= by_number.size()) return nullptr;
  return by_number[static_cast<std::size_t>(nr)];
}

// Syscalls ttdb does not model, named in what it says about them.
static const std::map<long, std::string_view>& unmodelled_names() {
  static const std::map<long, std::string_view> names = {
    {__NR__sysctl, "_sysctl"},
    {__NR_bpf, "bpf"},
    {__NR_create_module, "create_module"},
    {__NR_delete_module, "delete_module"},
    {__NR_execveat, "execveat"},
    {__NR_finit_module, "finit_module"},
    {__NR_get_kernel_syms, "get_kernel_syms"},
    {__NR_get_thread_area, "get_thread_area"},
    {__NR_init_module, "init_module"},
    {__NR_io_cancel, "io_cancel"},
    {__NR_io_destroy, "io_destroy"},
    {__NR_io_getevents, "io_getevents"},
    {__NR_io_pgetevents, "io_pgetevents"},
    {__NR_io_setup, "io_setup"},
    {__NR_io_submit, "io_submit"},
    {__NR_io_uring_enter, "io_uring_enter"},
    {__NR_io_uring_register, "io_uring_register"},
    {__NR_io_uring_setup, "io_uring_setup"},
    {__NR_ioperm, "ioperm"},
    {__NR_iopl, "iopl"},
    {__NR_kexec_file_load, "kexec_file_load"},
    {__NR_kexec_load, "kexec_load"},
    {__NR_lookup_dcookie, "lookup_dcookie"},
    {__NR_memfd_secret, "memfd_secret"},
    {__NR_modify_ldt, "modify_ldt"},
    {__NR_quotactl, "quotactl"},
    {__NR_quotactl_fd, "quotactl_fd"},
    {__NR_reboot, "reboot"},
    {__NR_remap_file_pages, "remap_file_pages"},
    {__NR_set_thread_area, "set_thread_area"},
    {__NR_shmat, "shmat"},
    {__NR_shmdt, "shmdt"},
    {__NR_swapoff, "swapoff"},
    {__NR_swapon, "swapon"},
    {__NR_sysfs, "sysfs"},
    {__NR_uselib, "uselib"},
    {__NR_userfaultfd, "userfaultfd"},
    {__NR_ustat, "ustat"},
  };
  return names;
}

bool changes_signal_mask(long nr) {
  switch (nr) {
    case __NR_rt_sigprocmask: case __NR_rt_sigreturn: case __NR_rt_sigsuspend: case __NR_ppoll:
    case __NR_pselect6: case __NR_epoll_pwait: case __NR_epoll_pwait2: case __NR_io_pgetevents:
      return true;
    default: return false;
  }
}

std::string syscall_name(long nr) {
  if (const auto* info = find_syscall(nr)) return info->name;
  if (auto known = unmodelled_names().find(nr); known != unmodelled_names().end()) return std::string(known->second);
  return fmt::format("syscall_{}", nr);
}

std::optional<int> syscall_number(std::string_view name) {
  for (const auto& [nr, info] : table())
    if (info.name == name) return nr;
  return std::nullopt;
}

const std::vector<const SyscallInfo*>& all_syscalls() {
  static const std::vector<const SyscallInfo*> all = [] {
    std::vector<const SyscallInfo*> out;
    for (const auto& [nr, info] : table()) out.push_back(&info);
    return out;
  }();
  return all;
}

std::vector<std::pair<int, std::string>> all_syscall_names() {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& [nr, info] : table()) out.emplace_back(nr, info.name);
  return out;
}

}  // namespace ttdb
