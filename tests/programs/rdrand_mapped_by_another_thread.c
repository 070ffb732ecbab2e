/* A thread maps code with rdrand in it (this program's own file, a second
 * time) after another thread started, and that other thread runs it, then
 * forks a child that runs both mappings' rdrand: the int3 ttdb puts there
 * is its process's, whichever thread mapped it or forked. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static uint64_t __attribute__((noinline)) draw(void) {
  uint64_t value = 0;
  __asm__ volatile("rdrand %0" : "=r"(value) : : "cc");
  return value;
}

static uint64_t (*mapped_draw)(void);
static int stage;  /* 0: nothing mapped, 1: mapped, 2: drawn */

static void* drawer(void* arg) {
  (void)arg;
  struct timespec moment = {0, 1000000};
  while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 1) nanosleep(&moment, NULL);
  printf("drawn from the second mapping: %016llx\n", (unsigned long long)mapped_draw());
  fflush(stdout);
  /* A child this thread forks has the process's sites, both mappings' too. */
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    printf("in a child of the thread: %016llx %016llx\n", (unsigned long long)draw(), (unsigned long long)mapped_draw());
    fflush(stdout);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  __atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
  return NULL;
}

int main(void) {
  require_rdrand();
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, drawer, NULL) == 0);
  /* The executable mapping that holds draw, and where its bytes are in the file. */
  FILE* maps = fopen("/proc/self/maps", "r");
  CHECK(maps != NULL);
  char line[512];
  uintptr_t start = 0, end = 0, offset = 0, at = (uintptr_t)draw;
  while (fgets(line, sizeof line, maps)) {
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s %lx", &start, &end, perms, &offset) == 4 && perms[2] == 'x' && start <= at && at < end) break;
    start = 0;
  }
  fclose(maps);
  CHECK(start != 0);
  int fd = open("/proc/self/exe", O_RDONLY);
  CHECK(fd >= 0);
  char* again = mmap(NULL, end - start, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, (off_t)offset);
  CHECK(again != MAP_FAILED);
  close(fd);
  mapped_draw = (uint64_t (*)(void))(again + (at - start));
  __atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
  CHECK(pthread_join(thread, NULL) == 0);
  printf("drawn by the first: %016llx\n", (unsigned long long)draw());
  return 0;
}
