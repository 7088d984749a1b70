"""SOP assistant retrieval: `python -m bench.documents.retrieval_eval [--split calibration|heldout|both]`.

Measures the documents service's policy retrieval (services/documents/domain/retrieval.py) on the
question sets in bench/documents/questions/ against the shipped policies
(services/documents/policies/*.md), with the real model (services/documents/embedding.py, offline).

Per split, and per policy:

- hit@1, hit@3: the expected section (policy id and heading as written) is the first, or among
  the first three, citations of a grounded answer; a covered question that is refused is a miss.
- refusal accuracy: uncovered questions refused / uncovered questions.
- false refusals: covered questions refused.

On calibration only, the sweeps that chose the parameters in retrieval.py: the RRF constant, what
the dense side embeds for a passage, query expansion on or off, and the refusal threshold (the
accuracy of the grounded/refused decision at each threshold); and the dense-only and BM25-only
rankings for comparison. The threshold the rule picks (`choose_threshold`) is printed beside the
one retrieval.py uses. Also timed: importing and loading the model, encoding.

The held-out split is for the final figures only: run it once with the chosen parameters and
report what it says; nothing is tuned on it (the default split is calibration for that reason).

Writes bench/documents/retrieval_eval.json (--json to write elsewhere).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "bench" / "documents" / "questions"
POLICIES = ROOT / "services" / "documents" / "policies"
OUTPUT = ROOT / "bench" / "documents" / "retrieval_eval.json"

RRF_K_GRID = (1, 5, 10, 20, 30, 60, 100)
THRESHOLD_GRID = tuple(round(0.30 + 0.01 * i, 2) for i in range(31))


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    policy_id: str | None
    section: str | None

    @property
    def covered(self) -> bool:
        return self.policy_id is not None


def load_questions(split: str) -> list[Question]:
    data = tomllib.loads((QUESTIONS / f"{split}.toml").read_text(encoding="utf-8"))
    return [Question(q["id"], q["text"], q.get("policy_id"), q.get("section")) for q in data["question"]]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- metrics


def _key(policy_id: str, heading: str) -> tuple[str, str]:
    return (policy_id, heading)


def ranking_metrics(
    questions: Sequence[Question], rankings: Sequence[Sequence[tuple[str, str]]]
) -> dict[str, Any]:
    """hit@1 and hit@3 of plain rankings (no refusal) over the covered questions."""
    covered = [(q, r) for q, r in zip(questions, rankings, strict=True) if q.covered]
    hit1 = sum(1 for q, r in covered if r[:1] == [_key(q.policy_id or "", q.section or "")])
    hit3 = sum(1 for q, r in covered if _key(q.policy_id or "", q.section or "") in r[:3])
    n = len(covered)
    return {
        "covered": n,
        "hit@1": hit1,
        "hit@3": hit3,
        "hit@1_pct": _pct(hit1, n),
        "hit@3_pct": _pct(hit3, n),
    }


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def end_to_end(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures of a set of per-question records (see evaluate)."""
    covered = [r for r in records if r["covered"]]
    uncovered = [r for r in records if not r["covered"]]
    hit1 = sum(1 for r in covered if r["grounded"] and r["rank"] == 1)
    hit3 = sum(1 for r in covered if r["grounded"] and r["rank"] is not None and r["rank"] <= 3)
    refused = sum(1 for r in uncovered if not r["grounded"])
    false_refusals = sum(1 for r in covered if not r["grounded"])
    return {
        "questions": len(records),
        "covered": len(covered),
        "uncovered": len(uncovered),
        "hit@1": hit1,
        "hit@3": hit3,
        "hit@1_pct": _pct(hit1, len(covered)),
        "hit@3_pct": _pct(hit3, len(covered)),
        "uncovered_refused": refused,
        "refusal_accuracy_pct": _pct(refused, len(uncovered)),
        "false_refusals": false_refusals,
        "false_refusal_pct": _pct(false_refusals, len(covered)),
    }


def threshold_sweep(records: Sequence[dict[str, Any]], grid: Sequence[float]) -> list[dict[str, Any]]:
    """The grounded/refused decision at each threshold: accuracy, refusals, hit@3 end to end."""
    rows = []
    for threshold in grid:
        grounded = [r["decision_score"] >= threshold for r in records]
        correct = sum(1 for r, g in zip(records, grounded, strict=True) if g == r["covered"])
        uncovered_refused = sum(
            1 for r, g in zip(records, grounded, strict=True) if not r["covered"] and not g
        )
        false_refusals = sum(1 for r, g in zip(records, grounded, strict=True) if r["covered"] and not g)
        hit3 = sum(
            1
            for r, g in zip(records, grounded, strict=True)
            if r["covered"] and g and r["retrieval_rank"] is not None and r["retrieval_rank"] <= 3
        )
        rows.append(
            {
                "threshold": threshold,
                "decision_accuracy_pct": _pct(correct, len(records)),
                "correct": correct,
                "uncovered_refused": uncovered_refused,
                "false_refusals": false_refusals,
                "hit@3": hit3,
            }
        )
    return rows


def choose_threshold(sweep: Sequence[dict[str, Any]]) -> float:
    """The rule, fixed before the sweep was read: the best decision accuracy; where several
    thresholds tie, the middle of the first run of them (a margin on both sides)."""
    best = max(row["correct"] for row in sweep)
    run: list[float] = []
    for row in sweep:
        if row["correct"] == best:
            run.append(row["threshold"])
        elif run:
            break
    return run[(len(run) - 1) // 2]


# ---------------------------------------------------------------- the evaluation


def evaluate(
    questions: Sequence[Question],
    search: Callable[[Question], list[Any]],
    threshold: float,
) -> list[dict[str, Any]]:
    from services.documents.domain.retrieval import MAX_CITATIONS, answer, decision_score

    records = []
    for question in questions:
        hits = search(question)
        result = answer(question.text, hits, threshold=threshold)
        cited = [_key(c.policy_id, c.section) for c in result.citations]
        expected = _key(question.policy_id or "", question.section or "") if question.covered else None
        ranked = [_key(h.passage.policy_id, h.passage.section.heading) for h in hits]
        records.append(
            {
                "id": question.id,
                "covered": question.covered,
                "expected": f"{expected[0]} / {expected[1]}" if expected else None,
                "grounded": result.grounded,
                "decision_score": round(decision_score(hits), 4),
                # Rank of the expected section among the citations (None: not cited or refused).
                "rank": cited.index(expected) + 1 if expected in cited else None,
                # Its rank among the retrieved hits whatever the decision.
                "retrieval_rank": ranked.index(expected) + 1 if expected in ranked else None,
                "top": [f"{p} / {s}" for p, s in ranked[:MAX_CITATIONS]],
            }
        )
    return records


def per_policy(records: Sequence[dict[str, Any]], questions: Sequence[Question]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record, question in zip(records, questions, strict=True):
        groups.setdefault(question.policy_id or "(uncovered)", []).append(record)
    return {name: end_to_end(rows) for name, rows in sorted(groups.items())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("calibration", "heldout", "both"), default="calibration")
    parser.add_argument("--json", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    rss_before = _rss_mb()
    started = time.perf_counter()
    import numpy as np
    import sentence_transformers  # noqa: F401  (timed: the import is most of a cold start)

    from services.documents import embedding
    from services.documents.domain import retrieval
    from services.documents.domain.policies import parse_policy

    imported = time.perf_counter()
    model = embedding.load_model()
    loaded = time.perf_counter()
    rss_loaded = _rss_mb()

    documents = [parse_policy(path.read_bytes()) for path in sorted(POLICIES.glob("*.md"))]
    passages = retrieval.passages_of(documents)
    t0 = time.perf_counter()
    vectors = embedding.embed([p.embedding_text for p in passages], model)
    passages_seconds = time.perf_counter() - t0
    index = retrieval.Index(passages, vectors)

    calibration = load_questions("calibration")
    # Encode latency: one question at a time, as the service does for each Ask.
    latencies = []
    for question in calibration:
        t0 = time.perf_counter()
        embedding.embed([retrieval.expand_query(question.text)], model)
        latencies.append(time.perf_counter() - t0)
    model_figures = {
        "import_seconds": round(imported - started, 2),
        "load_seconds": round(loaded - imported, 2),
        "encode_one_question_ms_median": round(1000 * statistics.median(latencies), 1),
        "encode_one_question_ms_max": round(1000 * max(latencies), 1),
        "encode_passages_seconds": round(passages_seconds, 2),
        "passages": len(passages),
        "rss_mb_before_import": round(rss_before),
        "rss_mb_model_loaded": round(rss_loaded),
        "rss_mb_after_encoding": round(_rss_mb()),
        "torch_threads": __import__("torch").get_num_threads(),
    }

    def vectors_of(texts: Sequence[str]) -> Any:
        return embedding.embed(list(texts), model)

    def searcher(
        expand: bool = True, rrf_k: float = retrieval.RRF_K, idx: Any = index
    ) -> Callable[[Question], list[Any]]:
        cache: dict[str, Any] = {}

        def run(question: Question) -> list[Any]:
            text = retrieval.expand_query(question.text) if expand else question.text
            if text not in cache:
                cache[text] = vectors_of([text])[0]
            return list(
                idx.search(question.text, cache[text], k=retrieval.SEARCH_K, rrf_k=rrf_k, expand=expand)
            )

        return run

    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "command": "python -m bench.documents.retrieval_eval --split " + args.split,
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "parameters": {
            "rrf_k": retrieval.RRF_K,
            "score_threshold": retrieval.SCORE_THRESHOLD,
            "decision": "top cosine among the hits (expanded question vs passage text)",
            "passage_shape": retrieval.PASSAGE_SHAPE,
            "search_k": retrieval.SEARCH_K,
            "max_citations": retrieval.MAX_CITATIONS,
            "glossary_entries": len(retrieval.GLOSSARY),
            "bm25": {"k1": retrieval.BM25_K1, "b": retrieval.BM25_B, "delta": retrieval.BM25_DELTA},
        },
        "model": model_figures,
    }

    # ------------------------------------------------------------ calibration sweeps
    cal = calibration
    sweeps: dict[str, Any] = {}

    def fused_rankings(run: Callable[[Question], list[Any]]) -> list[list[tuple[str, str]]]:
        return [[_key(h.passage.policy_id, h.passage.section.heading) for h in run(q)] for q in cal]

    sweeps["rrf_k"] = [
        {"rrf_k": k, **ranking_metrics(cal, fused_rankings(searcher(rrf_k=k)))} for k in RRF_K_GRID
    ]
    sweeps["query_expansion"] = {
        "expanded": ranking_metrics(cal, fused_rankings(searcher(expand=True))),
        "plain": ranking_metrics(cal, fused_rankings(searcher(expand=False))),
    }

    # Dense-only and BM25-only rankings (calibration), and what the dense side embeds.
    expanded_vectors = vectors_of([retrieval.expand_query(q.text) for q in cal])
    plain_vectors = vectors_of([q.text for q in cal])

    def dense_rankings(passage_vectors: Any, query_vectors: Any) -> list[list[tuple[str, str]]]:
        scores = np.asarray(query_vectors) @ np.asarray(passage_vectors).T
        return [
            [
                _key(passages[j].policy_id, passages[j].section.heading)
                for j in np.argsort(-row, kind="stable")
            ]
            for row in scores
        ]

    def bm25_rankings(expand: bool) -> list[list[tuple[str, str]]]:
        out = []
        for q in cal:
            scores = index.bm25_scores(retrieval.expand_query(q.text) if expand else q.text)
            out.append(
                [
                    _key(passages[j].policy_id, passages[j].section.heading)
                    for j in np.argsort(-scores, kind="stable")
                ]
            )
        return out

    shapes: dict[str, Any] = {"text": "text", "heading + text": "heading", "heading path + text": "path"}
    sweeps["passage_shape"] = {}
    for name, shape in shapes.items():
        shape_vectors = vectors_of([retrieval.embedding_text(p.section, shape) for p in passages])
        shape_index = retrieval.Index(passages, shape_vectors)
        sweeps["passage_shape"][name] = {
            "dense only": ranking_metrics(cal, dense_rankings(shape_vectors, expanded_vectors)),
            "fused": ranking_metrics(cal, fused_rankings(searcher(idx=shape_index))),
        }
    result["calibration_comparison"] = {
        "fused (dense + BM25, RRF)": sweeps["query_expansion"]["expanded"],
        "dense only": ranking_metrics(cal, dense_rankings(vectors, expanded_vectors)),
        "BM25 only": ranking_metrics(cal, bm25_rankings(True)),
        "fused, no query expansion": sweeps["query_expansion"]["plain"],
        "dense only, no query expansion": ranking_metrics(cal, dense_rankings(vectors, plain_vectors)),
        "BM25 only, no query expansion": ranking_metrics(cal, bm25_rankings(False)),
        "note": "rankings only (no refusal): hit@k of the top k passages over the 45 covered questions",
    }

    cal_records = evaluate(cal, searcher(), retrieval.SCORE_THRESHOLD)
    sweeps["threshold"] = threshold_sweep(cal_records, THRESHOLD_GRID)
    chosen = choose_threshold(sweeps["threshold"])
    sweeps["threshold_rule"] = (
        "best decision accuracy on calibration; ties: the middle of the first run of best thresholds"
    )
    sweeps["threshold_chosen_by_rule"] = chosen
    uncovered_scores = [r["decision_score"] for r in cal_records if not r["covered"]]
    sweeps["threshold_refusing_every_uncovered"] = round(max(uncovered_scores) + 0.005, 3)
    result["calibration_sweeps"] = sweeps

    # ------------------------------------------------------------ the splits
    splits = ("calibration", "heldout") if args.split == "both" else (args.split,)
    result["splits"] = {}
    for split in splits:
        questions = cal if split == "calibration" else load_questions(split)
        records = (
            cal_records
            if split == "calibration"
            else evaluate(questions, searcher(), retrieval.SCORE_THRESHOLD)
        )
        result["splits"][split] = {
            "overall": end_to_end(records),
            "per_policy": per_policy(records, questions),
            "questions": records,
        }

    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print(result)
    if chosen != retrieval.SCORE_THRESHOLD:
        print(f"\nNOTE: the rule picks threshold {chosen}, retrieval.py uses {retrieval.SCORE_THRESHOLD}")
    return 0


def _print(result: dict[str, Any]) -> None:
    m = result["model"]
    print(
        f"model: import {m['import_seconds']} s, load {m['load_seconds']} s, one question "
        f"{m['encode_one_question_ms_median']} ms (median), {m['passages']} passages "
        f"{m['encode_passages_seconds']} s, RSS {m['rss_mb_model_loaded']} MB loaded"
    )
    sweeps = result["calibration_sweeps"]
    print("\ncalibration, RRF constant (fused ranking, hit@1 / hit@3 of 45):")
    for row in sweeps["rrf_k"]:
        print(f"  k={row['rrf_k']:<4} {row['hit@1']:>3} {row['hit@3']:>3}")
    print("\ncalibration, what the dense side embeds (hit@1 / hit@3 of 45, dense only and fused):")
    for name, row in sweeps["passage_shape"].items():
        dense, fused = row["dense only"], row["fused"]
        print(
            f"  {name:<22} {dense['hit@1']:>3} {dense['hit@3']:>3}   {fused['hit@1']:>3} {fused['hit@3']:>3}"
        )
    print("\ncalibration, rankings compared (hit@1 / hit@3 of 45, no refusal):")
    for name, row in result["calibration_comparison"].items():
        if isinstance(row, dict):
            print(f"  {name:<34} {row['hit@1']:>3} {row['hit@3']:>3}")
    print("\ncalibration, refusal threshold on the top cosine (60 questions: 45 covered, 15 uncovered):")
    print("  threshold  accuracy  uncovered refused  false refusals  hit@3")
    for row in sweeps["threshold"]:
        print(
            f"  {row['threshold']:<9.2f}  {row['decision_accuracy_pct']:>6.1f} %  {row['uncovered_refused']:>10}/15"
            f"  {row['false_refusals']:>14}  {row['hit@3']:>5}"
        )
    print(
        f"  rule picks {sweeps['threshold_chosen_by_rule']}; refusing every uncovered needs >= "
        f"{sweeps['threshold_refusing_every_uncovered']}"
    )
    for split, data in result["splits"].items():
        o = data["overall"]
        print(
            f"\n{split}: hit@1 {o['hit@1']}/{o['covered']} ({o['hit@1_pct']} %), hit@3 {o['hit@3']}/{o['covered']} "
            f"({o['hit@3_pct']} %), uncovered refused {o['uncovered_refused']}/{o['uncovered']} "
            f"({o['refusal_accuracy_pct']} %), false refusals {o['false_refusals']}/{o['covered']}"
        )
        for name, p in data["per_policy"].items():
            if name == "(uncovered)":
                print(f"  {name:<26} refused {p['uncovered_refused']}/{p['uncovered']}")
            else:
                print(
                    f"  {name:<26} hit@1 {p['hit@1']}/{p['covered']}  hit@3 {p['hit@3']}/{p['covered']}  "
                    f"false refusals {p['false_refusals']}"
                )


if __name__ == "__main__":
    sys.exit(main())
