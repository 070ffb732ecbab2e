// System V message queues and semaphores, and the sizes the kernel reports
// about a shared memory segment: the values replay must give back.
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

struct message {
  long type;
  char text[32];
};

int main(void) {
  int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) return perror("msgget"), 1;
  struct message out = {7, "hello through a queue"}, in;
  memset(&in, 0xaa, sizeof in);
  if (msgsnd(q, &out, sizeof out.text, 0) != 0) return perror("msgsnd"), 1;
  ssize_t got = msgrcv(q, &in, sizeof in.text, 0, 0);
  struct msqid_ds qs;
  memset(&qs, 0xaa, sizeof qs);
  msgctl(q, IPC_STAT, &qs);
  printf("msgrcv %zd type %ld '%s' qnum %lu mode %o\n", got, in.type, in.text, (unsigned long)qs.msg_qnum,
         qs.msg_perm.mode & 0777);
  msgctl(q, IPC_RMID, NULL);

  int s = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
  if (s < 0) return perror("semget"), 1;
  unsigned short values[3] = {4, 5, 6}, back[3];
  memset(back, 0xaa, sizeof back);
  semctl(s, 0, SETALL, values);
  struct sembuf op = {1, -2, 0};
  semop(s, &op, 1);
  semctl(s, 0, GETALL, back);
  struct semid_ds ss;
  memset(&ss, 0xaa, sizeof ss);
  semctl(s, 0, IPC_STAT, &ss);
  printf("semaphores %u %u %u of %lu, getval %d\n", back[0], back[1], back[2], (unsigned long)ss.sem_nsems,
         semctl(s, 2, GETVAL));
  semctl(s, 0, IPC_RMID);

  int m = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
  if (m < 0) return perror("shmget"), 1;
  struct shmid_ds ms;
  memset(&ms, 0xaa, sizeof ms);
  shmctl(m, IPC_STAT, &ms);
  printf("segment of %zu bytes, %lu attached\n", ms.shm_segsz, (unsigned long)ms.shm_nattch);
  shmctl(m, IPC_RMID, NULL);
  return 0;
}
