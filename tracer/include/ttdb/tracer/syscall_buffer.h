// The syscall buffer: ttdb's code inside the recorded program (the shim,
// tracer/shim/), which makes the frequent syscalls that cannot block itself
// and appends their results to a buffer the recorder takes at its next
// stop. Replay queues the recorded results in the same buffer, and the shim
// gives them back without a stop. Everything here works on a stopped tracee.
// docs/architecture.md, "The syscall buffer", tells the whole story.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "ttdb/base/bytes.h"
#include "ttdb/trace/event.h"
#include "ttdb/tracer/remote.h"
#include "ttdb/tracer/tracee.h"

namespace ttdb {

// Where one address space's shim lives: its base, from which the rest of its
// layout follows (shim_abi.h). Plain data; a default one is "not mapped".
class ShimPlace {
 public:
  ShimPlace() = default;
  explicit ShimPlace(std::uint64_t base) : base_(base) {}
  explicit operator bool() const { return base_ != 0; }
  std::uint64_t start() const { return base_; }
  std::uint64_t end() const;
  bool contains(std::uint64_t addr) const { return base_ && addr >= start() && addr < end(); }
  bool overlaps(std::uint64_t from, std::uint64_t to) const { return base_ && from < end() && to > start(); }
  // Recording (this ttdb's shim): the address the trampolines jump to.
  std::uint64_t entry() const;
  // Recording: where the trampolines of the vDSO's function stubs jump.
  std::uint64_t call_entry() const;
  // Recording: where the trampolines of rdtsc sites jump.
  std::uint64_t tsc_entry() const;
  // Recording: the shim's `syscall` instruction. Calls made there go
  // untraced only with the recording's secret. ttdb's injected syscalls go
  // there too once the shim is mapped (ttdb's own instruction, which the
  // program may not unmap while recorded); they carry no secret, so they
  // stop at the filter too, which inject_syscall goes past.
  std::uint64_t syscall_instruction() const;
  // A field of the control block, at `offset` in struct ttdb_shim_control.
  RemotePtr control(std::size_t offset) const;
  RemotePtr buffer() const;
  bool operator==(const ShimPlace&) const = default;

 private:
  std::uint64_t base_ = 0;
};

// What one recording's shims share: the base every process maps its shim
// at, and the secret that the shim's untraced syscalls carry and the
// seccomp filter checks. One filter, installed before the first exec and
// inherited by every process, serves the whole recording, so both are
// chosen once, at random, before it starts.
struct ShimSetup {
  std::uint64_t base = 0;
  std::uint64_t secret = 0;
};
ShimSetup choose_shim_setup();
// The range choose_shim_setup() takes bases from, [first, last].
std::pair<std::uint64_t, std::uint64_t> shim_base_range();

// Installs the recorder's seccomp filter in the calling process (the child
// about to exec): every syscall stops the tracer (SECCOMP_RET_TRACE) except
// those from the shim's untraced instruction at `setup.base` that carry
// `setup.secret`. Only async-signal-safe calls; false when the kernel refuses.
bool install_shim_filter(const ShimSetup& setup);
// True for a syscall that filter lets through untraced: `ip` is where it
// returns (the address after its `syscall` instruction).
bool is_untraced_shim_call(const ShimSetup& setup, std::uint64_t ip, long nr, const std::uint64_t* args);

// Recording: the patch event that maps the shim at `base`: its code and its
// control block (which syscalls it buffers, and how, for this ttdb's
// syscall table; not the secret).
trace::Event shim_event(int tid, std::uint64_t base);
// Recording and replay: maps the shim where `patch` says and starts it in
// recording mode (with the recording's `secret`) or in replay mode. Reads
// every version of the event this ttdb knows (version 1: always at
// 0x70000000). Recording `through_door`: its calls after the first go
// through the shim's door (ShimDoor), which leaves orig_rax -1: for a
// process no tracer of the program's watches. Throws ttdb::Error when the
// place is taken or the event is malformed.
enum class ShimMode { record, replay };
ShimPlace apply_shim(Tracee& tracee, std::uint64_t syscall_insn, const trace::Event& patch, ShimMode mode,
                     std::uint64_t secret = 0, bool through_door = false);
// True for a patch event that maps the shim (and not trampolines).
bool is_shim_event(const trace::Event& e);

// Runs the shim's code that makes the signal actions it kept the kernel's
// (version 4: its header, in the program's memory, says where it begins)
// to its int3, with run_until_trap, and puts SIGTRAP back after it
// (put_back_sigtrap).
void run_shim_apply_actions(Tracee& tracee, const ShimPlace& shim, std::uint64_t syscall_insn);
// At the stop of one of the shim's int3s (the code run_shim_apply_actions
// runs, the stop tail): puts SIGTRAP's mask bit and action back as they
// were before it (shim_abi.h, trap_changed), with an injected rt_sigaction
// at `syscall_insn` for the action.
void put_back_sigtrap(Tracee& tracee, const ShimPlace& shim, std::uint64_t syscall_insn);

// A buffered event that replay makes again, traced, rather than have the
// shim give back: the shim made it while recording, and it changes the
// process (a signal's action set, memory protected...).
bool replay_makes_again(const trace::Event& e);
// An rt_sigaction that set an action, and succeeded: a replay shim of
// version 4 or later keeps the action (shim_abi.h).
bool sets_signal_action(const trace::Event& e);
// Of those replay makes again, one that a replay shim of version 8 can make
// itself, the thread running free (TTDB_RECORD_MAKE): not a signal's action
// (the shim keeps those); a file's mapping only as shim_maps_file_again says.
bool shim_makes_again(const trace::Event& e);
// A private view of a file, not code, that the shim can map again from the
// descriptor of replay's copy of the file, open in the process: its record
// has room for that descriptor (TTDB_RECORD_FILE, QueueEntry::map_fd).
bool shim_maps_file_again(const trace::Event& e);

// --- recording
// Memory a record's call protected anew (mprotect, which the shim makes when
// the protection holds no PROT_EXEC), unmapped, or mapped over (an mmap at a
// fixed place: `unmapped` too).
struct MemoryChange {
  bool unmapped = false;
  std::uint64_t start = 0, end = 0;
};
// An mmap of a file the shim made (TTDB_RECORD_FILE): the version it
// mapped (an index into the recorder's list), where, and which part.
struct MappedFile {
  std::uint64_t index = 0;
  std::uint64_t addr = 0, length = 0, offset = 0;
};
struct ShimRecords {
  Bytes bytes;
  std::uint64_t count = 0;
  std::vector<MemoryChange> memory_changes;  // what the records' calls did to memory, in order
  std::vector<MappedFile> mapped_files;      // in order
};
// When the records taken may be forgotten by the shim (its buffer emptied).
enum class Emptying {
  outside_calls,  // the thread is stopped: unless it is inside a hooked call
  always,         // it ends, or the buffer is a copy it never writes again
  never,          // it may be running: the records are read where they are
};
// The records the shim appended since `taken` (where the last call's
// ended). A thread inside a hooked call may be about to write a record at
// the end of the buffer as it stood when the call began, and a running one
// at any time: the buffer is then read in place and `taken` moves past
// what was read; emptied, `taken` is 0 again.
ShimRecords take_records(Tracee& tracee, const ShimPlace& shim, std::uint64_t& taken, Emptying emptying);
// The thread is inside a hooked call (making it, or writing its record).
bool shim_in_call(Tracee& tracee, const ShimPlace& shim);
// A recording's door into its process through the shim (ShimDoor): its
// untraced instruction with the recording's secret, returning to
// `traced_insn` (the vDSO's) through the control block's word that only
// replay uses (stop_to). No door without the shim or that instruction.
ShimDoor shim_door(const ShimPlace& shim, std::uint64_t secret, std::uint64_t traced_insn);
// What the event of an mmap the shim made says of its file, as a traced
// mmap's event does: its content, and which file it is (trace::FileIdentity).
struct MappedFileEvent {
  trace::MemWrite content;
  Bytes info;
};
// The events `records` hold, in order (they are buffered syscalls), with
// `files` for their mmaps of files, in order. One event's buffers serve
// them all: `out` must copy what it keeps, and may change the event's
// `emit` (as FdStreams does) but nothing else of it.
void parse_records(ByteView records, int tid, const std::function<void(trace::Event&)>& out,
                   std::span<const MappedFileEvent> files = {});
// Tells the shim where the pages of trampolines are, {start, end}, which
// it leaves to the recorder to protect.
void tell_shim_trampolines(Tracee& tracee, const ShimPlace& shim,
                           const std::vector<std::pair<std::uint64_t, std::uint64_t>>& pages);
// Asks the shim to send its next hooked syscall down the traced path
// (slow_next), and to return from the one in progress through an int3
// (stop_after): the recorder wants a boundary for a signal.
void set_shim_flags(Tracee& tracee, const ShimPlace& shim, bool slow_next, bool stop_after);
// Every hooked syscall takes the traced path from now on (the program's own
// seccomp filter may kill or trap a call, which the recorder must see).
void stop_buffering(Tracee& tracee, const ShimPlace& shim);
// A process that traces another (emulated ptrace): its waits stop, for the
// recorder to answer, even those that cannot block.
void trace_waits_in_shim(Tracee& tracee, const ShimPlace& shim);
// The shim leaves syscall `nr` to the traced path from now on.
void trace_in_shim(Tracee& tracee, const ShimPlace& shim, long nr);
// The shim makes every hooked syscall itself, plainly, from now on: the
// program runs without ttdb (go-live).
// Recording: the shim answers calls of the vDSO's clock functions by their
// own code, moved (exec_stack.h), for each {stub's syscall site, moved code};
// none, syscalls. Only while rdtsc does not fault.
void read_clocks_in_vdso(Tracee& tracee, const ShimPlace& shim,
                         const std::vector<std::pair<std::uint64_t, std::uint64_t>>& clocks);

// Recording (version 7): whether the shim reads the time stamp counter
// itself for the rdtsc sites' trampolines (only while rdtsc does not fault);
// off, their rdtsc faults for the recorder.
void serve_tsc_in_shim(Tracee& tracee, const ShimPlace& shim, bool on);

void turn_shim_off(Tracee& tracee, const ShimPlace& shim);
// The process maps a file shared: its writes to files are traced from now
// on, since they may change its memory.
void trace_file_writes_in_shim(Tracee& tracee, const ShimPlace& shim);
// The program's file descriptors changed in a way the shim did not see (a
// traced syscall): it learns their kinds again.
void forget_shim_fds(Tracee& tracee, const ShimPlace& shim);
// Files ({st_dev, st_ino}) whose reads and writes the shim leaves to the
// traced path from now on; it learns the kinds of descriptors again.
void trace_files_in_shim(Tracee& tracee, const ShimPlace& shim,
                         const std::array<std::pair<std::uint64_t, std::uint64_t>, 2>& files);

// A file version the shim may map itself, as its control block names it
// (device, inode, size, modification and change times in nanoseconds).
using MappableVersion = std::array<std::uint64_t, 5>;
inline constexpr std::size_t kMostMappableFiles = 64;  // the shim's room for them
MappableVersion mappable_version(const struct stat& st);
// Tells the shim the versions of `versions` from `from` on (the rest it has).
void name_mappable_files(Tracee& tracee, const ShimPlace& shim, std::span<const MappableVersion> versions,
                         std::size_t from);

// --- replay
// What the shim has given back of what was queued.
struct ShimQueue {
  std::int64_t first_event = 0;  // the first queued event
  std::uint64_t queued = 0;
  std::uint64_t consumed = 0;
};
ShimQueue read_queue(Tracee& tracee, const ShimPlace& shim);
// Where a queued event's input bytes will be once the shim gave it back
// (a version 3 shim copies them there): from shim.buffer() + offset.
struct QueuedInput {
  std::int64_t event = 0;
  std::uint64_t offset = 0, size = 0;
};
// A buffered syscall's record as a replay shim's queue holds it, laid out
// ahead (on the thread that reads the trace: the replayer only copies it):
// where it is in `arena`, and where in it the bytes of its input go that
// the shim copies back (`input_size` 0: none).
struct QueueRecord {
  std::size_t offset = 0, size = 0;  // size 0: it cannot be queued
  std::uint64_t input_offset = 0, input_size = 0;
};
// Appends `e`'s record to `arena`; `bytes_of` gives a memory write's bytes,
// `input_room` how many of its input bytes the shim is to copy back. With
// `clock_records`, a clock read that a clock record holds (shim_abi.h,
// version 6) takes one: queue_records widens it for an older shim.
QueueRecord lay_out_record(const trace::Event& e, const std::function<Bytes(const trace::MemWrite&)>& bytes_of,
                           std::uint64_t input_room, Bytes& arena, bool clock_records);
// A clock record (version 6) as a shim before version 6 reads it: the
// whole record of its event; any other record as it is.
Bytes record_for_shim(ByteView record, std::uint64_t shim_version);
// A record laid out by lay_out_record, for the event `event`.
struct QueueEntry {
  std::int64_t event = 0;
  ByteView record;
  std::uint64_t input_offset = 0, input_size = 0;
  // A file's view the shim maps again (shim_maps_file_again): the
  // descriptor it maps, written into the record's room for it.
  std::int64_t map_fd = -1;
};
// Queues `entries` (buffered syscalls, in order) for the shim to give back,
// replacing what was queued, as many as its buffer holds; the places of
// their inputs go to `inputs`. `shim_version`: the shim's ABI version, as
// recorded. Returns how many fit.
std::size_t queue_records(Tracee& tracee, const ShimPlace& shim, std::uint64_t shim_version,
                          const std::vector<QueueEntry>& entries, std::vector<QueuedInput>* inputs);
// How many bytes of records a queue holds at most (the shim's buffer).
inline constexpr std::size_t kShimQueueBytes = 0x100000;
// Empties the queue: the shim takes the traced path for what comes next.
void clear_queue(Tracee& tracee, const ShimPlace& shim);
// Version 8: where a replay thread running free stops (the shim's stop
// stub's int3) and where the one syscall instruction it may use returns
// (the shim's own), from the header of the code the patch event `patch`
// mapped at `shim` (its blobs read); zeros for an older shim.
struct ShimStops {
  std::uint64_t stop_stub = 0, untraced_return = 0;
  explicit operator bool() const { return stop_stub != 0; }
};
ShimStops shim_stops(const trace::Event& patch, const ShimPlace& shim);
// Version 8: lets the thread run free, without syscall stops (the replayer
// resumes it with PTRACE_CONT), or not. Free, the shim makes the queued
// calls marked TTDB_RECORD_MAKE and stops at its stop stub after the last
// queued record, or before a call it leaves to the replayer; the flag is
// off again there. Free, a syscall from anywhere but the shim's own
// instruction raises SIGSYS instead of running (syscall user dispatch: a
// replay that diverged must not make a call unseen), where the kernel has
// it (Linux 6.4); the shim turns that off at its stop too.
void run_shim_free(Tracee& tracee, const ShimPlace& shim, const ShimStops& stops, bool free);
// At a stop at the stop stub: the result of a call the shim made that
// returned other than its record says (made_differs), which it clears.
std::optional<std::int64_t> take_made_difference(Tracee& tracee, const ShimPlace& shim);

// The bytes of a buffered write the digest covers: what the call consumed.
std::uint64_t buffered_input_size(std::uint64_t count, std::int64_t ret);

}  // namespace ttdb
