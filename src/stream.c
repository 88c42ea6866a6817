/*
** stream.c: what TCP, pipe and TTY handles share -- reading, writing,
** shutdown, listening and accepting, and the per-socket inactivity timer.
**
** Hot paths, kept short:
** - read: every read of the loop lands in one buffer owned by the context
**   and becomes one Lua string for owner:onread(chunk);
** - write: uv_try_write first; only the remainder is queued, with the Lua
**   strings kept alive (not copied) by a registry reference until written;
** - timeout: activity only stores the loop time; the timer re-arms itself
**   for what is left when it fires early.
*/
#include <stdlib.h>
#include <string.h>

#include "lnet-int.h"

#define SERVER_UV 2      /* uservalue slot: an accepted stream's server */
#define SMALL_BUFS 16    /* gather writes up to this many pieces: no malloc */


static int is_stream(const lnet_handle *h) {
  uv_handle_type t = h->u.handle.type;
  return t == UV_TCP || t == UV_NAMED_PIPE || t == UV_TTY;
}


/* The stream at idx (tcp, pipe or tty), which must be open. */
lnet_handle *lnet__check_stream(lua_State *L, int idx) {
  lnet_handle *h = lnet__check_open(L, idx);
  if (!is_stream(h))
    luaL_typeerror(L, idx, "lnet stream");
  return h;
}


/*
** {======================================================================
** Inactivity timeout
** =======================================================================
*/

static void timeout_cb(uv_timer_t *t) {
  lnet_handle *h = (lnet_handle *)t->data;
  lnet_timeout *tmo = h->tmo;
  uint64_t idle = uv_now(h->ctx->loop) - tmo->last_active;
  if (idle < tmo->ms) {  /* there was activity: wait for the rest */
    uv_timer_start(t, timeout_cb, tmo->ms - idle, 0);
    return;
  }
  /* Fired: it re-arms on the next activity, as Node's socket timeout. */
  lnet__callback(h, LNET_ONTIMEOUT);
}


/* Records activity (a read or a write) for the inactivity timeout. */
static void stream_touch(lnet_timeout *tmo, uv_loop_t *loop) {
  tmo->last_active = uv_now(loop);
  if (!uv_is_active((uv_handle_t *)&tmo->timer))
    uv_timer_start(&tmo->timer, timeout_cb, tmo->ms, 0);
}

#define touch(h) \
  do { if ((h)->tmo != NULL) stream_touch((h)->tmo, (h)->ctx->loop); } while (0)


static void free_cb(uv_handle_t *handle) {
  free(handle);  /* the lnet_timeout, whose first member it is */
}


/* Stops and frees h's timeout state (at set_timeout(0) and at close). */
void lnet__timeout_stop(lnet_handle *h) {
  if (h->tmo != NULL) {
    uv_close((uv_handle_t *)&h->tmo->timer, free_cb);
    h->tmo = NULL;
  }
}


/* s:set_timeout(ms): owner:ontimeout() after ms without activity; 0: off. */
static int stream_set_timeout(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  lua_Integer ms = luaL_checkinteger(L, 2);
  if (ms <= 0) {
    lnet__timeout_stop(h);
    return 0;
  }
  if (h->tmo == NULL) {
    lnet_timeout *tmo = (lnet_timeout *)malloc(sizeof *tmo);
    if (tmo == NULL)
      return luaL_error(L, "lnet: not enough memory");
    uv_timer_init(h->ctx->loop, &tmo->timer);
    uv_unref((uv_handle_t *)&tmo->timer);  /* as Node: it keeps nothing alive */
    tmo->timer.data = h;
    h->tmo = tmo;
  }
  if (!h->ctx->running)  /* outside the loop its cached time may be stale */
    uv_update_time(h->ctx->loop);
  h->tmo->ms = (uint64_t)ms;
  h->tmo->last_active = uv_now(h->ctx->loop);
  uv_timer_start(&h->tmo->timer, timeout_cb, h->tmo->ms, 0);
  return 0;
}

/* }====================================================================== */


/*
** {======================================================================
** Reading
** =======================================================================
*/

static void alloc_cb(uv_handle_t *handle, size_t hint, uv_buf_t *buf) {
  lnet_ctx *ctx = ((lnet_handle *)handle->data)->ctx;
  (void)hint;
  if (!ctx->readbuf_busy) {
    ctx->readbuf_busy = 1;
    buf->base = ctx->readbuf;
  }
  else
    buf->base = (char *)malloc(LNET_READBUF_SIZE);
  buf->len = buf->base != NULL ? LNET_READBUF_SIZE : 0;
}


typedef struct read_args {
  lnet_handle *h;
  ssize_t nread;
  const char *base;
} read_args;


static int read_p(lua_State *L) {
  read_args *a = (read_args *)lua_touserdata(L, 1);
  if (!lnet__push_method(L, a->h, LNET_ONREAD))
    return 0;
  if (a->nread > 0) {
    lua_pushlstring(L, a->base, (size_t)a->nread);
    lua_call(L, 2, 0);
  }
  else {
    lua_pushnil(L);
    lua_pushinteger(L, (lua_Integer)a->nread);
    lua_call(L, 3, 0);
  }
  return 0;
}


static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  lnet_handle *h = (lnet_handle *)s->data;
  lnet_ctx *ctx = h->ctx;
  if (nread != 0) {  /* 0 is EAGAIN: nothing happened */
    read_args a;
    a.h = h;
    a.nread = nread;
    a.base = buf->base;
    if (nread > 0) {
      touch(h);
      h->bytes_read += (uint64_t)nread;
    }
    else
      h->reading = 0;  /* libuv stopped reading at EOF or error */
    lnet__call(ctx, read_p, &a);
  }
  if (buf->base == ctx->readbuf)
    ctx->readbuf_busy = 0;
  else
    free(buf->base);
}


static int stream_read_start(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  int r = 0;
  if (!h->reading) {
    r = uv_read_start(&h->u.stream, alloc_cb, read_cb);
    h->reading = r == 0;
  }
  return lnet__pusherr(L, r);
}


static int stream_read_stop(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  h->reading = 0;
  return lnet__pusherr(L, uv_read_stop(&h->u.stream));
}

/* }====================================================================== */


/*
** {======================================================================
** Writing
** =======================================================================
*/

/* A queued write: the request and the reference anchoring its data. */
typedef struct lnet_write {
  uv_write_t req;
  int data_ref;
} lnet_write;


typedef struct write_args {
  lnet_handle *h;
  lnet_write *w;
  int status;
} write_args;


static int write_p(lua_State *L) {
  write_args *a = (write_args *)lua_touserdata(L, 1);
  lnet_handle *h = a->h;
  /* Drop the anchor of the written data (no allocation: cannot fail). */
  luaL_unref(L, LUA_REGISTRYINDEX, a->w->data_ref);
  if (lnet__push_method(L, h, LNET_ONWRITE)) {
    lua_pushinteger(L, a->status);
    lua_call(L, 2, 0);
  }
  return 0;
}


static void write_cb(uv_write_t *req, int status) {
  write_args a;
  a.h = (lnet_handle *)req->data;
  a.w = (lnet_write *)req;
  a.status = status;
  a.h->ctx->nreqs--;
  lnet__call(a.h->ctx, write_p, &a);
  free(req);
}


/* Fills bufs from the string or sequence of strings at index 2. */
static size_t get_bufs(lua_State *L, uv_buf_t *bufs, int n) {
  size_t total = 0, len;
  int i;
  if (lua_type(L, 2) == LUA_TSTRING) {
    bufs[0].base = (char *)lua_tolstring(L, 2, &len);
    bufs[0].len = len;
    return len;
  }
  for (i = 0; i < n; i++) {
    if (lua_rawgeti(L, 2, i + 1) != LUA_TSTRING)
      luaL_argerror(L, 2, "sequence of strings expected");
    bufs[i].base = (char *)lua_tolstring(L, -1, &len);
    bufs[i].len = len;
    total += len;
    lua_pop(L, 1);  /* still referenced by the table */
  }
  return total;
}


/*
** Queues what uv_try_write left, bufs[first..n-1], keeping the data alive
** until write_cb: a string is anchored as it is; for a sequence, a new table
** of the pieces still to write, so that the caller may reuse its table.
*/
static int write_queue(lua_State *L, lnet_handle *h, uv_buf_t *bufs,
                       int first, int n) {
  lnet_write *w;
  int r, i, ref;
  if (lua_type(L, 2) == LUA_TSTRING)
    lua_pushvalue(L, 2);
  else {
    lua_createtable(L, n - first, 0);
    for (i = first; i < n; i++) {
      lua_rawgeti(L, 2, i + 1);
      lua_rawseti(L, -2, i - first + 1);
    }
  }
  ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* may raise: nothing to undo yet */
  w = (lnet_write *)malloc(sizeof *w);
  if (w == NULL) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return luaL_error(L, "lnet: not enough memory");
  }
  w->data_ref = ref;
  r = uv_write(&w->req, &h->u.stream, bufs + first,
               (unsigned int)(n - first), write_cb);
  if (r != 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    free(w);
    return r;
  }
  w->req.data = h;
  h->ctx->nreqs++;
  return 0;
}


/*
** s:write(data) -> status, queued.  data is a string or a sequence of
** strings (one gather write).  queued is what libuv still holds of it: when
** it is 0, everything went to the kernel now and no onwrite follows (an
** empty write is never handed to libuv).
*/
static int stream_write(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  uv_buf_t small[SMALL_BUFS], *bufs = small;
  int n = 1, i = 0, r = 0;
  size_t total, done = 0;
  lua_settop(L, 2);
  if (lua_type(L, 2) != LUA_TSTRING) {
    luaL_checktype(L, 2, LUA_TTABLE);
    n = (int)luaL_len(L, 2);
    if (n > SMALL_BUFS)  /* stays on the stack until we return */
      bufs = (uv_buf_t *)lua_newuserdatauv(L, sizeof *bufs * (size_t)n, 0);
  }
  total = get_bufs(L, bufs, n);
  if (total == 0) {
    lua_pushinteger(L, 0);
    lua_pushinteger(L, 0);
    return 2;
  }
  touch(h);
  if (h->u.stream.write_queue_size == 0) {
    r = uv_try_write(&h->u.stream, bufs, (unsigned int)n);
    if (r >= 0) {
      done = (size_t)r;
      r = 0;
    }
    else if (r == UV_EAGAIN || r == UV_ENOSYS)
      r = 0;
  }
  if (r == 0 && done < total) {
    size_t skip = done;  /* skip what was written; queue the rest */
    while (skip >= bufs[i].len)
      skip -= bufs[i++].len;
    bufs[i].base += skip;
    bufs[i].len -= skip;
    r = write_queue(L, h, bufs, i, n);
  }
  if (r == 0)
    h->bytes_written += total;
  lua_pushinteger(L, r);
  lua_pushinteger(L, r == 0 ? (lua_Integer)(total - done) : 0);
  return 2;
}


/* s:write_str(data): as write for a string, nothing (nil) for any other
** value, which the caller then checks itself: Socket.write's fast path,
** without a call of type() for every chunk. */
static int stream_write_str(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING)
    return 0;
  return stream_write(L);
}


static int stream_write_queue_size(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, NULL);
  lua_pushinteger(L, h->state == LNET_OPEN && is_stream(h) ?
                  (lua_Integer)h->u.stream.write_queue_size : 0);
  return 1;
}


typedef struct req_args {
  lnet_handle *h;
  int status;
} req_args;


static void shutdown_cb(uv_shutdown_t *req, int status) {
  lnet_handle *h = (lnet_handle *)req->data;
  h->ctx->nreqs--;
  free(req);
  lnet__callback_status(h, LNET_ONSHUTDOWN, status);
}


/* s:shutdown() -> 0 / errno; owner:onshutdown(status) once queued writes
** are done and the write side is closed. */
static int stream_shutdown(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  uv_shutdown_t *req = (uv_shutdown_t *)malloc(sizeof *req);
  int r;
  if (req == NULL)
    return luaL_error(L, "lnet: not enough memory");
  req->data = h;
  r = uv_shutdown(req, &h->u.stream, shutdown_cb);
  if (r != 0)
    free(req);
  else
    h->ctx->nreqs++;
  return lnet__pusherr(L, r);
}

/* }====================================================================== */


/*
** {======================================================================
** Listening and accepting (accept is done here, in C)
** =======================================================================
*/

static int connection_p(lua_State *L) {
  req_args *a = (req_args *)lua_touserdata(L, 1);
  lnet_handle *server = a->h, *client;
  uv_loop_t *loop = server->ctx->loop;
  int r;
  if (a->status < 0) {  /* accept failed: tell Lua, keep listening */
    if (lnet__push_method(L, server, LNET_ONCONNECTION)) {
      lua_pushnil(L);
      lua_pushinteger(L, a->status);
      lua_call(L, 3, 0);
    }
    return 0;
  }
  if (server->u.handle.type == UV_TCP) {
    client = lnet__handle_new(L, "lnet.tcp", 0, UV_TCP);
    r = uv_tcp_init(loop, &client->u.tcp);
  }
  else {
    client = lnet__handle_new(L, "lnet.pipe", 0, UV_NAMED_PIPE);
    r = uv_pipe_init(loop, &client->u.pipe, 0);
  }
  if (r != 0)
    return 0;  /* the connection stays in the backlog for a later try */
  client->state = LNET_OPEN;
  if (uv_accept(&server->u.stream, &client->u.stream) != 0) {
    lnet__close(client);
    return 0;
  }
  lnet__anchor(L, client, -1);
  /* The listening handle's owner (the Server) is the client's server. */
  if (server->ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, server->ref);
    lua_getiuservalue(L, -1, 1);
    lua_setiuservalue(L, -3, SERVER_UV);
    lua_pop(L, 1);
  }
  if (lnet__push_method(L, server, LNET_ONCONNECTION)) {
    lua_pushvalue(L, -3);
    lua_call(L, 2, 0);
  }
  else
    lnet__close(client);
  return 0;
}


static void connection_cb(uv_stream_t *s, int status) {
  req_args a;
  a.h = (lnet_handle *)s->data;
  a.status = status;
  lnet__call(a.h->ctx, connection_p, &a);
}


/* s:listen(backlog) -> 0 / errno; owner:onconnection(client) per client. */
static int stream_listen(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  int backlog = (int)luaL_optinteger(L, 2, 511);
  return lnet__pusherr(L, uv_listen(&h->u.stream, backlog, connection_cb));
}

/* }====================================================================== */


static int stream_fileno(lua_State *L) {
  lnet_handle *h = lnet__check_stream(L, 1);
  uv_os_fd_t fd;
  int r = uv_fileno(&h->u.handle, &fd);
  lua_pushinteger(L, r == 0 ? (lua_Integer)fd : r);
  return 1;
}


/* s:bytes() -> read, written: what the stream read and took for writing
** (written now or queued), counted here rather than in Lua per chunk. */
static int stream_bytes(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, NULL);
  lua_pushinteger(L, (lua_Integer)h->bytes_read);
  lua_pushinteger(L, (lua_Integer)h->bytes_written);
  return 2;
}


/* s:server() -> the Server that accepted this stream, or nil. */
static int stream_server(lua_State *L) {
  lnet__check_handle(L, 1, NULL);
  lua_getiuservalue(L, 1, SERVER_UV);
  return 1;
}


static int stream_is_readable(lua_State *L) {
  lua_pushboolean(L, uv_is_readable(&lnet__check_stream(L, 1)->u.stream));
  return 1;
}


static int stream_is_writable(lua_State *L) {
  lua_pushboolean(L, uv_is_writable(&lnet__check_stream(L, 1)->u.stream));
  return 1;
}


const luaL_Reg lnet__stream_meth[] = {
  {"read_start", stream_read_start},
  {"read_stop", stream_read_stop},
  {"write", stream_write},
  {"write_str", stream_write_str},
  {"write_queue_size", stream_write_queue_size},
  {"shutdown", stream_shutdown},
  {"listen", stream_listen},
  {"set_timeout", stream_set_timeout},
  {"fileno", stream_fileno},
  {"is_readable", stream_is_readable},
  {"is_writable", stream_is_writable},
  {"bytes", stream_bytes},
  {"server", stream_server},
  {NULL, NULL}
};


void lnet__stream_open(lua_State *L) {
  (void)L;  /* the methods are added to each stream class */
}
