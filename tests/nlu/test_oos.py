from __future__ import annotations

from parley.nlu.oos import open_set_report


def test_open_set_report_counts_fallbacks_and_out_of_scope_messages() -> None:
    gold = ["a", "a", "b", "b", None, "out_of_scope"]
    predicted = ["a", "a", "b", "a", "a", "out_of_scope"]
    confidence = [0.9, 0.8, 0.6, 0.2, 0.1, 0.95]
    gap = [0.8, 0.7, 0.05, 0.1, 0.05, 0.9]
    report = open_set_report(gold, predicted, confidence, gap, (0.3, 0.7), 0.1)
    assert report["known_messages"] == 4 and report["oos_messages"] == 2
    assert report["known_accuracy"] == 0.75
    # every out-of-scope message ranks below every known one (the one predicted out_of_scope
    # counts as detected whatever its confidence)
    assert report["auroc"] == 1.0
    at_03 = report["at_threshold"]["0.3"]
    # "b" at 0.6 falls back on ambiguity (gap 0.05 < 0.1), the wrong "b" on confidence
    assert at_03 == {
        "threshold": 0.3,
        "known_accuracy": 0.5,
        "known_fallback_rate": 0.5,
        "oos_recall": 1.0,
    }
    assert report["at_threshold"]["0.7"]["known_accuracy"] == 0.5
    # the highest threshold losing at most 1 point of known accuracy keeps the right "b"
    assert report["at_loss"]["known_accuracy"] == 0.75
    assert 0.2 <= report["at_loss"]["threshold"] <= 0.6
    assert report["at_loss"]["oos_recall"] == 1.0
