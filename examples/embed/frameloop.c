/*
** frameloop.c: a game-style host for lnet.  A fixed-step frame loop at 60
** frames per second runs a Lua script that serves TCP clients
** (server.lua), stepping lnet once per frame with UV_RUN_NOWAIT: the
** network never makes a frame wait.  Every few seconds, and at the end, it
** prints frame-time statistics: how long lnet's step took, how long the
** whole frame's work took, how many frames were late.
**
**   frameloop [options] [script.lua]        (default: server.lua)
**     --frames N       stop after N frames (default: run until Ctrl-C)
**     --port P         port to listen on (default 0: any free port)
**     --flood N        also start N clients at once, from a second lnet
**                      state in a thread of its own (flood.c), and stop
**                      once they are all served; exit 1 if any failed
**     --max-step-ms M  exit 1 if one lnet step ever took over M ms
**     --quiet          only the final statistics
**
** docs/embedding.md walks through this file.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <uv.h>

#include "lnet.h"
#include "flood.h"

#define FPS 60
#define FRAME_NS (1000000000u / FPS)
#define REPORT_FRAMES (5 * FPS)    /* a statistics line every 5 s */


/*
** {======================================================================
** Frame-time statistics
** =======================================================================
*/

typedef struct stats {
  uint64_t step[REPORT_FRAMES];   /* lnet's step, per frame of the period */
  uint64_t frame[REPORT_FRAMES];  /* the frame's whole work */
  int n;                          /* frames in the period */
  uint64_t step_max, frame_max;   /* over the whole run */
  double step_sum;
  long frames, late;
} stats;


static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}


static void stats_add(stats *s, uint64_t step, uint64_t frame) {
  s->step[s->n] = step;
  s->frame[s->n] = frame;
  s->n++;
  s->frames++;
  s->step_sum += (double)step;
  if (step > s->step_max)
    s->step_max = step;
  if (frame > s->frame_max)
    s->frame_max = frame;
}


/* Prints the period's line and starts a new period. */
static void stats_report(stats *s, lua_State *L, int game) {
  lua_Integer players, served;
  double p50, p99, max;
  if (s->n == 0)
    return;
  qsort(s->step, (size_t)s->n, sizeof s->step[0], cmp_u64);
  p50 = s->step[s->n / 2] / 1e6;
  p99 = s->step[(s->n * 99) / 100] / 1e6;
  max = s->step[s->n - 1] / 1e6;
  lua_rawgeti(L, LUA_REGISTRYINDEX, game);
  lua_getfield(L, -1, "players");
  lua_getfield(L, -2, "served");
  players = lua_tointeger(L, -2);
  served = lua_tointeger(L, -1);
  lua_pop(L, 3);
  printf("frame %6ld  lnet step ms: p50 %.3f p99 %.3f max %.3f  "
         "late frames %ld  players %lld  lines served %lld\n",
         s->frames, p50, p99, max, s->late, (long long)players,
         (long long)served);
  fflush(stdout);
  s->n = 0;
}

/* }====================================================================== */


/*
** {======================================================================
** The host's side of Lua
** =======================================================================
*/

/* Prints a Lua error (the value on top, popped) with lnet's traceback. */
static void report_error(lua_State *L, const char *what) {
  const char *tb;
  fprintf(stderr, "frameloop: %s: %s\n", what, luaL_tolstring(L, -1, NULL));
  lua_pop(L, 2);
  tb = lnet_traceback(L);
  if (tb != NULL)
    fprintf(stderr, "%s\n", tb);
  lua_pop(L, 1);
}


/* Calls game[name](frame); a Lua error is reported, not fatal. */
static void call_game(lua_State *L, int game, const char *name,
                      long frame) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, game);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_pushinteger(L, frame);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "frameloop: game.%s: %s\n", name, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}


/* game.port, once the server listens (0 before). */
static int game_port(lua_State *L, int game) {
  int port;
  lua_rawgeti(L, LUA_REGISTRYINDEX, game);
  lua_getfield(L, -1, "port");
  port = (int)lua_tointeger(L, -1);
  lua_pop(L, 2);
  return port;
}

/* }====================================================================== */


static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}


/* Sleeps ns nanoseconds (the rest of the frame). */
static void sleep_ns(uint64_t ns) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / 1000000000u);
  ts.tv_nsec = (long)(ns % 1000000000u);
  while (nanosleep(&ts, &ts) != 0 && !interrupted)
    ;
}


typedef struct options {
  long frames;
  int port, flood, quiet;
  double max_step_ms;
  const char *script;
} options;


static int parse_args(int argc, char **argv, options *o) {
  int i;
  memset(o, 0, sizeof *o);
  o->script = "server.lua";
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--quiet") == 0)
      o->quiet = 1;
    else if (a[0] == '-' && a[1] == '-' && v == NULL)
      return 0;
    else if (strcmp(a, "--frames") == 0)
      o->frames = atol(argv[++i]);
    else if (strcmp(a, "--port") == 0)
      o->port = atoi(argv[++i]);
    else if (strcmp(a, "--flood") == 0)
      o->flood = atoi(argv[++i]);
    else if (strcmp(a, "--max-step-ms") == 0)
      o->max_step_ms = atof(argv[++i]);
    else if (a[0] == '-')
      return 0;
    else
      o->script = a;
  }
  return 1;
}


int main(int argc, char **argv) {
  options o;
  stats st;
  flood fl;
  lua_State *L;
  int game, status, failed = 0, flooding = 0;
  long frame, tail = -1;
  uint64_t next;

  if (!parse_args(argc, argv, &o)) {
    fprintf(stderr, "usage: %s [--frames N] [--port P] [--flood N] "
            "[--max-step-ms M] [--quiet] [script.lua]\n", argv[0]);
    return 2;
  }
  signal(SIGINT, on_sigint);
  memset(&st, 0, sizeof st);

  /* 1. A Lua state of our own, with lnet in it (on lnet's own loop). */
  L = luaL_newstate();
  luaL_openlibs(L);
  lnet_openlibs(L);
  lua_pushinteger(L, o.port);
  lua_setglobal(L, "PORT");

  /* 2. The game script: it starts listening and returns the game table. */
  if (luaL_dofile(L, o.script) != LUA_OK) {
    fprintf(stderr, "frameloop: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  game = luaL_ref(L, LUA_REGISTRYINDEX);

  /* 3. The frame loop: network, game logic, sleep until the next frame. */
  next = uv_hrtime();
  for (frame = 1; !interrupted && (o.frames == 0 || frame <= o.frames);
       frame++) {
    uint64_t t0 = uv_hrtime(), t1, t2, now;

    /* Network: whatever is ready now, never waiting for more. */
    status = lnet_run(L, UV_RUN_NOWAIT);
    if (status != LUA_OK)
      report_error(L, "error in a callback");  /* the game goes on */
    else
      lua_pop(L, 1);
    t1 = uv_hrtime();

    /* Game logic, at a fixed step of 1/60 s. */
    call_game(L, game, "update", frame);
    t2 = uv_hrtime();
    stats_add(&st, t1 - t0, t2 - t0);
    if (st.n == REPORT_FRAMES) {
      if (!o.quiet)
        stats_report(&st, L, game);
      st.n = 0;
    }

    /* The flood of test clients starts once the server listens. */
    if (o.flood > 0 && !flooding && game_port(L, game) != 0) {
      if (flood_start(&fl, game_port(L, game), o.flood) != 0) {
        fprintf(stderr, "frameloop: cannot start the flood\n");
        failed = 1;
        break;
      }
      flooding = 1;
    }
    if (flooding && tail < 0 && flood_done(&fl))
      tail = frame + FPS / 2;  /* half a second more for the closes */
    if (tail >= 0 && frame >= tail)
      break;

    /* Sleep to the next frame; a late frame is counted, not made up. */
    next += FRAME_NS;
    now = uv_hrtime();
    if (now < next)
      sleep_ns(next - now);
    else {
      st.late++;
      next = now;
    }
  }

  /* 4. Statistics, and the flood's verdict. */
  stats_report(&st, L, game);
  printf("frames %ld  lnet step ms: mean %.3f max %.3f  frame work ms: "
         "max %.3f  late frames %ld\n", st.frames,
         st.frames ? st.step_sum / (double)st.frames / 1e6 : 0.0,
         st.step_max / 1e6, st.frame_max / 1e6, st.late);
  if (o.max_step_ms > 0 && st.step_max / 1e6 > o.max_step_ms) {
    printf("FAIL: an lnet step took %.3f ms (limit %.3f ms)\n",
           st.step_max / 1e6, o.max_step_ms);
    failed = 1;
  }
  if (o.flood > 0) {
    int ok = 0, bad = 0;
    if (!flooding || !flood_done(&fl)) {
      printf("FAIL: the flood did not finish in %ld frames\n", o.frames);
      failed = 1;
    }
    if (flooding) {
      flood_join(&fl, &ok, &bad);
      printf("flood: %d clients served, %d failed\n", ok, bad);
      if (ok != o.flood || bad != 0)
        failed = 1;
    }
  }

  /* 5. Teardown: stop accepting; lua_close closes everything else. */
  call_game(L, game, "stop", frame);
  lnet_run(L, UV_RUN_NOWAIT);
  lua_pop(L, 1);
  lua_close(L);
  return failed;
}
