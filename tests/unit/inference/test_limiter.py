import asyncio

import pytest

from deploysim.inference.limiter import AdaptiveLimiter, ConcurrencyBounds, limiter_for


def _limiter(lo: int = 2, hi: int = 32, start: int = 4) -> AdaptiveLimiter:
    return AdaptiveLimiter(
        ConcurrencyBounds(min_concurrency=lo, max_concurrency=hi, initial_concurrency=start)
    )


async def _call(limiter: AdaptiveLimiter, *, overloaded: bool = False, hold: float = 0.0) -> None:
    async with limiter.slot() as slot:
        await asyncio.sleep(hold)
        slot.overloaded = overloaded
        slot.succeeded = not overloaded


def test_the_limit_grows_while_calls_succeed_but_never_past_the_maximum():
    limiter = _limiter()

    async def run():
        for _ in range(100):
            await _call(limiter)

    asyncio.run(run())
    assert limiter.current == 32 and limiter.peak_limit == 32


def test_an_overload_halves_the_limit_once_per_round_trip_and_never_below_the_minimum():
    limiter = _limiter(start=16)

    async def run():
        # Eight calls in flight together all see the overload: that is one signal, not eight.
        await asyncio.gather(*(_call(limiter, overloaded=True, hold=0.01) for _ in range(8)))
        assert limiter.current == 8 and limiter.cuts == 1
        for _ in range(5):
            await _call(limiter, overloaded=True)
        assert limiter.current == 2  # the floor

    asyncio.run(run())


def test_after_a_cut_growth_is_additive():
    limiter = _limiter(start=16)

    async def run():
        await _call(limiter, overloaded=True)
        assert limiter.current == 8
        for _ in range(9):  # about one round trip of successes adds one slot
            await _call(limiter)

    asyncio.run(run())
    assert limiter.current == 9


def test_in_flight_calls_never_exceed_the_limit():
    limiter = _limiter(lo=3, hi=3, start=3)
    peak = 0

    async def call():
        nonlocal peak
        async with limiter.slot() as slot:
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.005)
            slot.succeeded = True

    async def run():
        await asyncio.gather(*(call() for _ in range(30)))

    asyncio.run(run())
    assert peak == 3 and limiter.in_flight == 0


def test_cancelled_waiters_give_their_slot_back():
    limiter = _limiter(lo=1, hi=1, start=1)

    async def run():
        holder = asyncio.create_task(_call(limiter, hold=0.05))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(_call(limiter))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await asyncio.gather(holder, waiter, return_exceptions=True)
        await asyncio.wait_for(_call(limiter), timeout=1)

    asyncio.run(run())
    assert limiter.in_flight == 0


def test_one_limiter_per_endpoint_key_and_model():
    bounds = ConcurrencyBounds(max_concurrency=8)
    a = limiter_for("openai:http://h/v1#m|key:aaa", bounds)
    assert limiter_for("openai:http://h/v1#m|key:aaa", bounds) is a
    assert limiter_for("openai:http://h/v1#m|key:bbb", bounds) is not a
    assert limiter_for("openai:http://h/v1#other|key:aaa", bounds) is not a


def test_bounds_must_be_ordered():
    with pytest.raises(ValueError, match="min_concurrency"):
        ConcurrencyBounds(min_concurrency=10, max_concurrency=2)


def test_cancelling_a_holder_and_its_waiters_together_leaves_the_limiter_clean():
    """As when a run is stopped: the holder's release may drop the cancelled waiters before they resume."""
    limiter = _limiter(lo=1, hi=1, start=1)

    async def run():
        tasks = [asyncio.create_task(_call(limiter, hold=0.05))]
        await asyncio.sleep(0)
        tasks += [asyncio.create_task(_call(limiter)) for _ in range(3)]
        await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes), outcomes
        await asyncio.wait_for(_call(limiter), timeout=1)

    asyncio.run(run())
    assert limiter.in_flight == 0 and not limiter._waiters
