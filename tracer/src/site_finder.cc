#include "site_finder.h"

#include <pthread.h>

#include "ttdb/tracer/launcher.h"

namespace ttdb {

SiteFinder::SiteFinder(int cpu) {
  thread_ = std::thread([this, cpu] {
    leave_cpu(cpu);
    run();
  });
  ::pthread_setname_np(thread_.native_handle(), "ttdb-sites");
}

SiteFinder::~SiteFinder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SiteFinder::find(Owner owner, Bytes elf, const ContentHash& hash, std::uint64_t start, std::uint64_t size,
                      std::uint64_t offset) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(Job{owner, std::move(elf), hash, start, size, offset, generations_[owner]});
  }
  wake_.notify_one();
}

void SiteFinder::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // (stopping)
      job = std::move(jobs_.front());
      jobs_.pop_front();
      forgotten_.clear();
    }
    // Only for the cache: none if it has them (another process's search,
    // one a shell of 200 runs of a new program asks for 200 times).
    if (!job.wanted && cache_.load(job.hash, job.offset, job.size, job.start)) continue;
    Found found{job.start, job.start + job.size, find_syscall_sites(job.elf, job.start, job.size, job.offset)};
    cache_.store(job.hash, job.offset, job.size, job.start, found.sites);
    std::lock_guard lock(mutex_);
    bool dropped = !job.wanted || job.generation != generations_[job.owner];
    for (const auto& r : forgotten_) dropped = dropped || (r.owner == job.owner && r.start < found.end && r.end > found.start);
    if (!dropped && !found.sites.empty()) found_.emplace_back(job.owner, std::move(found));
  }
}

std::vector<SiteFinder::Found> SiteFinder::take_found(Owner owner) {
  std::lock_guard lock(mutex_);
  std::vector<Found> taken;
  std::erase_if(found_, [&](auto& entry) {
    if (entry.first != owner) return false;
    taken.push_back(std::move(entry.second));
    return true;
  });
  return taken;
}

void SiteFinder::forget(Owner owner, std::uint64_t start, std::uint64_t end) {
  std::lock_guard lock(mutex_);
  auto overlaps = [&](Owner o, std::uint64_t s, std::uint64_t e) { return o == owner && start < e && end > s; };
  for (Job& j : jobs_)
    if (overlaps(j.owner, j.start, j.start + j.size)) j.wanted = false;
  std::erase_if(found_, [&](const auto& f) { return overlaps(f.first, f.second.start, f.second.end); });
  forgotten_.push_back(Range{owner, start, end});
}

void SiteFinder::clear(Owner owner) {
  std::lock_guard lock(mutex_);
  for (Job& j : jobs_)
    if (j.owner == owner) j.wanted = false;
  std::erase_if(found_, [&](const auto& f) { return f.first == owner; });
  ++generations_[owner];
}

}  // namespace ttdb
