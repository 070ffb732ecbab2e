// Finds the syscall sites of the code a recorded program maps, on a thread
// off the recorder's CPU: a library's sites take milliseconds to find
// (capstone over each function that has one), which the program spends
// running on, its syscalls traced until the sites are patched.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "site_cache.h"
#include "ttdb/base/bytes.h"
#include "ttdb/tracer/syscall_sites.h"

namespace ttdb {

class SiteFinder {
 public:
  // The thread keeps off `cpu` (the recorder's and the program's).
  explicit SiteFinder(int cpu);
  ~SiteFinder();
  SiteFinder(const SiteFinder&) = delete;
  SiteFinder& operator=(const SiteFinder&) = delete;

  // Looks for the sites of the part of ELF file `elf` (whose content hashes
  // to `hash`) mapped at [start, start + size) from file offset `offset`,
  // and keeps them in the cache.
  void find(Bytes elf, const ContentHash& hash, std::uint64_t start, std::uint64_t size, std::uint64_t offset);

  struct Found {
    std::uint64_t start = 0, end = 0;
    std::vector<SyscallSite> sites;
  };
  // What has been found since the last call (never waits).
  std::vector<Found> take_found();
  // Drops what was asked or found for memory in [start, end): it was
  // unmapped or changed.
  void forget(std::uint64_t start, std::uint64_t end);
  // Drops everything (a new program).
  void clear();

 private:
  struct Job {
    Bytes elf;
    ContentHash hash{};
    std::uint64_t start = 0, size = 0, offset = 0;
    std::uint64_t generation = 0;
  };
  void run();

  SiteCache cache_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::vector<Found> found_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> forgotten_;  // ranges dropped while a job ran
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ttdb
