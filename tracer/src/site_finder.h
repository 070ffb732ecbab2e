// Finds the syscall sites of the code a recorded program maps, on a thread
// off the recorder's CPU: a library's sites take milliseconds to find
// (capstone over each function that has one), which the program spends
// running on, its syscalls traced until the sites are patched.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
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

  // Each process (`owner`) asks for its own address space.
  using Owner = int;

  // Looks for the sites of the part of ELF file `elf` (whose content hashes
  // to `hash`) mapped at [start, start + size) from file offset `offset`,
  // and keeps them in the cache.
  void find(Owner owner, Bytes elf, const ContentHash& hash, std::uint64_t start, std::uint64_t size,
            std::uint64_t offset);

  struct Found {
    std::uint64_t start = 0, end = 0;
    std::vector<SyscallSite> sites;
  };
  // What has been found for `owner` since the last call (never waits).
  std::vector<Found> take_found(Owner owner);
  // Drops what was asked or found for `owner`'s memory in [start, end): it
  // was unmapped or changed. (A search still to do is done all the same,
  // for the cache: the file's sites are the same wherever it is mapped.)
  void forget(Owner owner, std::uint64_t start, std::uint64_t end);
  // Drops everything of `owner`'s (a new program, or its end).
  void clear(Owner owner);
  // The thread ends once the searches asked for are done, so that the next
  // recording of the same files finds their sites in the cache.

 private:
  struct Job {
    Owner owner = 0;
    Bytes elf;
    ContentHash hash{};
    std::uint64_t start = 0, size = 0, offset = 0;
    std::uint64_t generation = 0;
    bool wanted = true;  // its sites are to be patched (not forgotten since)
  };
  void run();

  SiteCache cache_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::vector<std::pair<Owner, Found>> found_;
  struct Range {
    Owner owner;
    std::uint64_t start, end;
  };
  std::vector<Range> forgotten_;  // ranges dropped while a job ran
  std::map<Owner, std::uint64_t> generations_;  // bumped at each clear()
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ttdb
