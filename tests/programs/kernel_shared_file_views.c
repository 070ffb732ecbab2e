// Kernel corner (tests/e2e/kernel_test.cc): one file seen through several
// mappings, as the kernel keeps them coherent: two shared views of a memfd
// (one only readable and executable, as a JIT's), a private view that shows
// the file until it is written, a POSIX shm object opened and mapped again
// by a forked child, a write() seen through a view, truncation (SIGBUS past
// the end), a punched hole, and MADV_DONTNEED on a private file mapping.
#include "kernel_common.h"
#include <linux/falloc.h>
#include <setjmp.h>

static sigjmp_buf jump;
static volatile int bus_errors;
static void on_bus(int sig) {
  (void)sig;
  bus_errors++;
  siglongjmp(jump, 1);
}

// Reads a byte, or -1 when the read raises SIGBUS.
static int byte_at(volatile const char* p) {
  if (sigsetjmp(jump, 1)) return -1;
  return *p;
}

typedef long (*fn)(long);

int main(void) {
  signal(SIGBUS, on_bus);
  long page = sysconf(_SC_PAGESIZE);

  // Two shared views of one memfd; the second only readable and executable.
  int fd = memfd_create("views", 0);
  CHECK(fd >= 0 && ftruncate(fd, 4 * page) == 0);
  char* w = mmap(0, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char* x = mmap(0, page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, page);
  char* r = mmap(0, 4 * page, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK(w != MAP_FAILED && x != MAP_FAILED && r != MAP_FAILED);
  strcpy(w + 100, "stored through the writable view");
  printf("private view before it is written: %s\n", r + 100);
  // lea rax, [rdi + 7]; ret, written through one view and run through the other.
  static const unsigned char code[] = {0x48, 0x8d, 0x47, 0x07, 0xc3};
  memcpy(w + page, code, sizeof code);
  __builtin___clear_cache(x, x + sizeof code);
  printf("code run through the other view: %ld\n", ((fn)x)(35));

  // A write() to the file, seen through a view that cannot be written.
  CHECK(pwrite(fd, "\x48\x8d\x47\x09", 4, page) == 4);
  printf("after pwrite: %ld\n", ((fn)x)(35));

  // Truncated: past the end is SIGBUS; grown again, zeros.
  CHECK(ftruncate(fd, page + 10) == 0);
  printf("after truncation: %d %d %d\n", byte_at(w + page + 9), byte_at(w + page + 10), byte_at(w + 2 * page));
  CHECK(ftruncate(fd, 3 * page) == 0);
  printf("grown again: %d, and the private view %d\n", byte_at(w + 2 * page), byte_at(r + 2 * page));

  // A punched hole reads zeros through the mapping.
  memset(w + 2 * page, 'h', page);
  CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * page, page) == 0);
  printf("after the hole: %d %d\n", byte_at(w + 2 * page), byte_at(w + 3 * page - 1));

  printf("SIGBUS so far: %d\n", bus_errors);

  // A POSIX shm object the child opens and maps again after fork.
  char name[64];
  snprintf(name, sizeof name, "/ttdb-views-%d", (int)getpid());
  int shm = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  CHECK(shm >= 0 && ftruncate(shm, page) == 0);
  volatile long* mine = mmap(0, page, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
  CHECK(mine != MAP_FAILED);
  mine[0] = 1;
  pid_t child = fork();
  if (child == 0) {
    int again = shm_open(name, O_RDWR, 0);
    volatile long* theirs = mmap(0, page, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
    if (again < 0 || theirs == MAP_FAILED) _exit(1);
    theirs[1] = theirs[0] + 41;
    _exit(0);
  }
  CHECK(child_status(child) == 0);
  printf("the child's store through its own mapping: %ld\n", mine[1]);
  shm_unlink(name);

  // MADV_DONTNEED on a private file mapping reads the file again.
  char path[] = "./kernel_shared_file_views.dat";
  int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(file >= 0 && pwrite(file, "file contents", 13, 0) == 13);
  char* p = mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0);
  CHECK(p != MAP_FAILED);
  memcpy(p, "private store", 13);
  CHECK(madvise(p, page, MADV_DONTNEED) == 0);
  printf("after MADV_DONTNEED: %.13s\n", p);

  // A shared view that may never be written: of a file opened read-only,
  // and of a memfd sealed against writes. mprotect refuses both.
  int readonly = open(path, O_RDONLY);
  char* ro = mmap(0, page, PROT_READ, MAP_SHARED, readonly, 0);
  CHECK(ro != MAP_FAILED);
  printf("made writable, opened read-only: %d\n", mprotect(ro, page, PROT_READ | PROT_WRITE) == 0 ? 0 : errno);
  // A range zeroed in place (where the file system can: replay's copy of
  // the file cannot), seen through the shared view.
  if (fallocate(file, FALLOC_FL_ZERO_RANGE, 2, 4) == 0) printf("zeroed: %.2s %d %d %.7s\n", ro, ro[2], ro[5], ro + 6);
  else printf("zeroed: %s\n", en());
  int sealed = memfd_create("sealed", MFD_ALLOW_SEALING);
  CHECK(sealed >= 0 && ftruncate(sealed, page) == 0 && fcntl(sealed, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0);
  char* view = mmap(0, page, PROT_READ, MAP_SHARED, sealed, 0);
  CHECK(view != MAP_FAILED);
  printf("made writable, sealed: %d\n", mprotect(view, page, PROT_READ | PROT_WRITE) == 0 ? 0 : errno);
  unlink(path);
  return bus_errors == 1 ? 0 : 1;
}
