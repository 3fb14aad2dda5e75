"""A real SMTP server (aiosmtpd) that stores every message it receives as a
file, for tests that read the mail the services send.

usage: python smtp_sink.py PORT OUT_DIR      (prints "ready PORT" once listening;
                                             PORT 0: a free port, bound here)
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


class PortZeroController(Controller):
    """A controller that may bind port 0: it learns the port the system
    picked before it connects to itself to check the server is up."""

    def _trigger_server(self):
        if self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Store:
    def __init__(self, out):
        self.out, self.count = out, 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.out, f"{self.count:04d}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.content)
        os.replace(path + ".tmp", path)
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    controller = PortZeroController(Store(out), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {controller.port}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
