// A process writes a file that another process maps shared while it maps
// none of it: pwrite, write, pwritev, copy_file_range, a truncation and a
// punched hole. The mapper wrote its mapping first and told the writer so;
// afterwards it must see the writer's bytes, in replay too.
#define _GNU_SOURCE
#include "kernel_common.h"
#include <sys/uio.h>

static void change(int fd, int how) {
  switch (how) {
    case 0: CHECK(pwrite(fd, "pwrite", 7, 0) == 7); break;
    case 1: CHECK(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "write", 6) == 6); break;
    case 2: {
      struct iovec parts[2] = {{"pwr", 3}, {"itev", 5}};
      CHECK(pwritev(fd, parts, 2, 0) == 8);
      break;
    }
    case 3: {
      char source_name[] = "/tmp/ttdb-source-XXXXXX";  // beside the file: copy_file_range stays in one file system
      int source = mkstemp(source_name);
      CHECK(source >= 0 && write(source, "copied", 7) == 7);
      unlink(source_name);
      loff_t from = 0, to = 0;
      CHECK(copy_file_range(source, &from, fd, &to, 7, 0) == 7);
      close(source);
      break;
    }
    case 4: CHECK(ftruncate(fd, 0) == 0 && ftruncate(fd, 4096) == 0); break;
    case 5: CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0); break;
  }
}

int main(void) {
  char name[] = "/tmp/ttdb-writes-XXXXXX";
  int fd = mkstemp(name);
  CHECK(fd >= 0);
  unlink(name);
  CHECK(ftruncate(fd, 4096) == 0);
  for (int how = 0; how < 6; how++) {
    int ready[2], changed[2];
    CHECK(pipe(ready) == 0 && pipe(changed) == 0);
    pid_t mapper = fork();
    CHECK(mapper >= 0);
    if (mapper == 0) {
      char* view = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      CHECK(view != MAP_FAILED);
      strcpy(view, "the mapper's");
      char byte;
      CHECK(write(ready[1], "r", 1) == 1 && read(changed[0], &byte, 1) == 1);
      printf("case %d: the mapper sees \"%.8s\"\n", how, view);
      _exit(0);
    }
    char byte;
    CHECK(read(ready[0], &byte, 1) == 1);
    change(fd, how);
    CHECK(write(changed[1], "c", 1) == 1);
    CHECK(child_status(mapper) == 0);
    close(ready[0]);
    close(ready[1]);
    close(changed[0]);
    close(changed[1]);
  }
  return 0;
}
