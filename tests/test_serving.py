"""The allocator settings `python -m app` applies (app/serving.py); the HTTP protocol's limits
are tested against the real process in test_process.py."""

from __future__ import annotations

import platform

import pytest

from app import serving


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt and malloc_trim")
def test_the_arena_cap_and_the_trim_reach_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, tuple[int, ...]]] = []
    found = serving._glibc()
    assert found is not None
    libc = found  # narrowed once, for the methods below

    class Spy:
        def mallopt(self, option: int, value: int) -> int:
            calls.append(("mallopt", (option, value)))
            return int(libc.mallopt(option, value))

        def malloc_trim(self, pad: int) -> int:
            calls.append(("malloc_trim", (pad,)))
            return int(libc.malloc_trim(pad))

    monkeypatch.setattr(serving, "_glibc", lambda: Spy())
    assert serving.bound_allocator(2) is True  # glibc accepted M_ARENA_MAX = 2
    serving.give_back_memory()
    assert calls == [("mallopt", (-8, 2)), ("malloc_trim", (0,))]


def test_without_glibc_both_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving, "_glibc", lambda: None)
    assert serving.bound_allocator() is False
    serving.give_back_memory()  # no call, no error


def test_the_libc_lookup_is_made_once() -> None:
    assert serving._glibc() is serving._glibc()
