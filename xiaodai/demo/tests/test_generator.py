"""The generator on its own: deterministic, streamed in bounded chunks, with valid identifiers."""

from __future__ import annotations

import hashlib

from stdnum.cn import ric

from xiaodai.customers.validators import validate_mobile
from xiaodai.demo import generate_drop
from xiaodai.demo.generator import Drop
from xiaodai.demo.tests.conftest import AS_OF


def _digest(drop: Drop) -> str:
    h = hashlib.sha256()
    for rows in (drop.staff, drop.teams, drop.enterprises):
        for row in rows:
            h.update(repr(tuple(row)).encode())
    for chunk in drop.chunks():
        for name in chunk.__slots__:
            for row in getattr(chunk, name):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_same_seed_and_date_give_the_same_rows() -> None:
    first = _digest(generate_drop(customers=400, seed=11, as_of=AS_OF, chunk_size=150))
    assert first == _digest(generate_drop(customers=400, seed=11, as_of=AS_OF, chunk_size=150))


def test_another_seed_gives_other_rows() -> None:
    assert _digest(generate_drop(customers=200, seed=11, as_of=AS_OF)) != _digest(
        generate_drop(customers=200, seed=12, as_of=AS_OF)
    )


def test_chunks_are_bounded_and_self_contained() -> None:
    drop = generate_drop(customers=350, seed=3, as_of=AS_OF, chunk_size=100)
    sizes = []
    for chunk in drop.chunks():
        own = {c.customer_no for c in chunk.customers}
        sizes.append(len(own))
        for name in chunk.__slots__:
            assert {row.customer_no for row in getattr(chunk, name)} <= own, name
    assert sizes == [100, 100, 100, 50]


def test_chunks_restart_identically() -> None:
    drop = generate_drop(customers=120, seed=5, as_of=AS_OF, chunk_size=50)
    first = [c.id_number for chunk in drop.chunks() for c in chunk.customers]
    assert first == [c.id_number for chunk in drop.chunks() for c in chunk.customers]


def test_id_numbers_unique_valid_and_match_birth_date_and_gender() -> None:
    drop = generate_drop(customers=3000, seed=9, as_of=AS_OF)
    seen = set()
    for chunk in drop.chunks():
        for c in chunk.customers:
            ric.validate(c.id_number)
            assert ric.get_birth_date(c.id_number) == c.birth_date
            assert int(c.id_number[16]) % 2 == (1 if c.gender == "M" else 0)
            seen.add(c.id_number)
    assert len(seen) == 3000


def test_mobiles_are_valid_and_unique() -> None:
    drop = generate_drop(customers=3000, seed=9, as_of=AS_OF)
    mobiles = [p.value for chunk in drop.chunks() for p in chunk.contacts if p.kind == "mobile"]
    for value in mobiles:
        validate_mobile(value)
    assert len(set(mobiles)) == len(mobiles) >= 3000
