#include "site_finder.h"

#include <pthread.h>

#include "ttdb/tracer/launcher.h"

namespace ttdb {

SiteFinder::SiteFinder(int cpu) {
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "ttdb-sites");
  keep_off_cpu(thread_, cpu);
}

SiteFinder::~SiteFinder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SiteFinder::find(Bytes elf, const ContentHash& hash, std::uint64_t start, std::uint64_t size, std::uint64_t offset) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(Job{std::move(elf), hash, start, size, offset, generation_});
  }
  wake_.notify_one();
}

void SiteFinder::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      forgotten_.clear();
    }
    Found found{job.start, job.start + job.size, find_syscall_sites(job.elf, job.start, job.size, job.offset)};
    cache_.store(job.hash, job.offset, job.size, job.start, found.sites);
    std::lock_guard lock(mutex_);
    bool dropped = job.generation != generation_;
    for (const auto& [start, end] : forgotten_) dropped = dropped || (start < found.end && end > found.start);
    if (!dropped && !found.sites.empty()) found_.push_back(std::move(found));
  }
}

std::vector<SiteFinder::Found> SiteFinder::take_found() {
  std::lock_guard lock(mutex_);
  return std::exchange(found_, {});
}

void SiteFinder::forget(std::uint64_t start, std::uint64_t end) {
  std::lock_guard lock(mutex_);
  auto overlaps = [&](std::uint64_t s, std::uint64_t e) { return start < e && end > s; };
  std::erase_if(jobs_, [&](const Job& j) { return overlaps(j.start, j.start + j.size); });
  std::erase_if(found_, [&](const Found& f) { return overlaps(f.start, f.end); });
  forgotten_.emplace_back(start, end);
}

void SiteFinder::clear() {
  std::lock_guard lock(mutex_);
  jobs_.clear();
  found_.clear();
  ++generation_;
}

}  // namespace ttdb
