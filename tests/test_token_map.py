"""The token map one dataset run shares across its files: the very tokens the per-file path
gives (keyed HMAC, key version prefix, nulls null), HMACs only for values not seen yet, bounded,
and never showing a value."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piiscan.pipeline.pseudonymize import pseudonymize_dataset
from piiscan.pseudonymize import ColumnPlan, Key, TokenMap, pseudonymize_frame, tokens
from piiscan.storage import LocalStorage

KEY = Key("acme", "k1", b"0123456789abcdef0123456789abcdef")
ACTIONS = {
    "PHONE_NUMBER": "hmac",
    "IMEI": "hmac",
    "ICCID": "hmac",
    "IMSI": "hmac",
    "EMPLOYEE_ID": "hmac",
    "PERSON": "drop",
    "EMAIL_ADDRESS": "drop",
    "LOCATION": "drop",
}

cells = st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "b", "2125550147"]), st.text()))


def expected(values: list[str | None], entity: str = "PHONE_NUMBER") -> list[str | None]:
    """Each value's token from tokens() itself, null for null."""
    issued = tokens([v for v in values if v is not None], KEY, entity)
    return [None if v is None else issued[v] for v in values]


@settings(max_examples=60, deadline=None)
@given(files=st.lists(cells, max_size=5), limit=st.sampled_from([0, 1, 3, 1_000_000]))
def test_a_shared_map_gives_the_tokens_each_file_gets_alone(
    files: list[list[str | None]], limit: int
) -> None:
    shared = TokenMap(KEY, max_values=limit)
    for values in files:
        column = pl.Series("n", values, dtype=pl.String)
        alone = TokenMap(KEY).map(column, "PHONE_NUMBER")
        assert shared.map(column, "PHONE_NUMBER").to_list() == alone.to_list() == expected(values)
        assert shared.size <= limit


def test_each_value_is_hmacd_once_per_entity(monkeypatch: pytest.MonkeyPatch) -> None:
    import piiscan.pseudonymize as module

    seen: list[str] = []

    def counting(values: list[str], key: Key, entity: str) -> dict[str, str]:
        seen.extend(f"{entity}:{v}" for v in values)
        return tokens(values, key, entity)

    monkeypatch.setattr(module, "tokens", counting)
    shared = TokenMap(KEY)
    for values in (["a", "b", None, "a"], ["b", "c"], ["c", "a", None]):
        shared.map(pl.Series(values, dtype=pl.String), "PHONE_NUMBER")
    shared.map(pl.Series(["a"]), "IMEI")  # another entity, another token
    assert sorted(seen) == ["IMEI:a", "PHONE_NUMBER:a", "PHONE_NUMBER:b", "PHONE_NUMBER:c"]
    assert shared.size == 4


def test_the_map_never_shows_a_value_or_a_token() -> None:
    shared = TokenMap(KEY)
    token = shared.map(pl.Series(["2125550147"]), "PHONE_NUMBER")[0]
    assert repr(shared) == "TokenMap(key=k1, values=1)"
    assert "2125550147" not in repr(shared) and token not in repr(shared)


def test_a_map_of_another_key_is_refused() -> None:
    other = TokenMap(Key("acme", "k2", b"f" * 32))
    plan = [ColumnPlan("n", "PHONE_NUMBER", "hmac", "design")]
    with pytest.raises(ValueError, match="another key"):
        pseudonymize_frame(pl.DataFrame({"n": ["1"]}), plan, KEY, "d", token_map=other)


def test_frames_through_one_map_equal_frames_alone() -> None:
    plans = [
        ColumnPlan("n", "PHONE_NUMBER", "hmac", "design"),
        ColumnPlan("o", "PHONE_NUMBER", "hmac", "design"),
        ColumnPlan("u", "PERSON", "drop", "design"),
        ColumnPlan("e", "EMPLOYEE_ID", "hmac", "design"),
    ]
    frames = [
        pl.DataFrame({"n": ["1", "2"], "o": [None, "1"], "u": ["x", None], "e": [7, 8]}),
        pl.DataFrame({"n": ["2", "3"], "o": ["4", None], "u": ["y", "z"], "e": [8, None]}),
    ]
    shared = TokenMap(KEY)
    for frame in frames:
        alone = pseudonymize_frame(frame, plans, KEY, "d")
        assert pseudonymize_frame(frame, plans, KEY, "d", token_map=shared).equals(alone)
    assert frames[1]["e"].dtype == pl.Int64  # ints are tokenized as their text
    assert alone["e"].to_list() == expected(["8", None], "EMPLOYEE_ID")


def test_a_dataset_run_writes_what_file_by_file_tokens_give(tmp_path: Path) -> None:
    from piiscan.schema import DATASETS, EXTRAS, conform

    storage = LocalStorage(tmp_path)
    numbers = [["2125550147", "3125550101", None], ["3125550101", "4155550199", "2125550147"]]
    for index, column in enumerate(numbers):
        frame = conform(
            pl.DataFrame(
                {"wireless_number": column, "other_number": column[::-1], "user_name": "Jo"}
            ),
            "usage_events",
        )
        path = tmp_path / f"restricted/usage_events/customer=acme/period=2026-0{index + 1}"
        path.mkdir(parents=True)
        frame.write_parquet(path / "part-000.parquet")
    pseudonymize_dataset(storage, "acme", "usage_events", KEY, {}, ACTIONS, {})
    for index, column in enumerate(numbers):
        path = f"analytics/usage_events/customer=acme/period=2026-0{index + 1}/part-000.parquet"
        out = pl.read_parquet(tmp_path / path)
        assert out.columns == [*DATASETS["usage_events"], EXTRAS]
        assert out["wireless_number"].to_list() == expected(column)
        assert out["other_number"].to_list() == expected(column[::-1])
        assert out["user_name"].null_count() == out.height


def test_cached_entries_do_not_show_values_either() -> None:
    shared = TokenMap(KEY)
    shared.map(pl.Series(["2125550147"]), "PHONE_NUMBER")
    assert all("2125550147" not in repr(v) for v in shared._known.values())
