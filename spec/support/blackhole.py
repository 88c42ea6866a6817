# A TCP black hole on 127.0.0.2 for specs: a listener that never accepts,
# its accept queue filled, so that further SYNs are dropped and a connect
# to it stays pending.  Prints the port, then lives argv[1] seconds.
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.2", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.2", port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.2)
print(port, os.getpid(), flush=True)
time.sleep(float(sys.argv[1]))
