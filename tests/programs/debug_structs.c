/* A second subject for the shell: a heap-allocated linked list, a union, an
 * enum, a 2-D array and a string built in place. Built -O0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum color { RED, GREEN, BLUE };

struct node {
  int value;
  enum color color;
  struct node* next;
};

union number {
  int i;
  float f;
};

struct node* head;
int grid[2][3] = {{1, 2, 3}, {4, 5, 6}};
char message[32];

static struct node* push(struct node* list, int value) {
  struct node* n = malloc(sizeof *n);
  n->value = value;
  n->color = (enum color)(value % 3);
  n->next = list;
  return n;
}

int main(void) {
  for (int i = 1; i <= 5; ++i) head = push(head, i * 10);
  union number u;
  u.f = 1.5f;
  int sum = 0;
  for (struct node* n = head; n; n = n->next) {
    n->value += 1;
    sum += n->value;
  }
  strcpy(message, "sum is ");
  snprintf(message + 7, sizeof message - 7, "%d", sum);
  printf("%s (%d)\n", message, u.i);
  return 0;
}
