"""Benchmark: tag N mails in a real Dovecot with one watcher, then count from the server.

Starts a throwaway Dovecot (same helper as the tests, needs root and dovecot-imapd), appends N
mails written from the training corpus's texts, runs the tagger with the active model of
./models until a run finds nothing new, then reads every mail's FLAGS back over a second
connection: tagged, missed (none of our keywords), double (two area, urgency or unit keywords,
or a mail stored twice). Prints a human summary and a JSON line last. Run from the project root:
    python benchmarks/mail_tagging.py [--n 2000] [--batch-size 50]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.services, the Dovecot helper shared with the tests

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.services import DovecotServer, new_dovecot  # noqa: E402
from training.corpus import DEFAULT_CORPUS, read_examples  # noqa: E402
from triage.classify.engine import Engine  # noqa: E402
from triage.mail.imap import ImapMailbox  # noqa: E402
from triage.mail.keywords import ours  # noqa: E402
from triage.mail.tagger import Tagger  # noqa: E402
from triage.store.db import migrate, session_scope  # noqa: E402
from triage.store.tables import Message  # noqa: E402
from triage.taxonomy import default_taxonomy  # noqa: E402

FOLDER = "Bench"


def _mail(n: int, subject: str, text: str) -> bytes:
    return (f"From: Testperson {n} <person{n}@example.org>\r\nTo: krm@jobcenter.example\r\n"
            f"Subject: {subject or 'Anliegen'}\r\nMessage-ID: <bench-{n}@example.org>\r\n"
            f"Date: Wed, 05 Feb 2025 08:{n % 60:02d}:00 +0100\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{text}\r\n").encode()


def _client(server: DovecotServer) -> IMAPClient:
    imap = IMAPClient(server.host, server.port, ssl=False, timeout=30)
    imap.login(server.user, server.password)
    return imap


def _append(server: DovecotServer, n: int) -> float:
    examples = list(read_examples(DEFAULT_CORPUS, default_taxonomy()))
    start = time.perf_counter()
    with _client(server) as imap:
        imap.create_folder(FOLDER)
        for i, example in enumerate(islice(cycle(examples), n)):
            imap.append(FOLDER, _mail(i, example.subject, example.text))
    return time.perf_counter() - start


def _count(server: DovecotServer, scheme, db_url: str) -> dict:
    with _client(server) as imap:
        imap.select_folder(FOLDER, readonly=True)
        flags = imap.get_flags(imap.search(["ALL"]))
    groups = [set(scheme.areas.values()), set(scheme.urgencies.values()), set(scheme.units.values())]
    tagged = missed = double = seen = 0
    for raw_flags in flags.values():
        have = ours(scheme, (f.decode() for f in raw_flags))
        seen += "\\Seen" in {f.decode() for f in raw_flags}
        if not have:
            missed += 1
        elif any(len(have & group) > 1 for group in groups):
            double += 1
        else:
            tagged += 1
    with session_scope(db_url) as session:
        rows = session.scalar(select(func.count(Message.id)))
        distinct = session.scalar(select(func.count(func.distinct(Message.source_uid))))
    return {"on_server": len(flags), "tagged": tagged, "missed": missed, "double": double + (rows - distinct),
            "stored": rows, "marked_read": seen}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    server = new_dovecot("krm-bench-dovecot-")
    if isinstance(server, str):
        sys.exit(server)
    try:
        server.start()
        append_s = _append(server, args.n)
        engine = Engine.from_registry()
        engine.warm_up()
        db_url = f"sqlite:///{server.root / 'triage.db'}"
        migrate(db_url)
        box = ImapMailbox(server.host, server.user, server.password, port=server.port, security="none")
        tagger = Tagger(box, engine, db_url, FOLDER, batch_size=args.batch_size)
        start, runs = time.perf_counter(), 0
        while True:  # one watcher; run_once until a run finds nothing new
            runs += 1
            if tagger.run_once().seen == 0:
                break
        seconds = time.perf_counter() - start
        box.close()
        result = {"messages": args.n, **_count(server, tagger.scheme, db_url), "runs": runs,
                  "append_seconds": round(append_s, 1), "seconds": round(seconds, 1),
                  "model_version": engine.version, "msg_per_s": round(args.n / seconds, 1)}
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
    print(f"{args.n} mails tagged in {seconds:.1f} s ({args.n / seconds:.0f}/s): {result['tagged']} tagged, "
          f"{result['missed']} missed, {result['double']} double")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
