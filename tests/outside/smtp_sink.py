"""A real SMTP server (aiosmtpd) that stores every message it receives as a
file, for tests that read the mail the services send.

usage: python smtp_sink.py PORT OUT_DIR      (prints "ready" once listening)
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


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
    controller = Controller(Store(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
