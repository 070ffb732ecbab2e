// Kernel corner (tests/e2e/kernel_test.cc): mmap_file_write_read.
#include "kernel_common.h"
int main(){
  char a[] = "/tmp/ttdb_mfw_XXXXXX"; int fd = mkstemp(a); unlink(a); ftruncate(fd, 8192);
  char *m = mmap(0, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0); CHECK(m != MAP_FAILED);
  strcpy(m, "written-through-mapping"); strcpy(m+4096, "page-two");
  char b[32]={0}; CHECK(pread(fd, b, 23, 0)==23); printf("read back: %s\n", b);
  lseek(fd, 4096, SEEK_SET); memset(b,0,32); read(fd, b, 8); printf("page2: %s\n", b);
  pwrite(fd, "FILE", 4, 0); printf("mapping after pwrite: %.10s\n", m);
  return strncmp(m, "FILE", 4) ? 1 : 0; }
