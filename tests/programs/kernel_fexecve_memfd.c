// Kernel corner (tests/e2e/kernel_test.cc): fexecve_memfd.
#include "kernel_common.h"
#include <sys/sendfile.h>
int main(int argc, char **argv){
  if (argc > 1) { printf("in memfd image: %s\n", argv[1]); return 0; }
  int src = open("/proc/self/exe", O_RDONLY); struct stat st; fstat(src, &st);
  int mfd = memfd_create("img", MFD_CLOEXEC); CHECK(mfd>=0);
  CHECK(sendfile(mfd, src, 0, st.st_size) == st.st_size);
  printf("copied image\n"); fflush(stdout);
  pid_t p = fork();
  if (p == 0) { char *a[] = {argv[0], "execveat", 0}; extern char **environ; syscall(SYS_execveat, mfd, "", a, environ, AT_EMPTY_PATH); _exit(99); }
  printf("execveat child: %d\n", child_status(p)); fflush(stdout);
  char *a[] = {argv[0], "fexecve", 0}; extern char **environ; fexecve(mfd, a, environ); printf("fexecve failed %s\n", en()); return 1; }
