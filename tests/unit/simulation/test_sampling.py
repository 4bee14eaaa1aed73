import pytest

from deploysim.core.conversation import Conversation
from deploysim.simulation.sampling import cut_before_final_assistant_turn, sample_ids
from tests.support.builders import conversation


def test_prefix_is_everything_before_the_final_assistant_turn():
    row = conversation("c1", "v1", "x", "y")
    row["messages"] = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "second answer"},
    ]
    prefix = cut_before_final_assistant_turn(Conversation.model_validate(row))
    assert [m["content"] for m in prefix.messages] == ["first", "first answer", "second"]
    assert prefix.production_response == {"role": "assistant", "content": "second answer"}
    assert prefix.production_model == "v1"
    assert len(prefix.prefix_hash) == 64


def test_sample_is_seeded_uniform_and_order_independent():
    ids = [f"c{i:03d}" for i in range(500)]
    first = sample_ids(ids, 50, seed=7)
    assert first == sample_ids(list(reversed(ids)), 50, seed=7)
    assert first != sample_ids(ids, 50, seed=8)
    assert len(set(first)) == 50
    assert sample_ids(ids[:10], 50, seed=7) == sorted(ids[:10])


def test_sampling_is_roughly_uniform():
    ids = [f"c{i:03d}" for i in range(100)]
    hits = dict.fromkeys(ids, 0)
    for seed in range(2000):
        for cid in sample_ids(ids, 10, seed):
            hits[cid] += 1
    # Each id has inclusion probability 0.1: 200 expected draws, sd about 13.4.
    assert min(hits.values()) > 140 and max(hits.values()) < 260
    assert sum(hits.values()) == 20_000


@pytest.mark.parametrize("size", [0, 1])
def test_small_samples(size):
    assert len(sample_ids(["a", "b", "c"], size, seed=1)) == size
