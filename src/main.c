/*
** main.c: the `lnet` interpreter (contract §9), shaped like lua.c: options
** are collected here, everything runs in protected mode in pmain, and the
** Node-like part (run the script, then the loop, then process 'exit') is
** lua/lnet/main.lua.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lnet.h"

static const char *progname = "lnet";


static void print_usage(FILE *f) {
  fprintf(f,
    "usage: %s [options] [script [args]]\n"
    "Runs script (a Lua 5.4 file with Node's net, events and timers), then\n"
    "the event loop until nothing is left to do.\n"
    "Available options are:\n"
    "  -e chunk   run the string 'chunk' (may be repeated)\n"
    "  -          run the script read from stdin and stop handling options\n"
    "  --         stop handling options\n"
    "  -v, --version  show version information\n"
    "  -h, --help     show this help\n"
    "With no script and a terminal on stdin, starts an interactive prompt\n"
    "whose event loop keeps running between lines.\n",
    progname);
}


static void print_version(void) {
  printf("lnet %s (%s, libuv %s)\n", LNET_VERSION, LUA_RELEASE,
         uv_version_string());
}


/* Prints a message from a failure outside the Lua main (no traceback). */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL)
      msg = "(error object is not a string)";
    fprintf(stderr, "%s: %s\n", progname, msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}


/* Options, as lua.c collects them. */
typedef struct options {
  int script;   /* index in argv of the script (or "-"), 0 if none */
  int version, help, has_e;
  int bad;      /* index of a bad option, 0 if none */
} options;


static void collect_args(int argc, char **argv, options *o) {
  int i;
  memset(o, 0, sizeof *o);
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') {
      o->script = i;
      return;
    }
    if (strcmp(a, "-") == 0) {
      o->script = i;
      return;
    }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc)
        o->script = i + 1;
      return;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0)
      o->version = 1;
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
      o->help = 1;
    else if (strncmp(a, "-e", 2) == 0) {
      o->has_e = 1;
      if (a[2] == '\0' && ++i >= argc) {
        o->bad = i - 1;
        return;
      }
    }
    else {
      o->bad = i;
      return;
    }
  }
}


/*
** The global `arg` as lua.c makes it: the script at 0, its arguments at
** 1.., the interpreter and options at negative indices.  Also returns (on
** the stack) the options table for lnet.main.
*/
static void create_args(lua_State *L, int argc, char **argv, options *o) {
  int i, s = o->script;  /* 0: no script, argv[0] becomes arg[0] */
  int first = o->script ? o->script + 1 : argc;
  lua_createtable(L, argc - first, s + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - s);
  }
  lua_setglobal(L, "arg");
  /* opts = {chunks = {...}, script = s, args = {...}, argv = {...}} */
  lua_newtable(L);
  lua_newtable(L);
  for (i = 1; i < (o->script ? o->script : argc); i++)
    if (strncmp(argv[i], "-e", 2) == 0) {
      lua_pushstring(L, argv[i][2] != '\0' ? argv[i] + 2 : argv[++i]);
      lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
  lua_setfield(L, -2, "chunks");
  if (o->script) {
    lua_pushstring(L, argv[o->script]);
    lua_setfield(L, -2, "script");
  }
  lua_createtable(L, argc - first, 1);
  for (i = first; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - first + 1);
  }
  lua_pushinteger(L, argc - first);
  lua_setfield(L, -2, "n");
  lua_setfield(L, -2, "args");
  /* process.argv: {interpreter, script, args...} as Node. */
  lua_newtable(L);
  lua_pushstring(L, argv[0]);
  lua_rawseti(L, -2, 1);
  if (o->script) {
    lua_pushstring(L, argv[o->script]);
    lua_rawseti(L, -2, 2);
    for (i = first; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i - first + 3);
    }
  }
  lua_setfield(L, -2, "argv");
}


static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  options o;
  collect_args(argc, argv, &o);
  if (o.bad) {
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, argv[o.bad]);
    print_usage(stderr);
    lua_pushinteger(L, 9);  /* Node's exit code for a bad option */
    return 1;
  }
  if (o.help) {
    print_usage(stdout);
    lua_pushinteger(L, 0);
    return 1;
  }
  if (o.version) {
    print_version();
    lua_pushinteger(L, 0);
    return 1;
  }
  luaL_checkversion(L);
  /* Generational GC, as lua.c: most of a server's garbage is short-lived
  ** (chunks, events), and it roughly halves the time per echoed message. */
  lua_gc(L, LUA_GCGEN, 0, 0);
  luaL_openlibs(L);
  lnet_openlibs(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lnet.main");
  lua_call(L, 1, 1);
  create_args(L, argc, argv, &o);
  if (o.script == 0 && !o.has_e) {
    if (isatty(0)) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "repl");
    }
    else {  /* no script, stdin not a terminal: run stdin, as lua does */
      lua_pushliteral(L, "-");
      lua_setfield(L, -2, "script");
    }
  }
  lua_call(L, 1, 1);
  return 1;
}


/*
** Starts from known signal dispositions, as Node does: a shell that starts
** us in the background leaves SIGINT ignored, and then Ctrl-C or `kill
** -INT` would not end a script.  SIGPIPE is ignored: a peer's reset must
** not kill the process (libuv does not ignore it for us).
*/
static void reset_signals(void) {
  struct sigaction sa;
  int nr;
  memset(&sa, 0, sizeof sa);
  for (nr = 1; nr < NSIG; nr++) {
    if (nr == SIGKILL || nr == SIGSTOP)
      continue;
    sa.sa_handler = (nr == SIGPIPE || nr == SIGXFSZ) ? SIG_IGN : SIG_DFL;
    sigaction(nr, &sa, NULL);
  }
}


int main(int argc, char **argv) {
  lua_State *L;
  int status, code = 1;
  reset_signals();
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
    return 1;
  }
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  if (report(L, status) == LUA_OK)
    code = (int)lua_tointeger(L, -1);
  lua_close(L);
  return code;
}
