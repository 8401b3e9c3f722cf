"""The client-token verification cache is bounded: least recently used out first, failed checks included."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.clients import Client, ClientTokens


class CountingStore:
    """The ClientStore port over a dict, counting reads: the cache's effect is fewer of them."""

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Client] = {}
        self.reads = 0

    def add(self, client: Client) -> None:
        self.clients[(client.model_id, client.name)] = client

    def get(self, model_id: str, name: str) -> Client | None:
        self.reads += 1
        return self.clients.get((model_id, name))

    def list(self, model_id: str) -> list[Client]:
        return [c for (m, _), c in self.clients.items() if m == model_id]

    def remove(self, model_id: str, name: str) -> bool:
        return self.clients.pop((model_id, name), None) is not None

    def touch(self, model_id: str, name: str, at: datetime) -> None:
        pass


def test_wrong_tokens_cannot_grow_the_cache_past_its_bound() -> None:
    store = CountingStore()
    tokens = ClientTokens(store, cache_entries=3)
    _, good = tokens.create("m1", "app")
    assert tokens.verify("m1", "app", good)
    for attempt in range(50):
        assert not tokens.verify("m1", "app", f"kt.app.wrong-{attempt}")
    reads = store.reads
    for attempt in (47, 48, 49):  # the three most recent are cached: no read
        assert not tokens.verify("m1", "app", f"kt.app.wrong-{attempt}")
    assert store.reads == reads
    assert tokens.verify("m1", "app", good)  # pushed out by the failures: read again, and valid
    assert store.reads == reads + 1


def test_a_recently_used_entry_outlives_older_ones() -> None:
    store = CountingStore()
    tokens = ClientTokens(store, cache_entries=2)
    _, first = tokens.create("m1", "a")
    _, second = tokens.create("m1", "b")
    tokens.verify("m1", "a", first)
    tokens.verify("m1", "b", second)
    tokens.verify("m1", "a", first)  # a is now the most recent
    tokens.verify("m1", "a", "kt.a.wrong")  # evicts b, the least recently used
    reads = store.reads
    tokens.verify("m1", "a", first)
    assert store.reads == reads
    tokens.verify("m1", "b", second)
    assert store.reads == reads + 1
