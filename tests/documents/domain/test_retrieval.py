"""Hybrid retrieval (services/documents/domain/retrieval.py): the tokenizer, the query glossary, the
fusion of the dense and BM25 rankings worked by hand on small fake vectors, the passages' unit
vectors, the refusal decision, and the answer and refusal texts. No model: vectors are written out."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from services.documents.domain.policies import PolicyDocument, Section, parse_policy
from services.documents.domain.retrieval import (
    DECISION_BIAS,
    DECISION_WEIGHT_BM25,
    DECISION_WEIGHT_OUT_OF_SCOPE,
    DECISION_WEIGHT_UNIT,
    GLOSSARY,
    RRF_K,
    SCORE_THRESHOLD,
    Hit,
    Index,
    Passage,
    answer,
    best_sentences,
    compile_glossary,
    decide,
    decision_features,
    decision_score,
    embedding_text,
    embedding_texts,
    expand_query,
    passages_of,
    refusal_text,
    rrf,
    sentences,
    stem,
    tokens,
)
from services.documents.domain.scope import NO_TOPIC_COSINE, Nearest, OutOfScope, Topic, parse_topics


def _passage(policy_id: str, heading: str, text: str, title: str = "", version: str = "1.0") -> Passage:
    section = Section(f"{policy_id}#{heading.lower()}", heading, 2, text, (title or policy_id, heading))
    return Passage(policy_id, title or policy_id.title(), version, section)


# ---------------------------------------------------------------- tokens and the glossary


def test_tokens_lowercase_drop_stopwords_and_stem() -> None:
    assert tokens("Who approves the Breaks and the write-offs of 2 funds?") == [
        "approv",
        "break",
        "write",
        "off",
        "2",
        "fund",
    ]
    # Contraction remnants (s, t, ve ...) are stopwords, so the "T" of T+1 goes too.
    assert tokens("It's the bank's T+1 status") == ["bank", "1", "status"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # One stem for the forms of a word, so the question's form need not be the policy's.
        (("escalated", "escalation", "escalate"), "escal"),
        (("settling", "settled", "settles"), "settl"),
        (("breaks", "break"), "break"),
        (("prices", "price", "priced"), "price"),
        (("policies", "policy"), "polici"),
        (("status",), "status"),
        # Words with digits are kept as they are.
        (("t2s",), "t2s"),
        (("bps",), "bps"),
    ],
)
def test_stem_is_snowball_english(words: tuple[str, ...], expected: str) -> None:
    assert {stem(word) for word in words} == {expected}


def test_expand_query_appends_the_policies_words_once() -> None:
    assert expand_query("The bank shows a money difference.") == (
        "The bank shows a money difference. (custodian; break difference; cash)"
    )
    # Two phrases with the same expansion add it once.
    assert expand_query("Banks and custody") == "Banks and custody (custodian)"
    # Whole words only: "embankment" is not a bank; "PM" matches in any case.
    assert expand_query("The embankment") == "The embankment"
    assert expand_query("Ask the PM") == "Ask the PM (portfolio manager)"
    assert expand_query("went into the red") == "went into the red (overdraft)"
    assert expand_query("the balance is below zero") == "the balance is below zero (overdraft)"


def test_expand_query_takes_another_glossary() -> None:
    mine = compile_glossary([("recs?", "reconciliation"), ("nav", "net asset value")])
    assert (
        expand_query("The recs and the NAV", mine) == "The recs and the NAV (reconciliation; net asset value)"
    )
    assert expand_query("The recs", compile_glossary([])) == "The recs"


def test_every_glossary_entry_compiles_and_matches_whole_words_only() -> None:
    table = compile_glossary(GLOSSARY)
    assert len(table) == len(GLOSSARY)
    for pattern, words in table:
        assert words.strip() == words and words
        # No empty alternative (it would match between any two words).
        assert pattern.search(" ") is None, pattern.pattern
    # Whole words: "ops" is not in "opsuite", "gap" not in "gaps-analysis", "face" not in "surface".
    for text in ("opsuite", "gaps-analysis", "surface", "stockholm"):
        assert expand_query(text) == text


def test_an_index_tokenises_with_the_function_it_is_given() -> None:
    passages = [_passage("a", "one", "settled"), _passage("a", "two", "cash")]
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    stemmed = Index(passages, vectors)
    exact = Index(passages, vectors, tokenize=lambda text: text.lower().split())
    assert stemmed.bm25_scores("settling")[0] > 0.0
    assert exact.bm25_scores("settling")[0] == 0.0


# ---------------------------------------------------------------- fusion worked by hand

# Three passages of three tokens each (equal lengths, so BM25's length normalisation is 1) and
# unit vectors in two dimensions.
TEXTS = ("fail fail cash", "cash cash cash", "fail cash cash")
VECTORS = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
QUERY = np.array([0.8, 0.6])


def _index() -> Index:
    passages = [_passage("p", f"h{i}", text) for i, text in enumerate(TEXTS)]
    # The heading joins the BM25 text: give each the same neutral one.
    passages = [
        Passage(
            p.policy_id,
            p.policy_title,
            p.policy_version,
            Section(p.section.passage_id, "x", 2, p.section.text, ()),
        )
        for p in passages
    ]
    return Index(passages, VECTORS)


def test_fusion_arithmetic_by_hand() -> None:
    hits = _index().search("fail", QUERY, k=3, rrf_k=10, expand=False)
    # Cosines: p0 0.8, p1 0.6*0.8 + 0.8*0.6 = 0.96, p2 0.6 -> dense ranks p1 1, p0 2, p2 3.
    by_id = {hit.passage.section.passage_id: hit for hit in hits}
    assert [by_id[f"p#h{i}"].cosine for i in range(3)] == pytest.approx([0.8, 0.96, 0.6])
    assert [by_id[f"p#h{i}"].dense_rank for i in range(3)] == [2, 1, 3]
    # BM25+ of "fail": idf = ln((3 + 1) / 2); score = idf * (delta + tf (k1 + 1) / (tf + k1)) with
    # dl = avgdl, k1 = 1.5, delta = 1: tf 2 -> idf * (1 + 5 / 3.5), tf 0 -> idf * 1, tf 1 -> idf * 2.
    idf = math.log(2)
    assert [by_id[f"p#h{i}"].bm25 for i in range(3)] == pytest.approx([idf * (1 + 5 / 3.5), idf, 2 * idf])
    assert [by_id[f"p#h{i}"].bm25_rank for i in range(3)] == [1, 3, 2]
    # RRF with k = 10: p0 1/12 + 1/11 = 0.17424, p1 1/11 + 1/13 = 0.16783, p2 1/13 + 1/12 = 0.16026.
    assert [hit.passage.section.passage_id for hit in hits] == ["p#h0", "p#h1", "p#h2"]
    assert [hit.score for hit in hits] == pytest.approx([1 / 12 + 1 / 11, 1 / 11 + 1 / 13, 1 / 13 + 1 / 12])
    assert hits[0].score == pytest.approx(0.174242, abs=1e-6)


def test_the_fused_order_here_holds_for_any_constant() -> None:
    # p0's ranks (2, 1) beat p1's (1, 3) whatever k: 1/(k+2) + 1/(k+1) > 1/(k+1) + 1/(k+3).
    for k in (0.5, 10, 60, 1000):
        hits = _index().search("fail", QUERY, k=3, rrf_k=k, expand=False)
        assert [hit.passage.section.passage_id for hit in hits] == ["p#h0", "p#h1", "p#h2"]
    assert rrf([2, 1], 0.5) == pytest.approx(1 / 2.5 + 1 / 1.5)
    assert rrf([1, 3], 60) == pytest.approx(1 / 61 + 1 / 63)


def test_equal_scores_share_the_best_rank_and_ties_go_to_the_higher_cosine() -> None:
    # No query word is in the corpus: every BM25 score is 0 and every BM25 rank 1.
    hits = _index().search("overdraft", QUERY, k=3, rrf_k=10, expand=False)
    assert [hit.bm25_rank for hit in hits] == [1, 1, 1]
    assert [hit.bm25 for hit in hits] == [0.0, 0.0, 0.0]
    # The order is then the dense order.
    assert [hit.passage.section.passage_id for hit in hits] == ["p#h1", "p#h0", "p#h2"]
    assert hits[0].score == pytest.approx(1 / 11 + 1 / 11)


def test_k_limits_the_hits_and_the_default_constant_is_used() -> None:
    index = _index()
    assert len(index.search("fail", QUERY, k=2, expand=False)) == 2
    assert index.search("fail", QUERY, k=0, expand=False) == []
    top = index.search("fail", QUERY, k=1, expand=False)[0]
    assert top.score == pytest.approx(1 / (RRF_K + top.dense_rank) + 1 / (RRF_K + top.bm25_rank))


def test_the_query_vector_is_normalised_and_checked() -> None:
    index = _index()
    assert index.search("fail", QUERY * 5, k=1, expand=False)[0].cosine == pytest.approx(0.8)
    with pytest.raises(ValueError, match="3 dimensions, the index 2"):
        index.search("fail", np.array([1.0, 0.0, 0.0]))


def test_a_search_can_be_restricted_to_some_policies() -> None:
    passages = [
        _passage("a", "one", "fail cash"),
        _passage("b", "two", "fail fail"),
        _passage("b", "three", "cash"),
    ]
    index = Index(passages, VECTORS)
    hits = index.search("fail", QUERY, k=5, policy_ids=["b"], expand=False)
    assert [hit.passage.policy_id for hit in hits] == ["b", "b"]
    # Ranks are among the allowed passages only.
    assert sorted(hit.dense_rank for hit in hits) == [1, 2]
    assert index.search("fail", QUERY, policy_ids=["nope"], expand=False) == []


def test_the_question_is_expanded_for_bm25_unless_told_not_to() -> None:
    passages = [_passage("a", "one", "custodian booking"), _passage("a", "two", "cash forecast")]
    index = Index(passages, np.array([[1.0, 0.0], [0.0, 1.0]]))
    # "bank" is in neither passage; expanded, the question also asks for "custodian".
    plain = index.search("bank", np.array([0.0, 1.0]), k=2, expand=False)
    expanded = index.search("bank", np.array([0.0, 1.0]), k=2)
    assert plain[0].bm25 == plain[1].bm25 == 0.0
    assert expanded[0].bm25 > 0.0
    assert {hit.passage.section.heading: hit.bm25_rank for hit in expanded} == {"one": 1, "two": 2}


def test_an_index_refuses_vectors_that_do_not_match_its_passages() -> None:
    passages = [_passage("a", "one", "text")]
    # One row (the passage) or two (the passage and its one unit) fit; three do not.
    with pytest.raises(
        ValueError, match=r"one embedding row per passage \(1\) or one per text of embedding_texts \(2\)"
    ):
        Index(passages, np.ones((3, 3)))
    with pytest.raises(ValueError, match="all zeros"):
        Index(passages, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least one passage"):
        Index([], np.zeros((0, 3)))


def test_build_embeds_each_passage_text_once_in_order() -> None:
    document = parse_policy(
        "# Cash\n\n## Accounts\n\nUSD and EUR accounts.\n\n## Overdrafts\n\nNever overdrawn.\n"
    )
    seen: list[str] = []

    def embed(texts: Sequence[str]) -> NDArray[np.float64]:
        seen.extend(texts)
        return np.eye(len(texts))

    index = Index.build([document], embed)
    # Each passage's text, then each of its units after its heading.
    assert seen == [
        "USD and EUR accounts.",
        "Accounts: USD and EUR accounts.",
        "Never overdrawn.",
        "Overdrafts: Never overdrawn.",
    ]
    assert index.has_units
    assert [p.section.heading for p in index.passages] == ["Accounts", "Overdrafts"]
    assert index.passages[0].policy_title == "Cash"
    assert index.passages[0].lexical_text == "Accounts\nUSD and EUR accounts."


def test_embedding_text_shapes() -> None:
    section = Section(
        "p#a", "Stale FX Rates", 3, "Unchanged two days.", ("Pricing", "Stale", "Stale FX Rates")
    )
    assert embedding_text(section, "text") == "Unchanged two days."
    assert embedding_text(section, "heading") == "Stale FX Rates. Unchanged two days."
    assert embedding_text(section, "path") == "Pricing > Stale > Stale FX Rates. Unchanged two days."


# ---------------------------------------------------------------- unit vectors


def _unit_index() -> Index:
    """Two passages of two units each; every vector in three dimensions, unit length."""
    passages = [
        _passage("p", "a", "First of a. Second of a."),
        _passage("p", "b", "First of b. Second of b."),
    ]
    assert [p.unit_texts for p in passages] == [
        ("a: First of a.", "a: Second of a."),
        ("b: First of b.", "b: Second of b."),
    ]
    assert embedding_texts(passages) == [
        "First of a. Second of a.",
        "a: First of a.",
        "a: Second of a.",
        "First of b. Second of b.",
        "b: First of b.",
        "b: Second of b.",
    ]
    rows = np.array(
        [
            [1.0, 0.0, 0.0],  # a's text
            [1.0, 0.0, 0.0],  # a's first unit
            [0.0, 0.6, 0.8],  # a's second unit
            [0.8, 0.6, 0.0],  # b's text
            [0.8, 0.6, 0.0],  # b's first unit
            [0.0, 1.0, 0.0],  # b's second unit
        ]
    )
    return Index(passages, rows)


def test_a_passage_scores_its_text_and_its_best_unit() -> None:
    index = _unit_index()
    assert index.has_units
    query = np.array([0.0, 0.0, 1.0])
    text, best_unit = index.cosines(query)
    assert list(text) == pytest.approx([0.0, 0.0])
    # a's second unit is the only one close to the query.
    assert list(best_unit) == pytest.approx([0.8, 0.0])
    hits = index.search("nothing shared", query, k=2, expand=False)
    assert [hit.passage.section.heading for hit in hits] == ["a", "b"]
    assert [(hit.cosine, hit.unit_cosine) for hit in hits] == [
        pytest.approx((0.0, 0.8)),
        pytest.approx((0.0, 0.0)),
    ]
    assert [hit.dense_rank for hit in hits] == [1, 2]


def test_the_dense_rank_orders_text_plus_best_unit() -> None:
    index = _unit_index()
    # a: text 0.8, best unit 0.8 (the first) -> 1.6; b: text 0.96, best unit 0.96 -> 1.92.
    hits = index.search("nothing shared", np.array([0.8, 0.6, 0.0]), k=2, expand=False)
    assert [hit.passage.section.heading for hit in hits] == ["b", "a"]
    assert [hit.cosine + hit.unit_cosine for hit in hits] == pytest.approx([2.0, 1.6])


def test_without_unit_vectors_a_passage_scores_its_text_twice_over() -> None:
    passages = [_passage("p", "a", "One. Two."), _passage("p", "b", "Three.")]
    index = Index(passages, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert not index.has_units
    hit = index.search("x", np.array([0.6, 0.8]), k=1, expand=False)[0]
    assert hit.passage.section.heading == "b"
    assert (hit.cosine, hit.unit_cosine) == pytest.approx((0.8, 0.8))


def test_the_rows_of_several_documents_stack_in_document_order() -> None:
    first = parse_policy("# A\n\n## One\n\nAlpha. Beta.\n")
    second = parse_policy("# B\n\n## Two\n\nGamma.\n")

    def embed(texts: Sequence[str]) -> NDArray[np.float64]:
        # A vector per text that remembers which text it is.
        return np.array([[1.0, float(hash(text) % 97)] for text in texts])

    one = embed(embedding_texts(passages_of([first])))
    two = embed(embedding_texts(passages_of([second])))
    stacked = Index(passages_of([first, second]), np.vstack([one, two]))
    whole = Index.build([first, second], embed)
    assert np.array_equal(stacked.vectors, whole.vectors)
    assert np.array_equal(stacked.unit_vectors, whole.unit_vectors)
    assert list(stacked.unit_owner) == [0, 0, 1]


# ---------------------------------------------------------------- the decision


def _hit(cosine: float, passage: Passage | None = None, score: float = 0.1, bm25: float = 1.0) -> Hit:
    return Hit(passage or _passage("p", "h", "Text."), score, cosine, bm25, 1, 1, cosine)


def test_the_decision_features_are_the_first_hits_unit_cosine_the_best_bm25_and_the_nearest_topic() -> None:
    first = Hit(_passage("p", "h", "Text."), 0.2, 0.40, 10.0, 1, 2, 0.55)
    second = Hit(_passage("p", "i", "Text."), 0.1, 0.60, 30.0, 2, 1, 0.70)
    assert decision_features([first, second], 0.31) == (0.55, 30.0, 0.31)
    assert decision_features([]) == (0.0, 0.0, NO_TOPIC_COSINE)
    assert decision_score([first, second], 0.31) == pytest.approx(
        DECISION_WEIGHT_UNIT * 0.55
        + DECISION_WEIGHT_BM25 * 30.0
        + DECISION_WEIGHT_OUT_OF_SCOPE * 0.31
        + DECISION_BIAS
    )
    assert decision_score([]) == -math.inf


def test_a_question_near_a_topic_no_policy_covers_is_refused_and_the_refusal_names_the_topic() -> None:
    # The same hit: answered when the question is far from every out-of-scope topic, refused
    # when one is nearer to it than the passage.
    hits = [_hit(0.55, FAILS, bm25=20.0)]
    lending = Topic("securities-lending", "Securities lending: recalling lent shares and collateral.")
    assert DECISION_WEIGHT_OUT_OF_SCOPE < 0
    assert decide(hits, 0.2) is True
    assert decide(hits, 0.6) is False
    refused = answer(
        "Can we recall lent shares?", hits, scope=Nearest(lending.topic_id, 0.6), topics=[lending]
    )
    assert refused.grounded is False
    assert "It reads as a question about securities lending, which no policy covers." in refused.text
    # A topic farther than the best passage is not named, even in a refusal.
    low = [_hit(0.30, FAILS, bm25=2.0)]
    quiet = answer("Lunch?", low, scope=Nearest(lending.topic_id, 0.25), topics=[lending])
    assert quiet.grounded is False and "securities lending" not in quiet.text


def test_decide_compares_the_logit_with_the_threshold() -> None:
    # Both retrieval features count for answering.
    assert DECISION_WEIGHT_UNIT > 0 and DECISION_WEIGHT_BM25 > 0
    # The unit cosine at which a hit with BM25 score 40 is exactly at the threshold (no topic near).
    edge = (
        SCORE_THRESHOLD
        - DECISION_BIAS
        - DECISION_WEIGHT_BM25 * 40.0
        - DECISION_WEIGHT_OUT_OF_SCOPE * NO_TOPIC_COSINE
    ) / DECISION_WEIGHT_UNIT
    assert 0.3 < edge < 0.6
    assert decide([_hit(edge + 1e-6, bm25=40.0)]) is True
    assert decide([_hit(edge - 1e-3, bm25=40.0)]) is False
    # A stronger lexical match lowers the cosine needed.
    assert decide([_hit(edge - 1e-3, bm25=45.0)]) is True
    assert decide([], threshold=-1e9) is False
    hits = [_hit(0.5, bm25=20.0)]
    assert decide(hits, threshold=decision_score(hits)) is True
    assert decide(hits, threshold=decision_score(hits) + 1e-9) is False


# ---------------------------------------------------------------- answers and refusals

FAILS = _passage(
    "settlement-fails",
    "Daily Fail Chasing",
    "By 10:00 each business day the analyst reviews every open fail. Each contact is recorded "
    "on the item as a comment. A fail the firm caused is corrected the same day.",
    title="Settlement Fails",
)
CASH = _passage(
    "cash-and-overdrafts",
    "Target Cash Ranges",
    "Each fund keeps cash between 1 % and 5 % of its NAV. The portfolio manager is told when it leaves the range.",
    title="Cash and Overdrafts",
    version="",
)


def test_a_grounded_answer_quotes_the_most_relevant_sentences_of_the_cited_passages() -> None:
    hits = [_hit(0.62, FAILS, 0.18, bm25=40.0), _hit(0.40, CASH, 0.15)]
    assert decide(hits)
    result = answer("Where is each contact with the broker recorded?", hits)
    assert result.grounded is True
    # Two sentences of the best passage, in their order: the one about contacts and, by the tie
    # rule, the first one.
    assert result.text.splitlines()[0] == (
        'According to Settlement Fails v1.0, "Daily Fail Chasing" [1]: “By 10:00 each business day the '
        "analyst reviews every open fail. Each contact is recorded on the item as a comment.”"
    )
    assert result.text.splitlines()[1] == (
        'See also Cash and Overdrafts, "Target Cash Ranges" [2]: “Each fund keeps cash between 1 % and 5 % of its NAV.”'
    )
    for quoted in (
        "Each contact is recorded on the item as a comment.",
        "Each fund keeps cash between 1 % and 5 %",
    ):
        assert quoted in result.text
    first = result.citations[0]
    assert (first.policy_id, first.policy_title, first.policy_version) == (
        "settlement-fails",
        "Settlement Fails",
        "1.0",
    )
    assert (first.section, first.passage_id, first.score) == (
        "Daily Fail Chasing",
        FAILS.section.passage_id,
        0.18,
    )
    assert first.text == FAILS.section.text
    assert [c.policy_id for c in result.citations] == ["settlement-fails", "cash-and-overdrafts"]


def test_max_citations_limits_what_is_cited() -> None:
    hits = [_hit(0.62, FAILS, bm25=40.0), _hit(0.40, CASH)]
    result = answer("contact", hits, max_citations=1)
    assert len(result.citations) == 1
    assert "[2]" not in result.text


def test_a_refusal_says_the_policies_do_not_cover_it_and_names_the_nearest() -> None:
    other_fail = _passage(
        "settlement-fails", "Closing a Fail", "Closed at day end.", title="Settlement Fails"
    )
    hits = [_hit(0.31, FAILS), _hit(0.30, other_fail), _hit(0.29, CASH)]
    assert not decide(hits)
    result = answer("What is the wifi password?", hits)
    assert answer("What is the wifi password?", hits, threshold=-1e9).grounded is True
    assert result.grounded is False
    assert result.citations == ()
    assert result.nearest_policies == ("Settlement Fails", "Cash and Overdrafts")
    assert result.text == (
        "Not an answer: the policies do not cover this question. The nearest policies found are "
        '"Settlement Fails" and "Cash and Overdrafts", and they do not answer it.'
    )


def test_refusal_text_with_one_or_no_policy() -> None:
    assert refusal_text(["Cash"]).endswith('The nearest policy found is "Cash", and it does not answer it.')
    assert refusal_text([]).endswith("There are no policies to search.")
    assert answer("anything", []).grounded is False


def test_sentences_keep_a_list_or_table_with_the_sentence_that_introduces_it() -> None:
    text = (
        "Cycles are fixed on trade date. They are:\n\n- Equities: T+2.\n- Treasuries: T+1.\n\n"
        "Thresholds:\n\n| Fund | Threshold |\n|---|---|\n| Equity | 0.50 % |\n\nA last sentence! And 2 more."
    )
    assert sentences(text) == [
        "Cycles are fixed on trade date.",
        "They are:\nEquities: T+2.\nTreasuries: T+1.",
        "Thresholds:\nFund | Threshold\nEquity | 0.50 %",
        "A last sentence!",
        "And 2 more.",
    ]
    # A list with no introducing sentence: one unit per item.
    assert sentences("- one.\n- two.") == ["one.", "two."]


def test_best_sentences_prefers_shared_words_and_keeps_text_order() -> None:
    text = "Cash is reconciled daily. Fails are chased each morning. Claims are approved monthly."
    assert best_sentences("who approves claims for fails", text, 2) == [
        "Fails are chased each morning.",
        "Claims are approved monthly.",
    ]
    assert best_sentences("nothing shared", text, 1) == ["Cash is reconciled daily."]


def test_passages_of_documents_carry_the_policy_and_the_section() -> None:
    documents: list[PolicyDocument] = [
        parse_policy("---\nversion: 2\n---\n# Fees\n\n## Accrual\n\nDaily.\n"),
        parse_policy("# Cash\n\n## Range\n\n1 to 5 %.\n"),
    ]
    passages = passages_of(documents)
    assert [(p.policy_id, p.policy_title, p.policy_version, p.section.heading) for p in passages] == [
        ("fees", "Fees", "2", "Accrual"),
        ("cash", "Cash", "", "Range"),
    ]


def test_an_index_of_documents_takes_each_documents_rows_in_either_layout() -> None:
    old = parse_policy("# A\n\n## One\n\nAlpha. Beta.\n\n## Two\n\nGamma.\n")
    new = parse_policy("# B\n\n## Three\n\nDelta. Epsilon.\n")
    old_rows = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # one per passage, as stored before units
    new_rows = np.array([[0.0, 0.0, 1.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]])  # Three's text, then its units
    index = Index.of_documents([(old, old_rows), (new, new_rows)])
    assert [p.section.heading for p in index.passages] == ["One", "Two", "Three"]
    assert index.has_units
    text, best_unit = index.cosines(np.array([0.0, 0.6, 0.8]))
    # The old document's units score as their passage; the new one's as themselves.
    assert list(text) == pytest.approx([0.0, 0.6, 0.8])
    assert list(best_unit) == pytest.approx([0.0, 0.6, 1.0])
    with pytest.raises(ValueError, match="policy b: expected 1 or 3 embedding rows"):
        Index.of_documents([(new, np.ones((2, 3)))])
    with pytest.raises(ValueError, match="at least one passage"):
        Index.of_documents([])


# ---------------------------------------------------------------- what the policies do not cover


def test_out_of_scope_topics_parse_and_bad_files_say_what_is_wrong() -> None:
    topics = parse_topics('[[topic]]\nid = "proxy-voting"\ntext = "Proxy voting:  who votes\\nour shares."\n')
    assert topics == (Topic("proxy-voting", "Proxy voting: who votes our shares."),)
    with pytest.raises(ValueError, match="not kebab-case"):
        parse_topics('[[topic]]\nid = "Proxy Voting"\ntext = "x"\n')
    with pytest.raises(ValueError, match="used twice"):
        parse_topics('[[topic]]\nid = "a"\ntext = "x"\n[[topic]]\nid = "a"\ntext = "y"\n')
    with pytest.raises(ValueError, match="empty"):
        parse_topics('[[topic]]\nid = "a"\ntext = " "\n')
    with pytest.raises(ValueError, match="not valid TOML"):
        parse_topics("[[topic]\n")


def test_a_topic_the_library_covers_is_retired_and_the_nearest_topic_is_found() -> None:
    topics = [Topic("lending", "Securities lending."), Topic("voting", "Proxy voting.")]
    # Unit vectors in the plane: lending along x, voting along y.
    scope = OutOfScope(topics, np.array([[1.0, 0.0], [0.0, 2.0]]))
    # A library whose only passage is at 45 degrees: cosine 0.707 to both (>= RETIRED_AT 0.66).
    assert scope.active(np.array([[1.0, 1.0]])).topics == ()
    # One along x covers lending only; voting stays out of scope.
    remaining = scope.active(np.array([[3.0, 0.0]]))
    assert [one.topic_id for one in remaining.topics] == ["voting"]
    nearest = scope.nearest(np.array([0.6, 0.8]))
    assert nearest.topic_id == "voting" and nearest.cosine == pytest.approx(0.8)
    assert remaining.active(np.array([[0.0, 1.0]])).nearest(np.array([0.0, 1.0])) == Nearest(
        None, NO_TOPIC_COSINE
    )
