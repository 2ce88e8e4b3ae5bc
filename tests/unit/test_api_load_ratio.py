"""The API benchmark's Serve-to-uvicorn ratio: the median of rounds, so one noisy round does not decide it."""

from __future__ import annotations

from benchmarks.api_load import throughput_figures


def _round(serve_rps: float, uvicorn_rps: float) -> dict[str, dict[str, float]]:
    return {"serve": {"requests_per_s": serve_rps}, "uvicorn": {"requests_per_s": uvicorn_rps}}


def test_the_ratio_is_the_median_of_the_rounds_and_each_round_is_reported() -> None:
    figures = throughput_figures([_round(350, 500), _round(400, 500), _round(100, 500)])  # a box stall in round 3
    assert figures["serve_vs_uvicorn"] == 0.7
    assert [r["ratio"] for r in figures["throughput_rounds"]] == [0.7, 0.8, 0.2]
    assert figures["serve_throughput"] == {"requests_per_s": 350}, "the first round's details are kept"
