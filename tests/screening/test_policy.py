from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import PolicyError
from app.screening.policy import DEFAULT_POLICY_PATH, Policy, Thresholds, load_policy


def policy(**kw: object) -> Policy:
    return Policy.model_validate({"version": "t1"} | kw)


def test_protected_import_is_blocked() -> None:
    v = policy().decide(p_protected=0.99, p_import=0.95)
    assert (v.decision, v.reasons) == ("block", ("PROTECTED_CLUSTER_IMPORT",))


def test_unprotected_import_is_allowed() -> None:
    v = policy().decide(p_protected=0.02, p_import=0.99)
    assert (v.decision, v.reasons) == ("allow", ("UNPROTECTED_CLUSTER",))


def test_domestic_protected_is_allowed() -> None:
    v = policy().decide(p_protected=0.99, p_import=0.03)
    assert (v.decision, v.reasons) == ("allow", ("DOMESTIC_ORIGIN",))


def test_uncertain_origin_goes_to_review() -> None:
    v = policy().decide(p_protected=0.99, p_import=0.5)
    assert (v.decision, v.reasons) == ("review", ("LOW_CONFIDENCE", "UNCERTAIN_ORIGIN"))


def test_uncertain_cluster_goes_to_review() -> None:
    v = policy().decide(p_protected=0.5, p_import=1.0)
    assert (v.decision, v.reasons) == ("review", ("LOW_CONFIDENCE", "UNCERTAIN_CLUSTER"))


def test_thresholds_are_policy_not_code() -> None:
    strict = policy(thresholds={"block": 0.4, "allow": 0.1})
    assert strict.decide(0.99, 0.5).decision == "block"
    assert policy().decide(0.99, 0.5).decision == "review"


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="must be below block"):
        Thresholds(block=0.3, allow=0.5)


def test_protected_clusters_are_sorted_and_unique() -> None:
    p = policy(protected_clusters=["handicraft", "culinary", "handicraft"])
    assert p.protected_clusters == ("culinary", "handicraft")


def test_default_policy_follows_taxonomy() -> None:
    p = load_policy(DEFAULT_POLICY_PATH)
    assert p.mode == "enforce"
    assert p.protected_clusters == ("culinary", "handicraft", "textile_fashion")


def test_load_policy_reads_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"version": "j1", "mode": "shadow"}))
    assert load_policy(path).mode == "shadow"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("version: v1\nmode: loud\n", "invalid"),
        ("version: v1\nprotected_clusters: [toys]\n", "invalid"),
        ("version: v1\nthresholds: {block: 0.1, allow: 0.5}\n", "must be below block"),
        ("version: v1\nsurprise: 1\n", "invalid"),
        ("version: [unclosed\n", "not valid yaml"),
    ],
)
def test_load_policy_rejects_bad_files_saying_why(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_load_policy_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "absent.yaml")
