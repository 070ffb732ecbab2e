// Kernel corner (tests/e2e/kernel_test.cc): a program that finds the vDSO's
// functions itself, through the aux vector and the vDSO's dynamic section,
// as Go's runtime and other libcs do: by their `__vdso_` names with their
// version, and by the plain aliases. It reads every clock through them and
// prints the raw values, which replay must give back exactly.
#include "kernel_common.h"
#include <elf.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

static const char* strtab;
static const Elf64_Sym* symtab;
static const Elf64_Half* versym;
static const Elf64_Verdef* verdef;
static unsigned long nsyms;
static unsigned long base;

static void load_vdso(void) {
  base = getauxval(AT_SYSINFO_EHDR);
  CHECK(base != 0);
  const Elf64_Ehdr* eh = (const Elf64_Ehdr*)base;
  CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
  const Elf64_Phdr* ph = (const Elf64_Phdr*)(base + eh->e_phoff);
  long load_offset = 0;
  const Elf64_Dyn* dyn = 0;
  for (int i = 0; i < eh->e_phnum; ++i) {
    if (ph[i].p_type == PT_LOAD) load_offset = (long)base + (long)ph[i].p_offset - (long)ph[i].p_vaddr;
    if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn*)(base + ph[i].p_offset);
  }
  CHECK(dyn != 0);
  for (; dyn->d_tag != DT_NULL; ++dyn) {
    unsigned long at = dyn->d_un.d_ptr + load_offset;
    if (dyn->d_tag == DT_STRTAB) strtab = (const char*)at;
    if (dyn->d_tag == DT_SYMTAB) symtab = (const Elf64_Sym*)at;
    if (dyn->d_tag == DT_HASH) nsyms = ((const Elf64_Word*)at)[1];
    if (dyn->d_tag == DT_VERSYM) versym = (const Elf64_Half*)at;
    if (dyn->d_tag == DT_VERDEF) verdef = (const Elf64_Verdef*)at;
  }
  CHECK(strtab && symtab && nsyms);
}

// The version a symbol is defined with, or "" without version information.
static const char* version_of(unsigned long i) {
  if (!versym || !verdef) return "";
  Elf64_Half want = versym[i] & 0x7fff;
  for (const Elf64_Verdef* d = verdef;; d = (const Elf64_Verdef*)((const char*)d + d->vd_next)) {
    if (d->vd_ndx == want) return strtab + ((const Elf64_Verdaux*)((const char*)d + d->vd_aux))->vda_name;
    if (!d->vd_next) return "";
  }
}

static void* lookup(const char* name, const char* version) {
  for (unsigned long i = 0; i < nsyms; ++i) {
    if (ELF64_ST_TYPE(symtab[i].st_info) != STT_FUNC || strcmp(strtab + symtab[i].st_name, name) != 0) continue;
    if (version && strcmp(version_of(i), version) != 0) continue;
    return (void*)(base + symtab[i].st_value);
  }
  return 0;
}

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
  load_vdso();
  typedef int (*clock_fn)(clockid_t, struct timespec*);
  typedef int (*tod_fn)(struct timeval*, void*);
  typedef time_t (*time_fn)(time_t*);
  typedef int (*getcpu_fn)(unsigned*, unsigned*, void*);
  clock_fn vdso_clock = lookup("__vdso_clock_gettime", "LINUX_2.6");
  clock_fn plain_clock = lookup("clock_gettime", 0);
  clock_fn vdso_res = lookup("__vdso_clock_getres", "LINUX_2.6");
  tod_fn vdso_tod = lookup("__vdso_gettimeofday", "LINUX_2.6");
  time_fn vdso_time = lookup("__vdso_time", "LINUX_2.6");
  getcpu_fn vdso_getcpu = lookup("__vdso_getcpu", "LINUX_2.6");
  CHECK(vdso_clock && plain_clock && vdso_res && vdso_tod && vdso_time && vdso_getcpu);
  CHECK(vdso_clock == plain_clock);
  printf("found the vDSO's functions by name and version\n");

  long long last = 0;
  for (int round = 0; round < 3; ++round) {
    struct timespec a, b, c;
    CHECK(vdso_clock(CLOCK_MONOTONIC, &a) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    CHECK(plain_clock(CLOCK_REALTIME, &c) == 0);
    CHECK(last <= ns(a) && ns(a) <= ns(b));
    last = ns(b);
    printf("round %d: monotonic %lld then %lld, realtime %lld\n", round, ns(a), ns(b), ns(c));
  }
  struct timeval tv;
  CHECK(vdso_tod(&tv, 0) == 0);
  time_t now = vdso_time(0);
  time_t stored = 0;
  CHECK(vdso_time(&stored) >= now && stored >= now);
  CHECK(now - tv.tv_sec <= 1 && tv.tv_sec - now <= 1);
  printf("gettimeofday %ld.%06ld, time %ld\n", (long)tv.tv_sec, (long)tv.tv_usec, (long)now);

  struct timespec res, cpu, boot;
  CHECK(vdso_res(CLOCK_MONOTONIC, &res) == 0);
  CHECK(vdso_clock(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0);
  CHECK(vdso_clock(CLOCK_BOOTTIME, &boot) == 0);
  printf("resolution %lld ns, process CPU time %lld ns, boot time %lld ns\n", ns(res), ns(cpu), ns(boot));
  printf("a clock that does not exist: %d\n", vdso_clock((clockid_t)12345, &res));

  unsigned cpu_number = ~0u, node = ~0u;
  CHECK(vdso_getcpu(&cpu_number, &node, 0) == 0);
  CHECK(cpu_number < 4096 && node < 4096);
  printf("getcpu: cpu %u, node %u\n", cpu_number, node);
  return 0;
}
