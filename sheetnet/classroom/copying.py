"""Who copied: with different numbers for every student, an answer equal to another student's key
value, or a wrong value another student wrote too, is evidence.

- A student whose answers equal another student's key values at MIN_KEY_MATCHES questions or more,
  where the two students' keys differ, is flagged (`answers match s07's numbers at 5 questions`).
  Keys "differ" when they differ at one significant figure fewer than the tolerance: an updated
  weight is close to its typed start, and two students who typed the same start have keys nearly
  equal there, so an honest answer rounded a little off would otherwise match the other's key.
  The matches must also be at least half of the student's answers that are not right: in a class
  of 500, an honest student wrong throughout meets some other student's key by chance at a few
  questions (measured: bench/grading.py gave 89 copy flags among 250 such students without this rule), while
  a copier's wrong answers are mostly the other's numbers.
- Two students who wrote the same wrong value at MIN_SHARED_WRONG questions or more, where neither
  answer is explained by the student's own numbers (carried forward, or a named slip), are both
  flagged, when those are also at least half of the unexplained wrong answers of the one of the
  two with fewer (the same measurement: students wrong throughout share two values by chance).
  0 and ±1 are guesses anyone makes, not copies: they count for nothing.

Values are the same within the grading tolerance. Each question's values are sorted once, so a
class of n students costs O(n log n) per question, not O(n²).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence

from sheetnet.classroom.exercise import ABS_TOL
from sheetnet.classroom.grading import Mark, Result, Tolerance

MIN_KEY_MATCHES = 3
MIN_SHARED_WRONG = 2
GUESSES = (0.0, 1.0, -1.0)


def flag_copies(results: Sequence[Result], tol: Tolerance) -> None:
    """Add the copy flags to the graded students of the roster."""
    graded = [r for r in results if r.graded and not r.stranger]
    if len(graded) < 2:
        return
    for i, (j, n) in _best(_key_matches(graded, tol)).items():
        if 2 * n < _not_right(graded[i]):
            continue  # chance meetings among many wrong answers, not a copy
        graded[i].flags.append(f"answers match {graded[j].student.id}'s numbers at {n} questions")
    shared = _shared_wrong(graded, tol)
    for (i, j), n in sorted(shared.items()):
        if n >= MIN_SHARED_WRONG and 2 * n >= min(_unexplained(graded[i]), _unexplained(graded[j])):
            graded[i].flags.append(f"same wrong values as {graded[j].student.id} at {n} questions")
            graded[j].flags.append(f"same wrong values as {graded[i].student.id} at {n} questions")


def _unexplained(result: Result) -> int:
    return sum(_is_unexplained(m) for m in result.marks)


def _is_unexplained(m: Mark) -> bool:
    """A wrong number that neither the student's own numbers (ecf) nor a named slip explains."""
    return (m.verdict == "wrong" and m.mistake is None and m.answer.value is not None
            and m.answer.value not in GUESSES)


def _not_right(result: Result) -> int:
    return sum(m.verdict != "right" and m.answer.value is not None for m in result.marks)


def _window(value: float, tol: Tolerance) -> tuple[float, float]:
    """Every number that may be close to value (close() then decides)."""
    reach = 2 * tol.rel * abs(value) + ABS_TOL
    return value - reach, value + reach


def _key_matches(graded: Sequence[Result], tol: Tolerance) -> Counter[tuple[int, int]]:
    """(i, j): at how many questions student i's answer is student j's key value, keys differing."""
    counts: Counter[tuple[int, int]] = Counter()
    apart = Tolerance(max(tol.sig_figs - 1, 1)).close  # keys this close are no evidence
    for q in range(len(graded[0].marks)):
        keys = sorted((r.marks[q].expected, j) for j, r in enumerate(graded))
        values = [k for k, _ in keys]
        for i, r in enumerate(graded):
            mark = r.marks[q]
            a = mark.answer.value
            if a is None or mark.verdict == "right":
                continue  # a right answer is the student's own key
            lo, hi = _window(a, tol)
            for key, j in keys[bisect.bisect_left(values, lo) : bisect.bisect_right(values, hi)]:
                if j != i and tol.close(a, key) and not apart(key, mark.expected):
                    counts[i, j] += 1
    return counts


def _best(counts: Counter[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """For each student, the other whose numbers they match most, when at MIN_KEY_MATCHES or more."""
    best: dict[int, tuple[int, int]] = {}
    for (i, j), n in sorted(counts.items()):
        if n >= MIN_KEY_MATCHES and n > best.get(i, (-1, 0))[1]:
            best[i] = (j, n)
    return best


def _shared_wrong(graded: Sequence[Result], tol: Tolerance) -> Counter[tuple[int, int]]:
    """(i, j), i < j: at how many questions both wrote the same unexplained wrong value."""
    counts: Counter[tuple[int, int]] = Counter()
    for q in range(len(graded[0].marks)):
        wrong = sorted(
            (m.answer.value, i) for i, r in enumerate(graded) if _is_unexplained(m := r.marks[q])
            and m.answer.value is not None  # (said by _is_unexplained; for the type checker)
        )
        values = [v for v, _ in wrong]
        for n, (a, i) in enumerate(wrong):
            _, hi = _window(a, tol)
            for b, j in wrong[n + 1 : bisect.bisect_right(values, hi)]:
                if i != j and (tol.close(a, b) or tol.close(b, a)):
                    counts[min(i, j), max(i, j)] += 1
    return counts
