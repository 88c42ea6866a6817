/*
** uv-echo.c: a minimal libuv TCP echo server, the practical limit the other
** servers are measured against.  What a careful C program does and no more:
** one read buffer reused for every read (nothing is malloc'd per read),
** uv_try_write first, a copy of only what the kernel did not take, reading
** paused while more than HWM bytes wait (backpressure), close on EOF.
**
**   uv-echo PORT     (0: pick one; the port is printed on stdout)
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define BUFSZ (64 * 1024)
#define HWM (64 * 1024)

static uv_loop_t *loop;
static char readbuf[BUFSZ];

typedef struct wreq {
  uv_write_t req;
  uv_buf_t buf;
} wreq;


static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  buf->base = readbuf;  /* consumed (written or copied) before the next */
  buf->len = BUFSZ;
}


static void on_close(uv_handle_t *h) {
  free(h);
}


static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);


static void on_write(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;
  uv_stream_t *s = req->handle;
  free(w->buf.base);
  free(w);
  if (status < 0) {
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (s->write_queue_size < HWM && !uv_is_closing((uv_handle_t *)s))
    uv_read_start(s, on_alloc, on_read);
}


static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  int r;
  wreq *w;
  uv_buf_t b;
  if (n < 0) {
    uv_close((uv_handle_t *)s, on_close);
    return;
  }
  if (n == 0)
    return;
  b = uv_buf_init(buf->base, (unsigned int)n);
  if (s->write_queue_size == 0) {
    r = uv_try_write(s, &b, 1);
    if (r == n)
      return;
    if (r > 0) {
      b.base += r;
      b.len -= (unsigned int)r;
    }
    else if (r != UV_EAGAIN) {
      uv_close((uv_handle_t *)s, on_close);
      return;
    }
  }
  w = malloc(sizeof *w);
  w->buf = uv_buf_init(malloc(b.len), b.len);
  memcpy(w->buf.base, b.base, b.len);
  uv_write(&w->req, s, &w->buf, 1, on_write);
  if (s->write_queue_size >= HWM)
    uv_read_stop(s);
}


static void on_connection(uv_stream_t *server, int status) {
  uv_tcp_t *c;
  if (status < 0)
    return;
  c = malloc(sizeof *c);
  uv_tcp_init(loop, c);
  if (uv_accept(server, (uv_stream_t *)c) != 0) {
    uv_close((uv_handle_t *)c, on_close);
    return;
  }
  uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}


int main(int argc, char **argv) {
  uv_tcp_t server;
  struct sockaddr_in addr;
  struct sockaddr_storage name;
  int len = sizeof name, r;
  loop = uv_default_loop();
  uv_ip4_addr("127.0.0.1", argc > 1 ? atoi(argv[1]) : 0, &addr);
  uv_tcp_init(loop, &server);
  uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
  if ((r = uv_listen((uv_stream_t *)&server, 511, on_connection)) != 0) {
    fprintf(stderr, "uv-echo: listen: %s\n", uv_strerror(r));
    return 1;
  }
  uv_tcp_getsockname(&server, (struct sockaddr *)&name, &len);
  printf("%d\n", ntohs(((struct sockaddr_in *)&name)->sin_port));
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
