"""Benchmark of the web service on this machine (loopback only, bounded in time):

1. POST /v1/triage with typical messages (the corpus texts), --clients concurrent clients for
   --seconds seconds against `triage serve` (uvicorn): p50/p99 latency and requests/s. The load
   comes from wrk (Debian package) where installed, else from a Python client (which itself
   takes much of the two cores and so understates the server).
2. The review queue page (GET /, logged in) with --queue stored messages: render time.

Prints a JSON line last.   PYTHONPATH=. python benchmarks/api_latency.py [--clients 50] [--seconds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from tests.services import free_port, wait_for_port
from training.corpus import DEFAULT_CORPUS, read_examples
from triage.store.db import get_engine, migrate
from triage.store.tables import Message
from triage.taxonomy import default_taxonomy


def cli(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


async def load(url: str, token: str, texts: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                     timeout=30) as http:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await http.post("/v1/triage", json={"text": rng.choice(texts)})
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
            "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1)}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 1)


def load_wrk(url: str, token: str, texts: list[str], clients: int, seconds: float) -> dict:
    """The load from wrk (a C load generator), so the client does not eat the server's CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as bodies:
        for text in texts[:500]:
            bodies.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    env = {**os.environ, "TRIAGE_BENCH_TOKEN": token, "TRIAGE_BENCH_BODIES": bodies.name}
    script = Path(__file__).with_name("triage.lua")
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    os.unlink(bodies.name)
    percentile = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "errors": int(errors.group(1)) if errors else 0,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _ms(percentile["50"]), "p75_ms": _ms(percentile["75"]), "p90_ms": _ms(percentile["90"]),
            "p99_ms": _ms(percentile["99"]), "load_generator": "wrk"}


def fill_queue(db_url: str, n: int, examples) -> None:
    taxonomy = default_taxonomy()
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        e = examples[i % len(examples)]
        labels = e.labels
        rows.append({"channel": "E-Mail", "subject": e.subject, "text": e.text, "version": 1,
                     "received_at": now - timedelta(minutes=i), "created_at": now, "status": "neu",
                     "concerns": labels["concerns"], "area": taxonomy.area_of(labels["concerns"][0]),
                     "art": labels["art"], "urgency": labels["urgency"],
                     "urgency_rank": taxonomy.values("urgency").index(labels["urgency"]),
                     "absender": labels["absender"], "unit": labels["routing"], "language": labels["language"],
                     "needs_review": i % 7 == 0, "confidence": 0.5 + (i % 50) / 100, "reviewed": False})
    with get_engine(db_url).begin() as connection:
        for start in range(0, n, 5000):
            connection.execute(insert(Message), rows[start:start + 5000])


def queue_timing(url: str, user: str, password: str, rounds: int = 20) -> dict:
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        page = http.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        http.post("/login", data={"name": user, "password": password, "csrf": csrf, "weiter": "/"})
        timings = []
        for _ in range(rounds):
            start = time.perf_counter()
            response = http.get("/")
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        timings.sort()
        return {"queue_p50_ms": round(1000 * timings[len(timings) // 2], 1),
                "queue_max_ms": round(1000 * timings[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue", type=int, default=50_000)
    args = parser.parse_args()
    examples = list(read_examples(DEFAULT_CORPUS, default_taxonomy()))
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "TRIAGE_DATA_DIR": folder, "TRIAGE_MODELS_DIR": str(Path("models").resolve())}
        env.pop("TRIAGE_DATABASE_URL", None)
        db_url = f"sqlite:///{Path(folder) / 'triage.db'}"
        migrate(db_url)
        token = cli(env, "tokens", "create", "bench")
        password = cli(env, "users", "add", "bench", "--role", "sachbearbeitung")
        fill_queue(db_url, args.queue, examples)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "triage.cli", "serve", "--port", str(port),
                                   "--workers", str(args.workers)], env=env)
        try:
            wait_for_port(port, timeout=120, proc=server)
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):  # every worker loads the model before it answers
                try:
                    if httpx.get(f"{url}/readyz", timeout=30).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            time.sleep(3)
            texts = [e.text for e in examples]
            random.Random(7).shuffle(texts)
            if shutil.which("wrk"):
                result = load_wrk(url, token, texts, args.clients, args.seconds)
            else:
                result = asyncio.run(load(url, token, texts, args.clients, args.seconds))
                result["load_generator"] = "python"
            result.update(queue_timing(url, "bench", password), queue_messages=args.queue,
                          clients=args.clients, seconds=args.seconds, workers=args.workers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"POST /v1/triage: {result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; "
          f"queue page with {args.queue} messages: p50 {result['queue_p50_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
