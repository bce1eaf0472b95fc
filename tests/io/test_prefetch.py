import threading

import pytest

from facecue.io.prefetch import prefetch


def test_prefetch_keeps_order_and_runs_elsewhere():
    threads = set()

    def produce():
        for i in range(100):
            threads.add(threading.get_ident())
            yield i

    assert list(prefetch(produce(), depth=3)) == list(range(100))
    assert threading.get_ident() not in threads


def test_prefetch_reraises_producer_errors():
    def broken():
        yield 1
        raise ValueError("bad frame")

    out = []
    with pytest.raises(ValueError, match="bad frame"):
        for item in prefetch(broken()):
            out.append(item)
    assert out == [1]


def test_prefetch_stops_producer_when_consumer_leaves():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in prefetch(endless(), depth=2):
        if item == 5:
            break
    n = len(produced)
    assert n <= 5 + 2 + 2  # consumed, queued, and one in hand
