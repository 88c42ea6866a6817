/*
** flood.h: a flood of TCP clients for the frame-loop example's test run.
** The clients live in a second lua_State with lnet on its own loop, in a
** thread of their own: two independent lnet runtimes in one process.
*/
#ifndef FLOOD_H
#define FLOOD_H

#include <uv.h>

typedef struct flood {
  uv_thread_t thread;
  uv_mutex_t lock;
  int port, clients;
  int done, ok, failed;  /* under lock */
} flood;

/* Starts `clients` clients against 127.0.0.1:port; 0 or -1. */
int flood_start(flood *f, int port, int clients);

/* 1 once every client has finished (served or failed). */
int flood_done(flood *f);

/* Waits for the thread; *ok and *failed count the clients. */
void flood_join(flood *f, int *ok, int *failed);

#endif
