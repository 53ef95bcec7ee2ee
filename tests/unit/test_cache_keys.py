"""The cache's key builder: no two questions share a key, and no value a caller sends names the account's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.cache.keys import CacheKeys
from shared.operations import QUERY_CHATAPP_BIND_WABA, SpaceArguments
from shared.store import KeySpace

SPACE = KeySpace("5123456789012345", "ap-southeast-1")
SAFE_TEXT = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=64
)
SPACE_IDS = st.one_of(st.none(), st.sampled_from(["own", "-own", "-", "space", "own-"]), SAFE_TEXT)
ISV_CODES = st.one_of(st.none(), st.sampled_from(["-", "own", "--------"]), SAFE_TEXT.filter(lambda v: len(v) >= 8))


@dataclass(frozen=True)
class _Detailed(SpaceArguments):
    """Arguments with an extra field, as the health operations have."""

    node: str = "waba"

    def detail(self) -> dict[str, str]:
        return {"NodeType": self.node}


class _Namespaced:
    """Another operation of the same shape: only its namespace matters to the keys."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace


OPERATIONS: list[Any] = [QUERY_CHATAPP_BIND_WABA, _Namespaced("health"), _Namespaced("phones")]
QUESTIONS = st.tuples(
    st.sampled_from(range(len(OPERATIONS))), SPACE_IDS, ISV_CODES, st.sampled_from([None, "waba", "phone"])
)


def keys_of(builder: CacheKeys, question: tuple[int, str | None, str | None, str | None]) -> tuple[str, str]:
    operation, space, isv_code, node = question
    arguments = SpaceArguments(space, isv_code) if node is None else _Detailed(space, isv_code, node)
    keys = builder.of(OPERATIONS[operation], arguments)
    return keys.cache, keys.lock


@given(st.lists(QUESTIONS, min_size=2, max_size=12, unique=True), st.sampled_from([None, b"k" * 32]))
def test_distinct_questions_never_share_a_cache_or_lock_key(questions: list[Any], secret: bytes | None) -> None:
    builder = CacheKeys(SPACE, secret)
    built = [keys_of(builder, question) for question in questions]
    every_key = [key for pair in built for key in pair]

    assert len(set(every_key)) == len(every_key)


@given(QUESTIONS)
def test_every_instance_builds_the_same_keys_without_a_key_secret(question: Any) -> None:
    assert keys_of(CacheKeys(SPACE, None), question) == keys_of(CacheKeys(SPACE, None), question)


def test_no_space_id_names_the_accounts_own() -> None:
    builder = CacheKeys(SPACE, None)
    own = builder.of(QUERY_CHATAPP_BIND_WABA, SpaceArguments(None, None))

    for lookalike in ("own", "-own", "-", "own-"):
        assert builder.of(QUERY_CHATAPP_BIND_WABA, SpaceArguments(lookalike, None)) != own


def test_an_isv_code_never_appears_in_a_key_and_its_hash_depends_on_the_secret() -> None:
    isv_code = "partner-isv-code-0001"
    derived = CacheKeys(SPACE, None).of(QUERY_CHATAPP_BIND_WABA, SpaceArguments("s", isv_code)).cache
    keyed = CacheKeys(SPACE, b"k" * 32).of(QUERY_CHATAPP_BIND_WABA, SpaceArguments("s", isv_code)).cache

    assert isv_code not in derived
    assert isv_code not in keyed
    assert derived != keyed
