"""A child process for the crash test: appends audit records under concurrent load until killed.

Each worker appends a record in ``sync`` mode and, once the append returned (the record is
committed), logs its request id as acknowledged. It stops by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from pathlib import Path

from socle.audit.config import AuditConfig
from socle.audit.log import build_audit
from socle.store.database import Database
from tests.integration.audit.crash_helpers import AckLog


async def run(args: argparse.Namespace) -> None:
    database = Database(args.url)
    audit = build_audit(
        AuditConfig(replica_name=args.chain, checkpoint_every=250), database, Path(args.home)
    )
    await audit.start()
    acks = AckLog(Path(args.acks))
    numbers = itertools.count()
    deadline = time.monotonic() + args.max_seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            n = next(numbers)
            request_id = f"{args.prefix}-{n}"
            record = {"kind": "request", "request_id": request_id, "status": 200, "n": n}
            if n % 5 == 0:
                await audit.append(record, content={"prompt": f"p{n}"}, subject=f"user{n % 3}")
            else:
                await audit.append(record)
            acks.ack(request_id)

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    await audit.stop()
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--url", "--home", "--acks", "--chain", "--prefix"):
        parser.add_argument(name, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
