"""Canary test: 1,250 unique PII values go in; no strict-type value may come out anywhere.

The pipeline runs through regeneration against a loopback OpenAI-compatible stub that records every
request body. Names depend on spaCy NER, so their leak rate is measured and bounded, not zero.
"""

import json
import logging
import random

import dagster as dg
import duckdb
import pytest
import yaml

from deploysim.awareness.suites import load_suite
from deploysim.store.schema import TABLES as STORE_TABLES
from orchestration.definitions import build_defs
from orchestration.settings import DATA_DIR, Settings
from tests.support.builders import write_jsonl
from tests.support.stub_openai_server import completion, stub_openai_server

FIRST = [
    "James",
    "Maria",
    "Wei",
    "Aisha",
    "Oliver",
    "Sofia",
    "Mateo",
    "Priya",
    "Lukas",
    "Chloe",
    "Kenji",
    "Fatima",
    "Daniel",
    "Elena",
    "Samuel",
    "Hannah",
    "Omar",
    "Grace",
    "Ivan",
    "Nora",
    "Arjun",
    "Lucia",
    "Thomas",
    "Amara",
    "Felix",
]
LAST = [
    "Johnson",
    "Garcia",
    "Chen",
    "Okafor",
    "Novak",
    "Rossi",
    "Silva",
    "Sharma",
    "Becker",
    "Dubois",
    "Tanaka",
    "Haddad",
    "Murphy",
    "Petrov",
    "Kowalski",
    "Andersen",
    "Nguyen",
    "Fischer",
    "Moreau",
    "Costa",
]
# Every table the pipeline writes: none may hold a raw value.
TABLES = list(STORE_TABLES)  # response_cache included


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2)
    digits.append((10 - total % 10) % 10)
    number = "".join(map(str, digits))
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    """A German IBAN with valid ISO 13616 check digits."""
    bban = "".join(str(rng.randrange(10)) for _ in range(18))
    digits = "".join(str(int(ch, 36)) for ch in bban + "DE00")
    check = 98 - int(digits) % 97
    raw = f"DE{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _other_strict(n: int, rng: random.Random) -> list[str]:
    """IBANs, SSNs, IP addresses and API keys, a quarter each."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    values = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            values.append(_iban(rng))
        elif kind == 1:
            values.append(
                f"{rng.randrange(100, 666):03d}-{rng.randrange(10, 100):02d}-{rng.randrange(1000, 10000)}"
            )
        elif kind == 2:
            values.append(f"203.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        else:
            # Assembled at run time so that secret scanners do not flag this file.
            values.append("sk-" + "proj-" + "".join(rng.choice(alphabet) for _ in range(40)))
    return values


def _canaries(n: int, rng: random.Random) -> dict[str, list[str]]:
    emails = [f"canary.{i:04d}@mail{i % 9}.example.org" for i in range(n)]
    phones = sorted(
        {
            f"+1 {rng.randrange(201, 990)}-{rng.randrange(200, 1000)}-{rng.randrange(1000, 10000)}"
            for _ in range(n * 2)
        }
    )[:n]
    cards = sorted({_luhn_card(rng) for _ in range(n * 2)})[:n]
    names = [f"{first} {last}" for first in FIRST for last in LAST]
    rng.shuffle(names)
    return {
        "email": emails,
        "phone": phones,
        "card": cards,
        "name": names[:n],
        "other": _other_strict(n, rng),
    }


def _conversation(i: int, email: str, phone: str, card: str, name: str, other: str) -> dict:
    arguments = json.dumps({"customer_email": email, "note": f"call {phone}"})
    return {
        "conversation_id": f"canary-{i:04d}",
        "model_version": "r0",
        "started_at": "2024-01-15T12:00:00Z",
        "surface": "support",
        "locale": "en",
        "consent_model_improvement": True,
        "messages": [
            {"role": "system", "content": f"You help customers. Escalations go to {email}."},
            {
                "role": "user",
                "content": f"Hi, I'm {name}. My card {card} was charged twice, call me on {phone}.",
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "find_customer", "arguments": arguments},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": json.dumps({"name": name, "card": card, "phone": phone}),
            },
            {"role": "assistant", "content": f"I found the account of {name}. Shall I refund the card?"},
            {
                "role": "user",
                "content": f"Please email the refund note to {email}; reference {other}. Thanks, {name}",
            },
            {"role": "assistant", "content": f"Done, {name}: the refund for card {card} is on its way."},
        ],
    }


@pytest.fixture
def canary_world(tmp_path):
    rng = random.Random(11)
    canaries = _canaries(250, rng)
    rows = [
        _conversation(i, *(canaries[k][i] for k in ("email", "phone", "card", "name", "other")))
        for i in range(250)
    ]
    log = write_jsonl(tmp_path / "log.jsonl", rows)
    return tmp_path, log, canaries


def test_no_strict_canary_leaves_the_first_stage(canary_world, capfd, caplog):
    root, log, canaries = canary_world
    strict = canaries["email"] + canaries["phone"] + canaries["card"] + canaries["other"]
    assert len(set(strict + canaries["name"])) == 1250
    caplog.set_level(logging.DEBUG)
    with stub_openai_server(lambda body, n: (200, {}, completion("Thanks, noted."))) as (url, server):
        (root / "empty.jsonl.gz").write_bytes(b"")
        registry = {
            "registry_version": 1,
            "releases": [
                {
                    "version": "r0",
                    "released_at": "2024-01-01",
                    "prior_version": None,
                    "backend": {"kind": "archive", "path": str(root / "empty.jsonl.gz")},
                },
                {
                    "version": "cand",
                    "released_at": None,
                    "prior_version": "r0",
                    "backend": {"kind": "openai", "base_url": url, "model": "stub"},
                },
            ],
        }
        (root / "releases.yaml").write_text(yaml.safe_dump(registry))
        settings = Settings(
            production_log=log,
            release_registry=root / "releases.yaml",
            gate_policy=DATA_DIR / "gate_policy.yaml",
            duckdb_path=root / "canary.duckdb",
            evaluators=["refusal"],
        )
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("model_versions", ["cand"])
            result = (
                build_defs(settings)
                .resolve_job_def("deployment_simulation_job")
                .execute_in_process(
                    partition_key="cand",
                    instance=instance,
                    run_config={
                        "ops": {
                            "conversation_sample": {"config": {"sample_size": 250, "seed": 1}},
                            # The probe shows the endpoint transcripts too: they must hold no canary either.
                            "eval_awareness_report": {"config": {"sample_size": 20, "seed": 1}},
                        }
                    },
                )
            )
            assert result.success
            event_log = json.dumps(
                [
                    str(e.user_message) + json.dumps(str(e.dagster_event))
                    for e in instance.all_logs(result.run_id)
                ]
            )
        bodies = json.dumps(server.bodies)

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        tables = {t: json.dumps(con.execute(f"SELECT * FROM {t}").fetchall(), default=str) for t in TABLES}
        [(sampled, distinct)] = con.execute(
            "SELECT count(*), count(DISTINCT prefix_hash) FROM prefixes WHERE partition_key = 'cand'"
        ).fetchall()
    # Every distinct de-identified prefix went out once (identical ones share a call at temperature 0);
    # the other calls are the probe's questions and the candidate's answers to the bundled test suites.
    suite_prompts = {
        p.prompt for name in ("adversarial", "benchmark") for p in load_suite(name, DATA_DIR / "probe_suites")
    }
    regenerations = [
        b
        for b in server.bodies
        if "response_format" not in b and b["messages"][-1]["content"] not in suite_prompts
    ]
    assert sampled == 250 and len(regenerations) == distinct
    assert any("response_format" in b for b in server.bodies)
    captured = capfd.readouterr()
    logs = captured.out + captured.err + "\n".join(r.getMessage() for r in caplog.records) + event_log

    for value in strict:
        assert value not in bodies, value
        assert value not in logs, value
        for table, dump in tables.items():
            assert value not in dump, (table, value)
    # The placeholders arrive instead, consistent across turns.
    assert "<EMAIL_ADDRESS_1>" in bodies and "<CREDIT_CARD_1>" in bodies and "<PHONE_NUMBER_1>" in bodies

    leaked = [name for name in canaries["name"] if name in bodies]
    leak_rate = len(leaked) / len(canaries["name"])
    print(
        f"name canaries leaked to the model endpoint: {len(leaked)}/{len(canaries['name'])} = {leak_rate:.1%}"
    )
    assert leak_rate <= 0.02
