// Kernel corner (tests/e2e/kernel_test.cc): futex_wake_op.
#include "kernel_common.h"
#include <linux/futex.h>
static int f1, f2;
static long fx(int *u, int op, int v, void *t, int *u2, int v3){ return syscall(SYS_futex, u, op, v, t, u2, v3); }
static void *w(void *a){ int *f = a; while (__atomic_load_n(f, __ATOMIC_SEQ_CST) == 0) fx(f, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0); return 0; }
int main(){
  pthread_t a, b; pthread_create(&a,0,w,&f1); pthread_create(&b,0,w,&f2); usleep(20000);
  __atomic_store_n(&f1, 1, __ATOMIC_SEQ_CST);
  /* wake f1, and set f2 = 1 (op SET) and wake f2 if old f2 == 0 */
  long r = fx(&f1, FUTEX_WAKE_OP_PRIVATE, 1, (void*)1L, &f2, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
  printf("wake_op ret>=0: %d f2=%d\n", r >= 0, f2);
  pthread_join(a,0); pthread_join(b,0); printf("both woke\n"); return f2==1?0:1; }
